"""End-to-end: service names people chose. Real servers started with
OTEL_SERVICE_NAME, with DD_SERVICE, with both, with neither, with a name
too long, and one inside a cgroup named like a docker container's; their
rows in /usm/http_stats and their series in /metrics must carry exactly
the name the kernel read from the environment at exec (else the command)
and the container id from the cgroup.

Every assertion is about this test's own server ports; counters are
compared as deltas."""
import os
import secrets
import subprocess
import sys
import time
import unittest

from usm_harness import Usm, free_port, require_privileges, stop_processes, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
SERVERS = os.path.join(HERE, "http_servers.py")


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

    def server(self, env_extra, prefix=()):
        """A plain HTTP server with env_extra added to a clean environment
        (neither variable inherited from whoever runs the suite)."""
        env = {k: v for k, v in os.environ.items()
               if k not in ("OTEL_SERVICE_NAME", "DD_SERVICE")}
        env.update(env_extra)
        port = free_port()
        args = list(prefix) + [sys.executable, SERVERS, "plain", str(port)]
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env)
        type(self).procs.append(p)
        line = p.stdout.readline()
        if line.strip() != "ready":
            raise AssertionError("%s did not start: %s%s" % (args, line, p.stderr.read()))
        return port, p

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

    def check(self, env_extra, paths, service, container_id=None, prefix=()):
        port, p = self.server(env_extra, prefix)
        exchange(port, paths)
        rows = self.wait_rows(port, len(paths))
        for row in rows:
            self.assertEqual(row["service"], service, row)
            self.assertEqual(row["container_id"], container_id, row)
            self.assertEqual(row["server"]["pid"], p.pid)
            self.assertEqual(row["server"]["comm"], "python3")
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
        return port

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
        port, p = self.server(env)
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


if __name__ == "__main__":
    unittest.main()
