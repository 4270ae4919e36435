"""wrk (Debian's package) as the load generator: keep-alive connections for
a fixed duration, and its summary parsed into numbers."""
import re
import subprocess

WRK = "/usr/bin/wrk"

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def run(url, seconds, threads=1, connections=8, cpus=None):
    """One wrk run: {"requests", "seconds", "rps", "p50_ms", "p99_ms",
    "errors", "non_2xx"}. cpus: list of CPUs to pin wrk to (taskset)."""
    cmd = [WRK, "-t%d" % threads, "-c%d" % connections, "-d%ds" % seconds, "--latency", url]
    if cpus:
        cmd = ["taskset", "-c", ",".join(map(str, cpus))] + cmd
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         timeout=seconds + 60).stdout
    return parse(out)


def parse(out):
    def latency(pct):
        m = re.search(r"^\s*%d%%\s+([\d.]+)(us|ms|s|m)\s*$" % pct, out, re.M)
        return round(float(m.group(1)) * UNITS[m.group(2)], 4) if m else None

    m = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)", out, re.M)
    if not m:
        raise RuntimeError("cannot read wrk's output:\n" + out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    return {
        "requests": int(m.group(1)),
        "seconds": round(float(m.group(2)) * UNITS[m.group(3)] / 1000, 3),
        "rps": float(rps.group(1)),
        "p50_ms": latency(50),
        "p99_ms": latency(99),
        "errors": sum(int(g) for g in errors.groups()) if errors else 0,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
    }
