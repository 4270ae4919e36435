"""End-to-end: the dashboard apid serves at GET /, in headless Chromium
(Debian's `chromium`, driven over the DevTools protocol: chromium.py).

Real traffic to a server of this test's own, under a service name
(OTEL_SERVICE_NAME) and a command name no other process has (so its
service's totals are exact even while other tests run servers on this
host); the page groups by the service name, not the command, and must
show exactly what
/usm/http_stats says for it, compute rates from two successive reads,
load with no console error (its Content-Security-Policy would turn any
asset from elsewhere into one), and show a path from the network as
text, never as markup. Screenshots are saved in $USM_TEST_ARTIFACTS, or
in a directory the test prints."""
import json
import os
import sys
import tempfile
import threading
import time
import unittest

from chromium import CHROMIUM, Chromium
from test_http import get_request, raw_exchange
from usm_harness import (Usm, free_port, renamed_http_server_args, require_privileges,
                         spawn_ready, stop_processes, wait_for)

# A path that would be markup if the page wrote it as HTML.
HOSTILE_PATH = "/<img/src=x/onerror=window.pwned=1>"

# The page's rows of one server, as the page's data attributes say them.
STATUS_ROWS_JS = """[...document.querySelectorAll('tr.status-row')]
  .filter(tr => tr.dataset.server === %r)
  .map(tr => ({method: tr.dataset.method, path: tr.dataset.path,
               status: Number(tr.dataset.status), pid: tr.dataset.pid,
               values: Object.fromEntries([...tr.querySelectorAll('td[data-field]')]
                 .map(td => [td.dataset.field, td.dataset.value])),
               texts: Object.fromEntries([...tr.querySelectorAll('td[data-field]')]
                 .map(td => [td.dataset.field, td.textContent]))}))"""
ENDPOINT_ROWS_JS = """[...document.querySelectorAll('tr.endpoint')]
  .filter(tr => tr.dataset.server === %r)
  .map(tr => ({method: tr.dataset.method, path: tr.dataset.path,
               values: Object.fromEntries([...tr.querySelectorAll('td[data-field]')]
                 .map(td => [td.dataset.field, td.dataset.value]))}))"""
SERVICE_JS = """(() => {
  const s = [...document.querySelectorAll('section.service')]
    .find(e => e.dataset.service === %r);
  if (!s) return null;
  const v = Object.fromEntries([...s.querySelectorAll('.service-head [data-field]')]
    .map(b => [b.dataset.field, b.dataset.value]));
  v.chart_points = Number(s.querySelector('svg.chart').dataset.points);
  return v;
})()"""


def number(text):
    return None if text in ("", None) else float(text)


class DashboardTestCase(unittest.TestCase):
    """One usm, one server and one browser for the class; each test opens
    its own tab, so its console errors are its own."""

    @classmethod
    def setUpClass(cls):
        cls.usm = None
        cls.browser = None
        cls.procs = []
        cls.artifacts = os.environ.get("USM_TEST_ARTIFACTS") or tempfile.mkdtemp(
            prefix="usm-dashboard-")
        os.makedirs(cls.artifacts, exist_ok=True)
        print("\ndashboard screenshots: %s" % cls.artifacts, file=sys.stderr, flush=True)

    @classmethod
    def tearDownClass(cls):
        if cls.browser:
            cls.browser.close()
        stop_processes(cls.procs)
        if cls.usm:
            cls.usm.stop()

    def setUp(self):
        require_privileges(self)
        if not os.path.exists(CHROMIUM):
            self.fail("chromium is needed (scripts/setup.sh test installs it)")
        cls = type(self)
        if cls.usm is None:
            cls.usm = Usm().start()
            cls.port = free_port()
            cls.comm = "usmdash%d" % (os.getpid() % 100000)  # <= 15 characters
            cls.service = "dashboard-e2e-%d" % os.getpid()
            spawn_ready(renamed_http_server_args(cls.comm, "plain", cls.port), cls.procs,
                        env=dict(os.environ, OTEL_SERVICE_NAME=cls.service))
            cls.server = "127.0.0.1:%d" % cls.port
        if cls.browser is None:
            cls.browser = Chromium()

    # ---- helpers ----

    def api_rows(self):
        r = self.usm.get("/usm/http_stats")
        self.assertEqual(r.status, 200, r.body)
        return [row for row in r.json() if row["server"]["port"] == self.port]

    def api_counts(self):
        return {(r["method"], r["path"], r["status"]): r["count"] for r in self.api_rows()}

    def drive(self, requests, expected):
        """Sends the requests on one connection and waits until the API
        counts exactly expected (counts since the test's usm started)."""
        raw_exchange(self.port, requests)
        wait_for(lambda: self.api_counts() == expected, timeout=10,
                 what="/usm/http_stats to count %s (has %s)" % (expected, self.api_counts()))

    def page_status_rows(self):
        return self.browser.evaluate(STATUS_ROWS_JS % self.server)

    def page_service(self):
        return self.browser.evaluate(SERVICE_JS % self.service)

    def open_dashboard(self):
        self.browser.open(self.usm.url("/"))
        self.browser.wait_for("window.usmDashboardReads >= 2", what="two reads of the API")

    def screenshot(self, name):
        path = self.browser.screenshot(os.path.join(self.artifacts, name))
        self.assertGreater(os.path.getsize(path), 10000)
        print("screenshot: %s" % path, file=sys.stderr, flush=True)

    def assert_page_matches_api(self):
        """Every API row of the server is one row of the page, with the
        API's count and quantiles, and the endpoint and service totals
        are their sums. Returns the API rows compared."""
        rows = self.api_rows()
        want = sorted((r["method"], r["path"], r["status"]) for r in rows)
        self.browser.wait_for(
            "(() => { const r = %s; return r.length === %d && r.reduce((n, x) => n + "
            "Number(x.values.count), 0) === %d; })()"
            % (STATUS_ROWS_JS % self.server, len(rows), sum(r["count"] for r in rows)),
            what="the page to show the API's %d rows" % len(rows))
        page = {(p["method"], p["path"], p["status"]): p for p in self.page_status_rows()}
        self.assertEqual(sorted(page), want)
        for r in rows:
            p = page[(r["method"], r["path"], r["status"])]
            self.assertEqual(p["pid"], str(r["server"]["pid"]))
            self.assertEqual(int(p["values"]["count"]), r["count"], p)
            self.assertEqual(p["texts"]["count"], str(r["count"]))
            for q in ("p50", "p90", "p99", "max"):
                # the number itself, and the text shown is it rounded
                self.assertEqual(number(p["values"][q]), r["latency_ms"][q], (q, p, r))
                shown = float(p["texts"][q].split()[0])
                self.assertAlmostEqual(shown, r["latency_ms"][q], delta=0.0006 + 0.001 * shown)
        endpoints = self.browser.evaluate(ENDPOINT_ROWS_JS % self.server)
        self.assertEqual(len(endpoints), len({(r["method"], r["path"]) for r in rows}))
        for e in endpoints:
            mine = [r for r in rows if (r["method"], r["path"]) == (e["method"], e["path"])]
            total = sum(r["count"] for r in mine)
            errors = sum(r["count"] for r in mine if r["status"] >= 500)
            self.assertEqual(int(e["values"]["count"]), total, e)
            self.assertEqual(number(e["values"]["error_pct"]), errors / total, e)
        svc = self.page_service()
        self.assertIsNotNone(svc, "no section for service %s" % self.service)
        self.assertEqual({(r["service"], r["server"]["comm"]) for r in rows},
                         {(self.service, self.comm)})
        self.assertIsNone(self.browser.evaluate(SERVICE_JS % self.comm),
                          "a section for the command %s" % self.comm)
        total = sum(r["count"] for r in rows)
        self.assertEqual(int(svc["count"]), total)
        self.assertEqual(number(svc["error_pct"]),
                         sum(r["count"] for r in rows if r["status"] >= 500) / total)
        return rows

    # ---- tests ----

    def test_a_the_page_is_served_from_apid_with_a_policy_that_allows_nothing_else(self):
        r = self.usm.get("/")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["Content-Type"], "text/html; charset=utf-8")
        csp = r.headers.get("Content-Security-Policy", "")
        for directive in ("default-src 'none'", "connect-src 'self'", "frame-ancestors 'none'"):
            self.assertIn(directive, csp)
        self.assertTrue(r.body.startswith("<!DOCTYPE html>"), r.body[:80])
        self.assertTrue(r.body.isascii())
        # the rest of the tree is still JSON 404, and / is GET only
        r = self.usm.get("/nothing/here")
        self.assertEqual((r.status, r.json()["status"]), (404, 404))
        r = self.usm.request("POST", "/", b"{}")
        self.assertEqual((r.status, r.headers.get("Allow")), (405, "GET"))

    def test_b_numbers_match_the_api_for_real_traffic_with_no_console_error(self):
        reqs = ([get_request("/d1")] * 3 + [get_request("/d2", "POST", b"x=1")] +
                [get_request("/missing")] * 2 + [get_request("/boom")] +
                [get_request(HOSTILE_PATH)])
        self.drive(reqs, {("GET", "/d1", 200): 3, ("POST", "/d2", 200): 1,
                          ("GET", "/missing", 404): 2, ("GET", "/boom", 500): 1,
                          ("GET", HOSTILE_PATH, 200): 1})
        self.open_dashboard()
        rows = self.assert_page_matches_api()
        self.assertEqual(sum(r["count"] for r in rows), 8)
        # the hostile path is text in its row, and nothing of it ran
        self.assertIn(HOSTILE_PATH, [p["path"] for p in self.page_status_rows()])
        self.assertEqual(self.browser.evaluate(
            "[document.querySelectorAll('#services img').length, typeof window.pwned]"),
            [0, "undefined"])
        self.assertTrue(self.browser.evaluate(
            "[...document.querySelectorAll('td.path')].some(td => td.textContent === %r)"
            % ("GET " + HOSTILE_PATH)))
        self.screenshot("dashboard.png")
        self.assertEqual(self.browser.console_errors(), [])

    def test_c_rates_come_from_successive_reads(self):
        # Exact: the page's own summary of two real reads, two seconds apart.
        before = self.api_rows()
        counts = self.api_counts()
        want = dict(counts)
        want[("GET", "/r1", 200)] = counts.get(("GET", "/r1", 200), 0) + 4
        want[("GET", "/boom", 500)] = counts.get(("GET", "/boom", 500), 0) + 2
        self.drive([get_request("/r1")] * 4 + [get_request("/boom")] * 2, want)
        after = self.api_rows()
        self.browser.open(self.usm.url("/"))
        summary = self.browser.evaluate(
            "(() => { const prev = {rows: {}}; const before = %s;"
            "before.forEach(r => prev.rows[usmDashboard.rowKey(r)] = r);"
            "return usmDashboard.summarize(%s, prev, 2.0)"
            ".map(s => [s.name, s.rate, s.errorRate, s.mean]); })()"
            % (self.json(before), self.json(after)))
        mine = [s for s in summary if s[0] == self.service]
        self.assertEqual(len(mine), 1, summary)
        d_sum = sum(r["latency_ms"]["sum"] for r in after) - sum(r["latency_ms"]["sum"]
                                                                 for r in before)
        self.assertEqual(mine[0][1:3], [6 / 2.0, 2 / 2.0])
        self.assertAlmostEqual(mine[0][3], d_sum / 6, places=6)

        # Live: steady traffic shows a rate and an error rate, then none.
        self.browser.wait_for("window.usmDashboardReads >= 2", what="two reads of the API")
        stop = threading.Event()
        sent = []

        def load():
            deadline = time.monotonic() + 8
            i = 0
            while not stop.is_set() and time.monotonic() < deadline:
                path = "/boom" if i % 5 == 4 else "/live"
                raw_exchange(self.port, [get_request(path)])
                sent.append(path)
                i += 1
                time.sleep(0.05)

        t = threading.Thread(target=load)
        t.start()
        try:
            busy = self.browser.wait_for(
                "(() => { const s = %s; return s && Number(s.rate) > 0 && Number(s.error_rate) > 0"
                " && s; })()" % (SERVICE_JS % self.service), timeout=8,
                what="a request rate and an error rate on the page")
            self.assertLess(number(busy["error_rate"]), number(busy["rate"]))
            # a few seconds of chart before the picture
            self.browser.wait_for("(() => { const s = %s; return s && s.chart_points >= 4; })()"
                                  % (SERVICE_JS % self.service), timeout=8,
                                  what="four seconds of latency in the chart")
            self.screenshot("dashboard-live.png")
        finally:
            stop.set()
            t.join()
        self.browser.wait_for("(() => { const s = %s; return s && s.rate === '0'; })()"
                              % (SERVICE_JS % self.service), timeout=8,
                              what="the rate to fall to 0 after the traffic stopped")
        self.assertGreaterEqual(self.page_service()["chart_points"], 1)
        rows = self.assert_page_matches_api()
        live = {r["path"]: r["count"] for r in rows if r["path"] in ("/live",)}
        self.assertEqual(live, {"/live": sent.count("/live")})
        self.assertEqual(self.browser.console_errors(), [])

    def test_d_the_console_check_sees_what_the_policy_refuses(self):
        """The check the tests above rely on can fail: an asset from
        elsewhere is refused by the page's policy, and that is an error."""
        self.open_dashboard()
        self.assertEqual(self.browser.console_errors(), [])
        elsewhere = "http://127.0.0.1:%d/x.png" % free_port()
        self.browser.evaluate("(() => { const i = document.createElement('img'); i.src = %r;"
                              " document.body.appendChild(i); return 1; })()" % elsewhere)
        self.browser.pump(1.0)
        errors = self.browser.console_errors()
        self.assertTrue(any("Content Security Policy" in e for e in errors), errors)

    @staticmethod
    def json(value):
        return json.dumps(value)


if __name__ == "__main__":
    unittest.main()
