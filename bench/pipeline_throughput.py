#!/usr/bin/env python3
"""Pipeline throughput: the collector's HTTP path on one core.

bench/pipeline_throughput.c compiles the collector's own sources (record
check, connection table, parser, pairing, aggregation) and feeds them
records in the capture ring's format, generated before the clock starts:
server-side keep-alive conversations, connections interleaved. Pinned to
one CPU; the workloads are interleaved over the rounds; median and spread
reported. The target (issue 6): at least 1 M events/s per core.

Then the real kernel side driven hard: a clear-text nginx under wrk
(both CPUs busy: nginx's worker, wrk, and usm's collector share them),
usm capturing every read and write, for capture ring sizes of 1, 2 and
8 MB (the default): records delivered to the collector and records lost
(the kernel side's ring was full), per second.

Last, the kernel side driven harder than a server can on this machine,
to find where loss starts: bench/syscall_flood.c (both ends of keep-alive
connections in one process, four system calls and four capture records an
exchange, nothing else), one per CPU, at offered rates up to the most
they can make. The collector runs unlimited, then capped at a share of
one CPU (a cgroup's CPU quota, as an operator might give it), which
moves the point where the ring overflows into reach. Each row: records
offered and delivered per second, the share lost, the exchanges
/usm/http_stats counted over those made, and the collector's CPU time
per delivered record (its own per-core rate, ring reading included).

  python3 bench/pipeline_throughput.py [--quick]
"""
import contextlib
import json
import os
import subprocess
import sys
import time

import benchlib
import nginx_server
import wrk

EXE = os.path.join(benchlib.BUILD, "bench-c", "pipeline-throughput")
FLOOD = os.path.join(benchlib.BUILD, "bench-c", "syscall-flood")
FLOOD_PATH = "/flood"
FLOOD_CONNECTIONS = 8  # per generator
RECORDS_PER_EXCHANGE = 4  # request write and read, response write and read
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


def kernel_flood(seconds, ring_mbs):
    """For each ring size: wrk on nginx's clear-text port with usm capturing."""
    out = []
    with nginx_server.Nginx(workers=1) as server:
        url = "http://127.0.0.1:%d/tiny" % server.plain_port
        for mb in ring_mbs:
            others = benchlib.wait_until_alone(120, "pipeline_throughput")
            with benchlib.Usm("http_ring_buffer_mb=%d" % mb) as usm:
                wrk.run(url, 1)  # warm up: connections, the table's rows
                time.sleep(0.5)
                before = usm.stats()["counters"]
                r = wrk.run(url, seconds, threads=1, connections=32)
                time.sleep(1.0)  # the collector drains what is left
                after = usm.stats()["counters"]
            d = {k: after[k] - before[k] for k in ("http_events", "http_events_lost")}
            offered = d["http_events"] + d["http_events_lost"]
            out.append({"ring_mb": mb, "wrk_rps": r["rps"], "seconds": r["seconds"],
                        "events_per_s": round(d["http_events"] / r["seconds"]),
                        "lost_per_s": round(d["http_events_lost"] / r["seconds"]),
                        "lost_pct": round(100.0 * d["http_events_lost"] / offered, 2)
                        if offered else None,
                        "events_per_request": round(offered / r["requests"], 2)
                        if r["requests"] else None,
                        "other_usm_privd": others})
            benchlib.log("  kernel flood, ring %d MB: %.0f req/s, %d records/s, %d lost/s"
                         % (mb, r["rps"], out[-1]["events_per_s"], out[-1]["lost_per_s"]))
    return out


class CpuQuota:
    """A cgroup capping the processes put in it at `percent` of one CPU
    (cgroup v2's cpu.max, or v1's CFS quota). `with CpuQuota(10) as q:
    q.add(pid)`; on leaving, the processes go back to the root cgroup and
    the group is removed. CpuQuota.usable() says whether this host lets
    the benchmark make one (it may have no CPU controller, or forbid it)."""

    PERIOD_US = 100000

    @staticmethod
    def root():
        v2 = "/sys/fs/cgroup/cgroup.controllers"
        if os.path.exists(v2):
            with open(v2) as f:
                return ("v2", "/sys/fs/cgroup") if "cpu" in f.read().split() else None
        for d in ("/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"):
            if os.path.exists(os.path.join(d, "cpu.cfs_quota_us")):
                return ("v1", d)
        return None

    @classmethod
    def usable(cls):
        if not cls.root():
            return False
        try:
            with cls(10):
                return True
        except OSError as e:
            benchlib.log("pipeline_throughput: cannot make a CPU-capped cgroup: %s" % e)
            return False

    def __init__(self, percent):
        self.version, self.parent = self.root()
        self.dir = os.path.join(self.parent, "usm-bench-%d" % os.getpid())
        self.quota_us = self.PERIOD_US * percent // 100

    def _write(self, name, value, where=None):
        with open(os.path.join(where or self.dir, name), "w") as f:
            f.write(str(value))

    def __enter__(self):
        if self.version == "v2":
            self._write("cgroup.subtree_control", "+cpu", self.parent)
        os.makedirs(self.dir, exist_ok=True)
        if self.version == "v2":
            self._write("cpu.max", "%d %d" % (self.quota_us, self.PERIOD_US))
        else:
            self._write("cpu.cfs_period_us", self.PERIOD_US)
            self._write("cpu.cfs_quota_us", self.quota_us)
        return self

    def add(self, pid):
        self._write("cgroup.procs", pid)

    def __exit__(self, *exc):
        with open(os.path.join(self.dir, "cgroup.procs")) as f:
            for pid in f.read().split():
                try:
                    self._write("cgroup.procs", pid, self.parent)
                except OSError:  # exited meanwhile
                    pass
        os.rmdir(self.dir)


def cpu_seconds(pid):
    """User + system CPU time of a process so far, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def flood_row(seconds, cap_pct, offered):
    """One usm, its collector capped at cap_pct % of a CPU (None: not
    capped), one syscall-flood per CPU for `seconds` at `offered` records/s
    in all (0: as fast as they can)."""
    cpus = sorted(os.sched_getaffinity(0))
    per_generator = offered / RECORDS_PER_EXCHANGE / len(cpus)
    others = benchlib.wait_until_alone(120, "pipeline_throughput")
    with benchlib.Usm() as usm, (CpuQuota(cap_pct) if cap_pct else contextlib.nullcontext()) as q:
        collector = usm.pids()["usm-collector"]
        if q:
            q.add(collector)
        before, cpu_before = usm.stats()["counters"], cpu_seconds(collector)
        gens = [subprocess.Popen(["taskset", "-c", str(c), FLOOD, str(seconds), "%.0f" % per_generator,
                                  str(FLOOD_CONNECTIONS), FLOOD_PATH],
                                 stdout=subprocess.PIPE, text=True) for c in cpus]
        made = [json.loads(g.communicate(timeout=seconds + 60)[0]) for g in gens]
        if any(g.returncode for g in gens):
            sys.exit("pipeline_throughput: syscall-flood failed")

        seen = None

        def drained():  # the counters once a half-second passed with no new record
            nonlocal seen
            c = usm.stats()["counters"]
            settled = seen == c["http_events"] + c["http_events_lost"]
            seen = c["http_events"] + c["http_events_lost"]
            return c if settled else None
        after = benchlib.wait_for(drained, 60, "the collector to drain the ring", interval=0.5)
        cpu = cpu_seconds(collector) - cpu_before
        counted = usm.counted(FLOOD_PATH)
    gen_seconds = max(m["seconds"] for m in made)
    exchanges = sum(m["exchanges"] for m in made)
    delivered = after["http_events"] - before["http_events"]
    lost = after["http_events_lost"] - before["http_events_lost"]
    row = {"collector_cpu_cap_pct": cap_pct, "offered_target_per_s": offered or None,
           "generators": len(cpus), "seconds": round(gen_seconds, 3), "exchanges": exchanges,
           "offered_per_s": round(exchanges * RECORDS_PER_EXCHANGE / gen_seconds),
           "delivered_per_s": round(delivered / gen_seconds),
           "lost_pct": round(100.0 * lost / (delivered + lost), 2) if delivered + lost else None,
           "counted_pct": round(100.0 * counted / exchanges, 2) if exchanges else None,
           "collector_cpu_pct": round(100.0 * cpu / gen_seconds, 1),
           "collector_m_records_per_cpu_s": round(delivered / cpu / 1e6, 2) if cpu else None,
           "other_usm_privd": others}
    benchlib.log("  syscall flood, collector %s, offered %d records/s: delivered %d/s, lost %s %%, "
                 "counted %s %%" % ("capped at %d%%" % cap_pct if cap_pct else "unlimited",
                                    row["offered_per_s"], row["delivered_per_s"], row["lost_pct"],
                                    row["counted_pct"]))
    return row


def syscall_flood(quick):
    """The rows of the syscall flood: (cap %, offered records/s; 0 = most)."""
    plan = [(None, 0), (10, 0)] if quick else \
        [(None, 0), (10, 100000), (10, 200000), (10, 300000), (10, 0), (25, 0)]
    if not CpuQuota.usable():
        benchlib.log("pipeline_throughput: no cgroup CPU quota here; the capped rows are skipped")
        plan = [p for p in plan if not p[0]]
    return [flood_row(2 if quick else 5, cap, offered) for cap, offered in plan]


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
    flood, synthetic = [], []
    if os.geteuid() == 0 and os.path.exists(wrk.WRK) and os.path.exists(nginx_server.NGINX):
        flood = kernel_flood(2 if args.quick else 5, [1, 2, 8])
    else:
        benchlib.log("pipeline_throughput: kernel flood skipped (needs root, nginx and wrk)")
    if os.geteuid() == 0 and os.path.exists(FLOOD):
        synthetic = syscall_flood(args.quick)
    else:
        benchlib.log("pipeline_throughput: syscall flood skipped (needs root and %s)" % FLOOD)
    benchlib.save_benchmark("pipeline_throughput", args.quick, [],
                            {"workloads": out, "kernel_flood": flood, "syscall_flood": synthetic},
                            args.results)
    print("Pipeline throughput (one core, collector's parse + pair + aggregate; target >= 1 M events/s)")
    print(benchlib.table(["workload", "M events/s", "ns/event", "exchanges", "rows"], rows))
    if flood:
        print("Kernel side driven hard: clear-text nginx under wrk -t1 -c32, usm capturing; "
              "records per second delivered and lost, by capture ring size")
        print(benchlib.table(
            ["ring MB", "req/s", "records/req", "delivered/s", "lost/s", "lost %"],
            [[f["ring_mb"], round(f["wrk_rps"]), f["events_per_request"], f["events_per_s"],
              f["lost_per_s"], f["lost_pct"]] for f in flood]))
    if synthetic:
        print("Kernel side driven harder: syscall-flood on every CPU (4 records an exchange), "
              "the collector unlimited or capped at a share of one CPU (cgroup quota)")
        print(benchlib.table(
            ["collector", "offered/s", "delivered/s", "lost %", "counted",
             "collector CPU", "M records/CPU-s"],
            [["%d%% cap" % f["collector_cpu_cap_pct"] if f["collector_cpu_cap_pct"] else "unlimited",
              f["offered_per_s"], f["delivered_per_s"], f["lost_pct"],
              "%.1f%%" % f["counted_pct"] if f["counted_pct"] is not None else None,
              "%.1f%%" % f["collector_cpu_pct"], f["collector_m_records_per_cpu_s"]]
             for f in synthetic]))
        print("  offered: records the generators' system calls made per second (the target, "
              "or the most they could with usm's probes on both CPUs); counted: exchanges "
              "/usm/http_stats counted over those made;\n"
              "  collector CPU: its CPU time (draining included) over the flood's duration, in % of "
              "one CPU; M records/CPU-s: records delivered per second of its CPU time")


if __name__ == "__main__":
    main()
