"""End-to-end: HTTP monitoring with real traffic. Real servers (python3's
http.server over OpenSSL and in clear text, node's https as a TLS server
usm does not probe) and real clients (curl with OpenSSL, wget with
GnuTLS, raw sockets); the exact counts, methods, paths and statuses must
appear in /usm/http_stats and in /metrics, which must pass promtool.

Every assertion is about rows of this test's own server ports, so other
traffic on the host cannot make it pass or fail; counters are compared as
deltas."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from usm_harness import (Usm, free_port, make_cert, node_tls_server_args, require_privileges,
                         wait_for)

HERE = os.path.dirname(os.path.abspath(__file__))
SERVERS = os.path.join(HERE, "http_servers.py")


def raw_exchange(port, requests, keep_open=False):
    """Sends the requests (bytes) on one plain connection, pipelined, and
    reads until as many responses arrived (counted by status lines and
    Content-Length). Returns the socket if keep_open, else closes it."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"".join(requests))
    if keep_open:
        return s
    data = b""
    want = len(requests)
    while data.count(b"HTTP/1.1 ") < want or not data.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return data


def get_request(path, method="GET", body=b""):
    head = "%s %s HTTP/1.1\r\nHost: t\r\n" % (method, path)
    if body:
        head += "Content-Length: %d\r\n" % len(body)
    return head.encode() + b"\r\n" + body


class HttpMonitoringTestCase(unittest.TestCase):
    """One usm for the class: each test uses its own server ports."""

    @classmethod
    def setUpClass(cls):
        cls.procs = []
        cls.tmp = tempfile.mkdtemp(prefix="usm-http-")
        os.chmod(cls.tmp, 0o755)
        cls.key, cls.cert = make_cert(cls.tmp)
        cls.usm = None

    @classmethod
    def tearDownClass(cls):
        for p in cls.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if cls.usm:
            cls.usm.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        require_privileges(self)
        cls = type(self)
        if cls.usm is None:
            cls.usm = Usm("http_request_timeout_ms=1500", "api_control=true").start()
            # Keep both TLS libraries mapped by a long-lived process: probes
            # live on the file, so short clients are traced from their first
            # call (attach latency is the benchmark's subject, not this one's).
            self.spawn([sys.executable, "-c",
                        "import ctypes, time; ctypes.CDLL('libgnutls.so.30'); "
                        "ctypes.CDLL('libssl.so.3'); print('ready', flush=True); "
                        "time.sleep(3600)"])
            wait_for(lambda: self.traced("libgnutls.so.30") and self.traced("libssl.so.3"),
                     timeout=15, what="libssl and libgnutls traced")

    # ---- helpers ----

    def spawn(self, args, wait_ready=True):
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        type(self).procs.append(p)
        if wait_ready:
            line = p.stdout.readline()
            if line.strip() != "ready":
                raise AssertionError("%s did not start: %s%s" % (args, line, p.stderr.read()))
        return p

    def traced(self, name):
        r = self.usm.get("/debug/usm/traced_programs")
        if r.status != 200:  # 503 while the listing keeps changing: ask again
            return False
        return any(name in os.path.basename(e["FilePath"]) for e in r.json())

    def server(self, kind):
        port = free_port()
        args = [sys.executable, SERVERS, kind, str(port)]
        if kind == "tls":
            args += [self.cert, self.key]
        return port, self.spawn(args)

    def rows(self, port, query=""):
        r = self.usm.get("/usm/http_stats" + query)
        self.assertEqual(r.status, 200, r.body)
        return [row for row in r.json() if row["server"]["port"] == port]

    def counts(self, port, query=""):
        return {(r["method"], r["path"], r["status"]): r["count"] for r in self.rows(port, query)}

    def wait_counts(self, port, want):
        """Waits until the port's rows are exactly want, then checks they
        stay so (nothing counted twice a little later)."""
        try:
            wait_for(lambda: self.counts(port) == want, timeout=10, what="counts %s" % want)
        except AssertionError:
            # say whether the kernel side dropped records or the parser choked
            c = self.usm.get("/usm/stats").json()["counters"]
            self.assertEqual(self.counts(port), want, {k: v for k, v in c.items()
                                                       if k.startswith("http")})
        time.sleep(1.5)
        self.assertEqual(self.counts(port), want)

    def counter(self, name):
        return self.usm.get("/usm/stats").json()["counters"][name]

    def curl(self, *args):
        """Runs curl; URLs (one connection for all of them, keep-alive)
        each get their own -o /dev/null. Returns the status codes."""
        argv = ["curl", "-sk", "-w", "%{http_code} "]
        for a in args:
            argv += ["-o", "/dev/null", a] if "://" in a else [a]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.split()

    # ---- tests ----

    def test_curl_over_openssl_exact_counts(self):
        port, server = self.server("tls")
        base = "https://127.0.0.1:%d" % port
        # fresh connections: one curl per request
        for path, n in (("/a", 3), ("/b", 2), ("/c", 1)):
            for _ in range(n):
                self.assertEqual(self.curl(base + path), ["200"])
        # keep-alive: one curl, four requests on one connection
        self.assertEqual(self.curl(*[base + "/keep?i=%d" % i for i in range(4)]), ["200"] * 4)
        self.assertEqual(self.curl(base + "/missing", base + "/missing"), ["404", "404"])
        self.assertEqual(self.curl(base + "/boom"), ["500"])
        self.assertEqual(self.curl("-X", "POST", "-d", "x=1", base + "/submit"), ["200"])
        self.wait_counts(port, {
            ("GET", "/a", 200): 3, ("GET", "/b", 200): 2, ("GET", "/c", 200): 1,
            ("GET", "/keep", 200): 4, ("GET", "/missing", 404): 2, ("GET", "/boom", 500): 1,
            ("POST", "/submit", 200): 1,
        })
        for row in self.rows(port):
            # the server side counts: its address, pid and command
            self.assertEqual(row["server"], {"addr": "127.0.0.1", "port": port,
                                             "pid": server.pid, "comm": "python3"})
            self.assertGreater(row["bytes"], 0)
            lat = row["latency_ms"]
            self.assertTrue(0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"] * 1.011,
                            lat)

    def test_wget_over_gnutls_and_curl_as_clients(self):
        """node's TLS is not probed (enable_nodejs_monitoring is off): only
        the clients' side is seen, so these counts come from GnuTLS (wget)
        and OpenSSL (curl) client probes, keyed by the server's address."""
        port = free_port()
        self.spawn(node_tls_server_args(self.tmp, port, self.cert, self.key))
        base = "https://127.0.0.1:%d" % port
        for path in ("/g1", "/g1", "/g2"):
            r = subprocess.run(["wget", "-q", "--no-check-certificate", "-O", "/dev/null",
                                base + path], capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
        r = subprocess.run(["wget", "-q", "--no-check-certificate", "-O", "/dev/null",
                            base + "/missing"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 8, r.stderr)  # wget: server error response
        self.assertEqual(self.curl(base + "/c1", base + "/c1"), ["200", "200"])
        self.wait_counts(port, {("GET", "/g1", 200): 2, ("GET", "/g2", 200): 1,
                                ("GET", "/missing", 404): 1, ("GET", "/c1", 200): 2})
        for row in self.rows(port):
            # server unknown: not captured, so no pid or command
            self.assertEqual(row["server"], {"addr": "127.0.0.1", "port": port,
                                             "pid": None, "comm": None})

    def test_clear_text_http_exact_counts(self):
        port, server = self.server("plain")
        # pipelined on one keep-alive connection, from this (untraced TLS-wise) process
        data = raw_exchange(port, [get_request("/p1"), get_request("/p1"),
                                   get_request("/p2?q=1"), get_request("/missing"),
                                   get_request("/up", "PUT", b"abc")])
        self.assertEqual(data.count(b"HTTP/1.1 200"), 4, data)
        # fresh connections from curl
        for _ in range(3):
            self.assertEqual(self.curl("http://127.0.0.1:%d/p3" % port), ["200"])
        self.assertEqual(self.curl("-I", "http://127.0.0.1:%d/p3" % port), ["200"])
        self.assertEqual(self.curl("http://127.0.0.1:%d/boom" % port), ["500"])
        self.wait_counts(port, {
            ("GET", "/p1", 200): 2, ("GET", "/p2", 200): 1, ("GET", "/missing", 404): 1,
            ("PUT", "/up", 200): 1, ("GET", "/p3", 200): 3, ("HEAD", "/p3", 200): 1,
            ("GET", "/boom", 500): 1,
        })
        for row in self.rows(port):
            self.assertEqual(row["server"]["pid"], server.pid)

    def test_ipv6_connections_are_keyed_by_their_ipv6_server(self):
        port, server = self.server("plain6")
        for _ in range(2):
            self.assertEqual(self.curl("-g", "http://[::1]:%d/six" % port), ["200"])
        self.wait_counts(port, {("GET", "/six", 200): 2})
        self.assertEqual(self.rows(port)[0]["server"], {"addr": "::1", "port": port,
                                                        "pid": server.pid, "comm": "python3"})

    def test_unanswered_request_expires_and_is_counted(self):
        port, _ = self.server("silent")
        before = self.counter("http_unanswered")
        s = raw_exchange(port, [get_request("/never")], keep_open=True)
        try:
            # timeout 1.5 s, expiry checked every second
            wait_for(lambda: self.counter("http_unanswered") > before, timeout=10,
                     what="the request to expire")
            time.sleep(1.5)
            # one request, both ends captured: counted once
            self.assertEqual(self.counter("http_unanswered"), before + 1)
            self.assertEqual(self.rows(port), [])
        finally:
            s.close()

    def test_filters_and_reset_on_read(self):
        port, server = self.server("plain")
        raw_exchange(port, [get_request("/f1"), get_request("/f2"), get_request("/missing")])
        self.wait_counts(port, {("GET", "/f1", 200): 1, ("GET", "/f2", 200): 1,
                                ("GET", "/missing", 404): 1})
        self.assertEqual(self.counts(port, "?path=/f1"), {("GET", "/f1", 200): 1})
        self.assertEqual(self.counts(port, "?path=%2Ff2"), {("GET", "/f2", 200): 1})
        self.assertEqual(self.counts(port, "?status=404"), {("GET", "/missing", 404): 1})
        self.assertEqual(len(self.rows(port, "?pid=%d" % server.pid)), 3)
        self.assertEqual(self.rows(port, "?pid=%d&status=500" % server.pid), [])
        # every HTTP/1 row says so, and a protocol filter selects by it
        for row in self.rows(port):
            self.assertEqual((row["protocol"], row["grpc_status"]), ("http/1.1", None), row)
        self.assertEqual(len(self.rows(port, "?protocol=http/1.1")), 3)
        self.assertEqual(self.rows(port, "?protocol=h2"), [])
        for bad in ("?status=99", "?status=abc", "?pid=0", "?pid=-1", "?colour=blue",
                    "?path=" + "x" * 300, "?protocol=http/2"):
            r = self.usm.get("/usm/http_stats" + bad)
            self.assertEqual(r.status, 400, bad)
            self.assertIn("error", r.json())
        # reset on read: this read has the rows, the next one does not
        self.assertEqual(len(self.rows(port, "?reset=true")), 3)
        self.assertEqual(self.rows(port), [])
        raw_exchange(port, [get_request("/f1")])
        self.wait_counts(port, {("GET", "/f1", 200): 1})

    def test_metrics_pass_promtool_and_agree_with_json(self):
        port, _ = self.server("plain")
        raw_exchange(port, [get_request("/m1"), get_request("/m1"), get_request("/missing")])
        self.wait_counts(port, {("GET", "/m1", 200): 2, ("GET", "/missing", 404): 1})
        r = self.usm.get("/metrics")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers.get("Content-Type", "").startswith("text/plain"), r.headers)
        promtool = shutil.which("promtool")
        self.assertIsNotNone(promtool, "promtool (Debian package prometheus) is needed")
        check = subprocess.run([promtool, "check", "metrics"], input=r.body,
                               capture_output=True, text=True, timeout=30)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        server = 'server="127.0.0.1:%d"' % port
        totals = {}
        for line in r.body.splitlines():
            if line.startswith("usm_http_requests_total{") and server in line:
                labels, value = line[len("usm_http_requests_total{"):].rsplit("} ", 1)
                fields = dict(kv.split("=", 1) for kv in labels.split(","))
                key = (fields["method"].strip('"'), fields["path"].strip('"'),
                       int(fields["status"].strip('"')))
                totals[key] = totals.get(key, 0) + float(value)
        self.assertEqual(totals, {k: float(v) for k, v in self.counts(port).items()})
        for name in ("usm_http_events_total", "usm_http_events_lost_total",
                     "usm_http_parse_errors_total", "usm_traced_files", "usm_blocked_files",
                     "usm_http_request_duration_seconds_bucket"):
            self.assertIn("\n" + name, r.body)


if __name__ == "__main__":
    unittest.main()
