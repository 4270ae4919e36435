"""The floor of the HTTPS overhead benchmark: the empty-probes loader
(bench/empty_probes.c, built by bench/run into BUILD/bench-c/) with
an entry and a return probe on each function, that do nothing but count.

`with EmptyProbes(libssl, funcs) as p:` attaches and waits until the probes
are live; p.hits() gives (entry, return) totals. Leaving the block closes
the loader's stdin, on which it detaches and exits (so does it if this
process dies)."""
import os
import subprocess

import benchlib

LOADER = os.path.join(benchlib.BUILD, "bench-c", "empty-probes")


class EmptyProbes:
    def __init__(self, path, funcs):
        self.args = [LOADER, path] + list(funcs)
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, start_new_session=True)
        line = self.proc.stdout.readline()
        if not line.startswith("attached "):
            self.__exit__()
            raise RuntimeError("empty-probes did not attach (exit status %s)" % self.proc.returncode)
        self.count = int(line.split()[1])
        return self

    def hits(self):
        """(entry hits, return hits) since the probes were attached."""
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        entry, ret = self.proc.stdout.readline().split()
        return int(entry), int(ret)

    def total(self):
        return sum(self.hits())

    def __exit__(self, *exc):
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)  # closing perf-event uprobes takes ~0.1 s each
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
