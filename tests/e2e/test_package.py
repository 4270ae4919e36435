"""The Debian package (debian/): built from a copy of this tree with
dpkg-buildpackage, installed with dpkg -i, its files and unit checked,
the installed usm-privd run as the unit's ExecStart runs it and queried,
then removed and purged, leaving nothing behind.

This test installs into the real system. It refuses to run when a usm
package is already installed, and purges what it installed even when it
fails. The system users exist before it (scripts/setup.sh; the other
end-to-end tests need them): the package must keep users it did not
create, and the test checks that it does. This machine has no systemd as
init, so the service is started the way the unit would start it: its
ExecStart command line under its capability bounding set, no_new_privs
and file limit (setpriv), plus two -o options so that it cannot clash
with another usm on this machine (its own runtime_dir and a free port).
"""
import grp
import os
import pwd
import re
import resource
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from usm_harness import REPO, free_port, http_request, pid_alive, require_privileges, wait_for

PACKAGE = "usm"
UNIT = "/lib/systemd/system/usm.service"
CONF = "/etc/usm/usm.conf"
# Every file the package installs but its documentation, and nothing else.
EXPECTED_FILES = {
    "/usr/sbin/usm-privd",
    "/usr/bin/usm-policy",
    "/usr/bin/usmctl",  # the terminal client (README, "usmctl")
    "/usr/libexec/usm/usm-collector",
    "/usr/libexec/usm/usm-apid",
    "/usr/libexec/usm/usm-inspector",
    CONF,
    UNIT,
}
USERS = ("usm-collector", "usm-api", "usm-bpf", "usm-inspect")
# What dpkg, the maintainer scripts and deb-systemd-helper may leave.
LEFTOVERS = ("/etc/usm", "/usr/libexec/usm", "/var/lib/usm", UNIT, "/usr/share/doc/usm",
             "/etc/systemd/system/multi-user.target.wants/usm.service",
             "/var/lib/systemd/deb-systemd-helper-enabled/usm.service.dsh-also",
             "/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/usm.service",
             "/var/lib/systemd/deb-systemd-helper-masked/usm.service")
BUILD_TIMEOUT = 1800


def dpkg_status(package):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else "not-installed"


def dpkg(*args):
    """dpkg, waiting (up to 2 minutes) for the lock another apt or dpkg holds."""
    deadline = time.monotonic() + 120
    while True:
        r = subprocess.run(["dpkg"] + list(args), capture_output=True, text=True,
                           env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        if r.returncode == 0 or "lock" not in r.stderr or time.monotonic() > deadline:
            return r
        time.sleep(2)


def copy_source(dst):
    """The tree as it is (uncommitted changes included), without build
    directories or git's files."""
    def ignore(directory, names):
        top = os.path.abspath(directory) == REPO
        return [n for n in names if n in (".git", "obj-x86_64-linux-gnu")
                or (top and n.startswith("build")) or n.startswith("obj-")]
    shutil.copytree(REPO, dst, ignore=ignore, symlinks=True)


def unit_settings(path):
    """The [Service] settings of a unit: {key: [values, in order]}."""
    settings, section = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("["):
                section = line
                continue
            if section == "[Service]":
                key, _, value = line.partition("=")
                settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def readme_config_keys():
    keys, section = [], False
    with open(os.path.join(REPO, "README.md")) as f:
        for line in f:
            if line.startswith("## "):
                section = line.strip() == "## Configuration"
            m = re.match(r"^\| `([a-z0-9_]+)` \|", line)
            if section and m:
                keys.append(m.group(1))
    return keys


class PackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = None
        require_privileges(unittest.TestCase())
        for tool in ("dpkg-buildpackage", "dh", "systemd-analyze", "setpriv", "adduser"):
            if not shutil.which(tool):
                raise AssertionError("%s is missing (scripts/setup.sh test installs it)" % tool)
        if dpkg_status(PACKAGE) != "not-installed":
            raise AssertionError("a %s package is already installed (%s): this test installs and "
                                 "purges its own, so it will not run here"
                                 % (PACKAGE, dpkg_status(PACKAGE)))
        cls.tmp = tempfile.mkdtemp(prefix="usm-e2e-package-")
        os.chmod(cls.tmp, 0o755)
        src = os.path.join(cls.tmp, "src")
        copy_source(src)
        cls.build_log = os.path.join(cls.tmp, "build.log")
        env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck parallel=%d" % (os.cpu_count() or 1))
        with open(cls.build_log, "w") as log:
            r = subprocess.run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src, env=env,
                               stdout=log, stderr=subprocess.STDOUT, timeout=BUILD_TIMEOUT)
        if r.returncode != 0:
            with open(cls.build_log) as f:
                tail = f.read()[-4000:]
            raise AssertionError("dpkg-buildpackage failed (%d):\n%s" % (r.returncode, tail))
        debs = [f for f in os.listdir(cls.tmp) if re.match(r"usm_.*\.deb$", f)]
        if len(debs) != 1:
            raise AssertionError("expected one usm .deb, found %s" % debs)
        cls.deb = os.path.join(cls.tmp, debs[0])

    @classmethod
    def tearDownClass(cls):
        if cls.tmp:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_package_holds_exactly_the_programs_conf_and_unit(self):
        r = subprocess.run(["dpkg-deb", "-c", self.deb], capture_output=True, text=True, check=True)
        files = {}
        for line in r.stdout.splitlines():
            mode, owner, _size, _date, _time, name = line.split(None, 5)
            if mode.startswith("-"):
                files[name.lstrip(".")] = (mode, owner)
        installed = {f for f in files if not f.startswith("/usr/share/doc/usm/")}
        self.assertEqual(installed, EXPECTED_FILES)
        for name, (mode, owner) in files.items():
            self.assertEqual(owner, "root/root", name)
            self.assertNotIn("s", mode, name + ": no set-ID bits")
            if name.startswith(("/usr/sbin/", "/usr/bin/", "/usr/libexec/")):
                self.assertEqual(mode, "-rwxr-xr-x", name)
        depends = subprocess.run(["dpkg-deb", "-f", self.deb, "Depends"], capture_output=True,
                                 text=True, check=True).stdout
        self.assertIn("adduser", depends)  # postinst creates the users with it

    def test_on_a_system_without_the_users_postinst_creates_them_and_purge_removes_them(self):
        """The package's own postinst and postrm (with their debhelper
        parts), run in a private mount namespace over copies of /etc and
        /var/lib without usm's users: the real users, which the other
        tests need, are never touched."""
        ctl = os.path.join(self.tmp, "control")
        subprocess.run(["dpkg-deb", "-e", self.deb, ctl], check=True)
        etc, varlib = os.path.join(self.tmp, "etc"), os.path.join(self.tmp, "varlib")
        subprocess.run(["cp", "-a", "/etc", etc], check=True)
        os.mkdir(varlib)
        with open(os.path.join(etc, "usm-e2e-copy"), "w"):
            pass
        # In the copy, usm's users are renamed rather than removed: their
        # uids stay taken, so the users postinst creates get others, which
        # no running process of the other tests uses (userdel would refuse).
        for name in ("passwd", "group", "shadow", "gshadow"):
            path = os.path.join(etc, name)
            if os.path.exists(path):
                with open(path) as f:
                    text = f.read()
                text = re.sub(r"^usm-", "usmold-", text, flags=re.M)
                with open(path, "w") as f:
                    f.write(text)
        show = ("for u in %s; do getent passwd $u >/dev/null && echo user $u; "
                "getent group $u >/dev/null && echo group $u; done; "
                "cat /var/lib/usm/created-users 2>/dev/null | sed 's/^/recorded /'; "
                "[ -d /var/lib/usm ] && echo dir /var/lib/usm; true" % " ".join(USERS))
        script = "\n".join([
            "set -e",
            "mount --bind %s /etc" % etc,
            "mount --bind %s /var/lib" % varlib,
            # never run the scripts outside the copy
            "[ -e /etc/usm-e2e-copy ] || { echo 'not the copy' >&2; exit 99; }",
            "echo '== before'", show,
            "sh %s/postinst configure >/dev/null" % ctl,
            "echo '== installed'", show,
            "sh %s/postrm purge >/dev/null" % ctl,
            "echo '== purged'", show,
        ])
        r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        _, before, installed, purged = re.split(r"== \w+\n", r.stdout)
        self.assertEqual(before, "")
        expected = ["user %s\ngroup %s\n" % (u, u) for u in USERS]
        self.assertEqual(installed, "".join(expected) + "".join("recorded %s\n" % u for u in USERS)
                         + "dir /var/lib/usm\n")
        self.assertEqual(purged, "", "purge removes the users and groups postinst created")
        # and the real ones are as they were
        for u in USERS:
            pwd.getpwnam(u)

    def test_install_run_remove_purge_leaves_nothing(self):
        users_before = {u: pwd.getpwnam(u).pw_uid for u in USERS}
        groups_before = {u: grp.getgrnam(u).gr_gid for u in USERS}
        installed = False
        self.service = None
        try:
            r = dpkg("-i", self.deb)
            installed = True
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertEqual(dpkg_status(PACKAGE), "install ok installed")
            self.check_installed_files()
            self.check_conf()
            self.check_unit()
            # users that existed are kept as they were, and not recorded
            # as the package's own
            self.assertEqual({u: pwd.getpwnam(u).pw_uid for u in USERS}, users_before)
            self.assertFalse(os.path.exists("/var/lib/usm/created-users"))
            self.run_service_as_the_unit_does()

            r = dpkg("--remove", PACKAGE)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertEqual(dpkg_status(PACKAGE), "deinstall ok config-files")
            self.assertTrue(os.path.exists(CONF), "remove keeps the conffile")
            for path in EXPECTED_FILES - {CONF}:
                self.assertFalse(os.path.exists(path), path + " left after remove")

            r = dpkg("--purge", PACKAGE)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            installed = False
            self.assertEqual(dpkg_status(PACKAGE), "not-installed")
            for path in LEFTOVERS + tuple(EXPECTED_FILES):
                self.assertFalse(os.path.lexists(path), path + " left after purge")
            self.assertEqual({u: pwd.getpwnam(u).pw_uid for u in USERS}, users_before,
                             "purge removes only the users the package created")
            self.assertEqual({u: grp.getgrnam(u).gr_gid for u in USERS}, groups_before)
        finally:
            if self.service and self.service.poll() is None:
                self.service.kill()
                self.service.wait()
            if installed and dpkg_status(PACKAGE) != "not-installed":
                dpkg("--purge", PACKAGE)

    def check_installed_files(self):
        r = subprocess.run(["dpkg", "-L", PACKAGE], capture_output=True, text=True, check=True)
        files = {p for p in r.stdout.splitlines() if os.path.isfile(p) and not os.path.islink(p)}
        self.assertEqual({f for f in files if not f.startswith("/usr/share/doc/usm/")},
                         EXPECTED_FILES)
        for path in EXPECTED_FILES:
            st = os.stat(path)
            self.assertEqual((st.st_uid, st.st_gid), (0, 0), path)
            self.assertEqual(st.st_mode & 0o7022, 0, path + ": writable by others or set-ID")
        # no file capabilities: under no_new_privs they would not apply,
        # and usm must not need them
        r = subprocess.run(["getcap"] + sorted(EXPECTED_FILES), capture_output=True, text=True)
        self.assertEqual(r.stdout.strip(), "", "file capabilities: " + r.stdout)
        conffiles = subprocess.run(["dpkg-query", "-W", "-f=${Conffiles}", PACKAGE],
                                   capture_output=True, text=True, check=True).stdout
        self.assertIn(CONF, conffiles)

    def check_conf(self):
        """Every key of README's table commented out at a value; nothing
        set; and uncommented whole, the file is accepted by usm-privd."""
        with open(CONF) as f:
            lines = f.read().splitlines()
        for line in lines:
            self.assertTrue(line == "" or line.startswith("#"), "a setting in the conf: " + line)
        listed = [m.group(1) for m in (re.match(r"^#([a-z0-9_]+) = ", l) for l in lines) if m]
        self.assertEqual(sorted(listed), sorted(readme_config_keys()))
        uncommented = os.path.join(self.tmp, "usm.conf")
        with open(uncommented, "w") as f:
            f.write("".join(l[1:] + "\n" for l in lines if re.match(r"^#[a-z0-9_]+ = ", l)))
        # a bad -o is reported after the whole file was read: its error
        # proves the file was accepted
        r = subprocess.run(["/usr/sbin/usm-privd", "-c", uncommented, "-o", "no_such_key=1"],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("-o:1: unknown key 'no_such_key'", r.stderr)

    def check_unit(self):
        r = subprocess.run(["systemd-analyze", "verify", UNIT], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotIn("usm.service", r.stdout + r.stderr)
        s = unit_settings(UNIT)
        for key, value in (("ProtectSystem", "strict"), ("ProtectHome", "yes"),
                           ("PrivateTmp", "yes"), ("NoNewPrivileges", "yes"),
                           ("SystemCallArchitectures", "native"), ("RuntimeDirectory", "usm"),
                           ("LockPersonality", "yes"), ("ProtectKernelModules", "yes")):
            self.assertEqual(s.get(key), [value], key)
        self.assertIn("RestrictAddressFamilies", s)
        self.assertNotIn("User", s, "usm-privd must start as root")
        # exactly policy/PRIVILEGES.md's "Under systemd" table
        with open(os.path.join(REPO, "policy", "PRIVILEGES.md")) as f:
            doc = f.read().split("## Under systemd: the bounding set", 1)[1].split("\n## ", 1)[0]
        documented = set(re.findall(r"^\| (CAP_[A-Z_]+(?:, CAP_[A-Z_]+)*) \|", doc, re.M))
        documented = {c for row in documented for c in row.split(", ")}
        self.assertEqual(set(s["CapabilityBoundingSet"][0].split()), documented)

    def run_service_as_the_unit_does(self):
        s = unit_settings(UNIT)
        caps = s["CapabilityBoundingSet"][0].split()
        exec_start = shlex.split(s["ExecStart"][0])
        self.assertEqual(exec_start, ["/usr/sbin/usm-privd", "-c", CONF])
        # LimitNOFILE, as far as this machine allows (its hard limit may be
        # lower, and raising it needs CAP_SYS_RESOURCE, which it may lack)
        nofile = min(int(s["LimitNOFILE"][0]), resource.getrlimit(resource.RLIMIT_NOFILE)[1])
        runtime_dir = os.path.join(self.tmp, "run")  # systemd would make /run/usm
        os.mkdir(runtime_dir, 0o755)
        port = free_port()
        argv = (["setpriv", "--bounding-set", "-all," + ",".join("+" + c[4:].lower() for c in caps),
                 "--inh-caps", "-all"]
                + (["--no-new-privs"] if s.get("NoNewPrivileges") == ["yes"] else [])
                + exec_start + ["-o", "runtime_dir=" + runtime_dir,
                                "-o", "api_listen=127.0.0.1:%d" % port])
        log_path = os.path.join(self.tmp, "service.log")
        log = open(log_path, "w")

        def limits():
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.service = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd="/",
                                        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"},
                                        preexec_fn=limits)
        log.close()

        def log_text():
            with open(log_path) as f:
                return f.read()

        def healthy():
            if self.service.poll() is not None:
                raise AssertionError("usm-privd exited %d:\n%s" % (self.service.returncode,
                                                                    log_text()))
            try:
                return http_request(port, "GET", "/health").status == 200
            except OSError:
                return False

        wait_for(healthy, timeout=20, what="the installed usm's API on port %d" % port)
        health = http_request(port, "GET", "/health").json()
        pids = {p["name"]: p["pid"] for p in health["processes"]}
        self.assertEqual(set(pids), {"usm-privd", "usm-collector", "usm-apid"})
        self.assertTrue(all(p["state"] == "running" for p in health["processes"]), health)
        for name in ("usm-collector", "usm-apid"):
            self.assertEqual(os.readlink("/proc/%d/exe" % pids[name]), "/usr/libexec/usm/" + name)
        self.assertEqual(os.readlink("/proc/%d/exe" % self.service.pid), "/usr/sbin/usm-privd")
        stats = wait_for(lambda: (lambda j: j if j.get("state") == "Running" else None)(
            http_request(port, "GET", "/usm/stats").json()), timeout=10, what="state Running")
        self.assertIn("traced_programs", stats)
        metrics = http_request(port, "GET", "/metrics")
        self.assertEqual(metrics.status, 200)
        for sub, owner, group in (("privd", "usm-bpf", "usm-collector"),
                                  ("collector", "usm-collector", "usm-api")):
            st = os.stat(os.path.join(runtime_dir, sub))
            self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o7777),
                             (pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid, 0o2750), sub)

        self.service.send_signal(signal.SIGTERM)
        self.assertEqual(self.service.wait(timeout=45), 0, log_text())
        for name, pid in pids.items():
            wait_for(lambda: not pid_alive(pid), timeout=5, what=name + " gone")
        self.assertFalse(os.path.exists(runtime_dir) and os.listdir(runtime_dir),
                         "sockets and directories removed at stop")


if __name__ == "__main__":
    unittest.main()
