"""End-to-end: Go's crypto/tls (enable_go_tls_support). Real Go peers built
by meson in the four ways Go programs ship (tests/go: plain, stripped, PIE,
-trimpath): every server build against every client build, keep-alive and
fresh connections and a POST body over 64 KiB, counted exactly, once, at
the Go server (its address, port, pid and command) with the client side
seen and dropped as a duplicate; a Go server found by the start-up scan and
one found at exec; Go against OpenSSL either way round (python's ssl
server, curl); traced_programs and blocked_processes ("not-go"); a status
other than 200; HTTP/2 between Go peers and from curl (counted as h2 at
the Go server); and, with
the option off, a Go server not traced at all.

HTTP/1.1 is forced with GODEBUG=http2client=0,http2server=0 except where
HTTP/2 is the subject. Every assertion is about rows of this test's own
server ports, so other traffic on the host cannot make it pass or fail;
counters are compared as deltas."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from usm_harness import BUILD, Usm, free_port, make_cert, require_privileges, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
SERVERS = os.path.join(HERE, "http_servers.py")
GO_DIR = os.path.join(BUILD, "tests", "go")
BUILDS = ("plain", "stripped", "pie", "trimpath")
HTTP1 = dict(os.environ, GODEBUG="http2client=0,http2server=0")
HTTP2 = {k: v for k, v in os.environ.items() if k != "GODEBUG"}


def go_binary(prog, build):
    path = os.path.join(GO_DIR, "%s_%s" % (prog, build))
    if not os.path.exists(path):
        raise AssertionError("%s is missing: build with -Dtests=enabled (needs golang-go)" % path)
    return path


def comm_of(pid):
    with open("/proc/%d/comm" % pid) as f:
        return f.read().strip()


class GoPeers:
    """Starting and stopping the Go programs and the other peers, shared by
    both test cases (each keeps its processes in cls.procs)."""

    @classmethod
    def spawn(cls, args, env=None):
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env)
        cls.procs.append(p)
        return p

    @classmethod
    def go_server(cls, path, env=HTTP1):
        """Starts a Go HTTPS server at path on 127.0.0.1; (port, process)."""
        p = cls.spawn([path, "-addr", "127.0.0.1:0", "-cert", cls.cert, "-key", cls.key], env)
        line = p.stdout.readline()
        if not line.strip().isdigit():
            p.kill()
            raise AssertionError("%s did not start: %r %s" % (path, line, p.stderr.read()))
        return int(line), p

    @classmethod
    def stop_all(cls):
        for p in cls.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()
            p.stderr.close()
        cls.procs = []

    def go_client(self, path, url, n=1, fresh=False, post=None, env=HTTP1):
        args = [path, "-url", url, "-n", str(n)]
        if fresh:
            args.append("-fresh")
        if post is not None:
            args += ["-post", str(post)]
        r = subprocess.run(args, capture_output=True, text=True, timeout=60, env=env)
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "ok %d" % n), r.stderr)

    def curl(self, *urls):
        """curl (OpenSSL), one connection for all the URLs; the statuses."""
        argv = ["curl", "-sk", "--http1.1", "-w", "%{http_code} "]
        for u in urls:
            argv += ["-o", "/dev/null", u]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.split()

    def rows(self, port):
        r = self.usm.get("/usm/http_stats")
        self.assertEqual(r.status, 200, r.body)
        return [row for row in r.json() if row["server"]["port"] == port]

    def counts(self, port):
        return {(r["method"], r["path"], r["status"]): r["count"] for r in self.rows(port)}

    def counters(self):
        return self.usm.get("/usm/stats").json()["counters"]

    def wait_counts(self, port, want):
        """Waits until the port's rows are exactly want, then checks they
        stay so (nothing counted twice a little later)."""
        try:
            wait_for(lambda: self.counts(port) == want, timeout=10, what="counts %s" % want)
        except AssertionError:
            # say whether the kernel side dropped records or the parser choked
            c = self.counters()
            self.assertEqual(self.counts(port), want, {k: v for k, v in c.items()
                                                       if k.startswith("http")})
        time.sleep(1.5)
        self.assertEqual(self.counts(port), want)

    def traced_entry(self, path):
        """The traced_programs entry for the file at path, or None."""
        r = self.usm.get("/debug/usm/traced_programs")
        if r.status != 200:  # 503 while the listing keeps changing
            return None
        st = os.stat(path)
        for e in r.json():
            if (e["PathID"]["Dev"], e["PathID"]["Inode"]) == (st.st_dev, st.st_ino):
                return e
        return None

    def wait_traced(self, path, pid):
        """Waits until pid is among the PIDs of the file at path, traced as
        go-tls; returns the entry."""
        def traced():
            e = self.traced_entry(path)
            return e if e and pid in e["PIDs"] else None
        e = wait_for(traced, timeout=15, what="%s (pid %d) traced" % (path, pid))
        self.assertEqual(e["ProgramType"], "go-tls", e)
        return e


class GoTlsTestCase(GoPeers, unittest.TestCase):
    """One usm for the class (Go TLS on); each test uses its own server
    ports. A copy of a Go server runs from before usm starts (the start-up
    scan must find it); each Go client build has a copy of itself waiting
    on a server that never answers, so its file stays traced and short
    clients are traced from their first call."""

    @classmethod
    def setUpClass(cls):
        cls.procs = []
        cls.usm = None
        cls.tmp = tempfile.mkdtemp(prefix="usm-go-")
        os.chmod(cls.tmp, 0o755)
        cls.key, cls.cert = make_cert(cls.tmp)
        for name in ("go_early_server", "go_late_server"):
            shutil.copy(go_binary("https_server", "plain"), os.path.join(cls.tmp, name))

    @classmethod
    def tearDownClass(cls):
        cls.stop_all()
        if cls.usm:
            cls.usm.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        require_privileges(self)
        cls = type(self)
        if cls.usm is not None:
            return
        # before usm: a file of its own (a copy), so that only the scan can
        # have attached it
        cls.early = cls.go_server(os.path.join(cls.tmp, "go_early_server"))
        cls.usm = Usm("enable_go_tls_support=true", "http_request_timeout_ms=1500").start()
        silent = free_port()
        p = cls.spawn([sys.executable, SERVERS, "silent", str(silent)])
        if p.stdout.readline().strip() != "ready":
            raise AssertionError("the silent server did not start: %s" % p.stderr.read())
        cls.holders = {}
        for build in BUILDS:
            path = go_binary("https_client", build)
            cls.holders[build] = cls.spawn([path, "-url", "https://127.0.0.1:%d/" % silent],
                                           HTTP1)

    def wait_holders(self):
        for build, p in self.holders.items():
            self.wait_traced(go_binary("https_client", build), p.pid)

    def assert_server_side(self, port, server, path):
        """Every row of port is the server's: its address, pid and command
        (the first 15 bytes of its file name)."""
        comm = os.path.basename(path)[:15]
        self.assertEqual(comm_of(server.pid), comm)
        for row in self.rows(port):
            self.assertEqual(row["server"], {"addr": "127.0.0.1", "port": port,
                                             "pid": server.pid, "comm": comm}, row)
            self.assertGreater(row["bytes"], 0, row)

    # ---- tests ----

    def test_every_server_build_with_every_client_build_counts_exactly_at_the_server(self):
        self.wait_holders()
        servers = {}
        for sb in BUILDS:
            path = go_binary("https_server", sb)
            port, p = self.go_server(path)
            self.wait_traced(path, p.pid)
            servers[sb] = (port, p, path)
        dups = self.counters()["http_client_duplicates"]
        for sb, (port, _, _) in servers.items():
            for cb in BUILDS:
                client = go_binary("https_client", cb)
                base = "https://127.0.0.1:%d/%s" % (port, cb)
                self.go_client(client, base + "/keep?size=10", n=4)
                self.go_client(client, base + "/fresh", n=3, fresh=True)
                self.go_client(client, base + "/post?size=70000", post=100000)
        for sb, (port, p, path) in servers.items():
            with self.subTest(server=sb):
                want = {}
                for cb in BUILDS:
                    want[("GET", "/%s/keep" % cb, 200)] = 4
                    want[("GET", "/%s/fresh" % cb, 200)] = 3
                    want[("POST", "/%s/post" % cb, 200)] = 1
                self.wait_counts(port, want)
                self.assert_server_side(port, p, path)
                for row in self.rows(port):
                    if row["method"] == "POST":
                        # a 100000-byte body and a 70000-byte answer
                        self.assertGreaterEqual(row["bytes"], 170000, row)
        # each client build's side was seen too, and dropped as a duplicate
        self.assertGreaterEqual(self.counters()["http_client_duplicates"] - dups,
                                len(BUILDS) * len(BUILDS) * (4 + 3 + 1))

    def test_server_started_before_usm_is_found_by_the_startup_scan(self):
        port, p = self.early
        path = os.path.join(self.tmp, "go_early_server")
        self.wait_traced(path, p.pid)
        self.go_client(go_binary("https_client", "plain"), "https://127.0.0.1:%d/early" % port, n=3)
        self.wait_counts(port, {("GET", "/early", 200): 3})
        self.assert_server_side(port, p, path)

    def test_server_started_after_usm_is_found_at_exec(self):
        path = os.path.join(self.tmp, "go_late_server")
        port, p = self.go_server(path)
        self.wait_traced(path, p.pid)
        self.go_client(go_binary("https_client", "plain"), "https://127.0.0.1:%d/late" % port, n=2)
        self.go_client(go_binary("https_client", "plain"), "https://127.0.0.1:%d/late" % port,
                       n=2, fresh=True)
        self.wait_counts(port, {("GET", "/late", 200): 4})
        self.assert_server_side(port, p, path)

    def test_go_client_against_openssl_server_counts_once_at_the_server(self):
        self.wait_holders()
        port = free_port()
        server = self.spawn([sys.executable, SERVERS, "tls", str(port), self.cert, self.key])
        self.assertEqual(server.stdout.readline().strip(), "ready", server.stderr)
        wait_for(lambda: any(server.pid in e["PIDs"] and e["ProgramType"] == "shared_libraries"
                             for e in self.usm.get("/debug/usm/traced_programs").json()),
                 timeout=15, what="the python server's libssl traced")
        dups = self.counters()["http_client_duplicates"]
        base = "https://127.0.0.1:%d" % port
        self.go_client(go_binary("https_client", "stripped"), base + "/py", n=3)
        self.go_client(go_binary("https_client", "pie"), base + "/py", n=2, fresh=True)
        self.go_client(go_binary("https_client", "trimpath"), base + "/missing")
        self.wait_counts(port, {("GET", "/py", 200): 5, ("GET", "/missing", 404): 1})
        for row in self.rows(port):
            self.assertEqual(row["server"], {"addr": "127.0.0.1", "port": port,
                                             "pid": server.pid, "comm": "python3"})
        self.assertGreaterEqual(self.counters()["http_client_duplicates"] - dups, 6)

    def test_curl_against_go_server_counts_once_at_the_go_server(self):
        path = go_binary("https_server", "stripped")
        port, p = self.go_server(path)
        self.wait_traced(path, p.pid)
        base = "https://127.0.0.1:%d" % port
        dups = self.counters()["http_client_duplicates"]
        self.assertEqual(self.curl(base + "/curl", base + "/curl", base + "/curl"), ["200"] * 3)
        self.assertEqual(self.curl(base + "/status/503"), ["503"])
        self.wait_counts(port, {("GET", "/curl", 200): 3, ("GET", "/status/503", 503): 1})
        self.assert_server_side(port, p, path)
        self.assertGreaterEqual(self.counters()["http_client_duplicates"] - dups, 4)

    def test_go_client_to_go_server_counts_once_at_the_server(self):
        self.wait_holders()
        path = go_binary("https_server", "pie")
        port, p = self.go_server(path)
        self.wait_traced(path, p.pid)
        dups = self.counters()["http_client_duplicates"]
        self.go_client(go_binary("https_client", "plain"), "https://127.0.0.1:%d/g2g" % port, n=5)
        self.wait_counts(port, {("GET", "/g2g", 200): 5})
        self.assert_server_side(port, p, path)
        # the client's side was seen too: dropped as the server's duplicate
        self.assertGreaterEqual(self.counters()["http_client_duplicates"] - dups, 5)

    def test_go_binary_is_listed_in_traced_programs_as_go_tls(self):
        path = go_binary("https_server", "trimpath")
        port, p = self.go_server(path)
        e = self.wait_traced(path, p.pid)
        self.assertEqual(os.path.realpath(e["FilePath"]), os.path.realpath(path))
        # not a shared library entry as well
        self.assertEqual([x for x in self.usm.get("/debug/usm/traced_programs").json()
                          if x["FilePath"] == e["FilePath"]], [e])

    def test_non_go_executable_is_blocked_as_not_go(self):
        sleeper = self.spawn(["/usr/bin/sleep", "30"])
        st = os.stat("/usr/bin/sleep")

        def blocked():
            for group in self.usm.get("/debug/usm/blocked_processes").json():
                for ident in group["PathIdentifiers"]:
                    if (ident["Dev"], ident["Inode"]) == (st.st_dev, st.st_ino):
                        return group["ProgramType"], ident["Reason"]
            return None

        self.assertEqual(wait_for(blocked, timeout=10, what="sleep blocked"), ("go-tls", "not-go"))
        self.assertIsNone(self.traced_entry("/usr/bin/sleep"))
        sleeper.kill()

    def test_status_other_than_200_is_counted_with_its_status(self):
        path = go_binary("https_server", "plain")
        port, p = self.go_server(path)
        self.wait_traced(path, p.pid)
        client = go_binary("https_client", "plain")
        base = "https://127.0.0.1:%d" % port
        self.go_client(client, base + "/status/404", n=2)
        self.go_client(client, base + "/status/500", fresh=True)
        self.go_client(client, base + "/status/201", post=10)
        self.go_client(client, base + "/ok")
        self.wait_counts(port, {("GET", "/status/404", 404): 2, ("GET", "/status/500", 500): 1,
                                ("POST", "/status/201", 201): 1, ("GET", "/ok", 200): 1})
        self.assert_server_side(port, p, path)

    def test_http2_between_go_peers_is_counted_as_h2_at_the_server(self):
        """Go's HTTP/2 (its own HPACK and framing), captured through the
        crypto/tls probes: counted once, at the Go server, as h2."""
        self.wait_holders()
        path = go_binary("https_server", "plain")
        port, p = self.go_server(path, env=HTTP2)
        self.wait_traced(path, p.pid)
        client = go_binary("https_client", "plain")
        base = "https://127.0.0.1:%d" % port
        self.go_client(client, base + "/h2", n=4, env=HTTP2)
        self.go_client(client, base + "/h2", n=2, fresh=True, env=HTTP2)
        self.go_client(client, base + "/h2post", post=100000, env=HTTP2)
        # curl negotiates h2 too (ALPN)
        r = subprocess.run(["curl", "-sk", "--http2", "-o", "/dev/null", "-w", "%{http_version}",
                            base + "/h2curl"], capture_output=True, text=True, timeout=30)
        self.assertEqual((r.returncode, r.stdout), (0, "2"), r.stderr)
        self.wait_counts(port, {("GET", "/h2", 200): 6, ("POST", "/h2post", 200): 1,
                                ("GET", "/h2curl", 200): 1})
        for row in self.rows(port):
            self.assertEqual((row["protocol"], row["server"]["pid"]), ("h2", p.pid), row)
        # and nowhere else (a client-side row whose server is unknown)
        self.assertEqual([row for row in self.usm.get("/usm/http_stats").json()
                          if (row["path"] or "").startswith("/h2")
                          and row["server"]["port"] != port], [])


class GoTlsOffTestCase(GoPeers, unittest.TestCase):
    """enable_go_tls_support=false (the default): Go programs are not
    traced; curl's OpenSSL still is, which shows usm is capturing."""

    @classmethod
    def setUpClass(cls):
        cls.procs = []
        cls.usm = None
        cls.tmp = tempfile.mkdtemp(prefix="usm-go-off-")
        os.chmod(cls.tmp, 0o755)
        cls.key, cls.cert = make_cert(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        cls.stop_all()
        if cls.usm:
            cls.usm.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        require_privileges(self)
        if type(self).usm is None:
            type(self).usm = Usm("http_request_timeout_ms=1500").start()
            # libssl is resident: curl is traced from its first call
            wait_for(lambda: self.traced_entry("/usr/lib/x86_64-linux-gnu/libssl.so.3"),
                     timeout=15, what="libssl traced")

    def test_go_server_is_not_traced_and_go_traffic_is_not_counted(self):
        path = go_binary("https_server", "plain")
        port, p = self.go_server(path)
        client = go_binary("https_client", "plain")
        base = "https://127.0.0.1:%d" % port
        self.go_client(client, base + "/off", n=3)
        self.go_client(client, base + "/off", n=2, fresh=True)
        # the control: curl's side is captured (no server pid: not traced)
        self.assertEqual(self.curl(base + "/curl", base + "/curl"), ["200", "200"])
        self.wait_counts(port, {("GET", "/curl", 200): 2})
        for row in self.rows(port):
            self.assertEqual(row["server"], {"addr": "127.0.0.1", "port": port,
                                             "pid": None, "comm": None})
        self.assertIsNone(self.traced_entry(path))
        self.assertIsNone(self.traced_entry(go_binary("https_client", "plain")))
        for group in self.usm.get("/debug/usm/blocked_processes").json():
            self.assertNotEqual(group["ProgramType"], "go-tls", group)


if __name__ == "__main__":
    unittest.main()
