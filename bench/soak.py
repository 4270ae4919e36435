#!/usr/bin/env python3
"""Benchmark (long, opt-in): a soak of usm under steady mixed traffic with
periodic kills of its children. Do its resident memory, descriptors,
threads and kernel links stay flat?

For --minutes (30) usm-privd with its defaults watches nginx
(bench/nginx_server.py, HTTPS) and a threaded python server
(tests/e2e/http_servers.py, clear text), driven all the time by
tests/e2e/mixed_traffic.py (the fault tests' clients: a keep-alive HTTPS
connection, a keep-alive clear-text one, a fresh curl per request over
TLS and one in clear text). Every --kill-every minutes (5) one child is
killed with SIGKILL, apid and the collector in turn (never the BPF
owner: usm stops by design when it dies), and privd restarts it.

Every --sample-every seconds (30): VmRSS, open fds and threads of privd,
its BPF owner, the collector and apid; this usm's links in the kernel
(`bpftool link list`, filtered by the ids of the programs its BPF owner
holds, as tests/e2e/test_faults.py does); how long /usm/stats and
/usm/http_stats take to answer.

Traffic runs in phases named in each request's path (/PHASE/KIND):
sN, steady between kills, and kN, from just before kill N until the
restarted child and the API answer again. Every phase is compared with
what the clients drove: a steady phase should be counted exactly (or its
shortfall covered by http_events_lost), a kill phase never more than
driven (a killed collector loses what it had counted).

At the end: a table of each metric (start, min, max, end; slope per hour
by least squares over the samples after the first 2 minutes, and over
the last half, with its verdict: flat when the drift the slope makes
over the half is within the samples' noise) and the phases'
counts. Nothing is asserted. The samples go to bench/results.json under
"soak".

Run as root: `bench/run soak` builds and runs it (it is not in the
default set); alone:
  python3 bench/soak.py [--minutes M] [--kill-every M] [--quick]
"""
import json
import math
import os
import signal
import subprocess
import sys
import time

import benchlib
import nginx_server
from benchlib import log

E2E = os.path.join(benchlib.REPO, "tests", "e2e")
sys.path.insert(0, E2E)
# The fault tests' reading of this usm's kernel links (loads no libssl).
from test_faults import BPFTOOL, kernel_links, owner_link_paths, usm_prog_ids  # noqa: E402

TRAFFIC = os.path.join(E2E, "mixed_traffic.py")  # run, not imported: it loads libssl
SERVERS = os.path.join(E2E, "http_servers.py")
KINDS = ("ka-tls", "ka-plain", "fresh-tls", "fresh-plain")
ROLES = (("privd", None), ("bpf_owner", "usm-privd-bpf"), ("collector", "usm-collector"),
         ("apid", "usm-apid"))
VICTIMS = ("apid", "collector")  # killed in turn
WARMUP_S = 120  # samples before this are left out of the slopes


# ---- what is sampled ----

def proc_status(pid):
    """/proc/PID/status as a dict (empty if the process is gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            return dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
    except OSError:
        return {}


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return None


def roles(privd):
    """{role: pid} of privd and its children (BPF owner, collector, apid)."""
    out = {"privd": privd}
    kids = {comm(p): p for p in nginx_server.children(privd)}
    for role, name in ROLES[1:]:
        if name in kids:
            out[role] = kids[name]
    return out


def process_figures(pid):
    """VmRSS (KiB), open fds, threads of pid (Nones if it is gone)."""
    status = proc_status(pid)
    try:
        fds = len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        fds = None
    def num(key):
        try:
            return int(status[key].split()[0])
        except (KeyError, ValueError, IndexError):
            return None
    return {"rss_kib": num("VmRSS"), "fds": fds, "threads": num("Threads")}


def usm_links(owner):
    """(links in the kernel whose program this usm's BPF owner holds,
    link fds the owner holds), as the fault tests read them."""
    return len(kernel_links(usm_prog_ids(owner))), len(owner_link_paths(owner))


def timed_get(usm, path, rows=False):
    """Milliseconds /path takes to answer 200 (None if it does not); with
    rows, also how many rows its JSON answer has (a list, or the list in
    an object)."""
    t0 = time.monotonic()
    try:
        status, body = benchlib.http_get(usm.port, path)
    except OSError:
        return (None, None) if rows else None
    ms = round((time.monotonic() - t0) * 1000, 2) if status == 200 else None
    if not rows:
        return ms
    n = None
    if status == 200:
        doc = json.loads(body)
        lists = [doc] if isinstance(doc, list) else [v for v in doc.values() if isinstance(v, list)]
        n = len(lists[0]) if lists else None
    return ms, n


def other_privd():
    """Other usm instances' supervisors (usm-privd not started by this
    benchmark, BPF owners of other instances left out)."""
    pids = benchlib.other_usm_instances()
    return [p for p in pids if benchlib.parent_pid(p) not in pids]


def sample(usm, t, phase):
    row = {"t": round(t, 1), "phase": phase}
    pids = roles(usm.proc.pid)
    for role, _ in ROLES:
        pid = pids.get(role)
        row[role + "_pid"] = pid
        figures = process_figures(pid) if pid else {"rss_kib": None, "fds": None, "threads": None}
        for k, v in figures.items():
            row["%s_%s" % (role, k)] = v
    if pids.get("bpf_owner"):
        row["kernel_links"], row["owner_link_fds"] = usm_links(pids["bpf_owner"])
    row["api_stats_ms"] = timed_get(usm, "/usm/stats")
    # The collector's statistics rows: its memory follows them (each
    # phase adds paths, a sketch grows with the latencies it has seen).
    row["api_http_stats_ms"], row["http_rows"] = timed_get(usm, "/usm/http_stats", rows=True)
    with open("/proc/loadavg") as f:
        row["loadavg"] = float(f.read().split()[0])
    row["other_usm_privd"] = other_privd()
    return row


# ---- the phases' counts ----

class Phases:
    """The traffic's phase (mixed_traffic.py reads it from a file before
    each request) and what usm counted of each phase."""

    def __init__(self, path, usm, ports):
        self.path, self.usm, self.ports = path, usm, ports
        self.current = None
        self.order = []       # phases in the order they ran
        self.ended = []       # phases over, not yet read
        self.counted = {}     # phase: {kind: count}
        self.lost = {}        # phase: http_events_lost during it (same collector), None if unknown
        self.lost_at = {}

    def set(self, phase):
        if self.current:
            self.ended.append(self.current)
        tmp = self.path + ".new"
        with open(tmp, "w") as f:
            f.write(phase)
        os.replace(tmp, self.path)
        self.current = phase
        if phase != "stop":
            self.order.append(phase)
            self.lost_at[phase] = self.lost_counter()

    def lost_counter(self):
        stats = self.usm.try_stats()
        return stats["counters"].get("http_events_lost") if stats else None

    def counts(self):
        """{path: count} of the two servers' rows."""
        out = {}
        for row in self.usm.http_stats():
            if row["server"]["port"] in self.ports:
                out[row["path"]] = out.get(row["path"], 0) + row["count"]
        return out

    def settle(self):
        """Reads the counts of the phases that ended, once they stop
        changing (records still in the ring, requests still expiring)."""
        if not self.ended:
            return
        paths = {"/%s/%s" % (p, k) for p in self.ended for k in KINDS}
        last, since, deadline = None, time.monotonic(), time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                now = {p: n for p, n in self.counts().items() if p in paths}
            except (OSError, ValueError, benchlib.ApiError):
                now = last
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= 2.0:
                break
            time.sleep(0.25)
        lost = self.lost_counter()
        for p in self.ended:
            self.counted[p] = {k: (last or {}).get("/%s/%s" % (p, k), 0) for k in KINDS}
            start = self.lost_at.get(p)
            # Meaningful only for a phase within one collector's life (steady ones).
            self.lost[p] = lost - start if lost is not None and start is not None and lost >= start else None
        self.ended = []


def phase_rows(phases, driven, errors, kills):
    """Per phase: driven, errors, counted, and what that means."""
    killed = {"k%d" % (i + 1): k["victim"] for i, k in enumerate(kills)}
    rows = []
    for p in phases.order:
        d = sum(driven.get("/%s/%s" % (p, k), 0) for k in KINDS)
        e = sum(errors.get("/%s/%s" % (p, k), 0) for k in KINDS)
        got = phases.counted.get(p)
        n = sum(got.values()) if got else None
        lost = phases.lost.get(p)
        over = got is not None and any(
            got[k] > driven.get("/%s/%s" % (p, k), 0) + errors.get("/%s/%s" % (p, k), 0)
            for k in KINDS)
        missing = sum(max(0, driven.get("/%s/%s" % (p, k), 0) - got[k]) for k in KINDS) if got else None
        if got is None:
            verdict = "not read"
        elif over:
            verdict = "COUNTED MORE THAN DRIVEN"
        elif p.startswith("k"):
            verdict = "%s killed; %s not counted" % (killed.get(p, "?"), fmt(missing))
        elif missing == 0:
            verdict = "exact"
        elif lost is not None and missing <= lost:
            verdict = "%s not counted, %s records lost" % (fmt(missing), fmt(lost))
        else:
            verdict = "%d NOT COUNTED (records lost: %s)" % (missing, lost)
        rows.append({"phase": p, "driven": d, "errors": e, "counted": n, "missing": missing,
                     "events_lost": lost, "verdict": verdict})
    return rows


# ---- the figures ----

def fit(points):
    """Least squares over (t seconds, value): (slope per hour, its standard
    error per hour, the residuals' standard deviation); None with fewer
    than 3 points."""
    points = [(t, v) for t, v in points if v is not None]
    n = len(points)
    if n < 3:
        return None
    tm = sum(t for t, _ in points) / n
    vm = sum(v for _, v in points) / n
    sxx = sum((t - tm) ** 2 for t, _ in points)
    if sxx == 0:
        return None
    slope = sum((t - tm) * (v - vm) for t, v in points) / sxx
    res = [v - (vm + slope * (t - tm)) for t, v in points]
    sd = math.sqrt(sum(r * r for r in res) / (n - 2))
    return slope * 3600, sd / math.sqrt(sxx) * 3600, sd


def verdict(f, span_s, unit):
    """Flat when the drift the slope makes over the span is within the
    noise: no more than twice the residuals' standard deviation, or the
    slope within two standard errors of zero, or under one unit (a
    descriptor, a thread, a link, a page of RSS)."""
    if f is None:
        return "-"
    slope, se, sd = f
    drift = slope * span_s / 3600
    if abs(drift) <= max(2 * sd, unit) or abs(slope) <= 2 * se:
        return "flat"
    return "RISING" if drift > 0 else "falling"


METRICS = ([("%s_%s" % (r, m), "%s %s" % (r.replace("_", " "), label), unit)
            for r, _ in ROLES
            for m, label, unit in (("rss_kib", "RSS KiB", 4), ("fds", "fds", 1),
                                   ("threads", "threads", 1))]
           + [("kernel_links", "kernel links", 1), ("owner_link_fds", "owner's link fds", 1),
              ("api_stats_ms", "/usm/stats ms", 1), ("api_http_stats_ms", "/usm/http_stats ms", 1),
              ("http_rows", "/usm/http_stats rows", 1)])


def summarise(samples, duration):
    half = duration / 2
    out = []
    for key, label, unit in METRICS:
        values = [s.get(key) for s in samples]
        present = [v for v in values if v is not None]
        if not present:
            continue
        after = fit([(s["t"], s.get(key)) for s in samples if s["t"] >= WARMUP_S])
        last = fit([(s["t"], s.get(key)) for s in samples if s["t"] >= half])
        # The last life: samples after the warm-up of the process that ran
        # at the end (a killed child's replacement starts afresh).
        role = next((r for r, _ in ROLES if key.startswith(r + "_")), None)
        if role:
            end_pid = samples[-1].get(role + "_pid")
            mine = [s for s in samples if s["t"] >= WARMUP_S and s.get(role + "_pid") == end_pid]
        else:
            mine = []
        life = fit([(s["t"], s.get(key)) for s in mine])
        life_span = mine[-1]["t"] - mine[0]["t"] if mine else 0
        out.append({"metric": key, "label": label, "start": present[0], "min": min(present),
                    "max": max(present), "end": present[-1],
                    "slope_per_h": round(after[0], 2) if after else None,
                    "last_half_slope_per_h": round(last[0], 2) if last else None,
                    "last_half_slope_se": round(last[1], 2) if last else None,
                    "last_half_residual_sd": round(last[2], 2) if last else None,
                    "last_half": verdict(last, duration - half, unit),
                    "last_life_from_s": mine[0]["t"] if life else None,
                    "last_life_slope_per_h": round(life[0], 2) if life else None,
                    "last_life": verdict(life, life_span, unit)})
    return out


def fmt(v):
    if v is None:
        return None
    if isinstance(v, float):
        return "%.2f" % v if abs(v) < 100 else "{:,.0f}".format(v)
    return "{:,}".format(v)


# ---- the run ----

def kill_child(usm, phases, role, n, at):
    """kill -9 of role under traffic; returns what it cost."""
    phases.set("k%d" % n)
    phases.settle()  # what the victim's collector counted, before it goes
    victim = roles(usm.proc.pid)[role]
    t0 = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    benchlib.wait_for(lambda: not os.path.exists("/proc/%d" % victim) or
                      proc_status(victim).get("State", "").strip().startswith("Z"),
                      10, "%s %d gone" % (role, victim))

    def back():
        now = roles(usm.proc.pid).get(role)
        if not now or now == victim:
            return False
        try:
            return (benchlib.http_get(usm.port, "/usm/stats")[0] == 200
                    and benchlib.http_get(usm.port, "/health")[0] == 200)
        except OSError:
            return False
    benchlib.wait_for(back, 60, "%s restarted and the API answering" % role, interval=0.02)
    took = time.monotonic() - t0
    phases.set("s%d" % n)
    log("  kill %d: %s %d, API answered again after %.2f s" % (n, role, victim, took))
    return {"n": n, "at_s": round(at, 1), "victim": role, "pid": victim, "new_pid": roles(usm.proc.pid).get(role),
            "recovery_s": round(took, 3)}


def restarts(usm):
    try:
        status, body = benchlib.http_get(usm.port, "/health")
        return {p["name"]: p.get("restarts") for p in json.loads(body)["processes"]}
    except (OSError, ValueError, KeyError):
        return None


def run(args, usm, tls_port, plain_port, tmp):
    phases = Phases(os.path.join(tmp, "phase"), usm, {tls_port, plain_port})
    phases.set("s0")
    traffic = subprocess.Popen([sys.executable, TRAFFIC, str(tls_port), str(plain_port),
                                phases.path], stdout=subprocess.PIPE, text=True)
    samples, kills = [], []
    try:
        if traffic.stdout.readline().strip() != "ready":
            raise RuntimeError("mixed_traffic.py did not start")
        t0 = time.monotonic()
        duration = args.minutes * 60
        next_sample, next_kill = 0.0, args.kill_every * 60
        while True:
            t = time.monotonic() - t0
            if t >= duration:
                break
            if t >= next_kill and next_kill < duration:
                kills.append(kill_child(usm, phases, VICTIMS[len(kills) % 2], len(kills) + 1, t))
                next_kill += args.kill_every * 60
                continue
            if t >= next_sample:
                s = sample(usm, t, phases.current)
                samples.append(s)
                next_sample += args.sample_every
                log("  %5.0f s %-4s privd %s/%s/%s  owner %s/%s/%s  collector %s/%s/%s  "
                    "apid %s/%s/%s  links %s  api %s ms  (RSS KiB/fds/threads)" % (
                        t, s["phase"], *(s["%s_%s" % (r, m)] for r, _ in ROLES
                                         for m in ("rss_kib", "fds", "threads")),
                        s.get("kernel_links"), s["api_stats_ms"]))
                if traffic.poll() is not None:
                    raise RuntimeError("mixed_traffic.py exited with %s" % traffic.returncode)
                continue
            time.sleep(max(0.05, min(next_sample, next_kill) - t))
        samples.append(sample(usm, time.monotonic() - t0, phases.current))
        phases.set("end")
        phases.settle()
        health = restarts(usm)
        phases.set("stop")
        out, _ = traffic.communicate(timeout=120)
        phases.settle()  # the last phase, "end"
        result = json.loads(out.strip().splitlines()[-1])
        return samples, kills, phases, result["driven"], result["errors"], health
    finally:
        if traffic.poll() is None:
            phases.set("stop")
            try:
                traffic.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                traffic.kill()
                traffic.communicate()


def main():
    ap = benchlib.arguments(__doc__, "smoke run: 2 minutes, a kill every 30 s",
                            "before starting")
    ap.add_argument("--minutes", type=float, default=30, help="how long (default 30)")
    ap.add_argument("--kill-every", type=float, default=5, metavar="M",
                    help="kill apid or the collector every M minutes (default 5)")
    ap.add_argument("--sample-every", type=float, default=30, metavar="S",
                    help="sample every S seconds (default 30)")
    args = ap.parse_args()
    if args.quick:
        args.minutes, args.kill_every = 2, 0.5
    if os.geteuid() != 0:
        sys.exit("soak: run as root (it starts usm-privd)")
    for exe in (benchlib.PRIVD, nginx_server.NGINX, BPFTOOL, TRAFFIC, SERVERS):
        if not os.path.exists(exe):
            sys.exit("soak: no %s (bench/run builds and installs what it needs)" % exe)
    benchlib.sigterm_as_interrupt()
    benchlib.check_no_tls_library_loaded()

    others = set(benchlib.wait_until_alone(args.wait_alone, "soak"))
    log("soak: %.0f minutes, a kill every %.1f minutes, a sample every %.0f s"
        % (args.minutes, args.kill_every, args.sample_every))
    tmp = benchlib.tempfile.mkdtemp(prefix="usm-bench-soak-")
    plain = None
    try:
        with nginx_server.Nginx() as server:
            plain_port = benchlib.free_port()
            plain = subprocess.Popen([sys.executable, SERVERS, "threaded", str(plain_port)],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, start_new_session=True)
            if plain.stdout.readline().strip() != "ready":
                raise RuntimeError("the clear-text server did not start")
            with benchlib.Usm() as usm:
                samples, kills, phases, driven, errors, health = run(
                    args, usm, server.tls_port, plain_port, tmp)
    finally:
        if plain and plain.poll() is None:
            plain.terminate()
            plain.wait()
        benchlib.shutil.rmtree(tmp, ignore_errors=True)

    duration = samples[-1]["t"]
    for s in samples:
        others |= set(s["other_usm_privd"])
    metrics = summarise(samples, duration)
    rows = phase_rows(phases, driven, errors, kills)
    loads = [s["loadavg"] for s in samples]

    print("soak (%.0f min of mixed traffic, %d kills: %s; %d samples; RSS in KiB; slopes per "
          "hour by least squares after the first %d s and over the last half)"
          % (duration / 60, len(kills), ", ".join(k["victim"] for k in kills), len(samples),
             WARMUP_S))
    print(benchlib.table(
        ["metric", "start", "min", "max", "end", "slope/h", "last half /h", "± se", "last half",
         "last life /h", "last life"],
        [[m["label"], fmt(m["start"]), fmt(m["min"]), fmt(m["max"]), fmt(m["end"]),
          fmt(m["slope_per_h"]), fmt(m["last_half_slope_per_h"]), fmt(m["last_half_slope_se"]),
          m["last_half"], fmt(m["last_life_slope_per_h"]), m["last_life"]] for m in metrics]))
    print()
    print(benchlib.table(["kill", "at s", "victim", "API back after s"],
                         [[k["n"], k["at_s"], k["victim"],
                           "%.2f" % k["recovery_s"]] for k in kills]))
    print()
    print(benchlib.table(["phase", "driven", "errors", "counted", "events lost", "what it means"],
                         [[r["phase"], fmt(r["driven"]), r["errors"], fmt(r["counted"]),
                           r["events_lost"], r["verdict"]] for r in rows]))
    notes = ["collector and apid rows are of successive processes: the victim's figures "
             "restart with its replacement (pids in the JSON samples); 'last life' fits the "
             "samples after the warm-up of the process running at the end only",
             "flat: the drift the slope makes over its span is within twice the residuals' "
             "standard deviation or one unit (a page, an fd, a thread, a link, a ms), or the "
             "slope is within two standard errors of zero",
             "load average 1 min: %.2f-%.2f over the samples" % (min(loads), max(loads))]
    if health:
        notes.append("restarts in /health at the end: %s" % ", ".join(
            "%s %s" % (k, v) for k, v in sorted(health.items())))
    if others:
        notes.append("WARNING: other usm-privd ran during the soak (%s): other sessions' tests "
                      "shared the machine, and this usm traced their processes too"
                      % " ".join(map(str, sorted(others))))
    for n in notes:
        print("note: " + n)
    benchlib.save_benchmark("soak", args.quick, others, {
        "minutes": args.minutes, "kill_every_minutes": args.kill_every,
        "sample_every_s": args.sample_every, "warmup_s": WARMUP_S,
        "metrics": metrics, "kills": kills, "phases": rows, "restarts": health,
        "notes": notes, "samples": samples}, args.results)


if __name__ == "__main__":
    main()
