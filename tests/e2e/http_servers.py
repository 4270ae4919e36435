#!/usr/bin/env python3
"""Small HTTP servers for the end-to-end tests, one per process so that
each has its own pid and command for usm to attribute requests to.

usage: http_servers.py plain PORT
       http_servers.py plain6 PORT        (on [::1])
       http_servers.py tls PORT CERT KEY
       http_servers.py silent PORT        (reads requests, never answers)
       http_servers.py threaded PORT      (plain, a thread per connection)
       http_servers.py forked PORT        (plain, served by a forked child)

plain and tls speak HTTP/1.1 with keep-alive: /missing answers 404,
/boom 500, anything else 200 with a small body. Prints "ready" once
listening ("ready CHILD_PID" for forked)."""
import ctypes
import os
import signal
import socket
import ssl
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        path = self.path.split("?", 1)[0]
        status = {"/missing": 404, "/boom": 500}.get(path, 200)
        body = ("%s %s\n" % (self.command, path)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = answer

    def log_message(self, fmt, *args):
        pass


def silent(port):
    """Accepts and reads, never answers: the request must expire."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(16)
    print("ready", flush=True)
    held = []
    while True:
        conn, _ = listener.accept()
        conn.recv(65536)
        held.append(conn)


def forked(port):
    """Binds, then forks a child that serves without exec, as pre-forking
    servers do; the parent only waits (and stops the child when told)."""
    server = HTTPServer(("127.0.0.1", port), Handler)
    child = os.fork()
    if child == 0:
        PR_SET_PDEATHSIG = 1  # the child goes when the parent does
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() == 1:
            os._exit(0)
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        server.serve_forever()
        os._exit(0)
    server.socket.close()

    def stop(*_):
        os.kill(child, signal.SIGTERM)
        os.waitpid(child, 0)
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    print("ready %d" % child, flush=True)
    os.waitpid(child, 0)


def main():
    kind, port = sys.argv[1], int(sys.argv[2])
    if kind == "silent":
        silent(port)
        return
    if kind == "forked":
        forked(port)
        return
    if kind == "plain6":
        class Server6(HTTPServer):
            address_family = socket.AF_INET6
        server = Server6(("::1", port), Handler)
    elif kind == "threaded":
        # a keep-alive client would hold the one-connection server for
        # itself: clients that connect meanwhile need their own thread
        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    else:
        server = HTTPServer(("127.0.0.1", port), Handler)
    if kind == "tls":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[3], sys.argv[4])
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
