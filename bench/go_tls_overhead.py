#!/usr/bin/env python3
"""Benchmark: what usm's Go TLS capture costs a Go HTTPS server, next to
the floor: empty probes at the very offsets usm probes.

A Go HTTPS server (tests/go/https_server.go, net/http over crypto/tls,
built by bench/meson.build; HTTP/1.1 only, GODEBUG=http2server=0) pinned
to CPU 0 (so GOMAXPROCS=1) serves TLS on 127.0.0.1; wrk (pinned to CPU 1)
loads it over keep-alive connections for a fixed time. Two workloads:
/tiny?size=2 (a 2-byte body, the worst case) and /16k?size=16384 (16
KiB). Three variants, interleaved in rounds (the order rotates each
round) so that drift of a noisy machine falls on all of them alike:
  off          nothing attached;
  floor        empty-probes --offsets: a program that only counts itself,
               as an entry uprobe at each place usm probes in the server:
               the entry of crypto/tls.(*Conn).Read, each of Read's RET
               instructions, the entries of Write and Close (the offsets
               from go-tls-offsets, the inspector's own code on the gotls
               lines of policy/attach.policy), all in one uprobe_multi
               link as usm-privd links them;
  usm Go TLS   usm-privd -o enable_go_tls_support=true
               -o enable_native_tls_monitoring=false
               -o enable_http_monitoring=false: Go TLS capture alone (wrk
               links libssl: native TLS capture would probe the load
               generator too, and clear-text capture is what
               https_overhead measures).

Per workload and variant: requests/s and p99 latency (wrk --latency), each
as a ratio to "off" of the same round; the loss, 1 - ratio; probe hits per
request (floor: the loader's count; usm: /usm/stats counters.probe_hits);
the server's CPU time per request (its threads' schedstat: uprobe traps and
BPF programs run in its context) and usm's extra CPU over the floor's;
usm's loss as a multiple of the floor's, (off - usm) / (off - floor) per
round (the issue's target: at most 1.1x); and the requests /usm/http_stats
counted for the server's port and the path, over wrk's. Medians over the
rounds, with the range (min-max). Another usm with Go TLS on would probe
the server in every variant: a measured run during which another
usm-privd ran is measured again (--run-retries).

Run as root: bench/run builds and runs it; alone:
  python3 bench/go_tls_overhead.py [--quick] [--rounds N] [--seconds S]
Prints a table and replaces the "go_tls_overhead" key of bench/results.json.
"""
import contextlib
import os
import sys
import threading

import benchlib
import empty_probes
import go_server
import wrk
from benchlib import Probe, delta, log

WORKLOADS = [("tiny", "/tiny", 2), ("16 KiB", "/16k", 16384)]
VARIANTS = ["off", "floor", "usm Go TLS"]
USM_OPTIONS = ["enable_go_tls_support=true", "enable_native_tls_monitoring=false",
               "enable_http_monitoring=false"]


def start_variant(name, server, offsets):
    """The context manager that puts variant `name` in place."""
    if name == "off":
        return contextlib.nullcontext()
    if name == "floor":
        return empty_probes.EmptyProbes(server.path, offsets=offsets)
    return benchlib.Usm(*USM_OPTIONS)


def usm_traces(usm, server):
    """True once usm's registry holds the server's executable with its pid."""
    return any(e["FilePath"] == server.path and server.pid in e["PIDs"]
               for e in usm.get("/debug/usm/traced_programs"))


def counted_after(usm, path, port, before, requests, timeout=3.0):
    """/usm/http_stats's count once the collector has drained what the run
    left in its ring (it reads in the background): polled until it reaches
    wrk's requests or stops moving."""
    last = None
    def settled():
        nonlocal last
        n = usm.counted(path, port)
        done = n - before >= requests or n == last
        last = n
        return done
    try:
        benchlib.wait_for(settled, timeout, "usm's count to settle", interval=0.2)
    except RuntimeError:
        pass
    return last


class Watcher:
    """Polls for other usm-privd every `interval` s in a thread while a
    measured run lasts: on this kind of shared host other usm instances come and
    go within seconds (someone's tests), and one with Go TLS enabled
    probes this very server, "off" included."""

    def __init__(self, interval=0.25):
        self.interval, self.seen = interval, set()
        self.stop = threading.Event()

    def __enter__(self):
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()
        return self

    def _poll(self):
        while not self.stop.is_set():
            self.seen |= set(benchlib.other_usm_instances())
            self.stop.wait(self.interval)

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def measure(name, ctx, probe, server, url, path, args, wrk_cpus):
    """One measured wrk run with what the variant and the server tell
    about it; "other_usm_privd": those seen while it ran."""
    with Watcher() as w:
        before = probe.snapshot(path)
        cpu0 = server.cpu_ns()
        r = wrk.run(url, args.seconds, connections=args.connections, cpus=wrk_cpus)
        cpu1 = server.cpu_ns()
        after = probe.snapshot(path)
    if r["requests"]:
        r["server_cpu_us_per_request"] = round((cpu1[0] - cpu0[0]) / r["requests"] / 1e3, 3)
        r["server_wait_us_per_request"] = round((cpu1[1] - cpu0[1]) / r["requests"] / 1e3, 3)
    if "counted" in after:  # wrk's last responses may still be in the ring
        after["counted"] = counted_after(ctx, path, server.port, before["counted"],
                                         r["requests"])
    r.update(delta(before, after, r["requests"]))
    if name == "floor":
        r["mechanism"] = ctx.mechanism
    r["other_usm_privd"] = sorted(w.seen)
    return r


def run_variant(name, server, offsets, args, wrk_cpus):
    """One variant: put it in place, then per workload a warm-up and one
    measured wrk run, measured again (at most --run-retries times) if
    another usm-privd ran meanwhile."""
    results = {}
    with start_variant(name, server, offsets) as ctx:
        if name.startswith("usm"):
            benchlib.wait_for(lambda: usm_traces(ctx, server), 10, "usm to trace the Go server")
        probe = Probe(name, ctx, server.port)
        for workload, path, size in WORKLOADS:
            url = "https://127.0.0.1:%d%s?size=%d" % (server.port, path, size)
            wrk.run(url, args.warmup, connections=args.connections, cpus=wrk_cpus)
            discarded = 0
            while True:
                r = measure(name, ctx, probe, server, url, path, args, wrk_cpus)
                if not r["other_usm_privd"] or discarded >= args.run_retries:
                    break
                discarded += 1
                log("  %s/%s: other usm-privd ran meanwhile (%s); measuring again"
                    % (workload, name, " ".join(map(str, r["other_usm_privd"]))))
                benchlib.wait_until_alone(args.wait_alone, "go_tls_overhead")
            r["discarded_runs"] = discarded
            results[workload] = r
    return results


def summarize(rounds):
    """Per workload and variant: medians and ranges over the rounds, ratios
    to the same round's "off"."""
    out = []
    for workload, _, _ in WORKLOADS:
        for v in VARIANTS:
            runs = [r[v][workload] for r in rounds]
            offs = [r["off"][workload] for r in rounds]
            floors = [r["floor"][workload] for r in rounds]
            row = benchlib.overhead_row(workload, v, runs, offs, floors)
            row.update({
                "cpu_us_per_request": benchlib.spread([x.get("server_cpu_us_per_request")
                                                       for x in runs]),
                "wait_us_per_request": benchlib.spread([x.get("server_wait_us_per_request")
                                                        for x in runs]),
                "discarded_runs": sum(x["discarded_runs"] for x in runs),
                "runs_with_other_usm": sum(1 for x in runs if x["other_usm_privd"]),
            })
            if v != "off":
                row["loss_vs_off_pct"] = benchlib.spread(
                    [100.0 * (1 - x["rps"] / o["rps"]) for x, o in zip(runs, offs)])
            if v.startswith("usm"):
                cpu = [(x.get("server_cpu_us_per_request"), o.get("server_cpu_us_per_request"),
                        f.get("server_cpu_us_per_request")) for x, o, f in zip(runs, offs, floors)]
                row["cpu_vs_floor"] = benchlib.spread([(x - o) / (f - o) for x, o, f in cpu
                                                       if None not in (x, o, f) and f > o])
                row["loss_vs_floor_skipped"] = sum(1 for o, f in zip(offs, floors)
                                                   if o["rps"] <= f["rps"])
                row["requests"] = sum(x["requests"] for x in runs)
                row["counted"] = sum(x["counted"] for x in runs)
                row["events_lost"] = sum(x["counters_delta"].get("http_events_lost", 0)
                                         for x in runs)
            out.append(row)
    return out


def print_table(summary, args, offsets, others):
    rows = []
    for s in summary:
        usm = s["variant"].startswith("usm")
        rows.append([
            s["workload"], s["variant"], benchlib.fmt_spread(s["rps"], 0),
            benchlib.fmt_spread(s["rps_vs_off"]),
            benchlib.fmt_spread(s.get("loss_vs_off_pct"), 1, "%"),
            benchlib.fmt_spread(s["p99_ms"], 3), benchlib.fmt_spread(s["hits_per_request"], 2),
            benchlib.fmt_spread(s.get("loss_vs_floor"), 2, "x") if usm else None,
            benchlib.fmt_spread(s["cpu_us_per_request"], 1),
            benchlib.fmt_spread(s.get("cpu_vs_floor"), 2, "x") if usm else None,
            benchlib.fmt_spread(s["counted_pct"], 1, "%") if usm else None,
        ])
    print("go_tls_overhead: Go (%s) net/http TLS server, HTTP/1.1, on loopback under wrk -t1 -c%d, "
          "%d round(s) of %d s per variant and workload; median (min-max) over rounds"
          % (offsets["go"], args.connections, args.rounds, args.seconds))
    print(benchlib.table(["workload", "variant", "req/s", "vs off", "loss", "p99 ms",
                          "hits/req", "loss/floor", "cpu us/req", "cpu/floor", "counted"], rows))
    where = offsets["where"]
    notes = [
        "vs off: ratio to the \"off\" run of the same round; loss: 1 - vs off; loss/floor: "
        "(off - usm) / (off - floor) per round (1.00x: usm costs what empty probes at its "
        "offsets cost; target <= 1.10x)",
        "floor and usm probe the same %d offsets: Read's entry and its %d RETs, Write's and "
        "Close's entries (entry uprobes only, one uprobe_multi link)"
        % (len(offsets["offsets"]),
           len(where.get("crypto/tls.(*Conn).Read", {}).get("returns", []))),
        "hits/req: uprobe hits in the server per request (only the server is probed); "
        "counted: requests /usm/http_stats counted for the port and path over wrk's",
        "cpu us/req: the server's CPU time per request, its threads' schedstat (probes and BPF "
        "programs run in its context); cpu/floor: (usm - off) / (floor - off) on it per round, "
        "the same question as loss/floor, less exposed to other load on the machine",
    ]
    busy = [s for s in summary if s["wait_us_per_request"] and s["cpu_us_per_request"]
            and s["wait_us_per_request"]["median"] > 0.25 * s["cpu_us_per_request"]["median"]]
    if busy:
        notes.append("WARNING: other load on the machine: the server waited on a run queue for "
                     "more than a quarter of its CPU time per request (" + ", ".join(
                         "%s/%s %.0f us against %.0f" % (s["workload"], s["variant"],
                                                         s["wait_us_per_request"]["median"],
                                                         s["cpu_us_per_request"]["median"])
                         for s in busy) + "); req/s figures are noisy, cpu/floor less so")
    skipped = [s for s in summary if s.get("loss_vs_floor_skipped")]
    if skipped:
        notes.append("loss/floor left out of rounds where the floor was not slower than off: "
                     + ", ".join("%s %d" % (s["workload"], s["loss_vs_floor_skipped"])
                                 for s in skipped))
    errors = [s for s in summary if s["errors"]]
    if errors:
        notes.append("wrk saw socket errors or non-2xx answers: " + ", ".join(
            "%s/%s %d" % (s["workload"], s["variant"], s["errors"]) for s in errors))
    lost = [s for s in summary if s.get("events_lost")]
    if lost:
        notes.append("usm lost capture records (ring full): " + ", ".join(
            "%s %d" % (s["workload"], s["events_lost"]) for s in lost))
    discarded = sum(s["discarded_runs"] for s in summary)
    if discarded:
        notes.append("%d measured run(s) done again because another usm-privd ran meanwhile"
                     % discarded)
    tainted = [s for s in summary if s["runs_with_other_usm"]]
    if tainted:
        notes.append("WARNING: runs kept although another usm-privd ran meanwhile (%s): with Go "
                     "TLS on it probes this server too, whatever the variant; other usm-privd: %s"
                     % (", ".join("%s/%s %d" % (s["workload"], s["variant"], s["runs_with_other_usm"])
                                  for s in tainted), " ".join(map(str, others[:8]))))
    print("\n".join("  " + n for n in notes))


def main():
    ap = benchlib.arguments(__doc__, "smoke run: 1 round of 2 s", "before each round")
    ap.add_argument("--rounds", type=int, help="rounds of all variants (default 5)")
    ap.add_argument("--seconds", type=int, help="seconds per wrk run (default 4)")
    ap.add_argument("--warmup", type=int, default=1, help="seconds of wrk before each run")
    ap.add_argument("--connections", type=int, default=8, help="wrk's keep-alive connections")
    ap.add_argument("--run-retries", type=int, default=3, metavar="N",
                    help="measure a run again, at most N times, when another usm-privd ran "
                         "during it (default 3)")
    args = ap.parse_args()
    args.rounds = args.rounds or (1 if args.quick else 5)
    args.seconds = args.seconds or (2 if args.quick else 4)
    if os.geteuid() != 0:
        sys.exit("go_tls_overhead: run as root (it loads BPF programs and starts usm-privd)")
    for exe in (benchlib.PRIVD, empty_probes.LOADER, go_server.SERVER, go_server.OFFSETS, wrk.WRK):
        if not os.access(exe, os.X_OK):
            sys.exit("go_tls_overhead: no %s (bench/run builds and installs what it needs)" % exe)
    benchlib.sigterm_as_interrupt()
    benchlib.check_no_tls_library_loaded()
    # The server on CPU 0, wrk on CPU 1; usm's daemons go where the
    # scheduler puts them, as they would in production.
    cpus = sorted(os.sched_getaffinity(0))
    server_cpus, wrk_cpus = ([cpus[0]], [cpus[1]]) if len(cpus) >= 2 else (None, None)

    offsets = go_server.usm_offsets(go_server.SERVER)
    log("go_tls_overhead: %s, %d offsets probed: %s" % (offsets["go"], len(offsets["offsets"]),
                                                         offsets["where"]))
    rounds, others = [], set()
    with go_server.GoServer(cpus=server_cpus) as server:
        for i in range(args.rounds):
            benchlib.wait_until_alone(args.wait_alone, "go_tls_overhead")
            order = VARIANTS[i % len(VARIANTS):] + VARIANTS[:i % len(VARIANTS)]
            log("round %d/%d: %s" % (i + 1, args.rounds, ", ".join(order)))
            rounds.append({v: run_variant(v, server, offsets["offsets"], args, wrk_cpus)
                           for v in order})
            others |= {p for v in rounds[-1].values() for r in v.values() for p in r["other_usm_privd"]}
    summary = summarize(rounds)
    others = sorted(others)
    benchlib.save_benchmark("go_tls_overhead", args.quick, others, {
        "setup": {"rounds": args.rounds, "seconds": args.seconds, "warmup": args.warmup,
                  "wrk": "-t1 -c%d" % args.connections, "server_cpus": server_cpus,
                  "wrk_cpus": wrk_cpus, "server": "tests/go/https_server.go (plain build)",
                  "godebug": "http2server=0", "usm_options": USM_OPTIONS,
                  "go": offsets["go"], "probed": offsets["where"],
                  "offsets": len(offsets["offsets"])},
        "summary": summary,
        "rounds": rounds,
    }, args.results)
    print_table(summary, args, offsets, others)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("go_tls_overhead: interrupted (usm, the Go server and wrk stopped)")
