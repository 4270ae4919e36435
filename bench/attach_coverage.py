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
        "late: attaches that failed as the process had exited (hook_failed)",
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
    per_curl = add_calls_seen(results)
    others = sorted(set(others) | set(benchlib.other_usm_instances()))
    benchlib.save_benchmark("attach", args.quick, others, {
        "hits_per_whole_curl": round(per_curl, 2),
        "variants": results,
    }, args.results)
    print_table(results, per_curl, others)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("attach_coverage: interrupted (usm and node stopped)")
