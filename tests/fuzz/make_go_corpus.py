#!/usr/bin/python3
"""Writes the seeds of fuzz_go_tables into tests/fuzz/corpus/go_tables/:
a real .go.buildinfo section and the first bytes of a real
crypto/tls.(*Conn).Read (from a Go build given as argument, e.g.
build-test/tests/go/https_server_stripped), and a small .gopclntab made
here in Go 1.18's layout with three functions. Each seed starts with its
selector byte (0 buildinfo, 1 pclntab, 2 code).

    tests/fuzz/make_go_corpus.py GO_BINARY"""
import os
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "go_tables")


def section(path, name):
    for line in subprocess.check_output(["readelf", "-S", "-W", path], text=True).splitlines():
        if "] " + name + " " in line:
            f = line.split("]")[1].split()
            return int(f[3], 16), int(f[4], 16)
    raise SystemExit("%s: no section %s" % (path, name))


def pclntab(names):
    n = len(names)
    header = 72
    tab = header
    funcs = tab + (n + 1) * 8
    fnames = funcs + n * 8
    blob = b"".join(s.encode() + b"\0" for s in names)
    t = struct.pack("<IBBBBQQQQQQQQ", 0xfffffff0, 0, 0, 1, 8, n, 0, 0x401000, fnames, 0, 0, 0, tab)
    entries, off = b"", 0
    name_off = 0
    body = b""
    for i, s in enumerate(names):
        entries += struct.pack("<II", i * 0x100, (funcs - tab) + i * 8)
        body += struct.pack("<Ii", i * 0x100, name_off)
        name_off += len(s) + 1
    entries += struct.pack("<II", n * 0x100, 0)
    return t + entries + body + blob


def main():
    go = sys.argv[1]
    os.makedirs(OUT, exist_ok=True)
    data = open(go, "rb").read()
    off, size = section(go, ".go.buildinfo")
    open(os.path.join(OUT, "buildinfo"), "wb").write(b"\0" + data[off:off + size])
    names = ["crypto/tls.(*Conn).Read", "crypto/tls.(*Conn).Write", "crypto/tls.(*Conn).Close"]
    open(os.path.join(OUT, "pclntab"), "wb").write(b"\1" + pclntab(names))
    sym = subprocess.check_output(["go", "tool", "nm", "-size", go.replace("stripped", "plain")],
                                  text=True)
    for line in sym.splitlines():
        f = line.split()
        if f[-1] == "crypto/tls.(*Conn).Read":
            addr, length = int(f[0], 16), int(f[1])
            code = data[addr - 0x400000:addr - 0x400000 + min(length, 1024)]
            open(os.path.join(OUT, "read_code"), "wb").write(b"\2" + code)


if __name__ == "__main__":
    main()
