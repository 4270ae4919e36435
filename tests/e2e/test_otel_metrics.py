"""End-to-end: /metrics in OpenTelemetry's HTTP conventions
(http_server_request_duration_seconds, http_client_request_duration_seconds)
with real traffic, checked by promtool and by a real Prometheus (Debian's
`prometheus`, started here on loopback with its own storage, scraping usm
every second) whose HTTP API must give exactly the counts driven.

A clear-text server of this test's own under a command name no other
process has is seen from its side (server family); node's HTTPS server,
whose OpenSSL usm does not probe, is seen only from its curl client
(client family). Every assertion is about this test's own ports."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse  # parsing only: urllib.request would load libssl here

from test_http import get_request, raw_exchange
from usm_harness import (Usm, free_port, http_request, make_cert, node_tls_server_args,
                         renamed_http_server_args, require_privileges, spawn_ready,
                         stop_processes, wait_for)

PROMETHEUS = "/usr/bin/prometheus"

PROMETHEUS_CONFIG = """global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: usm
    static_configs:
      - targets: ["127.0.0.1:{api_port}"]
"""


def parse_samples(text, name):
    """{frozenset of (label, value)}: value for the samples of one name."""
    out = {}
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        labels, value = line[len(name) + 1:].rsplit("} ", 1)
        pairs = []
        for part in labels.split('",'):
            k, _, v = part.partition('="')
            pairs.append((k, v.rstrip('"')))
        out[frozenset(pairs)] = float(value)
    return out


class OtelMetricsTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.procs = []
        cls.tmp = tempfile.mkdtemp(prefix="usm-otel-")
        os.chmod(cls.tmp, 0o755)
        cls.usm = None

    @classmethod
    def tearDownClass(cls):
        stop_processes(cls.procs)
        if cls.usm:
            cls.usm.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        require_privileges(self)
        for tool in ("promtool", "prometheus", "node", "curl"):
            self.assertIsNotNone(shutil.which(tool), tool + " is needed (scripts/setup.sh test)")
        cls = type(self)
        if cls.usm is not None:
            return
        cls.usm = Usm("http_request_timeout_ms=1500").start()
        # libssl mapped by a long-lived process: curl is traced from its first call
        spawn_ready([sys.executable, "-c", "import ctypes, time; ctypes.CDLL('libssl.so.3'); "
                     "print('ready', flush=True); time.sleep(3600)"], cls.procs)
        wait_for(lambda: any("libssl.so.3" in os.path.basename(e["FilePath"])
                             for e in self.traced()), timeout=15, what="libssl traced")
        cls.service = "usmotel%d" % (os.getpid() % 100000)
        cls.port = free_port()
        spawn_ready(renamed_http_server_args(cls.service, "plain", cls.port), cls.procs)
        cls.node_port = free_port()
        key, cert = make_cert(cls.tmp)
        spawn_ready(node_tls_server_args(cls.tmp, cls.node_port, cert, key), cls.procs)
        cls.driven = self.drive()

    def traced(self):
        r = self.usm.get("/debug/usm/traced_programs")
        return r.json() if r.status == 200 else []

    def api_counts(self, port):
        r = self.usm.get("/usm/http_stats")
        self.assertEqual(r.status, 200, r.body)
        return {(row["method"], row["path"], row["status"]): row["count"]
                for row in r.json() if row["server"]["port"] == port}

    def drive(self):
        """Server-side and client-only exchanges; waits until the API has
        exactly them. Returns {(family, method, route, status): count}."""
        raw_exchange(self.port, [get_request("/o1")] * 3 + [get_request("/o2", "POST", b"a=b")] +
                     [get_request("/missing")] * 2 + [get_request("/o3", "PURGE")])
        server = {("GET", "/o1", 200): 3, ("POST", "/o2", 200): 1, ("GET", "/missing", 404): 2,
                  (None, "/o3", 501): 1}  # python's http.server: PURGE is not implemented
        base = "https://127.0.0.1:%d" % self.node_port
        argv = ["curl", "-sk", "-w", "%{http_code} "]
        for url in (base + "/c1", base + "/c1", base + "/missing"):
            argv += ["-o", "/dev/null", url]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.stdout.split(), ["200", "200", "404"], r.stderr)
        client = {("GET", "/c1", 200): 2, ("GET", "/missing", 404): 1}
        wait_for(lambda: self.api_counts(self.port) == server, timeout=10,
                 what="server counts %s" % server)
        wait_for(lambda: self.api_counts(self.node_port) == client, timeout=10,
                 what="client counts %s" % client)
        time.sleep(1.5)  # nothing counted twice a little later
        self.assertEqual(self.api_counts(self.port), server)
        self.assertEqual(self.api_counts(self.node_port), client)
        want = {}
        for (m, p, s), n in server.items():
            want[("server", m or "_OTHER", p, s)] = n
        for (m, p, s), n in client.items():
            want[("client", m, p, s)] = n
        return want

    def otel_counts(self, samples, port):
        """{(method, route, status): count} of samples of one server port."""
        out = {}
        for labels, value in samples.items():
            d = dict(labels)
            if d.get("server_port") == str(port):
                key = (d["http_request_method"], d["http_route"],
                       int(d["http_response_status_code"]))
                out[key] = out.get(key, 0) + value
        return out

    def want(self, family):
        return {k[1:]: v for k, v in self.driven.items() if k[0] == family}

    # ---- tests ----

    def test_metrics_in_opentelemetry_names_pass_promtool_and_count_exactly(self):
        r = self.usm.get("/metrics")
        self.assertEqual(r.status, 200)
        check = subprocess.run(["promtool", "check", "metrics"], input=r.body,
                               capture_output=True, text=True, timeout=30)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        server = parse_samples(r.body, "http_server_request_duration_seconds_count")
        client = parse_samples(r.body, "http_client_request_duration_seconds_count")
        self.assertEqual(self.otel_counts(server, self.port), self.want("server"))
        self.assertEqual(self.otel_counts(client, self.node_port), self.want("client"))
        # the server's own labels; the client family knows no service
        for labels in server:
            d = dict(labels)
            if d.get("server_port") == str(self.port):
                self.assertEqual((d["server_address"], d["service_name"]),
                                 ("127.0.0.1", self.service), d)
        for labels in client:
            d = dict(labels)
            if d.get("server_port") == str(self.node_port):
                self.assertEqual((d["server_address"], d["service_name"]),
                                 ("127.0.0.1", "unknown_service"), d)
        # the same exchanges as the usm_http_* series, split by side
        usm = parse_samples(r.body, "usm_http_requests_total")
        for port, family in ((self.port, "server"), (self.node_port, "client")):
            total = sum(v for k, v in usm.items() if ("server", "127.0.0.1:%d" % port) in k)
            self.assertEqual(total, sum(self.want(family).values()))
        for name in ("http_server_request_duration_seconds", "http_client_request_duration_seconds"):
            self.assertIn("# TYPE %s histogram\n" % name, r.body)

    def test_a_real_prometheus_scrapes_them_and_answers_the_exact_counts(self):
        pdir = tempfile.mkdtemp(prefix="prometheus-", dir=self.tmp)
        config = os.path.join(pdir, "prometheus.yml")
        with open(config, "w") as f:
            f.write(PROMETHEUS_CONFIG.format(api_port=self.usm.port))
        port = free_port()
        log = open(os.path.join(pdir, "prometheus.log"), "w")
        p = subprocess.Popen([PROMETHEUS, "--config.file=" + config,
                              "--storage.tsdb.path=" + os.path.join(pdir, "data"),
                              "--web.listen-address=127.0.0.1:%d" % port, "--log.level=warn"],
                             stdout=log, stderr=subprocess.STDOUT, cwd=pdir)
        type(self).procs.append(p)
        try:
            def query(q):
                path = "/api/v1/query?query=" + urllib.parse.quote(q, safe="")
                try:
                    r = http_request(port, "GET", path)
                except OSError:
                    return None
                if r.status != 200:
                    return None
                body = json.loads(r.body)
                return body["data"]["result"] if body["status"] == "success" else None

            def counts(q):
                result = query(q) or []
                return {(m["metric"]["http_request_method"], m["metric"]["http_route"],
                         int(m["metric"]["http_response_status_code"])): int(float(m["value"][1]))
                        for m in result}

            wait_for(lambda: query('up{job="usm"} == 1'), timeout=30, interval=0.25,
                     what="Prometheus to scrape usm (log: %s)" % log.name)
            server_q = 'http_server_request_duration_seconds_count{server_port="%d"}' % self.port
            client_q = ('http_client_request_duration_seconds_count{server_port="%d"}'
                        % self.node_port)
            wait_for(lambda: counts(server_q) == self.want("server"), timeout=15,
                     what="Prometheus's server counts %s (has %s)" % (self.want("server"),
                                                                      counts(server_q)))
            self.assertEqual(counts(client_q), self.want("client"))
            # the labels a dashboard selects on, as Prometheus stored them
            for m in query(server_q):
                self.assertEqual((m["metric"]["service_name"], m["metric"]["server_address"],
                                  m["metric"]["job"]), (self.service, "127.0.0.1", "usm"))
            # buckets: +Inf is the count; summed by PromQL as a dashboard does
            inf = query('sum(http_server_request_duration_seconds_bucket{server_port="%d",'
                        'le="+Inf"})' % self.port)
            self.assertEqual(int(float(inf[0]["value"][1])), sum(self.want("server").values()))
            same = query('sum(usm_http_requests_total{server="127.0.0.1:%d"}) - '
                         'sum(http_server_request_duration_seconds_count{server_port="%d"})'
                         % (self.port, self.port))
            self.assertEqual(float(same[0]["value"][1]), 0.0)
        finally:
            stop_processes([p], timeout=15)
            log.close()


if __name__ == "__main__":
    unittest.main()
