"""End-to-end: the three daemons, their privileges, IPC and the API.

Every test starts the real usm-privd (seccomp in kill mode, the default),
which starts the real collector and apid."""
import os
import pwd
import signal
import subprocess
import tempfile
import time
import unittest

from usm_harness import (MSG_COLL_STATS_REQ, MSG_PRIVD_HEALTH_REQ, PRIVD, Usm,
                         ipc_probe, pid_alive, proc_status, processes_named, require_privileges,
                         test_failed, wait_for)

CAP_NUMBERS = {"CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SYS_PTRACE": 19,
               "CAP_SYS_ADMIN": 21, "CAP_PERFMON": 38, "CAP_BPF": 39}
PRIVILEGES_MD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "policy",
                             "PRIVILEGES.md")
# The user each process runs as, by the configuration's defaults.
USERS = {"usm-privd": "root", "usm-privd-bpf": "usm-bpf", "usm-collector": "usm-collector",
         "usm-apid": "usm-api", "usm-inspector": "usm-inspect"}


def privileges_md_processes():
    """The Processes table of policy/PRIVILEGES.md, one dict per row, so
    the document and the running processes cannot drift apart."""
    rows = {}
    with open(PRIVILEGES_MD) as f:
        for line in f:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 7 and cells[0].startswith("usm-"):
                rows[cells[0]] = {"uid": cells[1], "caps": cells[2], "sets": cells[3],
                                  "nnp": cells[4], "seccomp": cells[5]}
    return rows


def caps_mask(text):
    return 0 if text == "none" else sum(1 << CAP_NUMBERS[c.strip()] for c in text.split(","))


def task_statuses(pid):
    """/proc/PID/task/TID/status of every thread: capabilities, ids and
    filters are per thread, and a process is only as confined as its
    least confined thread."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                out[int(tid)] = dict((k, v.strip()) for k, _, v in
                                     (line.partition(":") for line in f))
        except FileNotFoundError:
            continue  # a thread that ended meanwhile
    return out


def privileges_md_row(name):
    return privileges_md_processes()[name]


def assert_status_matches(test, name, st, row, where):
    """One thread's status holds exactly what its PRIVILEGES.md row says."""
    pw = pwd.getpwnam(USERS[name])
    want_caps = caps_mask(row["caps"])
    test.assertEqual(row["sets"], "empty / empty / empty", name)
    where = "%s thread %s" % (name, where)
    test.assertEqual(st["Uid"].split(), [str(pw.pw_uid)] * 4, where)
    test.assertEqual(st["Gid"].split(), [str(pw.pw_gid)] * 4, where)
    if name != "usm-privd":
        test.assertEqual(st["Groups"], "", where)
    test.assertEqual(int(st["CapEff"], 16), want_caps, where)
    test.assertEqual(int(st["CapPrm"], 16), want_caps, where)
    for cap in ("CapBnd", "CapAmb", "CapInh"):
        test.assertEqual(int(st[cap], 16), 0, "%s %s" % (where, cap))
    test.assertEqual(st["NoNewPrivs"], "1" if row["nnp"] == "yes" else "0", where)
    test.assertEqual(st["Seccomp"], "2" if row["seccomp"].startswith("filter") else "0", where)


def assert_matches_row(test, name, pid, row):
    """Every thread of pid holds exactly what its PRIVILEGES.md row says."""
    tasks = task_statuses(pid)
    test.assertTrue(tasks, name)
    for tid, st in tasks.items():
        assert_status_matches(test, name, st, row, tid)
    return len(tasks)


ENDPOINTS = ["/usm/stats", "/debug/usm/traced_programs", "/debug/usm/blocked_processes", "/health"]


class UsmTestCase(unittest.TestCase):
    options = ()

    def setUp(self):
        require_privileges(self)
        self.usm = Usm(*self.options)
        self.addCleanup(self.stop_usm)  # runs even when start() fails
        self.usm.start()

    def stop_usm(self):
        self.usm.stop()
        if test_failed(self):
            print(self.usm.log_text())

    def collector_runtime_socket(self):
        return os.path.join(self.usm.runtime_dir, "collector", "collector.ipc")

    def privd_runtime_socket(self):
        return os.path.join(self.usm.runtime_dir, "privd", "privd.ipc")


class TestPrivileges(UsmTestCase):
    def running(self):
        """name -> pid of every long-lived usm process."""
        return {"usm-privd": self.usm.proc.pid, "usm-privd-bpf": self.usm.bpf_owner_pid(),
                "usm-collector": self.usm.pid_of("usm-collector"),
                "usm-apid": self.usm.pid_of("usm-apid")}

    def test_four_processes_run_and_all_descend_from_privd(self):
        privd = self.usm.proc.pid
        self.assertEqual(self.usm.pid_of("usm-privd"), privd)
        for name, pid in self.running().items():
            if name == "usm-privd":
                continue
            self.assertTrue(pid_alive(pid))
            self.assertEqual(int(proc_status(pid)["PPid"]), privd)
            with open("/proc/%d/comm" % pid) as f:
                self.assertEqual(f.read().strip(), name)

    def test_children_have_no_privilege_at_all(self):
        rows = privileges_md_processes()
        for name in ("usm-collector", "usm-apid"):
            self.assertEqual(rows[name]["caps"], "none")
            assert_matches_row(self, name, self.usm.pid_of(name), rows[name])

    def test_every_thread_of_every_process_matches_privileges_md(self):
        rows = privileges_md_processes()
        self.assertEqual(set(rows), {"usm-privd", "usm-privd-bpf", "usm-collector", "usm-apid",
                                     "usm-inspector"})
        threads = {name: assert_matches_row(self, name, pid, rows[name])
                   for name, pid in self.running().items()}
        # The processes that read input run threads of their own (nng's,
        # the link closer's): the audit must have seen them.
        for name in ("usm-privd-bpf", "usm-collector", "usm-apid"):
            self.assertGreater(threads[name], 1, name)
        print("threads audited: %s" % threads)

    def test_privd_keeps_only_its_listed_capabilities(self):
        rows = privileges_md_processes()
        self.assertEqual(caps_mask(rows["usm-privd"]["caps"]),
                         caps_mask("CAP_SETUID, CAP_SETGID, CAP_KILL"))
        self.assertEqual(caps_mask(rows["usm-privd-bpf"]["caps"]),
                         caps_mask("CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE"))
        st = proc_status(self.usm.bpf_owner_pid())
        self.assertNotEqual(st["Uid"].split()[0], "0", "the BPF owner is not root")

    def test_children_hold_no_file_or_directory_descriptors(self):
        for name in ("usm-collector", "usm-apid"):
            pid = self.usm.pid_of(name)
            fd_dir = "/proc/%d/fd" % pid
            for fd in os.listdir(fd_dir):
                try:
                    target = os.readlink(os.path.join(fd_dir, fd))
                except FileNotFoundError:
                    continue  # closed meanwhile (nng's transient fds)
                if fd == "0":
                    self.assertEqual(target, "/dev/null")
                elif fd in ("1", "2"):
                    continue  # privd's stderr: the log
                else:
                    self.assertRegex(target, r"^(socket|pipe|anon_inode):",
                                     "%s fd %s -> %s" % (name, fd, target))

    def test_runtime_directory_permissions_separate_the_peers(self):
        b = pwd.getpwnam("usm-bpf")
        c = pwd.getpwnam("usm-collector")
        a = pwd.getpwnam("usm-api")
        top = os.stat(self.usm.runtime_dir)
        self.assertEqual((top.st_uid, top.st_mode & 0o022), (0, 0))
        pd = os.stat(os.path.join(self.usm.runtime_dir, "privd"))
        self.assertEqual((pd.st_uid, pd.st_gid, pd.st_mode & 0o7777), (b.pw_uid, c.pw_gid, 0o2750))
        cd = os.stat(os.path.join(self.usm.runtime_dir, "collector"))
        self.assertEqual((cd.st_uid, cd.st_gid, cd.st_mode & 0o7777), (c.pw_uid, a.pw_gid, 0o2750))


class TestApi(UsmTestCase):
    # Lists that are empty whatever else runs on the machine: these tests
    # are about shapes; tests/e2e/test_discovery.py fills the lists.
    options = ("enable_native_tls_monitoring=false",)

    def test_stats_has_the_seed_shape(self):
        r = self.usm.get("/usm/stats")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["Content-Type"], "application/json")
        body = r.json()
        self.assertEqual(body["state"], "Running")
        self.assertNotIn("error", body)
        self.assertEqual(body["blocked_processes"], [])
        self.assertEqual(body["traced_programs"], [])
        self.assertIsInstance(body["last_check"], int)
        self.assertLessEqual(abs(body["last_check"] - time.time()), 60)
        self.assertLessEqual({"ipc_requests", "ipc_bad_messages", "ipc_rejected_peers",
                              "privd_call_failures", "proc_events", "proc_events_lost",
                              "proc_events_malformed", "registered", "already_registered",
                              "hook_failed", "blocked", "unregistered"},
                             set(body["counters"]))
        for name, value in body["counters"].items():
            self.assertIsInstance(value, int, name)

    def test_debug_lists_are_json_lists(self):
        for path in ("/debug/usm/traced_programs", "/debug/usm/blocked_processes"):
            r = self.usm.get(path)
            self.assertEqual((r.status, r.headers["Content-Type"]), (200, "application/json"))
            self.assertEqual(r.json(), [])

    def test_health_lists_each_process(self):
        r = self.usm.get("/health")
        self.assertEqual((r.status, r.headers["Content-Type"]), (200, "application/json"))
        body = r.json()
        self.assertEqual(body["status"], "ok")
        names = [p["name"] for p in body["processes"]]
        self.assertEqual(names, ["usm-privd", "usm-collector", "usm-apid"])
        for p in body["processes"]:
            self.assertEqual(p["state"], "running")
            self.assertEqual(p["restarts"], 0)
            self.assertIsNone(p["last_exit"])
            self.assertTrue(pid_alive(p["pid"]))
            self.assertLessEqual(abs(p["up_since"] - time.time()), 60)

    def test_unknown_route_is_a_json_404(self):
        for path in ("/nope", "/usm", "/usm/stats/extra", "/debug/usm/"):
            r = self.usm.get(path)
            self.assertEqual(r.status, 404, path)
            self.assertEqual(r.headers["Content-Type"], "application/json")
            self.assertEqual(r.json()["status"], 404)
            self.assertIn("no such endpoint", r.json()["error"])

    def test_other_methods_are_a_json_405(self):
        for path in ENDPOINTS:
            for method in ("POST", "PUT", "DELETE"):
                r = self.usm.request(method, path, body=b"{}")
                self.assertEqual(r.status, 405, "%s %s" % (method, path))
                self.assertEqual(r.headers["Content-Type"], "application/json")
                self.assertEqual(r.headers["Allow"], "GET")
                self.assertIn(method, r.json()["error"])

    def test_answers_come_from_the_collector(self):
        before = self.usm.get("/usm/stats").json()["counters"]["ipc_requests"]
        self.usm.get("/debug/usm/traced_programs")
        after = self.usm.get("/usm/stats").json()["counters"]["ipc_requests"]
        # stats = 3 requests (stats, blocked page, traced page); traced = 1
        self.assertEqual(after - before, 4)


class TestCollectorDown(UsmTestCase):
    options = ("ipc_timeout_ms=300",)

    def test_api_says_503_while_the_collector_does_not_answer(self):
        pid = self.usm.pid_of("usm-collector")
        os.kill(pid, signal.SIGSTOP)
        try:
            r = self.usm.get("/usm/stats")
            self.assertEqual(r.status, 503)
            self.assertIn("collector did not answer", r.json()["error"])
            h = self.usm.get("/health")
            self.assertEqual(h.status, 503)
            self.assertEqual(h.json()["processes"][0],
                             {"name": "usm-collector", "state": "unreachable"})
        finally:
            os.kill(pid, signal.SIGCONT)
        wait_for(lambda: self.usm.get("/usm/stats").status == 200, what="stats again")


class TestRestarts(UsmTestCase):
    def restart(self, name):
        old = self.usm.pid_of(name)
        os.kill(old, signal.SIGKILL)

        def restarted():
            try:
                h = self.usm.get("/health")
            except OSError:
                return None
            if h.status != 200:
                return None
            p = [p for p in h.json()["processes"] if p["name"] == name][0]
            return p if p["pid"] != old and p["state"] == "running" else None

        p = wait_for(restarted, timeout=15, what="%s to be restarted" % name)
        self.assertEqual(p["restarts"], 1)
        self.assertEqual(p["last_exit"], 128 + signal.SIGKILL)
        self.assertFalse(pid_alive(old))
        self.assertEqual(self.usm.get("/usm/stats").status, 200)
        self.assertIn("%s died from signal 9" % name, self.usm.log_text())
        # The new process is as unprivileged as the first.
        st = proc_status(p["pid"])
        self.assertEqual((int(st["CapEff"], 16), st["NoNewPrivs"], st["Seccomp"]), (0, "1", "2"))

    def test_killed_collector_is_restarted_and_api_works(self):
        self.restart("usm-collector")

    def test_killed_apid_is_restarted_and_api_works(self):
        self.restart("usm-apid")


class TestGivingUp(UsmTestCase):
    options = ("child_max_restarts=1", "child_restart_window=120", "ipc_timeout_ms=300")

    def test_collector_that_keeps_dying_is_reported_not_restarted_forever(self):
        for _ in range(2):
            pid = self.usm.pid_of("usm-collector")
            os.kill(pid, signal.SIGKILL)
            wait_for(lambda: not pid_alive(pid), what="collector to die")
            time.sleep(1.0)  # past the first backoff
            if _ == 0:
                wait_for(lambda: self.usm.get("/health").status == 200, what="restart")
        wait_for(lambda: "giving up on it" in self.usm.log_text(), what="privd to give up")
        time.sleep(1.0)
        h = self.usm.get("/health")
        self.assertEqual(h.status, 503)
        self.assertEqual(h.json()["status"], "degraded")
        self.assertEqual(h.json()["processes"][0]["state"], "unreachable")
        privd_children = [p for p in processes_named("usm-collector")
                          if int(proc_status(p)["PPid"]) == self.usm.proc.pid]
        self.assertEqual(privd_children, [])
        apid = [p for p in processes_named("usm-apid")
                if int(proc_status(p)["PPid"]) == self.usm.proc.pid]
        self.assertEqual(len(apid), 1, "apid keeps serving")


class TestIpcBoundary(UsmTestCase):
    def test_privd_refuses_a_peer_with_the_wrong_uid(self):
        # root reaches the socket (it bypasses the directory's permissions),
        # so only privd's peer-uid check stands in the way.
        self.assertEqual(ipc_probe(self.privd_runtime_socket(), MSG_PRIVD_HEALTH_REQ),
                         ["no-answer"])
        self.assertGreaterEqual(self.usm.health()["ipc"]["privd_rejected_peers"], 1)
        self.assertIn("privd: refused a connection from uid 0", self.usm.log_text())

    def test_privd_answers_the_collector_uid(self):
        out = ipc_probe(self.privd_runtime_socket(), MSG_PRIVD_HEALTH_REQ, user="usm-collector")
        self.assertEqual(out, ["reply PRIVD_HEALTH_REP"])

    def test_apid_uid_cannot_reach_privd_socket(self):
        out = ipc_probe(self.privd_runtime_socket(), MSG_PRIVD_HEALTH_REQ, user="usm-api")
        self.assertEqual(len(out), 1)
        self.assertRegex(out[0], r"^(dial-failed|no-answer)")

    def test_collector_refuses_a_peer_with_the_wrong_uid(self):
        self.assertEqual(ipc_probe(self.collector_runtime_socket(), MSG_COLL_STATS_REQ),
                         ["no-answer"])
        counters = self.usm.get("/usm/stats").json()["counters"]
        self.assertGreaterEqual(counters["ipc_rejected_peers"], 1)

    def test_bad_messages_are_rejected_counted_answered_and_the_connection_kept(self):
        sock = self.collector_runtime_socket()
        expected = {
            "magic": "bad magic",
            "version": "wrong protocol version",
            "truncated": "truncated",
            "oversized": "oversized",
            "unknown-type": "unknown type",
            "length": "bad length",
        }
        before = self.usm.get("/usm/stats").json()["counters"]["ipc_bad_messages"]
        for corruption, reason in expected.items():
            out = ipc_probe(sock, MSG_COLL_STATS_REQ, corruption, user="usm-api")
            self.assertEqual(out, ["error -74 rejected: " + reason, "reply COLL_STATS_REP"],
                             corruption)
        after = self.usm.get("/usm/stats").json()["counters"]["ipc_bad_messages"]
        self.assertEqual(after - before, len(expected))

    def test_a_request_meant_for_privd_is_refused_by_the_collector(self):
        out = ipc_probe(self.collector_runtime_socket(), MSG_PRIVD_HEALTH_REQ, user="usm-api")
        self.assertEqual(out[0], "error -95 PRIVD_HEALTH_REQ is not a request this peer serves")


class TestShutdown(unittest.TestCase):
    def setUp(self):
        require_privileges(self)

    def test_sigterm_leaves_no_process_and_no_socket(self):
        usm = Usm().start()
        pids = [p["pid"] for p in usm.health()["processes"]]
        code = usm.stop(signal.SIGTERM)
        self.assertEqual(code, 0, usm.log_text())
        for pid in pids:
            self.assertFalse(pid_alive(pid), "pid %d still running" % pid)
        self.assertFalse(os.path.exists(usm.runtime_dir), os.listdir(usm.tmp))
        self.assertIn("usm-collector[", usm.log_text())
        self.assertIn("stopped", usm.log_text().splitlines()[-1])

    def test_sigint_stops_too(self):
        usm = Usm().start()
        self.assertEqual(usm.stop(signal.SIGINT), 0)
        self.assertFalse(os.path.exists(usm.runtime_dir))

    def test_stale_runtime_dir_from_a_crash_is_cleaned(self):
        usm = Usm().start()
        usm.stop(signal.SIGKILL)  # privd dies; children follow via PDEATHSIG
        wait_for(lambda: not [p for p in processes_named("usm-apid")
                              if int(proc_status(p)["PPid"]) in (usm.proc.pid, 1)
                              and usm.runtime_dir in open("/proc/%d/cmdline" % p).read()],
                 what="children to exit after privd")
        again = Usm("runtime_dir=" + usm.runtime_dir)
        again.runtime_dir = usm.runtime_dir
        again.start()
        self.assertEqual(again.get("/usm/stats").status, 200)
        self.assertEqual(again.stop(), 0)


class TestConfigurationErrors(unittest.TestCase):
    """Bad configuration is refused before anything starts (exit 2,
    FILE:LINE: message); an option usm cannot honour yet starts with a
    warning."""

    def setUp(self):
        require_privileges(self)
        self.tmp = tempfile.mkdtemp(prefix="usm-cfg-")
        self.runtime = os.path.join(self.tmp, "run")

    def privd(self, *args):
        return subprocess.run([PRIVD, "-o", "runtime_dir=" + self.runtime] + list(args),
                              capture_output=True, text=True, timeout=20)

    def assertRefused(self, r, message):
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(message, r.stderr)
        self.assertFalse(os.path.exists(self.runtime), "something started")

    def test_unknown_option_key(self):
        self.assertRefused(self.privd("-o", "no_such_key=1"), "-o:2: unknown key 'no_such_key'")

    def test_bad_line_in_file_names_file_and_line(self):
        path = os.path.join(self.tmp, "usm.conf")
        with open(path, "w") as f:
            f.write("# comment\nlog_level = debug\n\nenable_http_monitoring = maybe\n")
        self.assertRefused(self.privd("-c", path), path + ":4: enable_http_monitoring must be true or false")

    def test_java_tls_is_refused(self):
        self.assertRefused(self.privd("-o", "enable_java_tls_support=true"), "Java TLS")

    def test_missing_user_is_refused(self):
        self.assertRefused(self.privd("-o", "collector_user=no-such-user-usm"),
                           "no such user 'no-such-user-usm'")

    def test_same_user_for_two_processes_is_refused(self):
        for option in ("api_user=usm-collector", "bpf_user=usm-api", "inspector_user=usm-bpf",
                       "inspector_user=root"):
            self.assertRefused(self.privd("-o", option), "must be four different")

    def test_missing_config_file(self):
        self.assertRefused(self.privd("-c", "/nonexistent/usm.conf"), "/nonexistent/usm.conf")

    def test_version_and_help(self):
        r = subprocess.run([PRIVD, "--version"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^usm-privd \d+\.\d+\.\d+")
        r = subprocess.run([PRIVD, "--help"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0)
        self.assertIn("usage: usm-privd", r.stdout)


if __name__ == "__main__":
    unittest.main()
