#!/usr/bin/env python3
"""Benchmark: how soon after a library open usm's TLS probes are live, and
what share of short-lived TLS clients it traces before they exit.

Each variant gets a fresh usm-privd (release build), then runs sequential
`curl -sk https://127.0.0.1:PORT/run/N` against a node HTTPS server. A curl
run counts as traced if /usm/stats counters.probe_hits grew while it ran,
and as counted if /usm/http_stats has its request (its own path, N) once
the runs are over.
Variants:
  default          resident_libraries: the system libssl and libgnutls are
                   attached at start and stay attached, so every curl finds
                   its probes live when it opens libssl;
  not resident     resident_libraries= (empty): attach on open, then
    linger 2000    libssl stays attached 2 s after the last user left, so
                   back-to-back curls share one attachment;
    linger 0       every curl's libssl is attached on its own open (before
                   each run we wait until the previous run's links are
                   closed), the worst case;
    linger 0, RCU expedited
                   the same with /sys/kernel/rcu_expedited=1 for the
                   variant only (restored after): the kernel's uprobe
                   registration waits for an RCU grace period, and this
                   shows how much of the latency that wait is;
    linger 0, RCU expedited, a new libssl per run
                   each curl loads its own copy of libssl (LD_LIBRARY_PATH),
                   a file privd has never seen: every attach pays for an
                   inspector (usm-inspector parses the file; privd caches
                   answers per file, so the variant above, one file, pays
                   it once). The difference between the two is the
                   inspector's cost;
    classic        uprobe_multi=false (perf-event uprobes), linger 0.
After each variant, attach_latency (kernel event -> probes live, per newly
attached file: curl opens libssl and libgnutls) is read from /usm/stats.
Then, alone: what one inspection costs privd's attach path, measured
directly: the real usm-inspector started as privd starts it (its own
user, no privilege, the file at fd 3 and a socketpair at fd 4), asked for
the openssl set's functions in the system libssl, until its answer; p50
and p99 over --inspections runs (default 200).

Run as root: bench/run builds and runs it; alone:
  python3 bench/attach_coverage.py [--quick] [--runs N] [--classic-runs N]
Prints a table and replaces the "attach" key of bench/results.json.
No assertions on timings: it measures and reports.
"""
import collections
import os
import shutil
import subprocess
import tempfile
import sys
import time

import benchlib
from benchlib import log


def probe_hits(usm):
    return usm.stats()["counters"]["probe_hits"]


def idle_hits(usm, seconds=0.5):
    """probe_hits gained with no curl running (should be 0: nothing else
    on the host calls libssl while it is attached)."""
    before = probe_hits(usm)
    time.sleep(seconds)
    return probe_hits(usm) - before


def libssl_pids(usm):
    """PIDs of the traced libssl file(s), from usm's registry."""
    return sorted(p for e in usm.get("/debug/usm/traced_programs")
                  if "/libssl.so" in e["FilePath"] for p in e["PIDs"])


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return "exited"


def wait_unattached(usm, timeout=10):
    """Until libssl is out of the registry and no link is still closing,
    so that the next curl's libssl must be attached on its own open.
    None when so; on timeout, what was still there (that run is then
    counted as an unclean start)."""
    deadline = time.monotonic() + timeout
    while True:
        pending, pids = usm.stats()["counters"]["detach_pending"], libssl_pids(usm)
        if not pending and not pids:
            return None
        if time.monotonic() > deadline:
            return "%d links closing, libssl used by %s" % (
                pending, ", ".join("%d (%s)" % (p, comm(p)) for p in pids) or "nobody")
        time.sleep(0.01)


RCU_EXPEDITED = "/sys/kernel/rcu_expedited"


class RcuExpedited:
    """/sys/kernel/rcu_expedited=1 while in the block, the old value back
    after (also on Ctrl-C)."""

    def __enter__(self):
        with open(RCU_EXPEDITED) as f:
            self.old = f.read().strip()
        with open(RCU_EXPEDITED, "w") as f:
            f.write("1")
        return self

    def __exit__(self, *exc):
        with open(RCU_EXPEDITED, "w") as f:
            f.write(self.old)


SYSTEM_LIBSSL = "/usr/lib/x86_64-linux-gnu/libssl.so.3"


def fresh_libssl(tmp, i):
    """The environment of a curl that loads its own copy of libssl: a new
    inode privd has never inspected."""
    d = os.path.join(tmp, "run-%d" % i)
    os.mkdir(d)
    os.chmod(d, 0o755)
    shutil.copy(os.path.realpath(SYSTEM_LIBSSL), os.path.join(d, "libssl.so.3"))
    os.chmod(os.path.join(d, "libssl.so.3"), 0o644)
    return dict(os.environ, LD_LIBRARY_PATH=d)


def run_variant(name, options, runs, server, wait_clean, expedite=False, fresh=False):
    if expedite:
        with RcuExpedited():
            return run_variant(name, options, runs, server, wait_clean, fresh=fresh)
    log("%s: %d curl runs (usm options: %s)" % (name, runs, " ".join(options) or "defaults"))
    tmp = tempfile.mkdtemp(prefix="usm-attach-")
    os.chmod(tmp, 0o755)
    try:
        return measure_variant(name, options, runs, server, wait_clean, fresh, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def measure_variant(name, options, runs, server, wait_clean, fresh, tmp):
    with benchlib.Usm(*options) as usm:
        others = libssl_pids(usm)  # found by the start-up scan: not ours
        idle_before = idle_hits(usm)
        failed = unclean = 0
        durations, hits = [], []
        for i in range(runs):
            busy = wait_clean and wait_unattached(usm)
            if busy:
                unclean += 1
                log("  run %d starts with libssl attached after 10 s: %s" % (i + 1, busy))
            env = fresh_libssl(tmp, i) if fresh else None
            before = probe_hits(usm)
            start = time.monotonic()
            url = "https://127.0.0.1:%d/run/%d" % (server.port, i)
            rc = subprocess.run(["curl", "-sk", url, "-o", "/dev/null"], env=env).returncode
            durations.append((time.monotonic() - start) * 1000)
            if rc != 0:
                failed += 1
            else:
                hits.append(probe_hits(usm) - before)
            if (i + 1) % 50 == 0:
                log("  %d/%d runs, %d traced" % (i + 1, runs, sum(h > 0 for h in hits)))
        idle_after = idle_hits(usm)  # in the linger variant, libssl is still attached here
        stats = usm.stats()
        counted = usm.counted({"/run/%d" % i for i in range(runs)}, server.port)
    ok = runs - failed
    traced = sum(h > 0 for h in hits)
    return {
        "variant": name,
        "options": options,
        "runs": runs,
        "curl_failed": failed,
        "traced": traced,
        "traced_pct": round(100.0 * traced / ok, 1) if ok else None,
        "counted": counted,
        "counted_pct": round(100.0 * counted / ok, 1) if ok else None,
        "hits": sum(hits),
        "hits_per_run": {str(k): v for k, v in sorted(collections.Counter(hits).items())},
        "unclean_starts": unclean,
        "idle_probe_hits_before": idle_before,
        "idle_probe_hits_after": idle_after,
        "libssl_pids_at_start": others,
        "attach_latency_us": stats["attach_latency"],
        "inspections": stats["counters"]["inspections"],
        "inspect_cache_hits": stats["counters"]["inspect_cache_hits"],
        "curl_ms": {"p50": round(benchlib.percentile(durations, 50), 1),
                    "p99": round(benchlib.percentile(durations, 99), 1)},
        "counters": stats["counters"],
    }


INSPECTOR = os.path.join(benchlib.BUILD, "inspector", "usm-inspector")
OPENSSL_FUNCS = [b"SSL_read", b"SSL_write", b"SSL_read_ex", b"SSL_write_ex", b"SSL_set_fd",
                 b"SSL_shutdown", b"SSL_free"]


def spawn_ms(pw):
    """The floor of inspection_ms: the same fork and exec of /bin/true."""
    start = time.monotonic()
    subprocess.run(["/bin/true"], stdin=subprocess.DEVNULL, user=pw.pw_uid, group=pw.pw_gid,
                   extra_groups=[], check=True)
    return (time.monotonic() - start) * 1000


def inspection_ms(pw):
    """One inspection as privd runs it: the inspector exec'd under its own
    user with the file at fd 3 and a socketpair at fd 4, one request, one
    answer. Runs in a process that already holds what privd's children
    inherit (no bounding set, no_new_privs)."""
    import socket
    import struct
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    req = struct.pack("<IHH", 0x31534e49, 1, len(OPENSSL_FUNCS))
    req += b"".join(n.ljust(64, b"\0") for n in OPENSSL_FUNCS) + bytes(64 * (16 - len(OPENSSL_FUNCS)))
    ours.send(req)
    lib = os.open(os.path.realpath(SYSTEM_LIBSSL), os.O_RDONLY)
    high = [os.dup2(lib, 100), os.dup2(theirs.fileno(), 101)]
    os.dup2(high[0], 3)
    os.dup2(high[1], 4)
    start = time.monotonic()
    p = subprocess.Popen([INSPECTOR], stdin=subprocess.DEVNULL, pass_fds=(3, 4), user=pw.pw_uid,
                         group=pw.pw_gid, extra_groups=[])
    ours.settimeout(10)
    answer = ours.recv(4096)
    elapsed = (time.monotonic() - start) * 1000
    p.wait()
    for fd in high + [lib]:  # 3 and 4 stay held, replaced next time
        os.close(fd)
    ours.close()
    theirs.close()
    if p.returncode != 0 or struct.unpack("<i", answer[4:8])[0] != 0:
        raise RuntimeError("usm-inspector failed (status %s)" % p.returncode)
    return elapsed


def inspector_cost(runs):
    import ctypes
    import json
    import pwd
    log("inspector: %d inspections of %s" % (runs, SYSTEM_LIBSSL))
    pipe = os.pipe()  # moved out of the way of fds 3 and 4
    r, w = os.dup2(pipe[0], 200, inheritable=False), os.dup2(pipe[1], 201, inheritable=False)
    os.close(pipe[0])
    os.close(pipe[1])
    pid = os.fork()
    if pid == 0:  # what privd's children inherit: no bounding set, no_new_privs
        code = 1
        try:
            prctl = ctypes.CDLL(None).prctl
            for cap in range(64):
                prctl(24, cap, 0, 0, 0)  # PR_CAPBSET_DROP
            prctl(38, 1, 0, 0, 0)        # PR_SET_NO_NEW_PRIVS
            pw = pwd.getpwnam("usm-inspect")
            for fd in (3, 4):  # held, so the sockets and the file get other numbers
                os.dup2(os.open(os.devnull, os.O_RDONLY), fd)
            pairs = [(inspection_ms(pw), spawn_ms(pw)) for _ in range(runs)]  # side by side
            os.write(w, json.dumps(pairs).encode())
            code = 0
        except Exception as e:  # said in the parent's error too
            log("inspector: %r" % e)
        finally:
            os._exit(code)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    pairs = json.loads(data)
    times, floor = [p[0] for p in pairs], [p[1] for p in pairs]
    return {"runs": runs, "p50_ms": round(benchlib.percentile(times, 50), 2),
            "p99_ms": round(benchlib.percentile(times, 99), 2),
            "max_ms": round(max(times), 2),
            "spawn_floor_p50_ms": round(benchlib.percentile(floor, 50), 2),
            "spawn_floor_p99_ms": round(benchlib.percentile(floor, 99), 2)}


def add_calls_seen(results):
    """calls_seen_pct: a variant's probe hits over what whole curls make.
    A whole curl's hits: the mean over the traced runs of the default
    variant, where libssl is attached before every run."""
    ref = next(r for r in results if r["options"] == [])["hits_per_run"]
    traced = sum(n for hits, n in ref.items() if hits != "0")
    per_curl = sum(int(hits) * n for hits, n in ref.items()) / traced if traced else 0
    for r in results:
        ok = r["runs"] - r["curl_failed"]
        r["calls_seen_pct"] = round(100.0 * r["hits"] / (per_curl * ok), 1) if per_curl and ok else None
    return per_curl


def print_table(results, per_curl, others):
    rows = []
    for r in results:
        lat = r["attach_latency_us"]
        q = [lat[k] if lat["count"] else "-" for k in ("p50_us", "p99_us", "max_us")]
        rows.append([r["variant"], r["runs"], "%d (%s%%)" % (r["counted"], r["counted_pct"]),
                     "%d (%s%%)" % (r["traced"], r["traced_pct"]), "%s%%" % r["calls_seen_pct"],
                     lat["count"], r["inspections"], r["counters"]["hook_failed"],
                     q[0], q[1], q[2], r["curl_ms"]["p50"],
                     "%d/%d" % (r["idle_probe_hits_before"], r["idle_probe_hits_after"])])
    print("attach_coverage: curl runs traced before they exited, attach latency (event -> probes live)")
    print(benchlib.table(["variant", "runs", "counted", "traced", "calls seen", "attached",
                          "inspected", "late",
                          "p50 us", "p99 us", "max us", "curl p50 ms", "idle hits"], rows))
    notes = [
        "counted: runs whose request /usm/http_stats counted (its own path); "
        "traced: runs during which probe_hits grew; calls seen: probe hits / (runs x %.1f, "
        "the hits of a whole curl)" % per_curl,
        "attached: files newly attached (curl opens libssl and libgnutls), the latency's "
        "samples; inspected: files an inspector read (the rest came from privd's cache); "
        "late: attaches refused or failed through no fault of the file (hook_failed): the "
        "process had exited, or had opened the library but not mapped it yet (asked again "
        "2 ms later)",
        "idle hits: probe_hits gained in 0.5 s without curl, before/after the runs (expected 0/0)",
        "default: libssl and libgnutls resident (attached at start): a curl's open attaches "
        "nothing, its probes are live before it opens the library (no latency samples)",
        "RCU expedited: the kernel's grace periods expedited for that variant only; what "
        "remains is usm's own path (event, collector, privd, ELF, link)",
    ]
    if others:
        notes.append("WARNING: %d other usm-privd on the host (%s): their attaches open libssl, "
                     "which this usm takes for uses; the linger 0 numbers are not a worst case"
                     % (len(others), " ".join(map(str, others[:8])) + (" ..." if len(others) > 8 else "")))
    for r in results:
        if r["curl_failed"] or r["unclean_starts"] or r["libssl_pids_at_start"]:
            notes.append("%s: %d curl failures, %d runs started with libssl still attached, "
                         "libssl held at start by %s" % (
                             r["variant"], r["curl_failed"], r["unclean_starts"],
                             r["libssl_pids_at_start"] or "nobody"))
    print("\n".join("  " + n for n in notes))


def main():
    ap = benchlib.arguments(__doc__, "smoke run: 20 curls per variant")
    ap.add_argument("--runs", type=int, help="curls per linger variant (default 200)")
    ap.add_argument("--classic-runs", type=int, help="curls with classic uprobes (default 50)")
    ap.add_argument("--inspections", type=int, help="inspections timed alone (default 200)")
    args = ap.parse_args()
    runs = args.runs or (20 if args.quick else 200)
    classic_runs = args.classic_runs or (20 if args.quick else 50)
    if os.geteuid() != 0:
        sys.exit("attach_coverage: run as root (it starts usm-privd)")
    if not os.access(benchlib.PRIVD, os.X_OK):
        sys.exit("attach_coverage: no %s (scripts/setup.sh release builds it)" % benchlib.PRIVD)
    benchlib.sigterm_as_interrupt()
    benchlib.check_no_tls_library_loaded()
    others = benchlib.other_usm_instances()
    if others:
        log("attach_coverage: WARNING: other usm-privd running (%s); results will be skewed"
            % " ".join(map(str, others)))

    attach_on_open = ["resident_libraries=", "attach_linger_ms=0"]
    variants = [  # name, usm options, runs, wait for libssl to be detached before each run,
        # RCU expedited, a new libssl per run
        ("default (resident)", [], runs, False, False, False),
        ("not resident, linger 2000", ["resident_libraries=", "attach_linger_ms=2000"], runs,
         False, False, False),
        ("not resident, linger 0", attach_on_open, runs, True, False, False),
        ("not resident, linger 0, RCU expedited", attach_on_open, runs, True, True, False),
        ("same, a new libssl per run (each inspected)", attach_on_open, runs, True, True, True),
        ("classic uprobes, not resident, linger 0",
         attach_on_open + ["uprobe_multi=false", "max_traced_files=1024"], classic_runs, True,
         False, False),
    ]
    if not os.access(RCU_EXPEDITED, os.W_OK):
        log("attach_coverage: no writable %s: RCU expedited variant skipped" % RCU_EXPEDITED)
        variants = [v for v in variants if not v[4]]
    with benchlib.HttpsServer() as server:
        results = [run_variant(n, o, r, server, w, e, f) for n, o, r, w, e, f in variants]
    inspector = inspector_cost(args.inspections or (20 if args.quick else 200))
    per_curl = add_calls_seen(results)
    others = sorted(set(others) | set(benchlib.other_usm_instances()))
    benchlib.save_benchmark("attach", args.quick, others, {
        "hits_per_whole_curl": round(per_curl, 2),
        "variants": results,
        "inspector": inspector,
    }, args.results)
    print_table(results, per_curl, others)
    print("inspector: one inspection of libssl as privd runs it (spawn, parse, answer): "
          "p50 %.2f ms, p99 %.2f ms, max %.2f ms over %d; the same spawn of /bin/true from "
          "this harness (its share, not privd's): p50 %.2f ms, p99 %.2f ms" % (
              inspector["p50_ms"], inspector["p99_ms"], inspector["max_ms"], inspector["runs"],
              inspector["spawn_floor_p50_ms"], inspector["spawn_floor_p99_ms"]))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("attach_coverage: interrupted (usm and node stopped)")
