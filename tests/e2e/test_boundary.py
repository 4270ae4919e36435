"""End-to-end: the privilege boundary as an auditor checks it.

What whoever holds privd's BPF owner can and cannot do; ATTACH refused
for anything but a file the named process really uses, with one answer
whatever the path; FIFOs and devices never opened for reading; a
malformed request restarting the collector; a flood of requests not
keeping the BPF owner from its signals."""
import os
import pwd
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from test_foundation import assert_status_matches, privileges_md_row
from usm_harness import (BUILD, IPC_PROBE, MSG_PRIVD_HEALTH_REQ, Usm, ipc_probe, pid_alive,
                         proc_status, proc_status_path, processes_named, require_privileges,
                         test_failed, wait_for)

PRIVD_CLAIMS = os.path.join(BUILD, "tests", "e2e", "privd_claims")
LIBSSL = "libssl.so.3"
SYSTEM_LIBSSL = os.path.realpath("/usr/lib/x86_64-linux-gnu/" + LIBSSL)
# enum usm_program_type and the attach policy's set ids (policy/attach.policy order).
SHARED_LIBRARIES, NODEJS = 0, 2
OPENSSL_SET = 0
REFUSED = "attach -1 0 0 0 -"  # -EPERM, nothing about the file


class BoundaryTestCase(unittest.TestCase):
    options = ()

    def setUp(self):
        require_privileges(self)
        self.tmp = tempfile.mkdtemp(prefix="usm-boundary-")
        os.chmod(self.tmp, 0o755)
        self.procs = []
        self.addCleanup(self.cleanup)
        self.usm = Usm(*self.options).start()

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
            if p.stdout:
                p.stdout.close()
        self.usm.stop()
        if test_failed(self):
            print(self.usm.log_text())
        shutil.rmtree(self.tmp, ignore_errors=True)

    def spawn(self, args, **kw):
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, **kw)
        self.procs.append(p)
        return p

    def privd_socket(self):
        return os.path.join(self.usm.runtime_dir, "privd", "privd.ipc")

    def attach(self, pid, path, program_type=SHARED_LIBRARIES, set_id=OPENSSL_SET):
        """One ATTACH as the collector's uid would send it."""
        out = ipc_probe(self.privd_socket(), "attach",
                        extra=[str(pid), str(program_type), str(set_id), path],
                        user="usm-collector")
        self.assertEqual(len(out), 1, out)
        return out[0]

    def counters(self):
        return self.usm.get("/usm/stats").json()["counters"]


class TestBpfOwnerClaims(BoundaryTestCase):
    def test_whoever_holds_the_bpf_owner_cannot_write_setuid_or_touch_other_memory(self):
        """The owner's own uid, capabilities and compiled filter, applied by
        its own code, against what an attacker holding it would try."""
        writable = os.path.join(self.tmp, "world-writable")
        with open(writable, "w") as f:
            f.write("x")
        os.chmod(writable, 0o666)
        target = self.spawn(["sleep", "60"])  # a root process: any process on the host
        pw = pwd.getpwnam("usm-bpf")
        r = subprocess.run([PRIVD_CLAIMS, str(pw.pw_uid), str(pw.pw_gid), writable,
                            str(target.pid)], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        got = dict(line.split(" ", 1) for line in r.stdout.splitlines())
        print(r.stdout)
        # Write opens are refused by its filter before the kernel looks at
        # the file (EACCES, softly: nng names threads that way); openat2,
        # whose flags a filter cannot see, is not allowed at all.
        for act in ("open-write-world-writable", "open-create", "open-mem-rw"):
            self.assertEqual(got[act], "errno EACCES", act)
        for act in ("openat2-write", "setuid-0", "fork", "exec", "ptrace", "kill",
                    "bpf-map-create", "perf-event-open"):
            self.assertEqual(got[act], "killed", act)
        # Allowed calls that still fail: the kernel's own walls.
        self.assertEqual(got["open-mem-ro"], "errno EACCES")  # DAC: not its process
        self.assertEqual(got["bpf-prog-load"], "errno EPERM")  # no new program, ever
        # What it needs still works: the filter is not "deny everything".
        self.assertEqual(got["read-maps"], "ok")
        self.assertEqual(got["read-library"], "ok")
        with open(writable) as f:
            self.assertEqual(f.read(), "x")
        self.assertFalse(os.path.exists("/tmp/usm-claims-created"))

    def test_the_running_bpf_owner_is_that_process(self):
        """privd_claims stands for the live owner only if the owner really is
        in that position: same uid, capabilities, filter, non-dumpable."""
        st = proc_status(self.usm.bpf_owner_pid())
        pw = pwd.getpwnam("usm-bpf")
        self.assertEqual(st["Uid"].split(), [str(pw.pw_uid)] * 4)
        self.assertEqual(int(st["CapEff"], 16), (1 << 39) | (1 << 38) | (1 << 19))
        self.assertEqual(st["Seccomp"], "2")
        self.assertEqual(st["NoNewPrivs"], "1")
        # Non-dumpable: its /proc files belong to root, not to its uid.
        self.assertEqual(os.stat("/proc/%d/mem" % self.usm.bpf_owner_pid()).st_uid, 0)


class TestAttachChecksMeaning(BoundaryTestCase):
    def python_with_ssl(self):
        p = self.spawn([sys.executable, "-c",
                        "import ssl, time; print('ok', flush=True); time.sleep(60)"])
        self.assertEqual(p.stdout.readline().strip(), b"ok")
        return p

    def test_a_file_the_process_maps_is_attached_and_its_identity_told(self):
        p = self.python_with_ssl()
        st = os.stat(SYSTEM_LIBSSL)
        out = self.attach(p.pid, SYSTEM_LIBSSL).split()
        self.assertEqual(out[:2], ["attach", "0"], out)
        self.assertEqual((int(out[3]), int(out[4])), (st.st_dev, st.st_ino))

    def test_refusals_read_the_same_whether_or_not_the_path_exists(self):
        p = self.python_with_ssl()
        private = os.path.join(self.tmp, LIBSSL)
        shutil.copy(SYSTEM_LIBSSL, private)
        os.chmod(private, 0o644)
        links = self.usm.get("/usm/stats").json()["counters"]["attachments"]
        cases = {
            "a file the process does not map": (p.pid, private, SHARED_LIBRARIES),
            "a path that does not exist": (p.pid, os.path.join(self.tmp, "none", LIBSSL),
                                           SHARED_LIBRARIES),
            "a secret file": (p.pid, "/etc/shadow", SHARED_LIBRARIES),
            "pid 0 with a path not in resident_libraries": (0, private, SHARED_LIBRARIES),
            "pid 0 with a missing path": (0, os.path.join(self.tmp, "nothing.so"),
                                          SHARED_LIBRARIES),
            "a program type whose switch is off": (p.pid, SYSTEM_LIBSSL, NODEJS),
        }
        for what, (pid, path, ptype) in cases.items():
            self.assertEqual(self.attach(pid, path, ptype), REFUSED, what)
        self.assertEqual(self.usm.get("/usm/stats").json()["counters"]["attachments"], links)

    def test_a_fifo_and_a_device_named_like_libssl_are_refused_unopened(self):
        fifo_dir, dev_dir = os.path.join(self.tmp, "fifo"), os.path.join(self.tmp, "dev")
        os.mkdir(fifo_dir)
        os.mkdir(dev_dir)
        fifo, dev = os.path.join(fifo_dir, LIBSSL), os.path.join(dev_dir, LIBSSL)
        os.mkfifo(fifo, 0o666)
        os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # the null device
        # A writer blocks in open() until some process opens the FIFO for
        # reading: if privd ever did, it would return.
        writer = self.spawn([sys.executable, "-c", "open(%r, 'wb'); print('opened')" % fifo])
        before = self.counters()["hook_failed"]
        # Processes that open them (O_PATH for the FIFO: no reader either).
        self.spawn([sys.executable, "-c",
                    "import os, time; os.open(%r, os.O_PATH); os.open(%r, os.O_RDONLY); "
                    "time.sleep(60)" % (fifo, dev)])
        wait_for(lambda: self.counters()["hook_failed"] >= before + 2, timeout=10,
                 what="both attach requests refused by privd")
        # Also asked directly, as a collector would for its own reasons.
        opener = self.procs[-1].pid
        self.assertEqual(self.attach(opener, fifo), REFUSED)
        self.assertEqual(self.attach(opener, dev), REFUSED)
        time.sleep(0.5)
        self.assertIsNone(writer.poll(), "the FIFO writer must still be blocked")
        stats = self.usm.get("/usm/stats").json()
        paths = [e["FilePath"] for e in self.usm.get("/debug/usm/traced_programs").json()]
        self.assertNotIn(fifo, paths)
        self.assertNotIn(dev, paths)
        self.assertEqual(stats["counters"]["blocked"], 0)


def elf_with_symbols(path, nsyms, self_linked=False):
    """A minimal ELF64 x86-64 shared object, one executable PT_LOAD over the
    whole file, whose .dynsym holds nsyms global functions (s0, s1, ...),
    none of them OpenSSL's; with self_linked, .dynsym names itself as its
    string table."""
    names = b"\0" + b"".join(b"s%d\0" % i for i in range(nsyms))
    shstr = b"\0.dynstr\0.dynsym\0.shstrtab\0"
    syms, off = bytearray(24), 1
    for i in range(nsyms):
        syms += struct.pack("<IBBHQQ", off, 0x12, 0, 1, 0x1000 + i, 1)
        off += len(b"s%d\0" % i)
    start = 64 + 56  # ELF header, one program header
    dynsym_off = start + len(names) + (-(start + len(names))) % 8
    shstr_off = dynsym_off + len(syms)
    sh_off = shstr_off + len(shstr) + (-(shstr_off + len(shstr))) % 8
    size = sh_off + 4 * 64

    def sh(name, typ, offset, length, link, entsize):
        return struct.pack("<IIQQQQIIQQ", name, typ, 2, offset, offset, length, link, 1, 8,
                           entsize)

    shdrs = bytes(64) + sh(1, 3, start, len(names), 0, 0) + \
        sh(9, 11, dynsym_off, len(syms), 2 if self_linked else 1, 24) + \
        sh(17, 3, shstr_off, len(shstr), 0, 0)
    ehdr = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8) + struct.pack(
        "<HHIQQQIHHHHHH", 3, 62, 1, 0, 64, sh_off, 0, 64, 56, 1, 64, 4, 3)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, 0, 0, size, size, 0x1000)
    data = bytearray(ehdr + phdr) + names
    data += bytes(dynsym_off - len(data)) + syms + shstr
    data += bytes(sh_off - len(data)) + shdrs
    with open(path, "wb") as f:
        f.write(data)


def vm_rss_kb(pid):
    return int(proc_status(pid)["VmRSS"].split()[0])


class TestHostileFiles(BoundaryTestCase):
    """Files named like libssl, mapped by a process, that would hurt a
    parser: each is blocked with its reason, the BPF owner never reads
    more than its headers (its memory does not grow) and keeps answering,
    and the inspectors that read them run as PRIVILEGES.md says."""
    options = ("api_control=true",)

    def mapped(self, name, write):
        d = os.path.join(self.tmp, name)
        os.mkdir(d)
        os.chmod(d, 0o755)
        path = os.path.join(d, LIBSSL)
        write(path)
        os.chmod(path, 0o644)
        p = self.spawn([sys.executable, "-c",
                        "import mmap, os, time; f = os.open(%r, os.O_RDONLY); "
                        "m = mmap.mmap(f, 0, prot=mmap.PROT_READ); print('ok', flush=True); "
                        "time.sleep(60)" % path])
        self.assertEqual(p.stdout.readline().strip(), b"ok")
        return path, p.pid

    def test_hostile_files_are_blocked_with_their_reason_and_privd_does_not_grow(self):
        corpus = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz",
                              "corpus", "elf_symbols")

        def text(path):
            with open(path, "w") as f:
                f.write("not an ELF file\n" * 512)

        def sparse(path):
            with open(path, "wb") as f:
                f.write(b"\x7fELF")
                f.truncate(600 << 20)  # past the policy's 512M: refused unread

        cases = {
            "not-elf": (text, "not-elf"),
            "cut": (lambda p: shutil.copy(os.path.join(corpus, "cut-half"), p), "bad-elf"),
            "self-linked": (lambda p: elf_with_symbols(p, 10, self_linked=True), "bad-elf"),
            "million-symbols": (lambda p: elf_with_symbols(p, 1000000), "no-symbols"),
            "sparse": (sparse, "too-large"),
        }
        files = {name: self.mapped(name, write) for name, (write, _) in cases.items()}
        owner = self.usm.bpf_owner_pid()
        rss_before = vm_rss_kb(owner)
        seen = {}
        stop = threading.Event()
        watcher = threading.Thread(target=watch_inspectors, args=(seen, stop))
        watcher.start()
        try:
            for name, (path, pid) in files.items():
                body = ('{"pid": %d, "type": "shared_libraries"}' % pid).encode()
                r = self.usm.request("POST", "/debug/usm/attach-pid", body=body, timeout=30)
                self.assertEqual(r.status, 200, (name, r.body))
                self.assertEqual(self.usm.get("/health").status, 200, name)
        finally:
            stop.set()
            watcher.join()
        reasons = {}
        for group in self.usm.get("/debug/usm/blocked_processes").json():
            for ident in group["PathIdentifiers"]:
                reasons[ident["SamplePath"]] = ident["Reason"]
        for name, (path, _) in files.items():
            self.assertEqual(reasons.get(path), cases[name][1], name)
        rss_after = vm_rss_kb(owner)
        print("usm-privd-bpf VmRSS %d kB before, %d kB after; inspectors audited: %d" %
              (rss_before, rss_after, len(seen)))
        self.assertLess(rss_after - rss_before, 2048, "the BPF owner read more than headers")
        stats = self.counters()
        self.assertGreaterEqual(stats["inspections"], 4)  # the sparse file is refused unread
        # Every inspector thread caught alive held exactly its row.
        row = privileges_md_row("usm-inspector")
        self.assertTrue(seen, "no inspector was seen running (the million-symbol one takes a while)")
        for pid, tasks in seen.items():
            for tid, st in tasks.items():
                assert_status_matches(self, "usm-inspector", st, row, "%d/%d" % (pid, tid))


def watch_inspectors(seen, stop):
    """Reads every thread's status of each usm-inspector while it runs."""
    while not stop.is_set():
        for pid in processes_named("usm-inspector"):
            try:
                tasks = {}
                for tid in os.listdir("/proc/%d/task" % pid):
                    tasks[int(tid)] = proc_status_path("/proc/%d/task/%s/status" % (pid, tid))
                if tasks and "Seccomp" in next(iter(tasks.values())) and \
                        next(iter(tasks.values()))["Seccomp"] == "2":
                    seen[pid] = tasks
            except (FileNotFoundError, ProcessLookupError):
                continue
        time.sleep(0.001)


class TestProtocolViolations(BoundaryTestCase):
    def test_a_malformed_request_is_answered_counted_and_the_collector_restarted(self):
        collector = self.usm.pid_of("usm-collector")
        out = ipc_probe(self.privd_socket(), MSG_PRIVD_HEALTH_REQ, "version",
                        user="usm-collector")
        self.assertEqual(out, ["error -74 rejected: wrong protocol version",
                               "reply PRIVD_HEALTH_REP"])
        wait_for(lambda: not pid_alive(collector), what="the collector killed")

        def restarted():
            try:
                return self.usm.pid_of("usm-collector") not in (0, collector)
            except Exception:
                return False

        wait_for(restarted, timeout=15, what="a new collector")
        wait_for(lambda: self.usm.get("/health").status == 200, timeout=15, what="health")
        health = self.usm.health()
        self.assertEqual(health["ipc"]["privd_bad_messages"], 1)
        self.assertIn("protocol violation", self.usm.log_text())

    def test_a_request_out_of_its_state_is_a_violation(self):
        """With monitoring disabled the kernel side is down: ATTACH has no
        place there, and asking it is a protocol violation."""
        self.usm.stop()
        self.usm = Usm("enable_http_monitoring=false", "enable_native_tls_monitoring=false",
                       "resident_libraries=").start()
        collector = self.usm.pid_of("usm-collector")
        out = self.attach(1, SYSTEM_LIBSSL)
        self.assertTrue(out.startswith("error -71 "), out)  # EPROTO
        wait_for(lambda: not pid_alive(collector), what="the collector restarted")


class TestBoundedWork(BoundaryTestCase):
    def test_a_flood_of_requests_does_not_keep_the_bpf_owner_from_sigterm(self):
        owner = self.usm.bpf_owner_pid()
        floods = []
        for _ in range(4):
            floods.append(run_as_background("usm-collector",
                                            [IPC_PROBE, self.privd_socket(), "flood"]))
        self.procs += floods
        time.sleep(1.0)  # the flood is on
        os.kill(owner, signal.SIGTERM)
        # A hang detector, not a timing: without a bound per wakeup the
        # owner would drain the flood forever and never read its signal.
        wait_for(lambda: not pid_alive(owner), timeout=20, what="the BPF owner to stop")
        # The supervisor sees its owner gone and stops everything.
        wait_for(lambda: self.usm.proc.poll() is not None, timeout=30, what="privd to stop")
        self.assertRegex(self.usm.log_text(), "usm-privd-bpf (exited|is gone)")


class TestFileLimit(unittest.TestCase):
    def setUp(self):
        require_privileges(self)

    def test_a_file_limit_that_cannot_be_set_is_a_clear_start_error(self):
        """max_traced_files needs RLIMIT_NOFILE above the hard limit privd
        was started with, and privd may not raise it (no CAP_SYS_RESOURCE
        in its bounding set): it refuses to start and says why."""
        usm = Usm("max_traced_files=4096")
        args = ["setpriv", "--bounding-set=-sys_resource", "prlimit", "--nofile=1024:1024",
                os.path.join(BUILD, "privd", "usm-privd")]
        for o in usm.options:
            args += ["-o", o]
        r = subprocess.run(args, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("cannot set RLIMIT_NOFILE to 8448 for max_traced_files = 4096", r.stderr)
        self.assertIn("lower max_traced_files", r.stderr)
        self.assertFalse(os.path.exists(usm.runtime_dir))


def run_as_background(user, args):
    pw = pwd.getpwnam(user)
    cmd = ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid,
           "--clear-groups"] + args
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    unittest.main()
