"""End-to-end: service names people chose. Real servers started with
OTEL_SERVICE_NAME, with DD_SERVICE, with both, with neither, with a name
too long, and one inside a cgroup named like a docker container's; their
rows in /usm/http_stats and their series in /metrics must carry exactly
the name the kernel read from the environment at exec (else the command)
and the container id from the cgroup. Servers that serve from a child
forked without exec (nginx's worker, a python server that forks) must
carry their parent's name at the child's pid.

Every assertion is about this test's own server ports; counters are
compared as deltas."""
import os
import secrets
import shutil
import subprocess
import tempfile
import sys
import time
import unittest

from usm_harness import (NGINX, Usm, free_port, nginx_conf, require_privileges, stop_nginx,
                         stop_processes, wait_for)

HERE = os.path.dirname(os.path.abspath(__file__))
SERVERS = os.path.join(HERE, "http_servers.py")
# Clear-text HTTP/1.1 at nginx's worker.
NGINX_SERVER = """    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 "ok\\n"; }}
    }}"""


def cgroup2_root():
    """Where the unified (v2) hierarchy is mounted: /sys/fs/cgroup on a
    pure v2 host, /sys/fs/cgroup/unified on a hybrid one; None without."""
    with open("/proc/mounts") as f:
        for line in f:
            fields = line.split()
            if fields[2] == "cgroup2":
                return fields[1]
    return None


def exchange(port, paths):
    """One keep-alive connection, one GET per path, read to the end."""
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for path in paths:
        c.request("GET", path)
        r = c.getresponse()
        r.read()
    c.close()


class ServiceNamesTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.procs = []
        cls.usm = None
        cls.cgroups = []  # created by the test, removed (leaf first) at the end

    @classmethod
    def tearDownClass(cls):
        stop_processes(cls.procs)
        if cls.usm:
            cls.usm.stop()
        for path in reversed(cls.cgroups):
            for _ in range(50):  # an exited process leaves its cgroup a moment later
                try:
                    os.rmdir(path)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)

    def setUp(self):
        require_privileges(self)
        cls = type(self)
        if cls.usm is None:
            cls.usm = Usm().start()

    # ---- helpers ----

    @staticmethod
    def environment(env_extra):
        """env_extra added to a clean environment (neither variable
        inherited from whoever runs the suite)."""
        env = {k: v for k, v in os.environ.items()
               if k not in ("OTEL_SERVICE_NAME", "DD_SERVICE")}
        env.update(env_extra)
        return env

    def server(self, env_extra, prefix=(), kind="plain"):
        """A plain HTTP server (kind "forked": served by a child it forks;
        its pid is then the third value, else the server's own)."""
        port = free_port()
        args = list(prefix) + [sys.executable, SERVERS, kind, str(port)]
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=self.environment(env_extra))
        type(self).procs.append(p)
        line = p.stdout.readline().split()
        if not line or line[0] != "ready":
            raise AssertionError("%s did not start: %s%s" % (args, line, p.stderr.read()))
        return port, p, int(line[1]) if len(line) > 1 else p.pid

    def rows(self, port):
        r = self.usm.get("/usm/http_stats")
        self.assertEqual(r.status, 200, r.body)
        return [row for row in r.json() if row["server"]["port"] == port]

    def wait_rows(self, port, count):
        """Waits until the port's rows count `count` exchanges, then checks
        it stays so."""
        total = lambda: sum(r["count"] for r in self.rows(port))
        wait_for(lambda: total() == count, timeout=10, what="%d exchanges on %d" % (count, port))
        time.sleep(1.0)
        self.assertEqual(total(), count)
        return self.rows(port)

    def metrics_lines(self, port):
        r = self.usm.get("/metrics")
        self.assertEqual(r.status, 200)
        text = r.body.decode() if isinstance(r.body, bytes) else r.body
        return [l for l in text.splitlines()
                if (':%d"' % port) in l or ('server_port="%d"' % port) in l]

    def counter(self, name):
        return self.usm.get("/usm/stats").json()["counters"][name]

    def check(self, env_extra, paths, service, container_id=None, prefix=(), kind="plain"):
        port, _, pid = self.server(env_extra, prefix, kind)
        self.check_rows(port, pid, "python3", paths, service, container_id)
        return port

    def check_rows(self, port, pid, comm, paths, service, container_id=None):
        """Sends paths to port and checks the rows and series they make:
        all at pid, named service."""
        exchange(port, paths)
        rows = self.wait_rows(port, len(paths))
        for row in rows:
            self.assertEqual(row["service"], service, row)
            self.assertEqual(row["container_id"], container_id, row)
            self.assertEqual(row["server"]["pid"], pid)
            self.assertEqual(row["server"]["comm"], comm)
        self.assertEqual({(r["path"], r["count"]) for r in rows},
                         {(path, paths.count(path)) for path in set(paths)})
        lines = self.metrics_lines(port)
        container = ',container_id="%s"' % container_id if container_id else ""
        for path in set(paths):
            n = paths.count(path)
            self.assertIn('usm_http_requests_total{service="%s",method="GET",path="%s",'
                          'status="200",server="127.0.0.1:%d"%s} %d'
                          % (service, path, port, container, n), lines)
            self.assertIn('http_server_request_duration_seconds_count{http_request_method="GET",'
                          'http_response_status_code="200",http_route="%s",'
                          'server_address="127.0.0.1",server_port="%d",service_name="%s"%s} %d'
                          % (path, port, service, container, n), lines)
        if not container_id:
            self.assertFalse([l for l in lines if "container_id" in l], lines)

    # ---- tests ----

    def test_otel_service_name_names_the_service(self):
        self.check({"OTEL_SERVICE_NAME": "checkout"}, ["/pay", "/pay", "/cart"], "checkout")

    def test_dd_service_names_the_service(self):
        self.check({"DD_SERVICE": "billing-api"}, ["/invoice"] * 3, "billing-api")

    def test_otel_wins_over_dd_service(self):
        self.check({"DD_SERVICE": "dd-name", "OTEL_SERVICE_NAME": "otel-name"}, ["/x"],
                   "otel-name")

    def test_neither_variable_leaves_the_command(self):
        self.check({}, ["/plain", "/plain"], "python3")

    def test_empty_value_leaves_the_command(self):
        self.check({"OTEL_SERVICE_NAME": ""}, ["/empty"], "python3")

    def test_name_too_long_is_refused_counted_and_logged(self):
        before = self.counter("service_names_rejected")
        self.check({"OTEL_SERVICE_NAME": "n" * 64}, ["/long"], "python3")
        self.assertGreaterEqual(self.counter("service_names_rejected") - before, 1)
        self.assertIn("OTEL_SERVICE_NAME longer than 63 bytes; named by its command",
                      self.usm.log_text())

    def test_longest_name_is_kept_whole(self):
        self.check({"OTEL_SERVICE_NAME": "l" * 63}, ["/longest"], "l" * 63)

    def test_label_values_are_escaped(self):
        env = {"OTEL_SERVICE_NAME": 'we"ird\\name'}
        port, _, _ = self.server(env)
        exchange(port, ["/q"])
        rows = self.wait_rows(port, 1)
        self.assertEqual(rows[0]["service"], 'we"ird\\name')
        self.assertIn('usm_http_requests_total{service="we\\"ird\\\\name",method="GET",path="/q",'
                      'status="200",server="127.0.0.1:%d"} 1' % port, self.metrics_lines(port))

    def test_container_id_from_a_docker_like_cgroup(self):
        root = cgroup2_root()
        if root is None:
            self.skipTest("no cgroup v2 hierarchy mounted")
        cid = secrets.token_hex(32)
        parent = os.path.join(root, "usm-e2e-%d.slice" % os.getpid())
        leaf = os.path.join(parent, "docker-%s.scope" % cid)
        os.makedirs(leaf)
        type(self).cgroups += [parent, leaf]
        # Moved into the cgroup before exec, as a runtime starts a
        # container's process: the kernel reads the cgroup at exec.
        prefix = ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', leaf]
        self.check({"OTEL_SERVICE_NAME": "boxed"}, ["/in-box", "/in-box"], "boxed",
                   container_id=cid, prefix=prefix)
        self.check({}, ["/bare"], "python3", container_id=cid, prefix=prefix)

    # ---- children forked without exec ----

    def test_forked_child_is_named_as_its_parent(self):
        before = self.counter("forks_parent_unnamed")
        self.check({"DD_SERVICE": "forked-api"}, ["/child", "/child", "/other"], "forked-api",
                   kind="forked")
        self.assertEqual(self.counter("forks_parent_unnamed"), before)

    def test_forked_child_of_an_unnamed_parent_keeps_the_command(self):
        self.check({}, ["/unnamed-child"], "python3", kind="forked")

    def test_fork_of_a_refused_name_is_counted_and_keeps_the_command(self):
        # The kernel saw a value and sends the fork; the collector refused
        # the parent's name, so it knows none to give the child.
        before = self.counter("forks_parent_unnamed")
        self.check({"OTEL_SERVICE_NAME": "r" * 64}, ["/refused-child"], "python3",
                   kind="forked")
        self.assertGreaterEqual(self.counter("forks_parent_unnamed") - before, 1)

    def test_nginx_worker_is_named_as_its_master(self):
        if not os.path.exists(NGINX):
            self.fail("%s is not installed (scripts/setup.sh test installs it)" % NGINX)
        d = tempfile.mkdtemp(prefix="usm-svc-nginx-")
        self.addCleanup(shutil.rmtree, d, True)
        os.chmod(d, 0o755)  # the worker runs as nobody
        port = free_port()
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(nginx_conf(d, NGINX_SERVER.format(port=port)))
        nginx = subprocess.Popen([NGINX, "-c", conf, "-p", d], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True,
                                 env=self.environment({"OTEL_SERVICE_NAME": "frontend"}))
        self.addCleanup(stop_nginx, nginx)
        workers = lambda: [int(p) for p in subprocess.run(
            ["pgrep", "-P", str(nginx.pid)], capture_output=True, text=True).stdout.split()]
        wait_for(lambda: len(workers()) == 1, timeout=15, what="nginx's worker")
        wait_for(lambda: self.answers(port), timeout=15, what="nginx answering")
        # the probe's exchanges counted, then only this test's
        wait_for(lambda: sum(r["count"] for r in self.rows(port)) >= 1, timeout=10,
                 what="nginx's first exchange counted")
        probes = sum(r["count"] for r in self.rows(port))
        paths = ["/front"] * 3 + ["/door"]
        exchange(port, paths)
        rows = self.wait_rows(port, probes + len(paths))
        worker = workers()[0]
        for row in rows:
            self.assertEqual(row["service"], "frontend", row)
            self.assertIsNone(row["container_id"], row)
            self.assertEqual(row["server"]["pid"], worker, row)
            self.assertEqual(row["server"]["comm"], "nginx", row)
        counts = {r["path"]: r["count"] for r in rows}
        self.assertEqual(counts.get("/front"), 3, counts)
        self.assertEqual(counts.get("/door"), 1, counts)
        self.assertIn('usm_http_requests_total{service="frontend",method="GET",path="/front",'
                      'status="200",server="127.0.0.1:%d"} 3' % port, self.metrics_lines(port))

    @staticmethod
    def answers(port):
        import http.client
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/ready")
            ok = c.getresponse().status == 200
            c.close()
            return ok
        except OSError:
            return False


if __name__ == "__main__":
    unittest.main()
