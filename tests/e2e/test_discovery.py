"""End-to-end: process and TLS-library discovery, the file registry and
identity-checked uprobe attachment, with real processes (openssl s_server,
python3 importing ssl, node) and the kernel's view of privd's links."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from usm_harness import (Usm, free_port, make_cert, node_tls_server_args, pid_alive,
                         require_privileges, test_failed, wait_for)

LIBSSL = "libssl.so.3"


def fdinfo_texts(pid):
    """The kernel's description of each fd process pid holds
    (/proc/PID/fdinfo): the source of truth for links, not usm's books."""
    fd_dir = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(fd_dir):
        try:
            with open(os.path.join(fd_dir, fd)) as f:
                yield f.read()
        except OSError:
            continue  # closed meanwhile


def uprobe_multi_links(pid, path=None):
    """The uprobe_multi links (entry and return) pid holds, on the file at
    path if given."""
    want = None if path is None else "path:\t%s\n" % os.path.realpath(path)
    return sum(1 for text in fdinfo_texts(pid)
               if ("link_type:\tuprobe_multi" in text or "link_type:\turetprobe_multi" in text)
               and (want is None or want in text))


def entries(usm, program_type=None, suffix=None):
    out = []
    for e in usm.get("/debug/usm/traced_programs").json():
        if program_type and e["ProgramType"] != program_type:
            continue
        if suffix and not e["FilePath"].endswith(suffix):
            continue
        out.append(e)
    return out


def pids_of(usm, suffix, program_type="shared_libraries"):
    found = entries(usm, program_type, suffix)
    return set(found[0]["PIDs"]) if found else set()


class DiscoveryTestCase(unittest.TestCase):
    options = ("attach_linger_ms=300",)

    def setUp(self):
        require_privileges(self)
        self.tmp = tempfile.mkdtemp(prefix="usm-disc-")
        os.chmod(self.tmp, 0o755)
        self.procs = []
        self.addCleanup(self.cleanup)

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if hasattr(self, "usm"):
            self.usm.stop()
            if test_failed(self):
                print(self.usm.log_text())
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start_usm(self, *extra):
        self.usm = Usm(*(self.options + extra)).start()
        return self.usm

    def spawn(self, args, **kw):
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, **kw)
        self.procs.append(p)
        return p

    def python_with_ssl(self, seconds=60, private=False):
        # A process that opens libssl after exec (import ssl dlopen()s it).
        # private: it loads this test's own copy of libssl, a file no other
        # process on the machine uses, so "the last pid left" is certain.
        env = dict(os.environ)
        if private:
            env["LD_LIBRARY_PATH"] = self.private_lib_dir()
        return self.spawn([sys.executable, "-c",
                           "import ssl, time, sys; print('ok', flush=True); time.sleep(%d)" % seconds],
                          env=env)

    def private_lib_dir(self):
        d = os.path.join(self.tmp, "lib")
        if not os.path.isdir(d):
            os.mkdir(d)
            os.chmod(d, 0o755)
            shutil.copy(os.path.realpath("/usr/lib/x86_64-linux-gnu/" + LIBSSL),
                        os.path.join(d, LIBSSL))
        return d

    def private_libssl(self):
        return os.path.join(self.private_lib_dir(), LIBSSL)

    def s_server(self):
        key, cert = make_cert(self.tmp)
        port = free_port()
        p = self.spawn(["openssl", "s_server", "-accept", "127.0.0.1:%d" % port, "-key", key,
                        "-cert", cert, "-www", "-quiet"])
        return p, port

    def privd_links(self, path=None):
        return uprobe_multi_links(self.usm.bpf_owner_pid(), path)


class TestDiscovery(DiscoveryTestCase):
    def test_server_running_before_start_is_traced(self):
        server, _ = self.s_server()
        time.sleep(0.5)  # s_server is up and has libssl mapped
        self.start_usm()
        wait_for(lambda: server.pid in pids_of(self.usm, LIBSSL), timeout=5,
                 what="s_server in traced_programs")
        e = entries(self.usm, "shared_libraries", LIBSSL)[0]
        st = os.stat(e["FilePath"])
        self.assertEqual(e["PathID"], {"Dev": st.st_dev, "Inode": st.st_ino})
        self.assertGreaterEqual(self.usm.get("/usm/stats").json()["counters"]["scan_records"], 1)

    def test_library_opened_after_start_is_traced_within_a_second(self):
        self.start_usm()
        p = self.python_with_ssl()
        wait_for(lambda: p.pid in pids_of(self.usm, LIBSSL), timeout=1.0,
                 what="python3 (import ssl) traced within a second")

    def test_two_processes_share_one_entry_and_one_kernel_attachment(self):
        self.start_usm()
        lib = self.private_libssl()
        a, b = self.python_with_ssl(private=True), self.python_with_ssl(private=True)
        wait_for(lambda: {a.pid, b.pid} <= pids_of(self.usm, lib), timeout=5,
                 what="both pids on one entry")
        self.assertEqual(len(entries(self.usm, "shared_libraries", lib)), 1)
        # One entry link and one return link on the file, for both processes.
        self.assertEqual(self.privd_links(lib), 2)
        self.assertEqual(self.usm.log_text().count("attached openssl to %s" % lib), 1)

    def test_exits_remove_pids_and_last_exit_detaches_in_the_kernel(self):
        self.start_usm()
        lib = self.private_libssl()
        a, b = self.python_with_ssl(private=True), self.python_with_ssl(private=True)
        wait_for(lambda: {a.pid, b.pid} <= pids_of(self.usm, lib), timeout=5, what="traced")
        self.assertEqual(pids_of(self.usm, lib), {a.pid, b.pid})
        links_before = self.privd_links()
        self.assertGreaterEqual(links_before, 2)
        a.kill()
        a.wait()
        wait_for(lambda: a.pid not in pids_of(self.usm, lib), timeout=5, what="pid removed")
        self.assertEqual(pids_of(self.usm, lib), {b.pid})
        self.assertEqual(self.privd_links(lib), 2)
        b.kill()
        b.wait()
        wait_for(lambda: not entries(self.usm, "shared_libraries", lib), timeout=10,
                 what="entry removed after the linger")
        # Exactly this file's two links (entry, return) closed in the kernel.
        wait_for(lambda: self.privd_links(lib) == 0, timeout=10,
                 what="privd's uprobe_multi links on the file closed")
        self.assertIn("detaching attachment", self.usm.log_text())
        self.assertGreaterEqual(self.usm.get("/usm/stats").json()["counters"]["detached"], 1)

    def test_file_named_like_libssl_without_symbols_is_blocked_once_and_not_retried(self):
        self.start_usm()
        fake_dir = os.path.join(self.tmp, "fake")
        os.mkdir(fake_dir)
        os.chmod(fake_dir, 0o755)
        fake = os.path.join(fake_dir, LIBSSL)
        # A real shared library, but not OpenSSL: it has no SSL_read.
        # (The copy is an open for writing, which the kernel filter ignores.)
        shutil.copy("/lib/x86_64-linux-gnu/libz.so.1", fake)
        load = "import ctypes, time; ctypes.CDLL(%r); time.sleep(30)" % fake
        first = self.spawn([sys.executable, "-c", load])

        def blocked():
            for group in self.usm.get("/debug/usm/blocked_processes").json():
                for ident in group["PathIdentifiers"]:
                    if ident["SamplePath"] == fake:
                        return group["ProgramType"], ident
            return None

        ptype, ident = wait_for(blocked, timeout=5, what="the fake libssl blocked")
        st = os.stat(fake)
        self.assertEqual(ptype, "shared_libraries")
        self.assertEqual((ident["Dev"], ident["Inode"], ident["Reason"]),
                         (st.st_dev, st.st_ino, "no-symbols"))
        second = self.spawn([sys.executable, "-c", load])
        wait_for(lambda: self.usm.get("/usm/stats").json()["counters"]["blocked_hits"] >= 1,
                 timeout=5, what="the second open refused by the blocklist")
        stats = self.usm.get("/usm/stats").json()
        self.assertEqual(stats["counters"]["blocked"], 1)
        self.assertEqual(len(stats["blocked_processes"]), 1)
        # privd heard of the first process only (perhaps twice: a request
        # refused while the loader had not mapped the file yet is asked
        # again 2 ms later), never of the second
        log = self.usm.log_text()
        self.assertIn("%s (pid %d)" % (fake, first.pid), log)
        self.assertNotIn("%s (pid %d" % (fake, second.pid), log, "privd was asked again")
        self.assertFalse(any(e["FilePath"] == fake for e in entries(self.usm)))
        del first, second

    def test_usm_never_traces_its_own_processes(self):
        self.start_usm()
        p = self.python_with_ssl()
        wait_for(lambda: p.pid in pids_of(self.usm, LIBSSL), timeout=5, what="traced")
        own = {proc["pid"] for proc in self.usm.health()["processes"]}
        for e in entries(self.usm):
            self.assertFalse(own & set(e["PIDs"]), e)


def perf_uprobe_links(pid):
    """Classic perf-event uprobe links (entry and return) pid holds."""
    return sum(1 for text in fdinfo_texts(pid)
               if "link_type:\tperf" in text
               and ("event_type:\tuprobe" in text or "event_type:\turetprobe" in text))


class TestKernelSide(DiscoveryTestCase):
    def test_classic_uprobes_fallback_attaches_and_detaches(self):
        # One classic link per probe: 1,024 files keep RLIMIT_NOFILE under
        # the hard limit of machines where privd may not raise it.
        self.start_usm("uprobe_multi=false", "max_traced_files=1024")
        self.assertIn("classic perf-event uprobes", self.usm.log_text())
        lib = self.private_libssl()
        p = self.python_with_ssl(private=True)
        wait_for(lambda: p.pid in pids_of(self.usm, lib), timeout=5, what="traced")
        self.assertEqual(self.privd_links(), 0)
        before = perf_uprobe_links(self.usm.bpf_owner_pid())
        # libssl's openssl set as probed: ssl_read_internal at entry and
        # return, ssl_write_internal, SSL_set_fd, SSL_shutdown and SSL_free
        # at entry (the four exported reads and writes that call the
        # internal two are not probed: via= in policy/attach.policy).
        self.assertGreaterEqual(before, 6)
        p.kill()
        p.wait()
        wait_for(lambda: not entries(self.usm, "shared_libraries", lib), timeout=10,
                 what="entry removed")
        wait_for(lambda: perf_uprobe_links(self.usm.bpf_owner_pid()) == before - 6, timeout=15,
                 what="this file's 6 classic links closed")

    def test_tracefs_is_mounted_by_privd_when_missing(self):
        mounted = lambda: os.path.exists("/sys/kernel/tracing/events")
        if mounted():
            r = subprocess.run(["umount", "/sys/kernel/tracing"], capture_output=True)
            if r.returncode != 0 or mounted():
                self.skipTest("tracefs is in use here and cannot be unmounted")
        self.start_usm()
        self.assertTrue(mounted())
        self.assertIn("mounted tracefs", self.usm.log_text())
        p = self.python_with_ssl()
        wait_for(lambda: p.pid in pids_of(self.usm, LIBSSL), timeout=5,
                 what="library opens seen through the syscall tracepoints")

    def test_attach_latency_and_kernel_counters_are_reported(self):
        self.start_usm("attach_linger_ms=0")
        p = self.python_with_ssl(private=True)  # not resident: attached on its open
        wait_for(lambda: p.pid in pids_of(self.usm, self.private_libssl()), timeout=5,
                 what="traced")
        stats = self.usm.get("/usm/stats").json()
        lat = stats["attach_latency"]
        self.assertGreaterEqual(lat["count"], 1)
        self.assertLessEqual(lat["p50_us"], lat["p99_us"])
        self.assertLessEqual(lat["p99_us"], lat["max_us"])
        self.assertGreaterEqual(stats["counters"]["attachments"], 1)
        self.assertEqual(stats["counters"]["proc_events_lost"], 0)
        self.assertEqual(stats["counters"]["proc_events_malformed"], 0)
        self.assertGreater(stats["counters"]["proc_events"], 0)


class TestNodeAndIstio(DiscoveryTestCase):
    NODE = shutil.which("node") or "/usr/bin/node"

    def node_https_client(self, port):
        script = ("const https = require('https');"
                  "https.get({host: '127.0.0.1', port: %d, rejectUnauthorized: false}, r => {"
                  " r.resume(); }).on('error', () => {});"
                  "setTimeout(() => {}, 30000);" % port)
        return self.spawn([self.NODE, "-e", script])

    def test_node_making_https_request_is_traced_as_nodejs_when_enabled(self):
        if not os.path.exists(self.NODE):
            self.skipTest("node is not installed")
        _, port = self.s_server()
        self.start_usm("enable_nodejs_monitoring=true")
        client = self.node_https_client(port)
        wait_for(lambda: client.pid in pids_of(self.usm, "/node", "nodejs"), timeout=5,
                 what="node traced as nodejs")
        e = entries(self.usm, "nodejs")[0]
        self.assertEqual(os.path.realpath(e["FilePath"]), os.path.realpath(self.NODE))
        # The TLS library inside node is probed: the kernel counts hits.

    def test_node_is_not_traced_when_disabled(self):
        if not os.path.exists(self.NODE):
            self.skipTest("node is not installed")
        _, port = self.s_server()
        self.start_usm()
        client = self.node_https_client(port)
        time.sleep(1.5)
        self.assertTrue(pid_alive(client.pid))
        self.assertEqual(entries(self.usm, "nodejs"), [])
        for e in entries(self.usm):
            self.assertNotIn(client.pid, e["PIDs"])

    def test_envoy_path_executable_is_traced_as_istio(self):
        # envoy is not packaged here; any executable carrying OpenSSL's
        # symbols at envoy_path stands for it: node does.
        if not os.path.exists(self.NODE):
            self.skipTest("node is not installed")
        envoy = os.path.join(self.tmp, "envoy")
        shutil.copy(self.NODE, envoy)
        self.start_usm("enable_istio_monitoring=true", "envoy_path=" + envoy)
        p = self.spawn([envoy, "-e", "setTimeout(() => {}, 30000)"])
        wait_for(lambda: p.pid in pids_of(self.usm, "/envoy", "istio"), timeout=5,
                 what="envoy traced as istio")


class TestResidentLibraries(DiscoveryTestCase):
    """resident_libraries: attached at start, before any process opens
    them, and kept attached without pids. Each test makes this test's own
    copy of libssl resident: no other process on the machine uses it, so
    nothing but the feature can attach it before the first client."""

    def resident_entry(self, lib):
        try:
            found = entries(self.usm, "shared_libraries", lib)
        except Exception:  # 503 while the collector restarts
            return None
        return found[0] if found else None

    def test_attached_at_start_kept_after_its_last_pid_and_across_a_collector_restart(self):
        lib = self.private_libssl()
        self.start_usm("resident_libraries=" + lib)
        wait_for(lambda: self.resident_entry(lib), timeout=5, what="resident entry at start")
        e = self.resident_entry(lib)
        self.assertEqual(e["PIDs"], [])
        self.assertIs(e["Resident"], True)
        self.assertEqual(self.privd_links(lib), 2)
        p = self.python_with_ssl(private=True)
        wait_for(lambda: p.pid in pids_of(self.usm, lib), timeout=5, what="pid added")
        p.kill()
        p.wait()
        wait_for(lambda: p.pid not in pids_of(self.usm, lib), timeout=5, what="pid removed")
        time.sleep(1.0)  # well past attach_linger_ms=300
        e = self.resident_entry(lib)
        self.assertIsNotNone(e, "a resident library was detached after its last pid")
        self.assertIs(e["Resident"], True)
        self.assertEqual(self.privd_links(lib), 2)
        self.assertEqual(self.usm.log_text().count("attached openssl to %s" % lib), 1)

        os.kill(self.usm.pid_of("usm-collector"), signal.SIGKILL)
        wait_for(lambda: "adopted" in self.usm.log_text()
                 and (self.resident_entry(lib) or {}).get("Resident") is True,
                 timeout=15, what="still resident after the collector restarted")
        time.sleep(1.0)  # past the adopted entry's linger
        self.assertIsNotNone(self.resident_entry(lib))
        self.assertEqual(self.privd_links(lib), 2)
        self.assertEqual(self.usm.log_text().count("attached openssl to %s" % lib), 1)

    def test_the_first_short_client_after_start_is_counted(self):
        key, cert = make_cert(self.tmp)
        port = free_port()
        server = subprocess.Popen(node_tls_server_args(self.tmp, port, cert, key),
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.procs.append(server)
        self.addCleanup(server.stdout.close)
        self.assertEqual(server.stdout.readline().strip(), "ready")
        lib = self.private_libssl()
        self.start_usm("resident_libraries=" + lib)
        wait_for(lambda: self.resident_entry(lib), timeout=5, what="resident entry at start")
        env = dict(os.environ, LD_LIBRARY_PATH=self.private_lib_dir())
        r = subprocess.run(["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}",
                            "https://127.0.0.1:%d/first" % port],
                           env=env, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.stdout, "200", r.stderr)

        def counted():
            rows = [row for row in self.usm.get("/usm/http_stats").json()
                    if row["server"]["port"] == port]
            return [(row["method"], row["path"], row["status"], row["count"]) for row in rows]
        wait_for(lambda: counted() == [("GET", "/first", 200, 1)], timeout=10,
                 what="the first curl's request counted once")

    def test_missing_or_unmatched_resident_libraries_are_reported_and_skipped(self):
        lib = self.private_libssl()
        missing = os.path.join(self.tmp, "nothere", "libssl.so.3")
        unmatched = os.path.join(self.tmp, "libz.so.1")
        shutil.copy(lib, unmatched)
        self.start_usm("resident_libraries=%s:%s:%s" % (missing, unmatched, lib))
        wait_for(lambda: self.resident_entry(lib), timeout=5, what="the present one attached")
        self.assertEqual([e["FilePath"] for e in entries(self.usm) if e["Resident"]], [lib])
        log = self.usm.log_text()
        self.assertIn("resident library %s: not attached (missing or unreadable)" % missing, log)
        self.assertIn("resident library %s: no library rule of the attach policy" % unmatched,
                      log)
        self.assertEqual(self.usm.get("/usm/stats").json()["state"], "Running")


class TestRestartAndControl(DiscoveryTestCase):
    def test_killed_collector_rebuilds_the_registry_without_attaching_twice(self):
        self.start_usm()
        a, b = self.python_with_ssl(), self.python_with_ssl()
        wait_for(lambda: {a.pid, b.pid} <= pids_of(self.usm, LIBSSL), timeout=5, what="traced")
        before = {(e["ProgramType"], e["FilePath"]): set(e["PIDs"]) for e in entries(self.usm)}
        links = self.privd_links()
        attached = self.usm.log_text().count("attached openssl to")
        os.kill(self.usm.pid_of("usm-collector"), signal.SIGKILL)

        def rebuilt():
            try:
                now = {(e["ProgramType"], e["FilePath"]): set(e["PIDs"])
                       for e in entries(self.usm)}
            except Exception:
                return False
            key = ("shared_libraries", entries_key(before))
            return key in now and {a.pid, b.pid} <= now[key]

        wait_for(rebuilt, timeout=15, what="registry rebuilt after the collector restarted")
        self.assertIn("adopted", self.usm.log_text())
        self.assertEqual(self.usm.log_text().count("attached openssl to"), attached)
        self.assertEqual(self.privd_links(), links)

    def test_control_endpoints_are_forbidden_unless_enabled(self):
        self.start_usm()
        for path in ("/debug/usm/clear_blocked", "/debug/usm/attach-pid", "/debug/usm/detach-pid"):
            r = self.usm.request("POST", path, body=b'{"pid": 1, "type": "shared_libraries"}')
            self.assertEqual(r.status, 403, path)
            self.assertIn("api_control", r.json()["error"])
            self.assertEqual(self.usm.get(path).status, 405)

    def test_control_detach_attach_and_clear(self):
        self.start_usm("api_control=true")
        p = self.python_with_ssl()
        wait_for(lambda: p.pid in pids_of(self.usm, LIBSSL), timeout=5, what="traced")
        body = ('{"pid": %d, "type": "shared_libraries"}' % p.pid).encode()
        r = self.usm.request("POST", "/debug/usm/detach-pid", body=body)
        self.assertEqual(r.status, 200, r.body)
        self.assertGreaterEqual(r.json()["affected"], 1)
        self.assertNotIn(p.pid, pids_of(self.usm, LIBSSL))
        r = self.usm.request("POST", "/debug/usm/attach-pid", body=body)
        self.assertEqual(r.status, 200, r.body)
        self.assertGreaterEqual(r.json()["affected"], 1)
        self.assertIn(p.pid, pids_of(self.usm, LIBSSL))
        r = self.usm.request("POST", "/debug/usm/clear_blocked", body=b"")
        self.assertEqual((r.status, r.json()["affected"]), (200, 0))
        for bad in (b"", b"{}", b'{"pid": "x"}', b'{"pid": -3}', b'{"pid": 5, "type": "java"}',
                    b"[1, 2]", b"{" * 1000):
            r = self.usm.request("POST", "/debug/usm/attach-pid", body=bad)
            self.assertEqual(r.status, 400, bad)
        # Over the 1 KiB a control body may have: refused before any route.
        r = self.usm.request("POST", "/debug/usm/attach-pid", body=b"{" * 2000)
        self.assertEqual((r.status, r.json()["status"]), (413, 413), r.body)
        own = self.usm.pid_of("usm-collector")
        r = self.usm.request("POST", "/debug/usm/attach-pid",
                             body=('{"pid": %d}' % own).encode())
        self.assertEqual(r.status, 403)


def entries_key(before):
    for (ptype, path) in before:
        if ptype == "shared_libraries" and path.endswith(LIBSSL):
            return path
    raise AssertionError("no libssl entry before the restart")


if __name__ == "__main__":
    unittest.main()
