#!/usr/bin/env python3
"""Benchmark: how long usm takes to start and to stop.

Start: from exec of usm-privd to /usm/stats answering "Running" (the
collector answers queries only after its start-up scan of /proc), with
0, 100 and 1,000 extra idle processes (`sleep`) on the host, each
several times. Stop: from SIGTERM to privd's exit (it stops its children
and closes every uprobe link first).

Then with many traced files (1,000 copies of a stand-in libssl loaded by
one process, bench/traced_files.py):
  loaded after start   the copies are opened while usm runs: time until
                       all are traced, then the stop (1,000 files'
                       links to close);
  mapped at start      usm starts with the copies already mapped: the
                       start-up scan attaches them all before "Running".
Child restarts (/health) are reported: a daemon that dies under the
burst is part of the result.

Run as root: bench/run builds and runs it; alone:
  python3 bench/start_stop.py [--quick] [--rounds N] [--files N]
Prints a table and replaces the "start_stop" key of bench/results.json.
"""
import json
import os
import signal
import subprocess
import sys
import time

import benchlib
import traced_files
from benchlib import log


class Sleepers:
    """n idle processes (`sleep`), grown with grow(n); killed at the end."""

    def __init__(self):
        self.procs = []

    def __enter__(self):
        return self

    def grow(self, n):
        while len(self.procs) < n:
            self.procs.append(subprocess.Popen(["sleep", "3600"], start_new_session=True))

    def __exit__(self, *exc):
        for p in self.procs:
            p.send_signal(signal.SIGKILL)
        for p in self.procs:
            p.wait()


def restarts(usm):
    """Child restarts so far, from /health: {"usm-collector": 1, ...} (only non-zero)."""
    try:
        status, body = benchlib.http_get(usm.port, "/health")
        return {p["name"]: p["restarts"] for p in json.loads(body)["processes"] if p.get("restarts")}
    except (OSError, ValueError, KeyError):
        return {"health": "no answer"}


def idle_processes(counts, rounds):
    """Start and stop times with n extra idle processes, rounds each."""
    out = []
    with Sleepers() as sleepers:
        for n in counts:
            sleepers.grow(n)
            starts, stops, scanned = [], [], []
            for _ in range(rounds):
                with benchlib.Usm() as usm:
                    scanned.append(usm.stats()["counters"]["scan_records"])
                starts.append(usm.start_seconds)
                stops.append(usm.stop_seconds)
            log("  %d idle processes: start %s s, stop %s s" % (
                n, " ".join("%.3f" % s for s in starts), " ".join("%.3f" % s for s in stops)))
            out.append({"scenario": "%d idle processes" % n, "processes": n,
                        "start_s": benchlib.spread(starts), "stop_s": benchlib.spread(stops),
                        "scan_records": benchlib.spread(scanned), "rounds": rounds})
    return out


def traced_counter(usm):
    s = usm.try_stats()
    return s and s["counters"]["traced_files"]


def many_files(n):
    """The two traced-files scenarios with n stand-in libraries."""
    out = []
    with traced_files.TracedFiles(n) as files:
        # Loaded after start.
        with benchlib.Usm() as usm:
            base = usm.stats()["counters"]["traced_files"]
            loaded = time.monotonic()
            files.load()
            try:
                benchlib.wait_for(lambda: (traced_counter(usm) or 0) >= base + n, 60,
                                  "%d files traced" % n, interval=0.05)
                attach_s = time.monotonic() - loaded
            except RuntimeError:
                attach_s = None
            traced = traced_counter(usm)
            lost = (usm.try_stats() or {}).get("counters", {}).get("proc_events_lost")
            restarted = restarts(usm)
        out.append({"scenario": "%d files loaded after start" % n, "files": n,
                    "all_traced_s": attach_s, "traced_files": traced, "proc_events_lost": lost,
                    "stop_s": usm.stop_seconds, "restarts": restarted})
        # Mapped at start (the holder still has them loaded). "Running"
        # may come before the scan's attachments are all live: the time
        # until they are is measured from exec too.
        with benchlib.Usm() as usm:
            try:
                benchlib.wait_for(lambda: (traced_counter(usm) or 0) >= n, 60,
                                  "%d files traced" % n, interval=0.05)
                attach_s = time.monotonic() - usm.started_at
            except RuntimeError:
                attach_s = None
            traced = traced_counter(usm)
            restarted = restarts(usm)
        out.append({"scenario": "%d files mapped at start" % n, "files": n,
                    "start_s": usm.start_seconds, "all_traced_s": attach_s,
                    "traced_files": traced, "stop_s": usm.stop_seconds, "restarts": restarted})
        files.unload()
    return out


def print_table(rows, notes):
    def secs(v):
        if isinstance(v, dict):
            return benchlib.fmt_spread(v, 3)
        return None if v is None else "%.3f" % v
    table = []
    for r in rows:
        table.append([r["scenario"], secs(r.get("start_s")), secs(r.get("all_traced_s")),
                      r.get("traced_files") if "files" in r else
                      benchlib.fmt_spread(r.get("scan_records"), 0),
                      secs(r.get("stop_s")),
                      " ".join("%s %s" % kv for kv in sorted(r.get("restarts", {}).items())) or None])
    print("start_stop: usm-privd exec -> API \"Running\" (scan done), SIGTERM -> exit; "
          "median (min-max) over rounds")
    print(benchlib.table(["scenario", "start s", "all traced s", "scanned / traced",
                          "stop s", "child restarts"], table))
    notes = ["scanned: the start-up scan's /proc records; traced: counters.traced_files "
             "(the stand-in libraries, plus libraries of other processes)"] + notes
    print("\n".join("  " + n for n in notes))


def main():
    ap = benchlib.arguments(__doc__, "smoke run: 1 round, 100 files", "before tracing many files")
    ap.add_argument("--rounds", type=int, help="starts and stops per process count (default 3)")
    ap.add_argument("--files", type=int, help="stand-in TLS libraries to trace (default 1000)")
    args = ap.parse_args()
    rounds = args.rounds or (1 if args.quick else 3)
    nfiles = args.files or (100 if args.quick else 1000)
    if os.geteuid() != 0:
        sys.exit("start_stop: run as root (it starts usm-privd)")
    for exe in (benchlib.PRIVD, traced_files.FAKE_LIBSSL):
        if not os.path.exists(exe):
            sys.exit("start_stop: no %s (bench/run builds it)" % exe)
    benchlib.sigterm_as_interrupt()
    benchlib.check_no_tls_library_loaded()

    notes = []
    others = set(benchlib.wait_until_alone(args.wait_alone, "start_stop"))
    rows = idle_processes([0, 100, 1000], rounds)
    # Every usm on the host would attach the stand-in libraries too (and
    # take the burst): do not put it on someone else's instance.
    busy = benchlib.wait_until_alone(args.wait_alone, "start_stop")
    if busy:
        notes.append("many files: skipped, other usm-privd running (%s)" % " ".join(map(str, busy)))
    else:
        log("  %d stand-in libssl files" % nfiles)
        rows += many_files(nfiles)
    others |= set(benchlib.other_usm_instances())
    if others:
        notes.append("WARNING: other usm-privd on the host during the run (%s)"
                     % " ".join(map(str, sorted(others)[:8])))
    benchlib.save_benchmark("start_stop", args.quick, others, {
        "notes": notes,
        "scenarios": rows,
    }, args.results)
    print_table(rows, notes)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("start_stop: interrupted (usm and the idle processes stopped)")
