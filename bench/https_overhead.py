#!/usr/bin/env python3
"""Benchmark: what usm costs the HTTPS traffic it watches, next to the
floor that any uprobe-based tool pays.

Two servers, each measured alone: nginx (Debian's, one worker pinned to
CPU 0) and Apache 2.4 with mod_ssl under the event MPM (Debian's, one
child with a fixed pool of threads, pinned to CPU 0: apache_server.py).
Each serves TLS on 127.0.0.1; wrk (pinned to CPU 1) loads it over
keep-alive connections for a fixed time.
Two workloads: /tiny (a 2-byte body from the configuration, the worst
case) and /16k (a 16 KiB static file). Four variants, interleaved in
rounds (the order rotates each round) so that drift of a noisy machine
falls on all of them alike:
  off            nothing attached;
  floor          empty-probes: programs that only count themselves, as an
                 entry and a return uprobe on SSL_read, SSL_write,
                 SSL_read_ex and SSL_write_ex of the libssl nginx maps;
  usm TLS        usm-privd -o enable_http_monitoring=false (TLS capture,
                 no clear-text syscall tracepoints);
  usm TLS+clear  usm-privd with its defaults (clear text captured too).
wrk and the server map the same libssl, so probes on it fire in both: hits
per request count both ends, as they would for any tool on this host.

Per workload and variant: requests/s and p99 latency (wrk --latency), each
as a ratio to "off" of the same round; probe hits per request (floor: the
loader's count; usm: /usm/stats counters.probe_hits); usm's loss as a
multiple of the floor's, (off - usm) / (off - floor) per round; and the
share of wrk's requests that /usm/http_stats counted (the server's port and
the path), when usm serves that endpoint. Medians over the rounds, with the
range (min-max).

Run as root: bench/run builds and runs it; alone:
  python3 bench/https_overhead.py [--quick] [--rounds N] [--seconds S] [--servers nginx,apache]
Prints a table and replaces the "https_overhead" key of bench/results.json.
"""
import contextlib
import os
import sys

import apache_server
import benchlib
import empty_probes
import nginx_server
import wrk
from benchlib import Probe, delta, log

WORKLOADS = [("tiny", "/tiny"), ("16 KiB", "/16k")]
VARIANTS = ["off", "floor", "usm TLS", "usm TLS+clear"]
USM_OPTIONS = {"usm TLS": ["enable_http_monitoring=false"], "usm TLS+clear": []}
FLOOR_FUNCS = ["SSL_read", "SSL_write", "SSL_read_ex", "SSL_write_ex"]
# each server on the CPUs given, alone while it is measured
SERVERS = {
    "nginx": lambda cpus: nginx_server.Nginx(workers=1, cpus=cpus),
    "apache": lambda cpus: apache_server.Apache(cpus=cpus),
}


def start_variant(name, server):
    """The context manager that puts variant `name` in place."""
    if name == "off":
        return contextlib.nullcontext()
    if name == "floor":
        return empty_probes.EmptyProbes(server.libssl, FLOOR_FUNCS)
    return benchlib.Usm(*USM_OPTIONS[name])


def usm_traces(usm, pid):
    """True once usm's registry holds a libssl entry with pid."""
    return any("/libssl.so" in e["FilePath"] and pid in e["PIDs"]
               for e in usm.get("/debug/usm/traced_programs"))


def run_variant(name, server, args, wrk_cpus):
    """One variant: put it in place, warm up, one wrk run per workload."""
    results = {}
    with start_variant(name, server) as ctx:
        if name.startswith("usm"):
            benchlib.wait_for(lambda: usm_traces(ctx, server.workers[0]), 10,
                              "usm to trace nginx's libssl")
        probe = Probe(name, ctx, server.tls_port)
        for workload, path in WORKLOADS:
            url = "https://127.0.0.1:%d%s" % (server.tls_port, path)
            wrk.run(url, args.warmup, connections=args.connections, cpus=wrk_cpus)
            before = probe.snapshot(path)
            r = wrk.run(url, args.seconds, connections=args.connections, cpus=wrk_cpus)
            r.update(delta(before, probe.snapshot(path), r["requests"]))
            r["other_usm_privd"] = benchlib.other_usm_instances()  # did one come meanwhile?
            results[workload] = r
    return results


def summarize(rounds):
    """Per server, workload and variant: medians and ranges over the
    rounds, ratios to the same round's "off"."""
    out = []
    for server, server_rounds in rounds.items():
        for workload, _ in WORKLOADS:
            for v in VARIANTS:
                runs = [r[v][workload] for r in server_rounds]
                offs = [r["off"][workload] for r in server_rounds]
                floors = [r["floor"][workload] for r in server_rounds]
                row = benchlib.overhead_row(workload, v, runs, offs, floors)
                out.append(dict(row, server=server))
    return out


def print_table(summary, args, others):
    rows = []
    for s in summary:
        usm = s["variant"].startswith("usm")
        rows.append([
            s["server"], s["workload"], s["variant"], benchlib.fmt_spread(s["rps"], 0),
            benchlib.fmt_spread(s["rps_vs_off"]), benchlib.fmt_spread(s["p99_ms"], 3),
            benchlib.fmt_spread(s["p99_vs_off"]), benchlib.fmt_spread(s["hits_per_request"], 1),
            benchlib.fmt_spread(s.get("loss_vs_floor"), 2, "x") if usm else None,
            benchlib.fmt_spread(s["counted_pct"], 1, "%") if usm else None,
        ])
    print("https_overhead: %s TLS on loopback under wrk -t1 -c%d, %d round(s) of %d s per "
          "variant and workload; median (min-max) over rounds"
          % (" and ".join(args.servers), args.connections, args.rounds, args.seconds))
    print(benchlib.table(["server", "workload", "variant", "req/s", "vs off", "p99 ms", "p99 vs off",
                          "hits/req", "loss/floor", "counted"], rows))
    notes = [
        "vs off: ratio to the \"off\" run of the same round; loss/floor: (off - usm) / (off - floor) "
        "per round (1.00x: usm costs what empty probes cost)",
        "hits/req: uprobe hits per request, the server's and wrk's (they share libssl); floor: "
        "entry+return on SSL_read, SSL_write and their _ex variants",
        "counted: requests /usm/http_stats counted for the port and path over wrk's",
    ]
    errors = [s for s in summary if s["errors"]]
    if errors:
        notes.append("wrk saw socket errors or non-2xx answers: " + ", ".join(
            "%s/%s/%s %d" % (s["server"], s["workload"], s["variant"], s["errors"])
            for s in errors))
    if others:
        notes.append("WARNING: other usm-privd on the host (%s) probe the same libssl in every "
                     "variant, \"off\" included" % " ".join(map(str, others[:8])))
    print("\n".join("  " + n for n in notes))


def main():
    ap = benchlib.arguments(__doc__, "smoke run: 1 round of 2 s", "before each round")
    ap.add_argument("--rounds", type=int, help="rounds of all variants (default 5)")
    ap.add_argument("--seconds", type=int, help="seconds per wrk run (default 5)")
    ap.add_argument("--warmup", type=int, default=1, help="seconds of wrk before each run")
    ap.add_argument("--connections", type=int, default=8, help="wrk's keep-alive connections")
    ap.add_argument("--servers", default="nginx,apache",
                    help="comma-separated, measured in this order (default nginx,apache)")
    args = ap.parse_args()
    args.servers = args.servers.split(",")
    if not args.servers or any(s not in SERVERS for s in args.servers):
        sys.exit("https_overhead: --servers takes %s" % ",".join(SERVERS))
    args.rounds = args.rounds or (1 if args.quick else 5)
    args.seconds = args.seconds or (2 if args.quick else 5)
    if os.geteuid() != 0:
        sys.exit("https_overhead: run as root (it loads BPF programs and starts usm-privd)")
    for exe in (benchlib.PRIVD, empty_probes.LOADER, nginx_server.NGINX, apache_server.APACHE,
                wrk.WRK):
        if not os.access(exe, os.X_OK):
            sys.exit("https_overhead: no %s (bench/run builds and installs what it needs)" % exe)
    benchlib.sigterm_as_interrupt()
    benchlib.check_no_tls_library_loaded()
    # the server on CPU 0, wrk on CPU 1; usm's daemons go where the
    # scheduler puts them, as they would in production.
    cpus = sorted(os.sched_getaffinity(0))
    server_cpus, wrk_cpus = ([cpus[0]], [cpus[1]]) if len(cpus) >= 2 else (None, None)

    rounds, others = {}, set()
    for name in args.servers:
        rounds[name] = []
        with SERVERS[name](server_cpus) as server:
            for i in range(args.rounds):
                others |= set(benchlib.wait_until_alone(args.wait_alone, "https_overhead"))
                order = VARIANTS[i % len(VARIANTS):] + VARIANTS[:i % len(VARIANTS)]
                log("%s, round %d/%d: %s" % (name, i + 1, args.rounds, ", ".join(order)))
                rounds[name].append({v: run_variant(v, server, args, wrk_cpus) for v in order})
                others |= {p for v in rounds[name][-1].values() for r in v.values()
                           for p in r["other_usm_privd"]}
    summary = summarize(rounds)
    others = sorted(others)
    benchlib.save_benchmark("https_overhead", args.quick, others, {
        "setup": {"rounds": args.rounds, "seconds": args.seconds, "warmup": args.warmup,
                  "wrk": "-t1 -c%d" % args.connections, "server_cpus": server_cpus,
                  "wrk_cpus": wrk_cpus, "floor_functions": FLOOR_FUNCS,
                  "servers": args.servers},
        "summary": summary,
        "rounds": rounds,
    }, args.results)
    print_table(summary, args, others)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("https_overhead: interrupted (usm, the server and wrk stopped)")
