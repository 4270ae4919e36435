"""Many traced files for usm: N copies of a stand-in libssl
(bench/fake_libssl.c, built by bench/run into
BUILD/bench-c/libfake-libssl.so), each a file of its own (its own inode,
so its own attachment), loaded by holder processes, PER_PROCESS each.

`with TracedFiles(n) as t:` makes the copies; t.load() starts the holders,
which load their copies one after another (each load is a library open
usm reacts to) and then wait; t.unload() or leaving the block ends them,
and the block's end removes the copies.
The copies live under /tmp: every usm on the host, not only the
benchmark's, attaches to them, so callers wait until they are alone."""
import os
import shutil
import subprocess
import sys
import tempfile

import benchlib

FAKE_LIBSSL = os.path.join(benchlib.BUILD, "bench-c", "libfake-libssl.so")

# usm's start-up scan takes at most 8 TLS libraries from one process's
# maps (privd/scan.c), so that files mapped before usm starts are all
# found, each holder maps no more.
PER_PROCESS = 8

# The holder: loads every path given on stdin's first line, says so, then
# waits for the end of its input. A process of its own so that the
# benchmark driver never maps a file named libssl.
HOLDER = """
import ctypes, sys
paths = sys.stdin.readline().split()
libs = [ctypes.CDLL(p, mode=ctypes.RTLD_LOCAL) for p in paths]
print(len(libs), flush=True)
sys.stdin.read()
"""


class TracedFiles:
    def __init__(self, count):
        self.count = count
        self.procs = []

    def __enter__(self):
        self.tmp = tempfile.mkdtemp(prefix="usm-bench-libs-")
        os.chmod(self.tmp, 0o755)
        self.paths = []
        for i in range(self.count):
            d = os.path.join(self.tmp, "%04d" % i)
            os.mkdir(d)
            self.paths.append(os.path.join(d, "libssl.so.3"))
            shutil.copyfile(FAKE_LIBSSL, self.paths[-1])
        return self

    def load(self):
        """Starts the holders and returns once every copy is loaded."""
        try:
            for i in range(0, self.count, PER_PROCESS):
                p = subprocess.Popen([sys.executable, "-c", HOLDER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, start_new_session=True)
                self.procs.append(p)
                p.stdin.write(" ".join(self.paths[i:i + PER_PROCESS]) + "\n")
                p.stdin.flush()
            loaded = sum(int(p.stdout.readline() or 0) for p in self.procs)
            if loaded != self.count:
                raise RuntimeError("the holders loaded %d of %d libraries" % (loaded, self.count))
        except BaseException:
            self.unload()
            raise

    def unload(self):
        for p in self.procs:
            p.stdin.close()
        for p in self.procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            p.stdout.close()
        self.procs = []

    def __exit__(self, *exc):
        try:
            self.unload()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)
