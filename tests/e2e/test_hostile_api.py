"""Hostile API clients (issue 15): each gets the answer the HTTP standard
names instead of a silently closed connection, other clients are served
meanwhile, and apid's memory stays bounded.

Measured before apid read heads itself (nng 1.5.2's HTTP server): a
200 KB request line, a 9 KB one, 20,000 header lines and one 20 KB header
were all closed with no answer, an idle connection was kept for good, and
5,000 idle connections took apid's RSS from 10 MB to 84 MB.

Figures are printed (RSS from /proc/PID/status VmRSS).
"""
import os
import resource
import socket
import threading
import time
import unittest

from usm_harness import Usm, proc_status, require_privileges

HEAD_TIMEOUT = 10            # API_HEAD_TIMEOUT_MS (apid/api_server.h)
MAX_CONNECTIONS = 8192       # API_MAX_CONNECTIONS
IDLE = 5000
RSS_BOUND_KB = 128 * 1024    # apid's VmRSS with 5,000 idle connections (sanitizer build)


def rss_kb(pid):
    return int(proc_status(pid)["VmRSS"].split()[0])


def read_answer(s, timeout=HEAD_TIMEOUT + 10):
    """Reads until the peer closes (every refusal closes): (status, text)."""
    s.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass  # the answer came before the reset (apid closed with our bytes unread)
    head, _, body = data.partition(b"\r\n\r\n")
    if not head:
        return None, ""
    return int(head.split(b" ")[1]), data.decode("latin-1")


def send_all(s, data):
    """Sends data; apid may answer and close before it took it all."""
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


class HostileApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = min(hard, MAX_CONNECTIONS + 2048)
        if soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        cls.usm = None

    def setUp(self):
        require_privileges(self)
        if HostileApiTest.usm is None:
            HostileApiTest.usm = Usm().start()
        self.usm = HostileApiTest.usm
        self.apid = self.usm.pid_of("usm-apid")

    @classmethod
    def tearDownClass(cls):
        if cls.usm:
            cls.usm.stop()

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.usm.port), timeout=10)

    def accept_queue(self):
        """Connections waiting in apid's listen backlog (/proc/net/tcp
        shows a listening socket's accept queue as its rx_queue)."""
        local = "0100007F:%04X" % self.usm.port
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[1] == local and fields[3] == "0A":
                    return int(fields[4].split(":")[1], 16)
        self.fail("apid does not listen on %s" % local)

    def open_paced(self, n):
        """n connections, opened in batches apid has accepted before the
        next: nng's listen backlog is 128, and a client that outruns
        accept() past it waits a second for its SYN to be sent again,
        which would spread thousands of connections over more than the
        10 s the first ones may stay idle."""
        conns = []
        while len(conns) < n:
            conns.extend(self.connect() for _ in range(min(100, n - len(conns))))
            deadline = time.monotonic() + 5
            while self.accept_queue() > 0 and time.monotonic() < deadline:
                time.sleep(0.005)
        return conns

    def assert_refused(self, data, status, says):
        with self.connect() as s:
            send_all(s, data)
            got, text = read_answer(s)
        self.assertEqual(got, status, text[:300])
        self.assertIn('"status":%d' % status, text)
        self.assertIn(says, text)
        self.assertIn("Connection: close", text)

    def metric(self, name):
        for line in self.usm.get("/metrics").body.splitlines():
            if line.startswith(name + " "):
                return int(line.split()[1])
        self.fail("no %s in /metrics" % name)

    def test_request_line_of_200_kb_is_414(self):
        before = rss_kb(self.apid)
        self.assert_refused(b"GET /" + b"a" * 200000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414,
                            "request target is too long")
        self.assert_refused(b"GET /" + b"a" * 9000, 414, "too long")  # unfinished line
        print("\n200 KB request line: 414; apid VmRSS %d kB -> %d kB" % (before, rss_kb(self.apid)))
        self.assertGreaterEqual(self.metric("usm_api_uri_too_long_total"), 2)
        self.assertEqual(self.usm.get("/health").status, 200)

    def test_20000_header_lines_are_431(self):
        before = rss_kb(self.apid)
        fields = b"".join(b"X-%d: y\r\n" % i for i in range(20000))
        self.assert_refused(b"GET /health HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n", 431,
                            "header section is too large")
        self.assert_refused(b"GET /health HTTP/1.1\r\nHost: x\r\nX: " + b"v" * 40000 + b"\r\n\r\n",
                            431, "too large")  # one line over the section's 32 KiB
        print("\n20,000 header lines: 431; apid VmRSS %d kB -> %d kB" % (before, rss_kb(self.apid)))
        self.assertGreaterEqual(self.metric("usm_api_headers_too_large_total"), 2)
        # Within the limits: served.
        r = self.usm.get("/health")
        self.assertEqual(r.status, 200)

    def test_slow_head_is_408_while_others_are_served(self):
        head = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
        start = time.monotonic()
        served = 0
        with self.connect() as slow:
            sent = 0
            try:
                while sent < len(head) - 1:  # never the last byte
                    slow.send(head[sent:sent + 1])
                    sent += 1
                    self.assertEqual(self.usm.get("/health").status, 200)
                    served += 1
                    time.sleep(1)
            except (BrokenPipeError, ConnectionResetError):
                pass
            status, text = read_answer(slow)
        took = time.monotonic() - start
        print("\nslow head (a byte a second): %s after %.1f s, %d bytes sent; %d other requests "
              "served meanwhile" % (status, took, sent, served))
        self.assertEqual(status, 408, text)
        self.assertIn("not complete in time", text)
        # Each request made meanwhile was answered 200 (asserted in the
        # loop); a few at least were made.
        self.assertGreaterEqual(served, 3)

    def test_5000_idle_connections_then_503_beyond_the_cap(self):
        before = rss_kb(self.apid)
        opened = time.monotonic()
        idle = []
        try:
            idle = self.open_paced(IDLE)
            fds = len(os.listdir("/proc/%d/fd" % self.apid))
            # Every one accepted (apid holds a socket for each) ...
            rss = rss_kb(self.apid)
            t = time.monotonic()
            status = self.usm.get("/health").status
            latency = time.monotonic() - t
            print("\n%d idle connections: apid holds %d fds, VmRSS %d kB -> %d kB (bound %d kB); "
                  "GET /health meanwhile: %d in %.3f s" % (IDLE, fds, before, rss, RSS_BOUND_KB,
                                                           status, latency))
            self.assertGreaterEqual(fds, IDLE)
            self.assertEqual(status, 200)
            self.assertLess(rss, RSS_BOUND_KB)
            self.assertGreaterEqual(self.metric("usm_api_connections"), IDLE)

            # ... up to the cap; the next ones are told 503.
            more = []
            refused = 0
            try:
                more = self.open_paced(MAX_CONNECTIONS - IDLE + 20)
                for s in more[-10:]:
                    got, _ = read_answer(s, timeout=5)
                    refused += got == 503
            finally:
                for s in more:
                    s.close()
            print("%d more connections: the last 10 answered 503: %d; apid VmRSS %d kB"
                  % (len(more), refused, rss_kb(self.apid)))
            self.assertEqual(refused, 10)
            self.assertGreaterEqual(self.metric("usm_api_refused_busy_total"), 10)

            # Idle ones are told 408 when their time is up.
            left = HEAD_TIMEOUT + 3 - (time.monotonic() - opened)
            if left > 0:
                time.sleep(left)
            status, text = read_answer(idle[0], timeout=5)
            self.assertEqual(status, 408, text)
        finally:
            for s in idle:
                s.close()
        wait = time.monotonic() + 10
        while self.metric("usm_api_connections") > 1 and time.monotonic() < wait:
            time.sleep(0.2)
        print("after: apid VmRSS %d kB, %d fds" % (rss_kb(self.apid),
                                                 len(os.listdir("/proc/%d/fd" % self.apid))))
        self.assertLessEqual(self.metric("usm_api_connections"), 1)

    def test_routes_waiting_for_the_collector_leave_others_served(self):
        """Routes that ask the collector run on a thread of their own: under
        nng's server, 8 concurrent GET /usm/stats held all of nng's task
        threads, which also deliver the collector's answers, so most
        waited out the IPC timeout (503) and nothing else moved."""
        results = []
        lock = threading.Lock()

        def ask(n):
            for _ in range(n):
                r = self.usm.get("/usm/stats")
                with lock:
                    results.append(r.status)

        workers = [threading.Thread(target=ask, args=(20,)) for _ in range(16)]
        for w in workers:
            w.start()
        others = []
        while any(w.is_alive() for w in workers):
            others.append(self.usm.get("/nothing").status)
        for w in workers:
            w.join()
        print("\n16 clients x 20 GET /usm/stats: %s; other requests meanwhile: %d, %s"
              % (sorted(set(results)), len(others), sorted(set(others))))
        self.assertEqual(results, [200] * 320)
        self.assertGreater(len(others), 0)
        self.assertEqual(set(others), {404})

    def test_head_is_answered_without_a_body(self):
        with self.connect() as s:
            send_all(s, b"HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n"
                        b"GET /usm/nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            _, text = read_answer(s, timeout=5)
        first, _, rest = text.partition("\r\n\r\n")
        self.assertIn("Content-Length: ", first)
        self.assertNotEqual(first.split("\r\n")[0].split()[1], "200", first)  # GET only: 405
        # What follows the first head is the second answer, not a body.
        self.assertTrue(rest.startswith("HTTP/1.1 404 "), rest[:200])

    def test_http10_keep_alive_is_answered_and_closed(self):
        """An HTTP/1.0 client that asks to keep the connection is told
        Connection: close and the connection closes (it would otherwise
        wait for the idle timeout: apid does not answer keep-alive)."""
        with self.connect() as s:
            send_all(s, b"GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            status, text = read_answer(s, timeout=5)  # returns once apid closed
        self.assertEqual(status, 200, text[:300])
        self.assertIn("Connection: close", text)

    def test_long_requests_cannot_lock_out_ordinary_ones(self):
        """Connections holding 8 KiB targets use up the shared request
        budget; requests of ordinary size are still served."""
        before = self.metric("usm_api_refused_memory_total")
        holders = []
        try:
            holders = self.open_paced(2300)  # 2,300 x (8 KiB - 512 B) > 16 MiB
            for h in holders:
                send_all(h, b"GET /" + b"a" * 8100)
            time.sleep(1)
            statuses = [self.usm.get("/health").status for _ in range(20)]
            refused = self.metric("usm_api_refused_memory_total") - before
            print("\n2,300 connections holding 8 KiB targets: %d refused for memory; "
                  "20 GET /health: %s; apid VmRSS %d kB" % (refused, sorted(set(statuses)),
                                                           rss_kb(self.apid)))
            self.assertGreater(refused, 0)  # the budget was reached
            self.assertEqual(statuses, [200] * 20)
        finally:
            for h in holders:
                h.close()


if __name__ == "__main__":
    unittest.main()
