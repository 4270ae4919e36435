#!/usr/bin/env python3
"""Small HTTP servers for the end-to-end tests, one per process so that
each has its own pid and command for usm to attribute requests to.

usage: http_servers.py plain PORT
       http_servers.py plain6 PORT        (on [::1])
       http_servers.py tls PORT CERT KEY
       http_servers.py silent PORT        (reads requests, never answers)
       http_servers.py threaded PORT      (plain, a thread per connection)

plain and tls speak HTTP/1.1 with keep-alive: /missing answers 404,
/boom 500, anything else 200 with a small body. Prints "ready" once
listening."""
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


def main():
    kind, port = sys.argv[1], int(sys.argv[2])
    if kind == "silent":
        silent(port)
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
