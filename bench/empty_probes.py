"""The floor of the overhead benchmarks: the empty-probes loader
(bench/empty_probes.c, built by bench/run into BUILD/bench-c/) with probes
that do nothing but count.

`with EmptyProbes(libssl, funcs) as p:` attaches an entry and a return
probe on each function (https_overhead); `with EmptyProbes(binary,
offsets=[...]) as p:` an entry probe at each file offset, in one
uprobe_multi link when the kernel has them, as usm-privd links Go's
(go_tls_overhead; p.mechanism says "multi" or "classic"). Either waits
until the probes are live; p.hits() gives (entry, return) totals. Leaving
the block closes the loader's stdin, on which it detaches and exits (so
does it if this process dies)."""
import os
import subprocess

import benchlib

LOADER = os.path.join(benchlib.BUILD, "bench-c", "empty-probes")


class EmptyProbes:
    def __init__(self, path, funcs=(), offsets=None, classic=False):
        if offsets is not None:
            self.args = ([LOADER, "--offsets"] + (["--classic"] if classic else []) + [path]
                         + ["0x%x" % o for o in offsets])
        else:
            self.args = [LOADER, path] + list(funcs)
        self.proc = None
        self.mechanism = "classic"

    def __enter__(self):
        self.proc = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, start_new_session=True)
        line = self.proc.stdout.readline()
        if not line.startswith("attached "):
            self.__exit__()
            raise RuntimeError("empty-probes did not attach (exit status %s)" % self.proc.returncode)
        words = line.split()
        self.count = int(words[1])
        if len(words) > 2:
            self.mechanism = words[2]
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
