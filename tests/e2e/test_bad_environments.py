"""End-to-end: environments usm cannot run in are refused before anything
starts (issue 15, "Bad environments"), each with one line on stderr that
names the fix and an exit status of its own (README, "Exit statuses").

Each environment is made for real, around an unmodified usm-privd: a
runtime_dir under a 0700 directory; a read-only tmpfs, a tmpfs hiding
/sys/kernel/btf and one hiding tracefs, each in a private mount namespace
(gone with the process: nothing is left mounted); a port held by a
listening socket; usm-privd without CAP_SYS_ADMIN in its bounding set
(which the packaged unit allows to leave out) so that tracefs cannot be
mounted or classic uprobes used; a kernel without Landlock as the process
sees it (without_landlock: landlock_create_ruleset answers ENOSYS under a
seccomp filter). A kernel without uprobe_multi cannot be made: the test
asks for classic uprobes with uprobe_multi = false, the same refusal; the
kernel's own case is in tests/unit/test_preflight.c.

For each: the exact status, the exact line and nothing else, within
seconds; no usm process started (the log would say so: every start is
logged) or left behind; runtime_dir never made; no BPF link that no
process holds."""
import glob
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import time
import unittest

from usm_harness import BUILD, Usm, processes_named, require_privileges

WITHOUT_LANDLOCK = os.path.join(BUILD, "tests", "e2e", "without_landlock")
NO_SYS_ADMIN = ["setpriv", "--bounding-set", "-sys_admin"]
PROMPTLY_S = 5


def in_mount_namespace(*mounts):
    """A wrapper that runs usm-privd in a private mount namespace after
    `mount ARGS...` for each of mounts (they vanish with it)."""
    script = " && ".join("mount " + " ".join(shlex.quote(a) for a in m) for m in mounts)
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            script + ' && exec "$0" "$@"']


def link_ids():
    out = subprocess.run(["bpftool", "-j", "link", "show"], capture_output=True, text=True,
                         check=True).stdout
    return {link["id"] for link in json.loads(out or "[]")}


def links_held():
    """Ids of the BPF links some live process holds an fd of."""
    held = set()
    for path in glob.glob("/proc/[0-9]*/fdinfo/*"):
        try:
            with open(path) as f:
                m = re.search(r"^link_id:\s*(\d+)", f.read(), re.M)
        except OSError:
            continue
        if m:
            held.add(int(m.group(1)))
    return held


class BadEnvironmentTest(unittest.TestCase):
    def setUp(self):
        require_privileges(self)
        self.usm = Usm()
        self.addCleanup(shutil.rmtree, self.usm.tmp, ignore_errors=True)
        self.addCleanup(self.usm.stop)

    def refused(self, status, line):
        """Starts usm-privd and checks it refused as it must: status, the
        one line (a regular expression, matched whole) and nothing else,
        within PROMPTLY_S, nothing started or left."""
        links_before = link_ids()
        started = time.monotonic()
        self.usm.start(wait=False)
        try:
            self.usm.proc.wait(timeout=PROMPTLY_S)
        except subprocess.TimeoutExpired:
            self.fail("usm-privd still runs after %d s:\n%s" % (PROMPTLY_S, self.usm.log_text()))
        took = time.monotonic() - started
        log = self.usm.log_text()
        self.assertEqual(self.usm.proc.returncode, status, log)
        self.assertEqual(log.count("\n"), 1, "one line, nothing else:\n" + log)
        self.assertRegex(log, r"\Ausm-privd: " + line + r"\n\Z")
        self.assertLess(took, PROMPTLY_S)
        # Nothing started: every process usm starts carries runtime_dir in its
        # command line (the BPF owner is privd's fork; children get -o).
        for name in ("usm-privd-bpf", "usm-collector", "usm-apid", "usm-inspector"):
            for pid in processes_named(name):
                try:
                    with open("/proc/%d/cmdline" % pid) as f:
                        mine = self.usm.runtime_dir in f.read()
                except OSError:
                    continue
                self.assertFalse(mine, "%s %d was started" % (name, pid))
        self.assertFalse(os.path.lexists(self.usm.runtime_dir), "runtime_dir was made")
        leaked = (link_ids() - links_before) - links_held()
        self.assertEqual(leaked, set(), "BPF links nobody holds")
        with open("/proc/self/mountinfo") as f:
            self.assertNotIn("usm-bad-env", f.read(), "a test mount was left")
        return log

    def test_a_runtime_dir_whose_parent_the_service_users_cannot_search(self):
        os.chmod(self.usm.tmp, 0o700)
        self.refused(3, re.escape("runtime_dir %s: its parent %s is not searchable by the "
                                  "service users (" % (self.usm.runtime_dir, self.usm.tmp))
                     + r"usm-bpf is uid \d+; mode 0700, owner 0:0\); make it 0711 or choose "
                     r"another runtime_dir")

    def test_a_runtime_dir_reached_through_a_symlink_into_a_closed_directory(self):
        """The check follows the path as the kernel does: a symlink's
        target has parents of its own."""
        closed = os.path.join(self.usm.tmp, "closed")
        os.makedirs(os.path.join(closed, "sub"))
        os.chmod(closed, 0o700)
        link = os.path.join(self.usm.tmp, "link")
        os.symlink(os.path.join(closed, "sub"), link)
        self.usm.runtime_dir = os.path.join(link, "run")
        self.usm.options[0] = "runtime_dir=" + self.usm.runtime_dir
        self.refused(3, re.escape("runtime_dir %s: its ancestor %s is not searchable by the "
                                  "service users (" % (os.path.join(closed, "sub", "run"),
                                                       closed))
                     + r"usm-bpf is uid \d+; mode 0700, owner 0:0\); make it 0711 or choose "
                     r"another runtime_dir")

    def test_a_runtime_dir_under_a_directory_another_user_can_write(self):
        """privd, root, prepares runtime_dir by path: a parent another user
        may write (no sticky bit) is refused; a world-writable sticky one
        (/tmp) is not."""
        shared = os.path.join(self.usm.tmp, "shared")
        os.mkdir(shared)
        os.chmod(shared, 0o777)
        self.usm.runtime_dir = os.path.join(shared, "run")
        self.usm.options[0] = "runtime_dir=" + self.usm.runtime_dir
        self.refused(10, re.escape(
            "runtime_dir %s: its parent %s can be written by a user other than root (mode "
            "0777, owner 0:0), who could swap what privd prepares there; choose a runtime_dir "
            "whose parents only root can write (the default /run/usm)"
            % (self.usm.runtime_dir, shared)))

    def test_a_privileged_api_port(self):
        """apid holds no capability: a port below the kernel's unprivileged
        start is refused, although privd (root) could bind it."""
        self.usm.options = [o for o in self.usm.options if not o.startswith("api_listen=")]
        self.usm.options.append("api_listen=127.0.0.1:81")
        with open("/proc/sys/net/ipv4/ip_unprivileged_port_start") as f:
            first = int(f.read())
        self.assertGreater(first, 81, "this host lets anyone bind port 81")
        self.refused(5, re.escape(
            "api_listen 127.0.0.1:81: usm-apid holds no capability and ports below %d are "
            "privileged here (net.ipv4.ip_unprivileged_port_start); set api_listen to a port "
            "of %d or above" % (first, first)))

    def test_started_with_a_closed_umask_usm_still_runs(self):
        """runtime_dir is made 0755 whatever umask privd inherited (with
        umask 077 it was made 0700, where the BPF owner could not listen)."""
        self.usm.wrapper = ["sh", "-c", 'umask 077 && exec "$0" "$@"']
        self.usm.start()
        self.assertEqual(self.usm.health()["status"], "ok")
        self.assertEqual(os.stat(self.usm.runtime_dir).st_mode & 0o777, 0o755)

    def test_a_runtime_dir_on_a_read_only_file_system(self):
        ro = os.path.join(self.usm.tmp, "ro")
        os.mkdir(ro)
        self.usm.runtime_dir = os.path.join(ro, "run")
        self.usm.options[0] = "runtime_dir=" + self.usm.runtime_dir
        self.usm.wrapper = in_mount_namespace(["-t", "tmpfs", "-o", "ro", "usm-bad-env", ro])
        self.refused(4, re.escape(
            "runtime_dir %s: %s is on a read-only file system; choose a runtime_dir on a "
            "writable one (the default /run/usm; under systemd, add it to ReadWritePaths=)"
            % (self.usm.runtime_dir, ro)))

    def test_the_api_port_in_use(self):
        with socket.socket() as held:
            held.bind(("127.0.0.1", self.usm.port))
            held.listen()
            self.refused(5, re.escape("api_listen 127.0.0.1:%d: the port is in use by another "
                                      "program; stop it or set api_listen to a free port"
                                      % self.usm.port))

    def test_a_kernel_without_btf(self):
        self.usm.wrapper = in_mount_namespace(["-t", "tmpfs", "-o", "ro", "usm-bad-env",
                                               "/sys/kernel/btf"])
        self.refused(6, re.escape(
            "the kernel has no BTF (/sys/kernel/btf/vmlinux: No such file or directory); run "
            "usm on a kernel built with CONFIG_DEBUG_INFO_BTF=y (Debian's and most "
            "distributions' are)"))

    def test_tracefs_missing_and_not_mountable(self):
        hide = [["-t", "tmpfs", "-o", "ro", "usm-bad-env", d]
                for d in ("/sys/kernel/tracing", "/sys/kernel/debug") if os.path.isdir(d)]
        self.usm.wrapper = in_mount_namespace(*hide) + NO_SYS_ADMIN
        self.refused(7, re.escape(
            "tracefs is not mounted and cannot be mounted on /sys/kernel/tracing (Operation "
            "not permitted); mount it (mount -t tracefs tracefs /sys/kernel/tracing) or give "
            "usm-privd CAP_SYS_ADMIN"))

    def test_classic_uprobes_asked_for_without_cap_sys_admin(self):
        self.usm.options.append("uprobe_multi=false")
        self.usm.wrapper = NO_SYS_ADMIN
        self.refused(8, re.escape(
            "uprobe_multi = false asks for classic uprobes, which need CAP_SYS_ADMIN, which "
            "usm-privd does not have; set uprobe_multi = true or give it CAP_SYS_ADMIN"))

    def test_a_kernel_without_landlock(self):
        self.usm.wrapper = [WITHOUT_LANDLOCK]
        self.refused(9, re.escape(
            "the kernel has no Landlock, which usm-collector and usm-apid confine themselves "
            "with; boot Linux 5.13 or later with Landlock enabled (CONFIG_SECURITY_LANDLOCK=y "
            "and landlock in lsm=)"))

    def test_without_cap_sys_admin_usm_still_runs_where_nothing_is_missing(self):
        """The refusals above are about what is missing, not about the
        bounding set: with tracefs mounted and uprobe_multi links, usm runs
        without CAP_SYS_ADMIN (policy/PRIVILEGES.md)."""
        self.usm.wrapper = NO_SYS_ADMIN
        self.usm.start()
        self.assertEqual(self.usm.health()["status"], "ok")


if __name__ == "__main__":
    unittest.main()
