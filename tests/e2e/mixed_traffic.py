#!/usr/bin/env python3
"""Steady mixed HTTP traffic for the fault tests, counted by the client.

usage: mixed_traffic.py TLS_PORT PLAIN_PORT CONTROL_FILE

Four clients run at once until CONTROL_FILE says "stop":
  ka-tls       one keep-alive HTTPS connection (python's OpenSSL)
  ka-plain     one keep-alive clear-text connection
  fresh-tls    a new curl process per request, over TLS
  fresh-plain  a new curl process per request, in clear text
Each request's path is /PHASE/KIND, PHASE being CONTROL_FILE's content
when the request starts, so a test can tell the exchanges of before,
during and after a fault apart. Prints "ready", and at the end one JSON
line: {"driven": {path: answered 200}, "errors": {path: n}}; an error is
a request whose answer did not come (it may or may not have reached the
server), which a test allows for, one each."""
import http.client
import json
import ssl
import subprocess
import sys
import threading
import time

TLS_PORT, PLAIN_PORT, CONTROL = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
lock = threading.Lock()
driven, errors = {}, {}


def phase():
    with open(CONTROL) as f:
        return f.read().strip()


def note(table, path):
    with lock:
        table[path] = table.get(path, 0) + 1


def keep_alive(kind, connect):
    conn = connect()
    while True:
        p = phase()
        if p == "stop":
            break
        path = "/%s/%s" % (p, kind)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            note(driven if r.status == 200 else errors, path)
        except (OSError, http.client.HTTPException):
            note(errors, path)
            conn.close()
            conn = connect()
        time.sleep(0.002)  # steady, not a flood: the machine has two CPUs
    conn.close()


def fresh(kind, url):
    while True:
        p = phase()
        if p == "stop":
            break
        path = "/%s/%s" % (p, kind)
        r = subprocess.run(["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", url + path],
                           capture_output=True, text=True)
        note(driven if r.stdout == "200" else errors, path)


def main():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    threads = [
        threading.Thread(target=keep_alive, args=("ka-tls", lambda: http.client.HTTPSConnection(
            "127.0.0.1", TLS_PORT, context=ctx, timeout=10))),
        threading.Thread(target=keep_alive, args=("ka-plain", lambda: http.client.HTTPConnection(
            "127.0.0.1", PLAIN_PORT, timeout=10))),
        threading.Thread(target=fresh, args=("fresh-tls", "https://127.0.0.1:%d" % TLS_PORT)),
        threading.Thread(target=fresh, args=("fresh-plain", "http://127.0.0.1:%d" % PLAIN_PORT)),
    ]
    print("ready", flush=True)
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"driven": driven, "errors": errors}), flush=True)


if __name__ == "__main__":
    main()
