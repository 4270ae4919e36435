#!/usr/bin/env python3
"""HTTP/2 pipeline throughput: the collector's HTTP/2 path on one core.

bench/h2_pipeline_throughput.c compiles the collector's own sources
(record check, connection table, h2 framer, HPACK through libnghttp2's
inflater, stream pairing, aggregation) and feeds them the records of h2
connections as the kernel's frame walk delivers them (a call's first 512
bytes, then its frame headers and header blocks, DATA payloads left out),
generated before the clock starts: per connection the preface and
SETTINGS, then calls of 8 interleaved streams each way (request HEADERS
made by libnghttp2's deflater and DATA; response HEADERS and DATA), many
distinct paths so that the dynamic tables churn. Pinned to one CPU; the
workloads are interleaved over the rounds; median and range reported.
The target (issue 14): at least 1 M frames/s per core.

  python3 bench/h2_pipeline_throughput.py [--quick] [--rounds N]
Prints a table and replaces the "h2_pipeline_throughput" key of
bench/results.json.
"""
import json
import os
import subprocess
import sys

import benchlib

EXE = os.path.join(benchlib.BUILD, "bench-c", "h2-pipeline-throughput")
STREAMS = 8
# (label, frames, connections, distinct paths, rounds per connection in a pass)
WORKLOADS = [
    ("100 connections, 100 paths", 2000000, 100, 100, 16),
    ("1k connections, 1k paths", 2000000, 1000, 1000, 16),
    ("10k connections, 10k paths", 2000000, 10000, 10000, 4),
]


def run(frames, conns, paths, rounds):
    cmd = [EXE, str(frames), str(conns), str(paths), str(STREAMS), str(rounds)]
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) > 1:
        cmd = ["taskset", "-c", str(cpus[-1])] + cmd
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        sys.exit("h2_pipeline_throughput: %s failed: %s" % (EXE, r.stderr))
    out = json.loads(r.stdout)
    if out["exchanges"] != out["exchanges_expected"] or out["h2_hpack_desync"] or \
            out["h2_framing_lost"] or out["malformed"]:
        benchlib.log("h2_pipeline_throughput: WARNING: the pipeline lost something: %s" % r.stdout)
    return out


def main():
    ap = benchlib.arguments(__doc__, "smoke run: 1 round, 200k frames")
    ap.add_argument("--rounds", type=int, help="runs per workload (default 5)")
    args = ap.parse_args()
    rounds = args.rounds or (1 if args.quick else 5)
    if not os.path.exists(EXE):
        sys.exit("h2_pipeline_throughput: no %s (bench/run builds it)" % EXE)
    samples = {w[0]: [] for w in WORKLOADS}
    for i in range(rounds):
        for label, frames, conns, paths, per_conn in WORKLOADS:
            samples[label].append(run(200000 if args.quick else frames, conns, paths, per_conn))
            benchlib.log("  round %d %s: %.2f M frames/s" %
                         (i + 1, label, samples[label][-1]["frames_per_s"] / 1e6))
    rows, out = [], []
    for label, _, conns, paths, per_conn in WORKLOADS:
        s = samples[label]
        fps = benchlib.spread([x["frames_per_s"] / 1e6 for x in s])
        ns = benchlib.spread([x["ns_per_frame"] for x in s])
        rps = benchlib.spread([x["records_per_s"] / 1e6 for x in s])
        last = s[-1]
        exact = all(x["exchanges"] == x["exchanges_expected"] for x in s)
        lost = sum(x["h2_hpack_desync"] + x["h2_framing_lost"] + x["malformed"] for x in s)
        out.append({"workload": label, "connections": conns, "paths": paths,
                    "streams_per_call": STREAMS, "rounds_per_connection": per_conn,
                    "frames": last["frames"], "records": last["records"],
                    "m_frames_per_s": fps, "ns_per_frame": ns, "m_records_per_s": rps,
                    "exchanges": last["exchanges"], "exchanges_exact": exact,
                    "rows": last["rows"], "lost": lost,
                    "max_rss_kb": benchlib.spread([x["max_rss_kb"] for x in s]),
                    "rss_before_feeding_kb": last["rss_before_feeding_kb"], "runs": s})
        rows.append([label, benchlib.fmt_spread(fps, 2), benchlib.fmt_spread(ns, 0),
                     benchlib.fmt_spread(rps, 2), last["exchanges"],
                     "yes" if exact and not lost else "NO", last["rows"],
                     "%.0f MB" % (max(x["max_rss_kb"] for x in s) / 1024)])
    benchlib.save_benchmark("h2_pipeline_throughput", args.quick, [], {"workloads": out},
                            args.results)
    print("HTTP/2 pipeline throughput (one core: record check, h2 framing, HPACK, pairing, "
          "aggregation; target >= 1 M frames/s); %d round(s), median (min-max)" % rounds)
    print(benchlib.table(["workload", "M frames/s", "ns/frame", "M records/s", "exchanges",
                          "all counted", "rows", "max RSS"], rows))
    print("  %d streams a call each way, 4 frames an exchange (request HEADERS + DATA, response "
          "HEADERS + DATA); all counted: exchanges == those generated, no HPACK desync, no "
          "framing lost; max RSS: the records of one pass plus the collector's tables"
          % STREAMS)


if __name__ == "__main__":
    main()
