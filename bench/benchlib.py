"""Shared pieces of usm's benchmarks (bench/*.py): a usm instance and an
HTTPS server that clean up after themselves, the API read without loading
libssl, the machine's description, tables, and bench/results.json.

Standard library only. Nothing here imports ssl, urllib or http.client:
they load libssl into the driver, which would make the driver itself a
traced process and keep libssl attached for the whole run.
"""
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

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
BUILD = os.environ.get("USM_BUILD_DIR", os.path.join(REPO, "build"))
PRIVD = os.path.join(BUILD, "privd", "usm-privd")
RESULTS = os.path.join(BENCH, "results.json")


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


def other_usm_instances():
    """PIDs of usm-privd processes already running on the host. Each one
    reacts to every TLS library open too, and its privd's own opens of the
    library (to attach it) are library opens a benchmark's usm sees."""
    pids = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and os.path.basename(os.readlink("/proc/%s/exe" % entry)) == "usm-privd":
                pids.append(int(entry))
        except OSError:
            pass
    return sorted(pids)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(0.02)


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
    return int(head.split()[1]), body


class ApiError(RuntimeError):
    """A non-200 answer from usm's API."""


class Usm:
    """usm-privd (with its collector and apid) on a private runtime
    directory and a free port; `with Usm(opt, ...) as usm:` starts it,
    waits until the monitor runs, and stops it with SIGTERM at the end."""

    def __init__(self, *options):
        self.options = list(options)
        self.port = free_port()
        self.tmp = None
        self.proc = None

    def __enter__(self):
        self.tmp = tempfile.mkdtemp(prefix="usm-bench-")
        os.chmod(self.tmp, 0o755)  # the unprivileged children enter it
        args = [PRIVD, "-o", "runtime_dir=" + os.path.join(self.tmp, "run"),
                "-o", "api_listen=127.0.0.1:%d" % self.port]
        for o in self.options:
            args += ["-o", o]
        self.log = open(os.path.join(self.tmp, "privd.log"), "w")
        # Own session: a Ctrl-C reaches only the driver, which stops usm in order.
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        try:
            wait_for(self._running, 30, "usm's monitor to run")
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

    def log_tail(self, lines=20):
        with open(self.log.name) as f:
            return "".join(f.readlines()[-lines:])

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                log("usm-privd did not stop in 120 s after SIGTERM; killing it")
                self.proc.kill()
                self.proc.wait()
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


def table(headers, rows):
    """Rows as left-aligned text columns."""
    cells = [[str(h) for h in headers]] + [["-" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


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
