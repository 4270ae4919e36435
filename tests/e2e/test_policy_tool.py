"""The usm-policy tool, as people who write seccomp policies use it:
check (lint with line numbers), export (PFC), run (report what a policy
would kill). No root needed."""
import os
import subprocess
import tempfile
import unittest

from usm_harness import BUILD, REPO

TOOL = os.path.join(BUILD, "tools", "usm-policy", "usm-policy")
DEMO = os.path.join(BUILD, "tools", "usm-policy", "usm-policy-demo")


def tool(*args):
    return subprocess.run([TOOL] + list(args), capture_output=True, text=True, timeout=60)


class TestUsmPolicy(unittest.TestCase):
    def write(self, text):
        f = tempfile.NamedTemporaryFile("w", suffix=".policy", delete=False)
        f.write(text)
        f.close()
        self.addCleanup(os.unlink, f.name)
        return f.name

    def test_shipped_seccomp_policies_pass_check(self):
        for name in ("privd", "collector", "apid"):
            path = os.path.join(REPO, "policy", name + ".policy")
            r = tool("check", path)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout, r"%s: ok \(\d+ rules\)" % path)

    def test_check_rejects_each_class_of_bad_policy_with_its_line(self):
        cases = {
            "read # a\nno_such_call # b\n": ":2: unknown syscall 'no_such_call'",
            "read # a\nwrite # b\nread # c\n": ":3: duplicate",
            "socket arg0 == AF_BOGUS # a\n": ":1: unknown constant 'AF_BOGUS'",
            "read # a\n\nsocket arg7 == 1 # b\n": ":3: bad argument",
            "read\n": ":1: missing reason",
            "socket arg0 ~ 1 # a\n": ":1: bad operator",
        }
        for text, message in cases.items():
            path = self.write(text)
            r = tool("check", path)
            self.assertEqual(r.returncode, 1, text)
            self.assertIn(path + message, r.stderr, text)

    def test_export_prints_the_compiled_filter(self):
        r = tool("export", os.path.join(REPO, "policy", "apid.policy"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("pseudo filter code", r.stdout)
        self.assertIn("action KILL_PROCESS", r.stdout)

    def test_run_reports_the_forbidden_call_by_name_and_keeps_the_exit_status(self):
        r = tool("run", os.path.join(REPO, "policy", "apid.policy"), "--", DEMO)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stderr, r"usm-policy: \d+ x ptrace")

    def test_run_reports_nothing_for_a_command_inside_the_policy(self):
        path = self.write("".join("%s # t\n" % c for c in (
            "read", "write", "close", "exit_group", "brk", "mmap", "munmap", "mprotect",
            "fstat", "newfstatat", "openat", "arch_prctl", "set_tid_address", "set_robust_list",
            "rseq", "prlimit64", "getrandom", "pread64", "access", "execve", "lseek",
            "rt_sigaction", "rt_sigprocmask", "futex", "readlink", "sigaltstack", "gettid",
            "getpid", "madvise", "uname", "sched_getaffinity", "ioctl", "clock_gettime",
            "sched_yield", "mremap", "getuid", "geteuid", "getgid", "getegid", "exit",
            "clone", "wait4", "dup2", "fcntl", "getdents64", "statx", "faccessat2")))
        r = tool("run", path, "--", "/bin/true")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("no syscall outside the policy", r.stderr)

    def test_bad_usage_exits_2_with_the_usage(self):
        r = tool("frobnicate")
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage", (r.stderr + r.stdout).lower())
        r = tool("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("POLICY SYNTAX", r.stdout)


if __name__ == "__main__":
    unittest.main()
