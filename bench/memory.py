#!/usr/bin/env python3
"""Benchmark: usm's memory (VmRSS from /proc/PID/status) as what it watches
grows, and whether its configured bounds hold.

With nginx (bench/nginx_server.py) serving TLS and clear text on loopback:
  default limits      usm-privd with its defaults: RSS of privd, collector
                      and apid idle; after a wrk run over TLS; after
                      clear-text requests to more and more distinct paths
                      (1 k, 10 k, 100 k, 1 M, cumulative, one keep-alive
                      connection, bench/http_client.py); with 10 k
                      connections open at once.
  small stats table   max_http_stats_entries=1000: distinct paths up to 100 k;
                      past 1,000 keys new ones go to the overflow counter,
                      so the collector's RSS should stop growing.
  traced files        privd's RSS idle and with 1,000 traced files
                      (bench/traced_files.py), only when no other usm runs
                      (it would attach them too).
After each step, usm's own counters say what it kept: http_stats_rows,
http_stats_overflow, http_connections, http_events_lost, traced_files.
When usm does not capture HTTP yet, those stay 0 and the RSS figures show
only the baseline.

Run as root: bench/run builds and runs it; alone:
  python3 bench/memory.py [--quick]
Prints a table and replaces the "memory" key of bench/results.json.
"""
import os
import sys
import time

import benchlib
import http_client
import nginx_server
import traced_files
import wrk
from benchlib import log

COUNTERS = ["http_stats_rows", "http_stats_overflow", "http_connections",
            "http_connections_evicted", "http_exchanges", "http_events_lost", "traced_files"]


def sample(usm, step, **extra):
    """RSS of the three daemons and usm's counters, after a moment for the
    collector to drain its ring buffer."""
    time.sleep(1)
    pids = usm.pids()
    stats = usm.try_stats()
    row = {"step": step, "rss_kib": {name: benchlib.rss_kib(pid) for name, pid in pids.items()},
           "counters": {k: stats["counters"].get(k) for k in COUNTERS} if stats else None}
    row.update(extra)
    log("  %-28s privd %s KiB, collector %s KiB" % (step, row["rss_kib"].get("usm-privd"),
                                                    row["rss_kib"].get("usm-collector")))
    return row


def distinct_paths(usm, server, steps, prefix):
    """Cumulative distinct paths, one sample per step."""
    rows, sent = [], 0
    for total in steps:
        started = time.monotonic()
        http_client.send_paths(server.plain_port, sent, total - sent, prefix=prefix)
        rate = (total - sent) / (time.monotonic() - started)
        sent = total
        rows.append(sample(usm, "%s distinct paths" % human(total), paths=total,
                           requests_per_s=round(rate)))
    return rows


def human(n):
    return "%d M" % (n // 1000000) if n >= 1000000 else "%d k" % (n // 1000) if n >= 1000 else str(n)


CLOSED_SETTLE_S = 23


def default_limits(server, args):
    rows = []
    with benchlib.Usm() as usm:
        rows.append(sample(usm, "idle"))
        r = wrk.run("https://127.0.0.1:%d/tiny" % server.tls_port, args.seconds)
        rows.append(sample(usm, "after %s TLS requests" % human(r["requests"]),
                           requests=r["requests"]))
        rows += distinct_paths(usm, server, args.paths, "/p/")
        with http_client.Connections(server.plain_port, args.connections):
            rows.append(sample(usm, "%s connections open" % human(args.connections),
                               connections=args.connections))
        rows.append(sample(usm, "connections closed"))
        # Server sides' tuples are kept 10 s after their connection ended
        # (connections.c: a client can read a response after the server
        # closed), and the collector trims its heap every 10 s: what is
        # left after both is what it keeps.
        time.sleep(CLOSED_SETTLE_S)
        rows.append(sample(usm, "%d s after closing" % (CLOSED_SETTLE_S + 2)))
    return rows


def small_table(server, args):
    rows = []
    with benchlib.Usm("max_http_stats_entries=%d" % args.small_limit) as usm:
        rows.append(sample(usm, "idle"))
        rows += distinct_paths(usm, server, [n for n in args.paths if n <= 100000], "/q/")
    return rows


def many_files(args):
    rows = []
    with traced_files.TracedFiles(args.files) as files, benchlib.Usm() as usm:
        rows.append(sample(usm, "idle"))
        base = usm.stats()["counters"]["traced_files"]
        files.load()
        try:
            benchlib.wait_for(lambda: ((usm.try_stats() or {}).get("counters", {})
                                       .get("traced_files", 0) >= base + args.files),
                              60, "%d files traced" % args.files, interval=0.1)
        except RuntimeError as e:
            log("  %s" % e)
        rows.append(sample(usm, "%s traced files" % human(args.files), files=args.files))
        files.unload()
    return rows


def print_table(variants, notes):
    rows = []
    for name, samples in variants:
        for s in samples:
            rss, c = s["rss_kib"], s["counters"] or {}
            rows.append([name, s["step"], rss.get("usm-privd"), rss.get("usm-collector"),
                         rss.get("usm-apid"), c.get("http_stats_rows"),
                         c.get("http_stats_overflow"), c.get("http_connections"),
                         c.get("http_events_lost"), c.get("traced_files")])
            name = ""
    print("memory: VmRSS in KiB of each daemon after each step (cumulative within a variant)")
    print(benchlib.table(["variant", "step", "privd", "collector", "apid", "stats rows",
                          "overflow", "conns", "events lost", "traced"], rows))
    print("\n".join("  " + n for n in notes))


def main():
    ap = benchlib.arguments(__doc__, "smoke run: up to 10 k paths, 1 k connections",
                            "before tracing many files")
    ap.add_argument("--seconds", type=int, help="seconds of TLS load (default 5)")
    ap.add_argument("--connections", type=int, help="connections open at once (default 10000)")
    ap.add_argument("--files", type=int, help="traced files for privd (default 1000)")
    ap.add_argument("--small-limit", type=int, default=1000, help="max_http_stats_entries of the bounded variant")
    args = ap.parse_args()
    args.seconds = args.seconds or (2 if args.quick else 5)
    args.connections = args.connections or (1000 if args.quick else 10000)
    args.files = args.files or (100 if args.quick else 1000)
    args.paths = [1000, 10000] if args.quick else [1000, 10000, 100000, 1000000]
    if os.geteuid() != 0:
        sys.exit("memory: run as root (it starts usm-privd)")
    for exe in (benchlib.PRIVD, traced_files.FAKE_LIBSSL, nginx_server.NGINX, wrk.WRK):
        if not os.path.exists(exe):
            sys.exit("memory: no %s (bench/run builds and installs what it needs)" % exe)
    benchlib.sigterm_as_interrupt()
    benchlib.check_no_tls_library_loaded()
    http_client.raise_fd_limit(args.connections + 256)

    others = set(benchlib.wait_until_alone(args.wait_alone, "memory"))
    variants, notes = [], []
    with nginx_server.Nginx(connections=args.connections + 1024) as server:
        log("default limits")
        variants.append(("default limits", default_limits(server, args)))
        log("max_http_stats_entries=%d" % args.small_limit)
        variants.append(("max_http_stats_entries=%d" % args.small_limit, small_table(server, args)))
    busy = benchlib.wait_until_alone(args.wait_alone, "memory")
    if busy:
        notes.append("traced files: skipped, other usm-privd running (%s)" % " ".join(map(str, busy)))
    else:
        log("traced files")
        variants.append(("traced files", many_files(args)))
    others |= set(benchlib.other_usm_instances())
    if all(not s["counters"] or not s["counters"].get("http_exchanges")
           for _, samples in variants for s in samples):
        notes.append("pending: usm counted no HTTP exchange (counters.http_exchanges 0), so the "
                     "paths and connections steps show only the baseline")
    notes.append("stats rows / overflow: counters.http_stats_rows and http_stats_overflow; "
                 "conns: http_connections; events lost: http_events_lost")
    if others:
        notes.append("WARNING: other usm-privd on the host during the run (%s)"
                     % " ".join(map(str, sorted(others)[:8])))
    benchlib.save_benchmark("memory", args.quick, others, {
        "notes": notes,
        "variants": [{"variant": n, "samples": s} for n, s in variants],
    }, args.results)
    print_table(variants, notes)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("memory: interrupted (usm and nginx stopped)")
