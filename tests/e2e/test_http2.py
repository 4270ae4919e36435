"""End-to-end: HTTP/2 over TLS counted exactly (issue #14, its first part).

nginx (Debian's) serves h2 over TLS on loopback from a configuration of
this test's own; curl --http2 (fresh connections, and several URLs on one
connection) and nghttp2's h2load (many streams at once on two
connections) are the clients. Every exchange is counted once, at nginx,
with its address, pid and command, as protocol "h2", with the path and
status from the header blocks (decoded with libnghttp2's HPACK inflater
in the collector); no header table desynchronises. h2load is exact
against its own count: it sends exactly -n requests and waits for every
answer.

Clear text with prior knowledge too (curl --http2-prior-knowledge and
h2load http://): nginx writes frames with writev, whose iovecs the
capture reads together. Frames past the first http_capture_bytes of a
call (large responses multiplexed with small ones, a 3 KB header block)
reach the collector through the kernel's frame walk. gRPC below; h2c by
upgrade at Apache and nghttpd (nghttp2-server) at the end; Go in
test_go_tls.py."""
import os
import signal
import subprocess
import tempfile
import time
import unittest

from usm_harness import (NGINX, SharedUsm, Usm, free_port, nginx_conf, require_privileges,
                         stop_nginx, wait_for)

H2LOAD = "/usr/bin/h2load"

NGINX_SERVER = """    server {{
        listen 127.0.0.1:{port} ssl http2;
        listen 127.0.0.1:{plain_port} http2;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        root {dir}/www;
        location = /missing {{ return 404; }}
        location = /teapot {{ return 418 "short and stout"; }}
{locations}
    }}"""


class NginxH2(SharedUsm):
    """nginx serving h2 over TLS (self.port) and h2c with prior knowledge
    (self.plain_port), one per test, and the checks of what usm counted
    at it, with the class's usm (started by the test case's setUp), its
    directory and certificate (test_http2_scenarios.py uses it too)."""

    TMP_PREFIX = "usm-h2-"

    def start_nginx(self, locations=""):
        """nginx with NGINX_SERVER's locations and these, answering; the
        warm-up request (GET /index.html over TLS) counted."""
        self.port = free_port()
        self.plain_port = free_port()
        d = tempfile.mkdtemp(prefix="nginx-", dir=self.tmp)
        os.chmod(d, 0o755)
        os.mkdir(os.path.join(d, "www"))
        with open(os.path.join(d, "www", "index.html"), "w") as f:
            f.write("hello over h2\n")
        with open(os.path.join(d, "www", "big.bin"), "wb") as f:
            f.write(os.urandom(100 * 1024))  # several DATA frames per write
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(nginx_conf(d, NGINX_SERVER.format(
                dir=d, port=self.port, plain_port=self.plain_port, cert=self.cert,
                key=self.key, locations=locations)))
        self.nginx = subprocess.Popen([NGINX, "-c", conf, "-p", d], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, start_new_session=True)
        self.addCleanup(self.stop_nginx)
        wait_for(lambda: self.curl("/index.html", check=False) == ["200"], timeout=15,
                 what="nginx answering over h2")
        wait_for(lambda: self.counts().get(("GET", "/index.html", 200), 0) >= 1, timeout=10,
                 what="the warm-up request counted")

    def stop_nginx(self):
        stop_nginx(self.nginx)

    def curl(self, *paths, check=True, clear=False, headers=()):
        """TLS with ALPN h2, or (clear) clear text with prior knowledge."""
        argv = ["curl", "-sk", "--http2-prior-knowledge" if clear else "--http2",
                "-w", "%{http_version}/%{http_code} "]
        for h in headers:
            argv += ["-H", h]
        url = ("http://127.0.0.1:%d" % self.plain_port if clear else
               "https://127.0.0.1:%d" % self.port)
        for p in paths:
            argv += ["-o", "/dev/null", url + p]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        if check:
            self.assertEqual(r.returncode, 0, r.stderr)
            for answer in r.stdout.split():
                self.assertTrue(answer.startswith("2/"), "not HTTP/2: %s" % r.stdout)
        return [a.split("/")[-1] for a in r.stdout.split()]

    def rows(self, port=None):
        r = self.usm.get("/usm/http_stats")
        self.assertEqual(r.status, 200, r.body)
        return [row for row in r.json() if row["server"]["port"] == (port or self.port)]

    def counts(self, port=None):
        out = {}
        for r in self.rows(port):
            k = (r["method"], r["path"], r["status"])
            out[k] = out.get(k, 0) + r["count"]
        return out

    def counters(self):
        return self.usm.get("/usm/stats").json()["counters"]

    def assert_exact(self, want, before, port=None,
                     unchanged=("http2_hpack_desync", "http2_framing_lost",
                                "http2_started_unseen", "http_exchanges_without_tuple")):
        try:
            wait_for(lambda: self.counts(port) == want, timeout=10, what="counts %s" % want)
        except AssertionError:
            self.assertEqual(self.counts(port), want)
        time.sleep(1.0)  # nothing counted twice a little later
        self.assertEqual(self.counts(port), want)
        workers = set(int(p) for p in subprocess.run(
            ["pgrep", "-P", str(self.nginx.pid)], capture_output=True, text=True).stdout.split())
        for row in self.rows(port):
            self.assertEqual(row["protocol"], "h2", row)
            self.assertIsNone(row["grpc_status"], row)
            self.assertEqual(row["server"]["addr"], "127.0.0.1", row)
            self.assertIn(row["server"]["pid"], workers, row)
            self.assertEqual(row["server"]["comm"], "nginx", row)
        after = self.counters()
        for name in unchanged:
            self.assertEqual(after[name], before[name], name)
        self.assertGreater(after["http2_connections"], before["http2_connections"])


class Http2TestCase(NginxH2, unittest.TestCase):

    def setUp(self):
        require_privileges(self)
        for binary in (NGINX, H2LOAD):
            if not os.path.exists(binary):
                self.fail("%s is not installed (scripts/setup.sh test installs it)" % binary)
        if type(self).usm is None:
            type(self).usm = Usm("http_request_timeout_ms=1500").start()
        self.start_nginx()

    def test_curl_fresh_and_multiplexed_exact_at_nginx(self):
        before_counts = self.counts()
        before = self.counters()
        for _ in range(10):
            self.assertEqual(self.curl("/index.html"), ["200"])
        # one connection, several streams
        self.assertEqual(self.curl("/index.html", "/missing", "/teapot", "/index.html?q=1"),
                         ["200", "404", "418", "200"])
        want = dict(before_counts)
        for key, n in ((("GET", "/index.html", 200), 12), (("GET", "/missing", 404), 1),
                       (("GET", "/teapot", 418), 1)):
            want[key] = want.get(key, 0) + n
        self.assert_exact(want, before)

    def test_h2load_many_streams_exact_at_nginx(self):
        before_counts = self.counts()
        before = self.counters()
        r = subprocess.run([H2LOAD, "-n", "400", "-c", "2", "-m", "8",
                            "https://127.0.0.1:%d/index.html" % self.port],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("400 succeeded", r.stdout)
        want = dict(before_counts)
        want[("GET", "/index.html", 200)] = want.get(("GET", "/index.html", 200), 0) + 400
        self.assert_exact(want, before)
        self.assertEqual(self.counters()["http2_streams_reset"], before["http2_streams_reset"])

    def test_clear_text_prior_knowledge_exact_at_nginx(self):
        """h2c with prior knowledge: nginx writes a frame header and its
        payload from separate buffers (writev), read as one prefix."""
        before = self.counters()
        for _ in range(5):
            self.assertEqual(self.curl("/index.html", clear=True), ["200"])
        # one URL per curl: curl 7.88 fails a second request on a
        # prior-knowledge connection to nginx (exit 16), usm or not
        self.assertEqual(self.curl("/index.html", clear=True), ["200"])
        self.assertEqual(self.curl("/missing", clear=True), ["404"])
        r = subprocess.run([H2LOAD, "-n", "100", "-c", "1", "-m", "4",
                            "http://127.0.0.1:%d/index.html" % self.plain_port],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("100 succeeded", r.stdout)
        # h2load's reads carry several streams' frames at once, past the
        # first capture: the kernel's frame walk gives the collector each
        # frame header and header block, so neither side loses its table
        self.assert_exact({("GET", "/index.html", 200): 106, ("GET", "/missing", 404): 1},
                          before, self.plain_port)

    def test_frames_past_the_first_capture_exact(self):
        """Header blocks and frames far past the first http_capture_bytes
        of a read or write: 100 KiB responses multiplexed with small ones
        (nginx writes one stream's DATA frames and the next one's HEADERS
        in one call), a header block of 3 KB (a cookie), over TLS and in
        clear text. Both ends are traced; no table is lost anywhere."""
        before_counts = self.counts()
        before = self.counters()
        uris = ["https://127.0.0.1:%d%s" % (self.port, p)
                for p in ("/index.html", "/big.bin", "/missing")]
        r = subprocess.run([H2LOAD, "-n", "300", "-c", "2", "-m", "8"] + uris,
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("300 done", r.stdout)
        self.assertIn("status codes: 200 2xx, 0 3xx, 100 4xx", r.stdout)  # h2load: 4xx "failed"
        cookie = "Cookie: session=" + "c" * 3000
        self.assertEqual(self.curl("/index.html", "/big.bin", headers=[cookie]), ["200", "200"])
        want = dict(before_counts)
        for key, n in ((("GET", "/index.html", 200), 101), (("GET", "/big.bin", 200), 101),
                       (("GET", "/missing", 404), 100)):
            want[key] = want.get(key, 0) + n
        self.assert_exact(want, before)
        before = self.counters()
        plain = ["http://127.0.0.1:%d%s" % (self.plain_port, p) for p in ("/big.bin", "/index.html")]
        r = subprocess.run([H2LOAD, "-n", "100", "-c", "1", "-m", "8"] + plain,
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("100 succeeded", r.stdout)
        self.assert_exact({("GET", "/big.bin", 200): 50, ("GET", "/index.html", 200): 50},
                          before, self.plain_port)


GRPC_PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "grpc", "peer.py")
DEBIAN_PYTHON = "/usr/bin/python3"  # python3-grpcio is Debian's


class GrpcTestCase(SharedUsm, unittest.TestCase):
    """gRPC over HTTP/2, clear text and TLS (python3-grpcio both ends; its
    TLS is the system OpenSSL, fed through memory BIOs): rows keyed by the
    method as the path, with the gRPC status from the trailers beside the
    HTTP status, counted once at the server, with its address."""

    TMP_PREFIX = "usm-grpc-"

    def setUp(self):
        require_privileges(self)
        r = subprocess.run([DEBIAN_PYTHON, "-c", "import grpc"], capture_output=True)
        if r.returncode != 0:
            self.fail("python3-grpcio is not installed (scripts/setup.sh test installs it)")
        if type(self).usm is None:
            type(self).usm = Usm("http_request_timeout_ms=1500").start()
        self.env = dict(os.environ)
        self.env.pop("USM_GRPC_TLS", None)

    def start_server(self, tls):
        """The gRPC server on a free port, in clear text or TLS (grpcio's
        TLS is the system OpenSSL, which usm probes)."""
        if tls:
            self.env["USM_GRPC_TLS"] = "%s:%s" % (self.cert, self.key)
        self.port = free_port()
        self.server = subprocess.Popen([DEBIAN_PYTHON, GRPC_PEER, "server", str(self.port)],
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                       text=True, start_new_session=True, env=self.env)
        self.addCleanup(self.stop_server)
        self.assertEqual(self.server.stdout.readline().strip(), "ready")

    def stop_server(self):
        self.server.kill()
        self.server.wait()
        self.server.stdout.close()

    def peer(self, *args):
        r = subprocess.run([DEBIAN_PYTHON, GRPC_PEER] + [str(a) for a in args],
                           capture_output=True, text=True, timeout=60, env=self.env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def rows(self):
        return [row for row in self.usm.get("/usm/http_stats").json()
                if row["server"]["port"] == self.port]

    def grpc_counts(self):
        out = {}
        for r in self.rows():
            k = (r["method"], r["path"], r["status"], r["grpc_status"])
            out[k] = out.get(k, 0) + r["count"]
        return out

    def test_unary_and_streaming_calls_with_their_grpc_status(self):
        self.start_server(tls=False)
        self.calls_counted_with_their_grpc_status()

    def test_over_tls_with_the_server_address(self):
        self.start_server(tls=True)
        self.calls_counted_with_their_grpc_status()
        for row in self.rows():
            self.assertEqual(row["server"]["addr"], "127.0.0.1", row)

    def calls_counted_with_their_grpc_status(self):
        self.peer("client", self.port, 20)
        self.peer("client", self.port, 3)
        self.peer("stream", self.port, 50)
        want = {("POST", "/usm.test.Echo/Say", 200, 0): 23,
                ("POST", "/usm.test.Echo/Fail", 200, 5): 2,  # NOT_FOUND
                ("POST", "/usm.test.Echo/Count", 200, 0): 1}
        try:
            wait_for(lambda: self.grpc_counts() == want, timeout=10, what="counts %s" % want)
        except AssertionError:
            self.assertEqual(self.grpc_counts(), want)
        time.sleep(1.0)
        self.assertEqual(self.grpc_counts(), want)
        for row in self.rows():
            self.assertEqual(row["protocol"], "h2", row)
            self.assertEqual(row["server"]["pid"], self.server.pid, row)
        # the filter selects them
        r = self.usm.get("/usm/http_stats?protocol=h2&path=/usm.test.Echo/Fail")
        self.assertEqual([row["grpc_status"] for row in r.json()
                          if row["server"]["port"] == self.port], [5])
        # /metrics in OpenTelemetry's RPC names, and promtool accepts it
        m = self.usm.get("/metrics").body
        server = 'server="127.0.0.1:%d"' % self.port
        rpc = {}
        for line in m.splitlines():
            if line.startswith("rpc_server_duration_seconds_count{") and server in line:
                labels, value = line[len("rpc_server_duration_seconds_count{"):].split("} ")
                fields = dict(kv.split("=", 1) for kv in labels.split(","))
                rpc[(fields["rpc_service"], fields["rpc_method"],
                     fields["rpc_grpc_status_code"], fields["rpc_system"])] = int(value)
        self.assertEqual(rpc, {('"usm.test.Echo"', '"Say"', '"0"', '"grpc"'): 23,
                               ('"usm.test.Echo"', '"Fail"', '"5"', '"grpc"'): 2,
                               ('"usm.test.Echo"', '"Count"', '"0"', '"grpc"'): 1})
        check = subprocess.run(["promtool", "check", "metrics"], input=m, capture_output=True,
                               text=True, timeout=30)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)


if __name__ == "__main__":
    unittest.main()


APACHE = "/usr/sbin/apache2"
APACHE_MODULES = "/usr/lib/apache2/modules"
NGHTTPD = "/usr/sbin/nghttpd"

# Apache's mod_http2 in clear text: h2c by upgrade (curl --http2 on an
# http:// URL sends "Upgrade: h2c") and with prior knowledge.
APACHE_H2C_CONF = """ServerRoot {modules}/..
ServerName localhost
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule http2_module {modules}/mod_http2.so
LoadModule mime_module {modules}/mod_mime.so
TypesConfig /etc/mime.types
Listen 127.0.0.1:{port}
PidFile {dir}/httpd.pid
ErrorLog {dir}/error.log
DocumentRoot {dir}/www
User www-data
Group www-data
Protocols h2c http/1.1
"""


class OtherH2ServersTestCase(SharedUsm, unittest.TestCase):
    """h2c by upgrade at Apache (mod_http2), and nghttpd (nghttp2's own
    server) over TLS and in clear text: exact at the server, as h2."""

    TMP_PREFIX = "usm-h2c-"
    KEY_READABLE = True  # its servers read it as www-data

    def setUp(self):
        require_privileges(self)
        for binary in (APACHE, NGHTTPD, H2LOAD):
            if not os.path.exists(binary):
                self.fail("%s is not installed (scripts/setup.sh test installs it)" % binary)
        if type(self).usm is None:
            type(self).usm = Usm("http_request_timeout_ms=1500").start()
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="srv-", dir=self.tmp)
        os.chmod(self.dir, 0o755)
        os.mkdir(os.path.join(self.dir, "www"))
        with open(os.path.join(self.dir, "www", "index.html"), "w") as f:
            f.write("hello over h2c\n")

    def start(self, argv):
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True, cwd=self.dir)
        self.addCleanup(self.stop, p)
        return p

    @staticmethod
    def stop(p):
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()

    def curl(self, url, *options):
        r = subprocess.run(["curl", "-sk", *options, "-o", "/dev/null", "-w",
                            "%{http_version}/%{http_code}", url],
                           capture_output=True, text=True, timeout=30)
        return r.stdout

    def counts(self):
        out = {}
        for r in self.usm.get("/usm/http_stats").json():
            if r["server"]["port"] == self.port:
                k = (r["method"], r["path"], r["status"], r["protocol"])
                out[k] = out.get(k, 0) + r["count"]
        return out

    def exact(self, want, server_pids):
        try:
            wait_for(lambda: self.counts() == want, timeout=10, what="counts %s" % want)
        except AssertionError:
            self.assertEqual(self.counts(), want)
        time.sleep(1.0)
        self.assertEqual(self.counts(), want)
        for r in self.usm.get("/usm/http_stats").json():
            if r["server"]["port"] == self.port:
                self.assertIn(r["server"]["pid"], server_pids(), r)

    def test_h2c_upgrade_exact_at_apache(self):
        conf = os.path.join(self.dir, "httpd.conf")
        with open(conf, "w") as f:
            f.write(APACHE_H2C_CONF.format(modules=APACHE_MODULES, port=self.port, dir=self.dir))
        p = self.start([APACHE, "-f", conf, "-DFOREGROUND"])
        url = "http://127.0.0.1:%d/index.html" % self.port
        wait_for(lambda: self.curl(url, "--http1.1") == "1.1/200", timeout=15,
                 what="Apache answering")
        wait_for(lambda: self.counts().get(("GET", "/index.html", 200, "http/1.1")) == 1,
                 timeout=10, what="the warm-up counted")
        before = self.usm.get("/usm/stats").json()["counters"]
        for _ in range(8):  # curl --http2 on http:// asks for h2c by Upgrade
            self.assertEqual(self.curl(url, "--http2"), "2/200")
        self.assertEqual(self.curl(url.replace("index.html", "missing"), "--http2"), "2/404")
        for _ in range(3):
            self.assertEqual(self.curl(url, "--http2-prior-knowledge"), "2/200")
        children = lambda: {int(x) for x in subprocess.run(
            ["pgrep", "-P", str(p.pid)], capture_output=True, text=True).stdout.split()}
        self.exact({("GET", "/index.html", 200, "http/1.1"): 1,
                    ("GET", "/index.html", 200, "h2"): 11,
                    ("GET", "/missing", 404, "h2"): 1}, children)
        after = self.usm.get("/usm/stats").json()["counters"]
        for name in ("http2_hpack_desync", "http2_framing_lost", "http2_started_unseen"):
            self.assertEqual(after[name], before[name], name)

    def test_nghttpd_exact_over_tls_and_in_clear_text(self):
        tls = self.start([NGHTTPD, "-a", "127.0.0.1", "-d", os.path.join(self.dir, "www"),
                          str(self.port), self.key, self.cert])
        url = "https://127.0.0.1:%d/index.html" % self.port
        wait_for(lambda: self.curl(url, "--http2") == "2/200", timeout=15,
                 what="nghttpd answering")
        wait_for(lambda: self.counts() == {("GET", "/index.html", 200, "h2"): 1}, timeout=10,
                 what="the warm-up counted")
        for _ in range(5):
            self.assertEqual(self.curl(url, "--http2"), "2/200")
        r = subprocess.run([H2LOAD, "-n", "200", "-c", "2", "-m", "8", url],
                           capture_output=True, text=True, timeout=120)
        self.assertIn("200 succeeded", r.stdout, r.stdout + r.stderr)
        self.exact({("GET", "/index.html", 200, "h2"): 206}, lambda: {tls.pid})
        self.stop(tls)
        self.port = free_port()
        plain = self.start([NGHTTPD, "--no-tls", "-a", "127.0.0.1", "-d",
                            os.path.join(self.dir, "www"), str(self.port)])
        url = "http://127.0.0.1:%d/index.html" % self.port
        wait_for(lambda: self.curl(url, "--http2-prior-knowledge") == "2/200", timeout=15,
                 what="nghttpd answering in clear text")
        r = subprocess.run([H2LOAD, "-n", "100", "-c", "1", "-m", "4", url],
                           capture_output=True, text=True, timeout=120)
        self.assertIn("100 succeeded", r.stdout, r.stdout + r.stderr)
        self.exact({("GET", "/index.html", 200, "h2"): 101}, lambda: {plain.pid})
