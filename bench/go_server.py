"""The Go HTTPS server of the Go TLS benchmark (tests/go/https_server.go,
built by bench/meson.build into BUILD/bench-c/go-https-server: plain,
symbols and DWARF kept), and where usm probes it.

`with GoServer(cpus=[0]) as s:` starts it on a free loopback port with a
self-signed EC certificate, HTTP/1.1 only (GODEBUG=http2server=0), pinned
to the given CPUs (Go's runtime then runs GOMAXPROCS=len(cpus)); s.port,
s.pid, s.path; s.cpu_ns() the server's (run, run-queue wait) nanoseconds
so far, over all its threads. Every path answers 200 with a body of `?size=N` bytes.
Stopped with SIGTERM when the block ends.

usm_offsets(path) gives the file offsets usm-privd probes in that
program: the `func gotls` lines of policy/attach.policy (what the build
compiled in) answered by go-tls-offsets, which links the inspector's own
code (inspector/go_binary.c and friends), so the floor and usm probe the
same instructions.
"""
import os
import shutil
import subprocess
import tempfile

import benchlib

SERVER = os.path.join(benchlib.BUILD, "bench-c", "go-https-server")
OFFSETS = os.path.join(benchlib.BUILD, "bench-c", "go-tls-offsets")
POLICY = os.path.join(benchlib.REPO, "policy", "attach.policy")


def gotls_policy(path=POLICY):
    """[(function, [probe kinds])] of the gotls set, in the policy's order
    (the order privd asks the inspector in)."""
    funcs = []
    with open(path) as f:
        for line in f:
            words = line.split("#", 1)[0].split()
            if len(words) >= 4 and words[0] == "func" and words[1] == "gotls":
                funcs.append((words[2], words[3].split(",")))
    if not funcs:
        raise RuntimeError("no `func gotls` line in %s" % path)
    return funcs


def usm_offsets(binary):
    """{"go": version, "offsets": [...], "where": {function: {"entry": off,
    "returns": [offs] probed}}}: every file offset usm-privd attaches an
    (entry) uprobe to in binary, as privd's attach.c links the gotls set:
    a function's entry if its probes say `entry`, each of its RET
    instructions if they say `ret-insns`. `ret` (a uretprobe) never
    appears for Go (goroutine stacks move); if the policy ever asks for
    one, the floor could not copy it, so this refuses."""
    policy = gotls_policy()
    out = subprocess.run([OFFSETS, binary] + [f for f, _ in policy], capture_output=True,
                         text=True)
    if out.returncode != 0:
        raise RuntimeError("go-tls-offsets %s: %s" % (binary, out.stderr.strip()))
    answer, version = {}, None
    for line in out.stdout.splitlines():
        words = line.split()
        if words[0] == "go":
            version = words[1]
        elif words[0] == "func":
            answer[words[1]] = [int(w, 16) for w in words[2:]]
    offsets, where = [], {}
    for func, probes in policy:
        unknown = set(probes) - {"entry", "ret-insns"}
        if unknown:
            raise RuntimeError("policy: %s probes %s, which the floor does not copy"
                               % (func, ",".join(sorted(unknown))))
        if func not in answer:  # privd links what is found (required ones: all)
            continue
        entry, rets = answer[func][0], answer[func][1:]
        w = where[func] = {}
        if "entry" in probes:
            offsets.append(entry)
            w["entry"] = hex(entry)
        if "ret-insns" in probes:
            offsets += rets
            w["returns"] = [hex(r) for r in rets]
    return {"go": version, "offsets": offsets, "where": where}


class GoServer:
    def __init__(self, cpus=None, path=SERVER):
        self.cpus, self.path = cpus, os.path.realpath(path)
        self.proc = None

    def __enter__(self):
        self.tmp = tempfile.mkdtemp(prefix="usm-bench-go-")
        key, cert = os.path.join(self.tmp, "key.pem"), os.path.join(self.tmp, "cert.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True)
        cmd = [self.path, "-addr", "127.0.0.1:0", "-cert", cert, "-key", key]
        if self.cpus:
            cmd = ["taskset", "-c", ",".join(map(str, self.cpus))] + cmd
        env = dict(os.environ, GODEBUG="http2server=0")
        self.log = open(os.path.join(self.tmp, "server.log"), "w")
        # taskset execs the server: the pid is the server's.
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log, text=True,
                                     env=env, start_new_session=True)
        self.pid = self.proc.pid
        try:
            line = self.proc.stdout.readline()
            if not line.strip().isdigit():
                raise RuntimeError("the Go server did not print its port (exit status %s)"
                                   % self.proc.poll())
            self.port = int(line)
            benchlib.wait_for(lambda: os.path.realpath("/proc/%d/exe" % self.pid) == self.path,
                              5, "the Go server to exec")
        except BaseException:
            self.__exit__()
            raise
        return self

    def cpu_ns(self):
        """(ns on a CPU, ns waiting on a run queue) of all the server's
        threads so far (/proc/PID/task/*/schedstat): uprobe traps and BPF
        programs run in the server's context, so they are in the first; the
        second says how much the machine made it wait for its CPU."""
        run = wait = 0
        for task in os.listdir("/proc/%d/task" % self.pid):
            try:
                with open("/proc/%d/task/%s/schedstat" % (self.pid, task)) as f:
                    fields = f.read().split()
                run, wait = run + int(fields[0]), wait + int(fields[1])
            except (OSError, IndexError, ValueError):  # a thread that just exited
                pass
        return run, wait

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()
        self.proc.stdout.close()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
