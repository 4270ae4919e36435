"""h2load (Debian's nghttp2-client) as the HTTP/2 load generator: a few
clients with many concurrent streams each, for a fixed duration, and its
summary parsed into numbers. h2load reports no latency percentiles:
mean, sd and max of its "time for request"."""
import re
import subprocess

H2LOAD = "/usr/bin/h2load"

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def run(url, seconds, clients=4, streams=8, cpus=None):
    """One h2load run (-D seconds, one thread): {"requests", "seconds", "rps",
    "mean_ms", "sd_ms", "max_ms", "p99_ms" (None: h2load has none), "errors",
    "non_2xx"}. cpus: list of CPUs to pin h2load to (taskset)."""
    cmd = [H2LOAD, "-t1", "-c%d" % clients, "-m%d" % streams, "-D", str(seconds), url]
    if cpus:
        cmd = ["taskset", "-c", ",".join(map(str, cpus))] + cmd
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         timeout=seconds + 60).stdout
    return parse(out)


def parse(out):
    def ms(text):
        m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
        return round(float(m.group(1)) * UNITS[m.group(2)], 4) if m else None

    fin = re.search(r"^finished in ([\d.]+)(us|ms|s), ([\d.]+) req/s", out, re.M)
    req = re.search(r"^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                    r"(\d+) failed, (\d+) errored, (\d+) timeout", out, re.M)
    codes = re.search(r"^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out, re.M)
    lat = re.search(r"^time for request:\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", out, re.M)
    proto = re.search(r"^Application protocol: (\S+)", out, re.M)
    if not fin or not req:
        raise RuntimeError("cannot read h2load's output:\n" + out)
    if not proto or proto.group(1) != "h2":
        raise RuntimeError("h2load did not speak h2:\n" + out)
    return {
        "requests": int(req.group(4)),
        "seconds": round(float(fin.group(1)) * UNITS[fin.group(2)] / 1000, 3),
        "rps": float(fin.group(3)),
        "mean_ms": ms(lat.group(3)) if lat else None,
        "sd_ms": ms(lat.group(4)) if lat else None,
        "max_ms": ms(lat.group(2)) if lat else None,
        "p99_ms": None,
        "errors": int(req.group(5)) + int(req.group(6)) + int(req.group(7)),
        "non_2xx": sum(int(g) for g in codes.groups()[1:]) if codes else 0,
    }
