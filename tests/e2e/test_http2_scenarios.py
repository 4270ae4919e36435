"""End-to-end: issue 14's HTTP/2 scenarios with real frames over real
sockets, counted exactly at nginx.

A small client written with python3-h2 (hpack and hyperframe under it)
talks h2 to Debian's nginx, over TLS (ALPN h2) and in clear text with
prior knowledge, configured as in test_http2.py (NginxH2), so that each
test's frames are exactly the ones it wants: 1,500 distinct paths on one
connection (the dynamic table evicts all the time), header blocks cut
into CONTINUATION frames, fifty SETTINGS frames before the first
HEADERS, literals never indexed and without indexing, Huffman and raw
strings, PING, PRIORITY and WINDOW_UPDATE between a request's HEADERS and
its DATA, RST_STREAM from the client, statuses outside HPACK's static
table, dynamic table size updates, paths longer than http_max_path_len,
and a connection that started before usm. Each test checks the rows of
its own nginx's ports exactly and the counters it touches as deltas; the
unit tests of the same cases are in tests/unit/test_h2_conn.c."""
import os
import socket
import ssl
import time
import unittest

from usm_harness import NGINX, Usm, require_privileges, wait_for

import test_http2

try:
    import h2.config
    import h2.connection
    import h2.events
    import h2.settings
    import hpack
    from hpack.hpack import encode_integer
    from hpack.table import HeaderTable
    from hyperframe.frame import RstStreamFrame
except ImportError:  # setUp says so
    h2 = None

# What the scenarios ask nginx for, beside NGINX_SERVER's locations.
LOCATIONS = """        keepalive_requests 10000;
        location /p/ { return 200 "p"; }
        location /long/ { return 200 "long"; }
        location = /post { return 200 "posted"; }
        location = /s201 { return 201 "created"; }
        location = /s299 { return 299 "odd"; }
        location = /s302 { return 302 /elsewhere; }
        location = /s503 { return 503 "busy"; }
        # reads the whole request body before going upstream: a request
        # whose body never comes is never answered
        location = /hold { proxy_pass http://127.0.0.1:9; }"""

UNCHANGED = ("http2_hpack_desync", "http2_framing_lost", "http2_started_unseen",
             "http_exchanges_without_tuple", "http2_streams_reset")


class Encoder:
    """hpack's Encoder, with choices it does not offer: raw or Huffman
    strings per block (huffman), and literals without indexing (RFC 7541
    6.2.2, for the names in without_indexing; hpack itself writes literals
    with incremental indexing, or never indexed for NeverIndexedHeaderTuple
    and the fields h2 deems sensitive). h2 calls encode() per header block
    and sets header_table_size."""

    def __init__(self, huffman=True, without_indexing=()):
        self.inner = hpack.Encoder()
        self.huffman = huffman
        self.without_indexing = set(without_indexing)

    @property
    def header_table_size(self):
        return self.inner.header_table_size

    @header_table_size.setter
    def header_table_size(self, value):
        self.inner.header_table_size = value

    def encode(self, headers):
        out = self.inner.encode([], huffman=self.huffman)  # size updates first
        for field in headers:
            name, value = bytes(field[0]), bytes(field[1])
            if name in self.without_indexing:
                out += self.literal_without_indexing(name, value)
            else:
                out += self.inner.encode([field], huffman=self.huffman)
        return out

    def string(self, s):
        if self.huffman:
            s = self.inner.huffman_coder.encode(s)
        n = encode_integer(len(s), 7)
        if self.huffman:
            n[0] |= 0x80
        return bytes(n) + s

    def literal_without_indexing(self, name, value):
        index = next((i + 1 for i, (n, _) in enumerate(HeaderTable.STATIC_TABLE) if n == name), 0)
        out = bytes(encode_integer(index, 4))  # 0000xxxx
        if not index:
            out += self.string(name)
        return out + self.string(value)


class H2Client:
    """One HTTP/2 connection to nginx (TLS with ALPN h2, or clear text
    with prior knowledge), its frames written by h2 (or by hand), and what
    came back: statuses, streams ended and reset, PING and SETTINGS acks."""

    def __init__(self, port, tls, encoder=None):
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.set_alpn_protocols(["h2"])
            sock = ctx.wrap_socket(sock, server_hostname="localhost")
            assert sock.selected_alpn_protocol() == "h2", sock.selected_alpn_protocol()
        self.sock = sock
        self.scheme = b"https" if tls else b"http"
        self.conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding=None))
        if encoder:
            self.conn.encoder = encoder
        self.status = {}
        self.ended = set()
        self.reset = set()
        self.pings_acked = 0
        self.settings_acked = 0
        self.remote_settings = False
        self.conn.initiate_connection()

    def close(self):
        self.sock.close()

    def flush(self, chunk=None):
        """What h2 has to send, in one write or in writes of chunk bytes."""
        data = self.conn.data_to_send()
        step = chunk or max(len(data), 1)
        for i in range(0, len(data), step):
            self.sock.sendall(data[i:i + step])

    def send_raw(self, data):
        self.flush()
        self.sock.sendall(data)

    def request(self, path, method=b"GET", headers=(), end=True):
        """A request's HEADERS (h2 writes it, not sent until flush): its stream id."""
        sid = self.conn.get_next_available_stream_id()
        fields = [(b":method", method), (b":scheme", self.scheme), (b":authority", b"127.0.0.1"),
                  (b":path", path) if isinstance(path, bytes) else path] + list(headers)
        self.conn.send_headers(sid, fields, end_stream=end)
        return sid

    def wait(self, done):
        """Reads and answers (acks, window updates) until done()."""
        self.flush()
        while not done():
            data = self.sock.recv(65536)
            if not data:
                raise AssertionError("nginx closed the connection")
            for ev in self.conn.receive_data(data):
                if isinstance(ev, h2.events.ResponseReceived):
                    self.status[ev.stream_id] = int(dict(ev.headers)[b":status"])
                elif isinstance(ev, h2.events.DataReceived):
                    self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2.events.StreamEnded):
                    self.ended.add(ev.stream_id)
                elif isinstance(ev, h2.events.StreamReset):
                    self.reset.add(ev.stream_id)
                elif isinstance(ev, h2.events.PingAckReceived):
                    self.pings_acked += 1
                elif isinstance(ev, h2.events.SettingsAcknowledged):
                    self.settings_acked += 1
                elif isinstance(ev, h2.events.RemoteSettingsChanged):
                    self.remote_settings = True
                elif isinstance(ev, h2.events.ConnectionTerminated):
                    raise AssertionError("GOAWAY from nginx: %s" % ev)
            self.flush()

    def get(self, paths, batch=100, **kw):
        """GETs of paths, at most batch streams at once: their statuses."""
        out = []
        for i in range(0, len(paths), batch):
            sids = [self.request(p, **kw) for p in paths[i:i + batch]]
            self.wait(lambda: all(s in self.ended for s in sids))
            out += [self.status[s] for s in sids]
        return out


class Http2ScenariosTestCase(test_http2.NginxH2, unittest.TestCase):

    def setUp(self):
        require_privileges(self)
        if h2 is None:
            self.fail("python3-h2 is not installed (scripts/setup.sh test installs it)")
        if not os.path.exists(NGINX):
            self.fail("%s is not installed (scripts/setup.sh test installs it)" % NGINX)
        if type(self).usm is None:
            type(self).usm = Usm("http_request_timeout_ms=1500").start()
        self.start_nginx(LOCATIONS)
        self.before_counts = {"tls": self.counts(), "clear": self.counts(self.plain_port)}
        self.before = self.counters()

    def client(self, tls, **kw):
        c = H2Client(self.port if tls else self.plain_port, tls, **kw)
        self.addCleanup(c.close)
        return c

    def expect(self, added, tls=True, unchanged=UNCHANGED):
        """This nginx port's rows are the ones before plus added
        ({(method, path, status): n}), exactly; the unchanged counters did
        not move since setUp."""
        want = dict(self.before_counts["tls" if tls else "clear"])
        for k, n in added.items():
            want[k] = want.get(k, 0) + n
        self.assert_exact(want, self.before, None if tls else self.plain_port, unchanged)

    def delta(self, name):
        return self.counters()[name] - self.before[name]

    def test_01_more_distinct_paths_than_the_dynamic_table_holds(self):
        """1,500 distinct paths on one connection, each indexed by the
        client's encoder: its 4 KiB table evicts the oldest entries all
        the time. Every row is exact, no table lost."""
        c = self.client(tls=True)
        paths = [b"/p/distinct-%04d-%s" % (i, b"x" * (i % 40)) for i in range(1500)]
        self.assertEqual(c.get(paths), [200] * 1500)
        table = c.conn.encoder.header_table
        self.assertLess(len(table.dynamic_entries), 100)  # most were evicted
        self.expect({("GET", p.decode(), 200): 1 for p in paths})

    def test_02_continuation_frames(self):
        """Header blocks cut into a HEADERS frame and CONTINUATIONs of 16
        bytes, sent in one write, and in writes of 5 bytes (a frame header
        split between TLS records and reads)."""
        for tls in (True, False):
            c = self.client(tls)
            c.wait(lambda: c.remote_settings)
            c.conn.max_outbound_frame_size = 16  # h2 splits blocks at this
            filler = [(b"x-filler", b"f" * 200)]
            self.assertEqual(c.get([b"/p/cont-%d" % i for i in range(10)], headers=filler),
                             [200] * 10)
            sid = c.request(b"/p/cont-chunked", headers=filler)
            c.flush(chunk=5)
            c.wait(lambda: sid in c.ended)
            self.assertEqual(c.status[sid], 200)
            want = {("GET", "/p/cont-%d" % i, 200): 1 for i in range(10)}
            want[("GET", "/p/cont-chunked", 200)] = 1
            self.expect(want, tls)

    def test_03_many_settings_frames_before_the_first_headers(self):
        for tls in (True, False):
            c = self.client(tls)
            for i in range(50):
                c.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 65535 + i,
                                        h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE: 8192 + i})
                c.flush()  # one write each
            self.assertEqual(c.get([b"/p/after-settings-1", b"/p/after-settings-2"]), [200, 200])
            c.wait(lambda: c.settings_acked == 51)
            self.expect({("GET", "/p/after-settings-1", 200): 1,
                         ("GET", "/p/after-settings-2", 200): 1}, tls)

    def test_04_literals_never_indexed_and_without_indexing(self):
        """:path and other fields as literals never indexed and without
        indexing, between requests whose :path comes from the dynamic
        table: a literal taken into the table by mistake would shift every
        index after it, and the indexed path would be another one."""
        for tls in (True, False):
            enc = Encoder(without_indexing={b"x-plain"})
            c = self.client(tls, encoder=enc)
            never = hpack.NeverIndexedHeaderTuple
            secret = [never(b"authorization", b"Bearer t0ps3cret"), never(b"x-secret", b"s3")]
            self.assertEqual(c.get([b"/p/indexed-a", b"/p/indexed-b"]), [200, 200])
            self.assertEqual(c.get([never(b":path", b"/p/never-1")], headers=secret), [200])
            self.assertEqual(c.get([never(b":path", b"/p/never-1")], headers=secret), [200])
            enc.without_indexing.add(b":path")
            self.assertEqual(c.get([b"/p/without-1", b"/p/without-1"],
                                   headers=[(b"x-plain", b"not indexed")]), [200, 200])
            enc.without_indexing.discard(b":path")
            # indexed from the dynamic table, as before the literals
            self.assertEqual(c.get([b"/p/indexed-a", b"/p/indexed-b"]), [200, 200])
            self.expect({("GET", "/p/indexed-a", 200): 2, ("GET", "/p/indexed-b", 200): 2,
                         ("GET", "/p/never-1", 200): 2, ("GET", "/p/without-1", 200): 2}, tls)

    def test_05_huffman_and_raw_strings(self):
        """Every literal raw on one connection, Huffman on another, and
        both in turn on a third (characters with long Huffman codes too)."""
        paths = [b"/p/h-%d-~!$*+,;=:@%d" % (i, i) for i in range(6)]
        for tls in (True, False):
            for mode in (False, True, None):
                enc = Encoder(huffman=bool(mode))
                c = self.client(tls, encoder=enc)
                for i, p in enumerate(paths):
                    if mode is None:
                        enc.huffman = i % 2 == 0
                    self.assertEqual(c.get([p], headers=[(b"x-h", b"v%d" % i)]), [200])
            self.expect({("GET", p.decode(), 200): 3 for p in paths}, tls)

    def test_06_ping_priority_and_window_update_between_headers_and_data(self):
        """POSTs whose HEADERS and DATA have PING, PRIORITY and
        WINDOW_UPDATE frames between them: in separate writes, and all in
        one write."""
        for tls in (True, False):
            c = self.client(tls)
            for one_write in (False, True):
                body = b"hello world"
                sid = c.request(b"/post", method=b"POST", end=False,
                                headers=[(b"content-length", b"%d" % len(body))])
                if not one_write:
                    c.flush()
                c.conn.ping(b"pingpong")
                c.conn.prioritize(sid, weight=200)
                c.conn.increment_flow_control_window(1 << 20)
                c.conn.increment_flow_control_window(1 << 16, stream_id=sid)
                if not one_write:
                    c.flush()
                c.conn.send_data(sid, body, end_stream=True)
                pings = c.pings_acked
                c.wait(lambda: sid in c.ended and c.pings_acked > pings)
                self.assertEqual(c.status[sid], 200)
            self.expect({("POST", "/post", 200): 2}, tls)

    def test_07_rst_stream_from_the_client(self):
        """RST_STREAM before any answer (nginx waits for the request's
        body): counted, no row. After the final status but before
        END_STREAM (the client's window is 0, nginx sent HEADERS and
        waits): counted, the row is there. After a whole answer: the
        exchange was counted already, the RST_STREAM is not."""
        SET = h2.settings.SettingCodes
        for tls in (True, False):
            reset_before = self.counters()["http2_streams_reset"]
            c = self.client(tls)
            held = c.request(b"/hold", method=b"POST", end=False,
                             headers=[(b"content-length", b"100")])
            c.flush()
            c.conn.reset_stream(held)
            c.conn.update_settings({SET.INITIAL_WINDOW_SIZE: 0})
            stalled = c.request(b"/big.bin")
            c.wait(lambda: stalled in c.status)
            self.assertNotIn(stalled, c.ended)
            c.conn.reset_stream(stalled)
            c.conn.update_settings({SET.INITIAL_WINDOW_SIZE: 65535})
            self.assertEqual(c.get([b"/index.html"]), [200])
            whole = max(c.ended)
            c.send_raw(RstStreamFrame(whole, error_code=0).serialize())
            # a last request: nginx read the RST_STREAM before it
            self.assertEqual(c.get([b"/p/after-rst"]), [200])
            self.assertNotIn(held, c.status)
            self.expect({("GET", "/big.bin", 200): 1, ("GET", "/index.html", 200): 1,
                         ("GET", "/p/after-rst", 200): 1}, tls,
                        unchanged=UNCHANGED[:-1])
            # both ends are captured here (the client's TLS is the system
            # OpenSSL): each counts its resets, rows are the server's
            self.assertEqual(self.counters()["http2_streams_reset"] - reset_before, 4)

    def test_08_statuses_outside_the_static_table(self):
        """HPACK's static table has 200, 204, 206, 304, 400, 404 and 500:
        others come as literals."""
        paths = {b"/s201": 201, b"/s299": 299, b"/s302": 302, b"/teapot": 418,
                 b"/s503": 503, b"/missing": 404}
        for tls in (True, False):
            c = self.client(tls)
            self.assertEqual(c.get(list(paths) * 2), list(paths.values()) * 2)
            self.expect({("GET", p.decode(), s): 2 for p, s in paths.items()}, tls)

    def test_09_dynamic_table_size_updates(self):
        """The client's encoder shrinks its table to 0 (everything
        evicted), grows it to 256, then to 0 and 4096 in one block (two
        updates at its start), each with requests whose paths it indexes."""
        for tls in (True, False):
            enc = Encoder()
            c = self.client(tls, encoder=enc)
            n = 0
            for sizes in ((), (0,), (256,), (0, 4096), (1024,)):
                for size in sizes:
                    enc.header_table_size = size
                for again in range(2):  # the second from the table, if it held it
                    self.assertEqual(c.get([b"/p/size-%d" % n, b"/p/size-%d-b" % n]), [200, 200])
                n += 1
            want = {}
            for i in range(n):
                want[("GET", "/p/size-%d" % i, 200)] = 2
                want[("GET", "/p/size-%d-b" % i, 200)] = 2
            self.expect(want, tls)

    def test_10_paths_longer_than_http_max_path_len(self):
        """http_max_path_len is 128: a path of 128 bytes is whole, longer
        ones (129, 300: past the 255 any path is kept to) are cut to their
        first 128 bytes and counted in http_paths_truncated; a query does
        not count."""
        head = "/long/" + "a" * 122
        self.assertEqual(len(head), 128)
        exact, longer, longest = head, head + "b", head + "c" * 172
        query = "/long/q?" + "x" * 200
        truncated = self.counters()["http_paths_truncated"]
        for tls in (True, False):
            c = self.client(tls)
            self.assertEqual(c.get([p.encode() for p in (exact, longer, longest, query)]),
                             [200] * 4)
            self.expect({("GET", head, 200): 3, ("GET", "/long/q", 200): 1}, tls)
        self.assertEqual(self.counters()["http_paths_truncated"] - truncated, 4)

    def started_before_usm(self, settings_first):
        """Connections over TLS and in clear text opened and used before a
        second usm starts, then used again (after a SETTINGS frame of the
        client's, with settings_first: which looks like a server's
        preface). What the late usm counted at nginx's two ports, its
        counters' deltas over the second use, and the new connections'
        requests it counted (a request on a new connection after the old
        ones' second use says the ring was read past them)."""
        conns = {tls: self.client(tls) for tls in (True, False)}
        for c in conns.values():
            self.assertEqual(c.get([b"/p/old-1", b"/p/old-2"]), [200, 200])
        late = Usm("http_request_timeout_ms=1500").start()
        self.addCleanup(late.stop)
        first, self.usm = self.usm, late
        try:
            # it captures: a new connection is counted (its probes come a
            # little after its API)
            fresh = 0
            while not self.counts().get(("GET", "/p/fresh-1", 200)):
                self.assertLess(fresh, 30, "the late usm counts no new connection")
                self.assertEqual(self.curl("/p/fresh-1"), ["200"])
                fresh += 1
                time.sleep(0.5)
            before = self.counters()
            for c in conns.values():
                if settings_first:
                    c.conn.update_settings({h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE: 9000})
                    c.flush()
                self.assertEqual(c.get([b"/p/old-1", b"/p/old-3", b"/p/old-4"]), [200] * 3)
            self.assertEqual(self.curl("/p/fresh-2"), ["200"])
            wait_for(lambda: self.counts().get(("GET", "/p/fresh-2", 200)), timeout=10,
                     what="the late usm counting the last request")
            counted = (self.counts(), self.counts(self.plain_port))
            after = self.counters()
        finally:
            self.usm = first
        old = {("GET", "/p/old-1", 200): 2, ("GET", "/p/old-2", 200): 1,
               ("GET", "/p/old-3", 200): 1, ("GET", "/p/old-4", 200): 1}
        return counted, {k: after[k] - before[k] for k in after}, old, fresh

    def test_11_a_connection_started_before_usm_is_no_row(self):
        """The late usm has no row of the old connections, with or without
        a SETTINGS frame first, at nginx's ports only the new connection's;
        the first usm saw them start and counts them all."""
        for settings_first in (False, True):
            counted, delta, old, fresh = self.started_before_usm(settings_first)
            self.assertEqual(counted, ({("GET", "/p/fresh-1", 200): counted[0][
                ("GET", "/p/fresh-1", 200)], ("GET", "/p/fresh-2", 200): 1}, {}))
            self.expect(old, False)
            old.update({("GET", "/p/fresh-1", 200): fresh, ("GET", "/p/fresh-2", 200): 1})
            self.expect(old, True)
            self.before_counts = {"tls": self.counts(), "clear": self.counts(self.plain_port)}

    def test_12_a_connection_started_before_usm_is_counted_as_such(self):
        """An h2 connection the late usm first sees mid-stream is counted
        once per end as started unseen, nothing as desynchronised: met
        with a HEADERS frame first (h2_link_detect: a plausible frame, no
        side known), or with a client SETTINGS frame first, which looks
        like a server's preface until a header block comes before any
        request (h2_conn.c)."""
        for settings_first in (False, True):
            _, delta, _, _ = self.started_before_usm(settings_first)
            self.assertEqual((delta["http2_started_unseen"], delta["http2_hpack_desync"]), (4, 0))


if __name__ == "__main__":
    unittest.main()
