"""Shared pieces of usm's benchmarks (bench/*.py): a usm instance and an
HTTPS server that clean up after themselves, the API read without loading
libssl, the machine's description, tables, and bench/results.json.

Standard library only. Nothing here imports ssl, urllib or http.client:
they load libssl into the driver, which would make the driver itself a
traced process and keep libssl attached for the whole run.
"""
import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse  # quoting only: loads no libssl

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
# bench/run builds build-bench/ (scripts/setup.sh bench: release, its own tree).
BUILD = os.environ.get("USM_BUILD_DIR", os.path.join(REPO, "build-bench"))
PRIVD = os.path.join(BUILD, "privd", "usm-privd")
RESULTS = os.path.join(BENCH, "results.json")


def arguments(doc, quick_help, wait_alone_help=None):
    """The options every benchmark has: --quick, --results, and
    --wait-alone when it waits for other usm instances to exit."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help=quick_help)
    if wait_alone_help:
        ap.add_argument("--wait-alone", type=int, default=120, metavar="S",
                        help="wait up to S s for other usm-privd to exit " + wait_alone_help)
    ap.add_argument("--results", default=RESULTS, help="JSON file to merge into")
    return ap


def log(msg):
    """Progress goes to stderr; stdout carries only the table."""
    print(msg, file=sys.stderr, flush=True)


def sigterm_as_interrupt():
    """SIGTERM unwinds like Ctrl-C, so every `with` block stops what it started."""
    def handler(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, handler)


def check_no_tls_library_loaded():
    with open("/proc/self/maps") as f:
        maps = f.read()
    for lib in ("libssl.so", "libgnutls.so"):
        if lib in maps:
            sys.exit("the benchmark driver has %s loaded; it would be traced itself" % lib)


# usm-privd processes this benchmark started (Usm adds and removes them).
OWN_PRIVD = set()


def parent_pid(pid):
    """PPid of a process (None if it is gone)."""
    try:
        with open("/proc/%s/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def other_usm_instances():
    """PIDs of usm-privd processes running on the host that this benchmark
    did not start (nor its privd: the BPF owner, usm-privd-bpf, is a child
    of privd running the same executable). Each one reacts to every TLS
    library open too, and its privd's own opens of the library (to attach
    it) are library opens a benchmark's usm sees."""
    pids = []
    for entry in os.listdir("/proc"):
        try:
            if (entry.isdigit() and int(entry) not in OWN_PRIVD
                    and os.path.basename(os.readlink("/proc/%s/exe" % entry)) == "usm-privd"
                    and parent_pid(entry) not in OWN_PRIVD):
                pids.append(int(entry))
        except OSError:
            pass
    return sorted(pids)


def wait_until_alone(timeout, who):
    """Waits up to timeout seconds for the other usm-privd on the host to
    exit (each probes the same libraries and skews what is measured: on a
    machine shared with someone running usm's tests they come and go);
    returns the pids still running then."""
    others = other_usm_instances()
    if others and timeout > 0:
        log("%s: waiting up to %d s for other usm-privd to exit (%s)"
            % (who, timeout, " ".join(map(str, others))))
        deadline = time.monotonic() + timeout
        while others and time.monotonic() < deadline:
            time.sleep(0.5)
            others = other_usm_instances()
    return others


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, what, interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def rss_kib(pid):
    """VmRSS of a process in KiB (None if it is gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def http_get(port, path, timeout=10):
    """GET over a plain socket: (status, body bytes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                  % path.encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if not chunk:
                break
            lengths = [l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
            if sep and lengths and len(body) >= int(lengths[0].split(b":")[1]):
                break
    if not head.startswith(b"HTTP/"):
        raise ConnectionError("no HTTP answer on port %d" % port)
    return int(head.split()[1]), body


class ApiError(RuntimeError):
    """A non-200 answer from usm's API."""


class Usm:
    """usm-privd (with its collector and apid) on a private runtime
    directory and a free port; `with Usm(opt, ...) as usm:` starts it,
    waits until the monitor runs, and stops it with SIGTERM at the end.
    start_seconds: from exec to /usm/stats answering "Running" (the
    collector answers only once its start-up scan is done);
    stop_seconds: from SIGTERM to privd's exit."""

    def __init__(self, *options):
        self.options = list(options)
        self.port = free_port()
        self.tmp = None
        self.proc = None
        self.start_seconds = self.stop_seconds = None

    def __enter__(self):
        self.tmp = tempfile.mkdtemp(prefix="usm-bench-")
        os.chmod(self.tmp, 0o755)  # the unprivileged children enter it
        args = [PRIVD, "-o", "runtime_dir=" + os.path.join(self.tmp, "run"),
                "-o", "api_listen=127.0.0.1:%d" % self.port]
        for o in self.options:
            args += ["-o", o]
        self.log = open(os.path.join(self.tmp, "privd.log"), "w")
        # Own session: a Ctrl-C reaches only the driver, which stops usm in order.
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        OWN_PRIVD.add(self.proc.pid)
        try:
            wait_for(self._running, 30, "usm's monitor to run", interval=0.005)
            self.start_seconds = time.monotonic() - self.started_at
        except BaseException as e:
            if isinstance(e, RuntimeError) and self.proc.poll() is None:
                log("usm-privd's log ends:\n" + self.log_tail())
            self.__exit__()
            raise
        return self

    def _running(self):
        if self.proc.poll() is not None:
            raise RuntimeError("usm-privd exited with %s" % self.proc.returncode)
        try:
            return self.stats().get("state") == "Running"
        except (OSError, ValueError, ApiError):  # not listening or collector not up yet
            return False

    def get(self, path):
        status, body = http_get(self.port, path)
        if status != 200:
            raise ApiError("GET %s: HTTP %d %s" % (path, status, body[:200]))
        return json.loads(body)

    def stats(self):
        return self.get("/usm/stats")

    def try_stats(self):
        """/usm/stats, or None while the API cannot answer (a 503 while the
        collector is busy, e.g. attaching a burst of new files)."""
        try:
            return self.stats()
        except (OSError, ValueError, ApiError):
            return None

    def pids(self):
        """{"usm-privd": pid, "usm-collector": pid, "usm-apid": pid} from /health."""
        status, body = http_get(self.port, "/health")  # 503 still lists the processes
        return {p["name"]: p["pid"] for p in json.loads(body)["processes"] if p.get("pid")}

    def http_stats(self, path=None):
        """/usm/http_stats as a list (only path's rows if given)."""
        query = "?path=" + urllib.parse.quote(path, safe="") if path else ""
        return self.get("/usm/http_stats" + query)

    def counted(self, paths, port=None):
        """Exchanges /usm/http_stats counted for these paths (a path or a
        set of them), at the server port if one is given."""
        one = isinstance(paths, str)
        return sum(r["count"] for r in self.http_stats(paths if one else None)
                   if (r["path"] == paths if one else r["path"] in paths)
                   and (port is None or r["server"]["port"] == port))

    def log_tail(self, lines=20):
        with open(self.log.name) as f:
            return "".join(f.readlines()[-lines:])

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            stopping = time.monotonic()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=120)
                self.stop_seconds = time.monotonic() - stopping
            except subprocess.TimeoutExpired:
                log("usm-privd did not stop in 120 s after SIGTERM; killing it")
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            OWN_PRIVD.discard(self.proc.pid)
        if self.proc and self.proc.returncode not in (0, None):
            log("usm-privd exited with %s:\n%s" % (self.proc.returncode, self.log_tail()))
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


NODE_SERVER = """
const fs = require('fs');
const [key, cert, port] = process.argv.slice(1);
require('https').createServer({key: fs.readFileSync(key), cert: fs.readFileSync(cert)},
                              (q, r) => r.end('ok')).listen(+port, '127.0.0.1');
"""


class HttpsServer:
    """A node HTTPS server on a free loopback port with a self-signed EC
    certificate. node carries OpenSSL inside and is not traced unless
    enable_nodejs_monitoring is on, so the server holds no libssl attachment."""

    def __enter__(self):
        self.tmp = tempfile.mkdtemp(prefix="usm-bench-tls-")
        key, cert = os.path.join(self.tmp, "key.pem"), os.path.join(self.tmp, "cert.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True)
        self.port = free_port()
        self.proc = subprocess.Popen(["node", "-e", NODE_SERVER, key, cert, str(self.port)],
                                     start_new_session=True)
        try:
            wait_for(self._listening, 15, "node to listen on port %d" % self.port)
        except BaseException:
            self.__exit__()
            raise
        return self

    def _listening(self):
        if self.proc.poll() is not None:
            raise RuntimeError("node exited with %s" % self.proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"nproc": len(os.sched_getaffinity(0)), "kernel": platform.release(), "cpu": cpu}


def percentile(values, q):
    """Nearest-rank percentile of a list (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, -(-len(ordered) * q // 100) - 1))]


def spread(values):
    """{"median", "min", "max"} of the values that are not None (None if none are)."""
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    n = len(values)
    median = values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2
    return {"median": median, "min": values[0], "max": values[-1]}


def fmt_spread(s, digits=2, unit=""):
    """ "median (min-max)" for a spread(), or the median alone for one value."""
    if s is None:
        return None
    def f(v):
        return "%.*f" % (digits, v)
    if s["min"] == s["max"]:
        return f(s["median"]) + unit
    return "%s%s (%s-%s)" % (f(s["median"]), unit, f(s["min"]), f(s["max"]))


def table(headers, rows):
    """Rows as left-aligned text columns."""
    cells = [[str(h) for h in headers]] + [["-" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def save_benchmark(key, quick, others, fields, path=RESULTS):
    """A benchmark's result under key, with what every result carries:
    when, quick, the machine, and the other usm-privd seen meanwhile."""
    value = {"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "quick": quick,
             "machine": machine(), "other_usm_privd": sorted(others)}
    value.update(fields)
    save_result(key, value, path)
    log("results: %s (key \"%s\")" % (path, key))


def save_result(key, value, path=RESULTS):
    """Replaces results[key] in the JSON file, keeping the other keys."""
    results = {}
    if os.path.exists(path):
        try:
            with open(path) as f:
                results = json.load(f)
        except ValueError:
            log("%s is not valid JSON; starting it afresh" % path)
    results[key] = value
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(results, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


# ---- overhead benchmarks (https_overhead, go_tls_overhead) ----

class Probe:
    """What a variant can tell about itself around one wrk run: probe hits,
    and for usm the requests it counted and its counters."""

    def __init__(self, name, ctx, port):
        self.name, self.ctx, self.port = name, ctx, port

    def snapshot(self, path):
        if self.name == "off":
            return {}
        if self.name == "floor":
            return {"hits": self.ctx.total()}
        stats = self.ctx.stats()
        return {"hits": stats["counters"]["probe_hits"], "counters": stats["counters"],
                "counted": self.ctx.counted(path, self.port)}


def delta(before, after, requests):
    out = {}
    if "hits" in before:
        out["hits_per_request"] = round((after["hits"] - before["hits"]) / requests, 3) if requests else None
    if "counters" in before:
        out["counters_delta"] = {k: v - before["counters"].get(k, 0)
                                 for k, v in after["counters"].items() if isinstance(v, int)}
        out["counted"] = after["counted"] - before["counted"]
    return out


def overhead_row(workload, variant, runs, offs, floors):
    """The figures every overhead benchmark reports for one workload and
    variant over the rounds: req/s, p99, their ratios to the same round's
    "off", hits per request, errors; for usm, its loss against the floor's
    and the share of requests it counted."""
    row = {
        "workload": workload, "variant": variant,
        "rps": spread([x["rps"] for x in runs]),
        "p99_ms": spread([x["p99_ms"] for x in runs]),
        "rps_vs_off": spread([x["rps"] / o["rps"] for x, o in zip(runs, offs)]),
        "p99_vs_off": spread([x["p99_ms"] / o["p99_ms"] for x, o in zip(runs, offs)
                              if x["p99_ms"] and o["p99_ms"]]),
        "hits_per_request": spread([x.get("hits_per_request") for x in runs]),
        "errors": sum(x["errors"] + x["non_2xx"] for x in runs),
    }
    if variant.startswith("usm"):
        row["loss_vs_floor"] = spread([
            (o["rps"] - x["rps"]) / (o["rps"] - f["rps"])
            for x, o, f in zip(runs, offs, floors) if o["rps"] > f["rps"]])
        row["counted_pct"] = spread([100.0 * x["counted"] / x["requests"] for x in runs])
    return row
