#!/usr/bin/env python3
"""Benchmark: what usm costs nginx's HTTP/2 over TLS under h2load, next to
the floor that any uprobe-based tool pays.

nginx (Debian's, one worker pinned to CPU 0) serves TLS with http2 on
127.0.0.1; h2load (pinned to CPU 1) loads it with 4 clients of 8
concurrent streams each (-c 4 -m 8) for a fixed time. Two workloads:
/tiny (a 2-byte body from the configuration) and /16k (a 16 KiB static
file: DATA frames the kernel's frame walk steps over). Three variants,
interleaved in rounds (the order rotates each round) so that drift of a
noisy machine falls on all of them alike:
  off    nothing attached;
  floor  empty-probes: programs that only count themselves, as an entry
         and a return uprobe on SSL_read, SSL_write, SSL_read_ex and
         SSL_write_ex of the libssl nginx maps;
  usm    usm-privd with its defaults (TLS and clear-text capture, the
         kernel's HTTP/2 frame walk, HPACK in the collector).
h2load and nginx map the same libssl, so probes on it fire in both: hits
per request count both ends, as they would for any tool on this host.

Per workload and variant: requests/s and h2load's mean request time, each
as a ratio to "off" of the same round (h2load gives no percentiles);
probe hits per request; usm's loss as a multiple of the floor's,
(off - usm) / (off - floor) per round; and the share of h2load's requests
that /usm/http_stats counted (nginx's port and the path). Medians over the
rounds, with the range (min-max).

Run as root: bench/run builds and runs it; alone:
  python3 bench/h2_overhead.py [--quick] [--rounds N] [--seconds S]
Prints a table and replaces the "h2_overhead" key of bench/results.json.
"""
import contextlib
import os
import sys

import benchlib
import empty_probes
import h2load
import nginx_server
from benchlib import Probe, delta, log
from https_overhead import FLOOR_FUNCS, usm_traces

WORKLOADS = [("tiny", "/tiny"), ("16 KiB", "/16k")]
VARIANTS = ["off", "floor", "usm"]


def start_variant(name, server):
    if name == "off":
        return contextlib.nullcontext()
    if name == "floor":
        return empty_probes.EmptyProbes(server.libssl, FLOOR_FUNCS)
    return benchlib.Usm()


def run_variant(name, server, args, cpus):
    """One variant: put it in place, warm up, one h2load run per workload."""
    results = {}
    with start_variant(name, server) as ctx:
        if name == "usm":
            benchlib.wait_for(lambda: usm_traces(ctx, server.workers[0]), 10,
                              "usm to trace nginx's libssl")
        probe = Probe(name, ctx, server.tls_port)
        for workload, path in WORKLOADS:
            url = "https://127.0.0.1:%d%s" % (server.tls_port, path)
            h2load.run(url, args.warmup, args.clients, args.streams, cpus)
            before = probe.snapshot(path)
            r = h2load.run(url, args.seconds, args.clients, args.streams, cpus)
            r.update(delta(before, probe.snapshot(path), r["requests"]))
            r["other_usm_privd"] = benchlib.other_usm_instances()
            results[workload] = r
    return results


def summarize(rounds):
    out = []
    for workload, _ in WORKLOADS:
        offs = [r["off"][workload] for r in rounds]
        floors = [r["floor"][workload] for r in rounds]
        for v in VARIANTS:
            runs = [r[v][workload] for r in rounds]
            row = benchlib.overhead_row(workload, v, runs, offs, floors)
            row["mean_ms"] = benchlib.spread([x["mean_ms"] for x in runs])
            row["mean_vs_off"] = benchlib.spread([x["mean_ms"] / o["mean_ms"]
                                                  for x, o in zip(runs, offs)
                                                  if x["mean_ms"] and o["mean_ms"]])
            out.append(row)
    return out


def print_table(summary, args, others):
    rows = []
    for s in summary:
        usm = s["variant"] == "usm"
        rows.append([
            s["workload"], s["variant"], benchlib.fmt_spread(s["rps"], 0),
            benchlib.fmt_spread(s["rps_vs_off"]), benchlib.fmt_spread(s["mean_ms"], 3),
            benchlib.fmt_spread(s["mean_vs_off"]), benchlib.fmt_spread(s["hits_per_request"], 1),
            benchlib.fmt_spread(s.get("loss_vs_floor"), 2, "x") if usm else None,
            benchlib.fmt_spread(s["counted_pct"], 1, "%") if usm else None,
        ])
    print("h2_overhead: nginx HTTP/2 over TLS on loopback under h2load -c%d -m%d, %d round(s) of "
          "%d s per variant and workload; median (min-max) over rounds"
          % (args.clients, args.streams, args.rounds, args.seconds))
    print(benchlib.table(["workload", "variant", "req/s", "vs off", "mean ms", "mean vs off",
                          "hits/req", "loss/floor", "counted"], rows))
    notes = [
        "vs off: ratio to the \"off\" run of the same round; loss/floor: (off - usm) / (off - floor) "
        "per round (1.00x: usm costs what empty probes cost)",
        "hits/req: uprobe hits per request, nginx's and h2load's (they share libssl); floor: "
        "entry+return on SSL_read, SSL_write and their _ex variants; with 8 streams a "
        "connection, one call carries several requests",
        "counted: requests /usm/http_stats counted for the port and path over h2load's",
    ]
    errors = [s for s in summary if s["errors"]]
    if errors:
        notes.append("h2load saw failed, errored or non-2xx requests: " + ", ".join(
            "%s/%s %d" % (s["workload"], s["variant"], s["errors"]) for s in errors))
    if others:
        notes.append("WARNING: other usm-privd on the host (%s) probe the same libssl in every "
                     "variant, \"off\" included" % " ".join(map(str, others[:8])))
    print("\n".join("  " + n for n in notes))


def main():
    ap = benchlib.arguments(__doc__, "smoke run: 1 round of 2 s", "before each round")
    ap.add_argument("--rounds", type=int, help="rounds of all variants (default 5)")
    ap.add_argument("--seconds", type=int, help="seconds per h2load run (default 4)")
    ap.add_argument("--warmup", type=int, default=1, help="seconds of h2load before each run")
    ap.add_argument("--clients", type=int, default=4, help="h2load's connections (-c)")
    ap.add_argument("--streams", type=int, default=8, help="concurrent streams a connection (-m)")
    args = ap.parse_args()
    args.rounds = args.rounds or (1 if args.quick else 5)
    args.seconds = args.seconds or (2 if args.quick else 4)
    if os.geteuid() != 0:
        sys.exit("h2_overhead: run as root (it loads BPF programs and starts usm-privd)")
    for exe in (benchlib.PRIVD, empty_probes.LOADER, nginx_server.NGINX, h2load.H2LOAD):
        if not os.access(exe, os.X_OK):
            sys.exit("h2_overhead: no %s (bench/run builds and installs what it needs)" % exe)
    benchlib.sigterm_as_interrupt()
    benchlib.check_no_tls_library_loaded()
    cpus = sorted(os.sched_getaffinity(0))
    server_cpus, load_cpus = ([cpus[0]], [cpus[1]]) if len(cpus) >= 2 else (None, None)

    rounds, others = [], set()
    with nginx_server.Nginx(workers=1, cpus=server_cpus, http2=True) as server:
        for i in range(args.rounds):
            others |= set(benchlib.wait_until_alone(args.wait_alone, "h2_overhead"))
            order = VARIANTS[i % len(VARIANTS):] + VARIANTS[:i % len(VARIANTS)]
            log("nginx h2, round %d/%d: %s" % (i + 1, args.rounds, ", ".join(order)))
            rounds.append({v: run_variant(v, server, args, load_cpus) for v in order})
            others |= {p for v in rounds[-1].values() for r in v.values()
                       for p in r["other_usm_privd"]}
    summary = summarize(rounds)
    others = sorted(others)
    benchlib.save_benchmark("h2_overhead", args.quick, others, {
        "setup": {"rounds": args.rounds, "seconds": args.seconds, "warmup": args.warmup,
                  "h2load": "-t1 -c%d -m%d" % (args.clients, args.streams),
                  "server_cpus": server_cpus, "h2load_cpus": load_cpus,
                  "floor_functions": FLOOR_FUNCS},
        "summary": summary,
        "rounds": rounds,
    }, args.results)
    print_table(summary, args, others)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("h2_overhead: interrupted (usm, nginx and h2load stopped)")
