#!/usr/bin/env python3
"""Pipeline throughput: the collector's HTTP path on one core.

bench/pipeline_throughput.c compiles the collector's own sources (record
check, connection table, parser, pairing, aggregation) and feeds them
records in the capture ring's format, generated before the clock starts:
server-side keep-alive conversations, connections interleaved. Pinned to
one CPU; the workloads are interleaved over the rounds; median and spread
reported. The target (issue 6): at least 1 M events/s per core.

Where events start to be lost with the real kernel side driven hard is
read from the HTTPS overhead benchmark's usm runs (http_events_lost).

  python3 bench/pipeline_throughput.py [--quick]
"""
import json
import os
import subprocess
import sys

import benchlib

EXE = os.path.join(benchlib.BUILD, "bench-c", "pipeline-throughput")
# (label, events, connections, distinct paths)
WORKLOADS = [
    ("1k connections, 100 paths", 2000000, 1000, 100),
    ("10k connections, 10k paths", 2000000, 10000, 10000),
]


def run(events, conns, paths):
    r = subprocess.run(["taskset", "-c", "1", EXE, str(events), str(conns), str(paths)],
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        sys.exit("pipeline_throughput: %s failed: %s" % (EXE, r.stderr))
    return json.loads(r.stdout)


def main():
    ap = benchlib.arguments(__doc__, "smoke run: 1 round, 200k events")
    ap.add_argument("--rounds", type=int, help="runs per workload (default 5)")
    args = ap.parse_args()
    rounds = args.rounds or (1 if args.quick else 5)
    if not os.path.exists(EXE):
        sys.exit("pipeline_throughput: no %s (bench/run builds it)" % EXE)
    samples = {w[0]: [] for w in WORKLOADS}
    for i in range(rounds):
        for label, events, conns, paths in WORKLOADS:
            n = 200000 if args.quick else events
            samples[label].append(run(n, conns, paths))
            benchlib.log("  round %d %s: %.2f M events/s" %
                         (i + 1, label, samples[label][-1]["events_per_s"] / 1e6))
    rows, out = [], []
    for label, _, conns, paths in WORKLOADS:
        s = samples[label]
        eps = benchlib.spread([x["events_per_s"] / 1e6 for x in s])
        ns = benchlib.spread([x["ns_per_event"] for x in s])
        exchanges = s[-1]["exchanges"]
        out.append({"workload": label, "connections": conns, "paths": paths,
                    "events": s[-1]["events"], "m_events_per_s": eps, "ns_per_event": ns,
                    "exchanges": exchanges, "rows": s[-1]["rows"],
                    "malformed": s[-1]["malformed"]})
        rows.append([label, benchlib.fmt_spread(eps, 2), benchlib.fmt_spread(ns, 0),
                     exchanges, s[-1]["rows"]])
    benchlib.save_benchmark("pipeline_throughput", args.quick, [], {"workloads": out},
                            args.results)
    print("Pipeline throughput (one core, collector's parse + pair + aggregate; target >= 1 M events/s)")
    print(benchlib.table(["workload", "M events/s", "ns/event", "exchanges", "rows"], rows))


if __name__ == "__main__":
    main()
