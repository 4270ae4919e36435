"""End-to-end: usmctl, the terminal client, against a real usm. Real
traffic (curl to python3's http.server in clear text, started with
OTEL_SERVICE_NAME: usmctl groups by the service it chose, not by its
command) with exact counts; usmctl's text and --json checked against the
API's own documents;
`usmctl top` run in a real terminal (tmux: send-keys, capture-pane) until
`q`. And the failures people meet: nothing listening, something else on
the port, malformed JSON, each with its message and exit status (these
need no usm, nor root)."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from usm_harness import BUILD, Usm, free_port, pid_alive, require_privileges, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
SERVICE = "storefront"  # the server's chosen name; its command is python3
SERVERS = os.path.join(HERE, "http_servers.py")
USMCTL = os.path.join(BUILD, "tools", "usmctl", "usmctl")

# Exit statuses (tools/usmctl/exit_status.h).
EXIT_USAGE, EXIT_NOT_RUNNING, EXIT_NOT_USM, EXIT_MALFORMED = 2, 3, 4, 5

# Answers application/json that does not parse, to any request.
MALFORMED_SERVER = r"""
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'[{"server": {"addr": "127.0.0.1"'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = HTTPServer(("127.0.0.1", int(sys.argv[1])), H)
print("ready", flush=True)
s.serve_forever()
"""


def usmctl(*args, env=None, timeout=30):
    return subprocess.run([USMCTL] + list(args), capture_output=True, text=True,
                          timeout=timeout, env=env)


def children(pid):
    with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
        return [int(c) for c in f.read().split()]


def comm(pid):
    with open("/proc/%d/comm" % pid) as f:
        return f.read().strip()


class Peers:
    """Processes a test starts, ended by the test."""

    def __init__(self):
        self.procs = []

    def spawn(self, args, env=None):
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env)
        self.procs.append(p)
        line = p.stdout.readline()
        if line.strip() != "ready":
            raise AssertionError("%s did not start: %s%s" % (args, line, p.stderr.read()))
        return p

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()
            p.stderr.close()


class UsmctlFailuresTestCase(unittest.TestCase):
    """What usmctl says when usm is not what answers: no usm needed."""

    def setUp(self):
        self.peers = Peers()
        self.addCleanup(self.peers.stop)

    def test_nothing_listening_is_not_running(self):
        port = free_port()
        for args in (["status"], ["traced"], ["blocked"], ["stats"], ["--json", "top"]):
            r = usmctl("--api", "127.0.0.1:%d" % port, *args)
            self.assertEqual(r.returncode, EXIT_NOT_RUNNING, (args, r.stderr))
            self.assertEqual(r.stdout, "")
            self.assertEqual(r.stderr, "usmctl: usm is not running at 127.0.0.1:%d: nothing "
                             "listens there (connection refused)\n" % port)
        # the environment's address, when --api is not given
        env = dict(os.environ, USMCTL_API="127.0.0.1:%d" % port)
        r = usmctl("status", env=env)
        self.assertEqual(r.returncode, EXIT_NOT_RUNNING, r.stderr)
        self.assertIn("127.0.0.1:%d" % port, r.stderr)

    def test_another_http_server_is_not_usm(self):
        port = free_port()
        self.peers.spawn([sys.executable, SERVERS, "plain", str(port)])
        r = usmctl("--api", "127.0.0.1:%d" % port, "status")
        self.assertEqual(r.returncode, EXIT_NOT_USM, r.stderr)
        self.assertEqual(r.stderr, "usmctl: 127.0.0.1:%d answered 200 for /usm/stats with "
                         "Content-Type text/plain, not JSON: not usm's API\n" % port)

    def test_a_server_that_never_answers_is_not_usm(self):
        port = free_port()
        self.peers.spawn([sys.executable, SERVERS, "silent", str(port)])
        r = usmctl("--api", "127.0.0.1:%d" % port, "traced")
        self.assertEqual(r.returncode, EXIT_NOT_USM, r.stderr)
        self.assertIn("accepted the connection but sent no HTTP answer", r.stderr)

    def test_malformed_json(self):
        port = free_port()
        self.peers.spawn([sys.executable, "-c", MALFORMED_SERVER, str(port)])
        for args in (["stats"], ["blocked"]):
            r = usmctl("--api", "127.0.0.1:%d" % port, *args)
            self.assertEqual(r.returncode, EXIT_MALFORMED, r.stderr)
            self.assertRegex(r.stderr, r"^usmctl: malformed JSON from 127\.0\.0\.1:%d/\S+: "
                             r"the document ends early\n$" % port)

    def test_bad_command_line(self):
        r = usmctl("stats", "--sort", "latency")
        self.assertEqual(r.returncode, EXIT_USAGE)
        self.assertEqual(r.stderr, "usmctl: --sort: rate, p99 or errors, not 'latency' "
                         "(usmctl --help: usage)\n")


class UsmctlTestCase(unittest.TestCase):
    """One usm and one clear-text server for the class."""

    @classmethod
    def setUpClass(cls):
        cls.peers = Peers()
        cls.usm = None
        cls.port = None
        cls.tmux_socket = "usmctl-test-%d" % os.getpid()

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["tmux", "-L", cls.tmux_socket, "kill-server"], capture_output=True)
        cls.peers.stop()
        if cls.usm:
            cls.usm.stop()

    def setUp(self):
        require_privileges(self)
        cls = type(self)
        if cls.usm is None:
            cls.usm = Usm().start()
            cls.port = free_port()
            cls.peers.spawn([sys.executable, SERVERS, "plain", str(cls.port)],
                            env=dict(os.environ, OTEL_SERVICE_NAME=SERVICE))
            cls.api = "127.0.0.1:%d" % cls.usm.port
            # curl in clear text, one keep-alive connection: /u1 x3, /u2 x2, /boom (500)
            self.curl("/u1", "/u1", "/u1", "/u2", "/u2", "/boom")
            cls.want = {("GET", "/u1"): 3, ("GET", "/u2"): 2, ("GET", "/boom"): 1}
            wait_for(lambda: self.api_counts() == cls.want, timeout=10,
                     what="the API's counts %s" % cls.want)

    # ---- helpers ----

    def curl(self, *paths):
        argv = ["curl", "-s", "-w", "%{http_code} "]
        for p in paths:
            argv += ["-o", "/dev/null", "http://127.0.0.1:%d%s" % (self.port, p)]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)

    def api_rows(self):
        r = self.usm.get("/usm/http_stats")
        self.assertEqual(r.status, 200, r.body)
        return [row for row in r.json() if row["server"]["port"] == self.port]

    def api_counts(self):
        counts = {}
        for row in self.api_rows():
            key = (row["method"], row["path"])
            counts[key] = counts.get(key, 0) + row["count"]
        return counts

    def run_ok(self, *args):
        r = usmctl("--api", self.api, *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        return r.stdout

    def server(self):
        return "127.0.0.1:%d" % self.port

    # ---- tests ----

    def test_stats_json_is_the_apis_counts(self):
        doc = json.loads(self.run_ok("--json", "stats", "--interval", "0.2"))
        self.assertEqual(doc["sort"], "rate")
        self.assertAlmostEqual(doc["interval_s"], 0.2, delta=0.15)
        mine = [e for e in doc["endpoints"] if e["server"] == self.server()]
        self.assertEqual({(e["method"], e["path"]): e["count"] for e in mine}, self.want)
        rows = self.api_rows()
        self.assertEqual({(r["service"], r["server"]["comm"]) for r in rows},
                         {(SERVICE, "python3")})
        for e in mine:
            self.assertEqual(e["service"], SERVICE)
            self.assertEqual(e["errors"], 1 if e["path"] == "/boom" else 0)
            self.assertEqual(e["rate"], 0)  # nothing sent during the interval
            # one row per endpoint here: its quantiles exactly the API's
            (row,) = [r for r in rows if r["path"] == e["path"]]
            self.assertEqual(e["p50_ms"], row["latency_ms"]["p50"])
            self.assertEqual(e["p99_ms"], row["latency_ms"]["p99"])
        (service,) = [s for s in doc["services"] if s["server"] == self.server()]
        self.assertEqual((service["service"], service["count"], service["errors"]),
                         (SERVICE, 6, 1))
        self.assertAlmostEqual(service["error_rate"], 1 / 6)

    def test_stats_text_and_path_filter(self):
        out = self.run_ok("stats", "--interval", "0.2", "--sort", "errors")
        lines = out.splitlines()
        self.assertEqual(lines[0], "SERVICES")
        self.assertTrue(lines[1].startswith("SERVICE "), lines[1])
        mine = [line.split() for line in lines if self.server() in line]
        # the service line, then its endpoints, /boom first (sorted by errors)
        self.assertEqual(mine[0][:6], [SERVICE, self.server(), "0.0", "6", "1", "16.7"])
        endpoints = [m for m in mine if len(m) == 10]
        self.assertEqual([(m[8], m[9], m[3], m[4]) for m in endpoints],
                         [("GET", "/boom", "1", "1"), ("GET", "/u1", "3", "0"),
                          ("GET", "/u2", "2", "0")])
        doc = json.loads(self.run_ok("--json", "stats", "--interval", "0.2", "--path", "/u2"))
        self.assertEqual([(e["path"], e["count"]) for e in doc["endpoints"]
                          if e["server"] == self.server()], [("/u2", 2)])
        self.assertEqual({e["path"] for e in doc["endpoints"]}, {"/u2"})

    def test_status_text_and_json(self):
        out = self.run_ok("status")
        self.assertTrue(out.startswith("usm at %s: Running\n" % self.api), out)
        for name in ("usm-privd", "usm-collector", "usm-apid"):
            self.assertRegex(out, r"\n  %s +running +pid %d " % (name, self.usm.pid_of(name)))
        doc = json.loads(self.run_ok("--json", "status"))
        self.assertEqual(doc["stats"]["state"], "Running")
        self.assertEqual(doc["health"]["status"], "ok")
        self.assertEqual([p["name"] for p in doc["health"]["processes"]],
                         [p["name"] for p in self.usm.health()["processes"]])
        traced = len(self.usm.get("/debug/usm/traced_programs").json())
        self.assertIn("traced files: %d, blocked files: 0\n" % traced, out)

    def test_traced_and_blocked_are_the_apis_documents(self):
        # The document changes as processes on the host come and go (its
        # PIDs): usmctl's copy must equal the API's read just before or
        # just after it, at one of a few tries
        def same():
            before = self.usm.get("/debug/usm/traced_programs").json()
            mine = json.loads(self.run_ok("--json", "traced"))
            after = self.usm.get("/debug/usm/traced_programs").json()
            return before if mine in (before, after) else None
        api = wait_for(same, timeout=10, what="usmctl's document equal to the API's")
        out = self.run_ok("traced")
        libssl = [e for e in api if e["FilePath"].endswith("/libssl.so.3")]
        self.assertTrue(libssl, api)
        self.assertRegex(out, r"\nshared_libraries +%d:%d +yes .* %s\n" % (
            libssl[0]["PathID"]["Dev"], libssl[0]["PathID"]["Inode"],
            re.escape(libssl[0]["FilePath"])))
        self.assertTrue(out.endswith("\n%d file%s traced\n" % (len(api), "" if len(api) == 1
                                                                  else "s")), out)
        self.assertEqual(json.loads(self.run_ok("--json", "blocked")),
                         self.usm.get("/debug/usm/blocked_processes").json())
        self.assertTrue(self.run_ok("blocked").endswith("\n0 files blocked\n"))

    def tmux(self, *args):
        return subprocess.run(["tmux", "-L", self.tmux_socket] + list(args),
                              capture_output=True, text=True, timeout=10)

    def test_top_in_a_terminal_until_q(self):
        session = "top"
        r = self.tmux("new-session", "-d", "-s", session, "-x", "200", "-y", "50",
                      "%s --api %s top --interval 0.5 ; sleep 30" % (USMCTL, self.api))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.addCleanup(self.tmux, "kill-session", "-t", session)

        def screen():
            return self.tmux("capture-pane", "-p", "-t", session).stdout

        def row(path):
            for line in screen().splitlines():
                words = line.split()
                if self.server() in words and words[-1] == path:
                    return words
            return None

        wait_for(lambda: row("/u1"), timeout=10, what="usmctl top's /u1 row:\n" + screen())
        self.assertTrue(screen().startswith("usmctl top  %s  every 0.5 s  sort: rate" % self.api))
        # traffic while top runs: /live gets a rate, and its exact count
        for _ in range(10):
            self.curl(*["/live"] * 5)
            time.sleep(0.1)
        wait_for(lambda: self.api_counts().get(("GET", "/live")) == 50, timeout=10,
                 what="50 /live in the API")
        # its row: the service, server, REQ/S > 0 at some refresh, then COUNT 50
        seen_rate = []

        def counted():
            words = row("/live")
            if words and words[2] not in ("-", "0.0"):
                seen_rate.append(float(words[2]))
            return words and words[3] == "50"

        wait_for(counted, timeout=10, what="/live counted 50 in top:\n" + screen())
        words = row("/live")
        self.assertEqual(words[:2], [SERVICE, self.server()])
        self.assertEqual(words[-2:], ["GET", "/live"])
        self.assertEqual(row("/u1")[3], "3")
        self.assertTrue(seen_rate or float(words[2]) > 0, screen())
        # q quits: usmctl's process ends, and the shell goes on to its sleep
        shell = int(self.tmux("list-panes", "-t", session, "-F", "#{pane_pid}").stdout)
        (top,) = children(shell)
        self.assertEqual(comm(top), "usmctl")
        self.tmux("send-keys", "-t", session, "q")
        wait_for(lambda: not pid_alive(top), timeout=5, what="usmctl to quit on q")
        # (bash runs its last command in its own process: exec)
        wait_for(lambda: "sleep" in [comm(shell)] + [comm(c) for c in children(shell)],
                 timeout=5, what="the shell to go on")
        self.assertNotIn("usmctl top", screen())  # the screen was given back

    def test_top_json_lines(self):
        r = usmctl("--api", self.api, "--json", "top", "--interval", "0.2", "-n", "2")
        self.assertEqual(r.returncode, 0, r.stderr)
        docs = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual(len(docs), 2)
        for doc in docs:
            mine = {e["path"]: e["count"] for e in doc["endpoints"] if e["server"] == self.server()}
            self.assertEqual(mine["/u1"], 3)
            self.assertTrue(all(e["rate"] is not None for e in doc["endpoints"]))


if __name__ == "__main__":
    unittest.main()
