#!/usr/bin/python3
"""Small hand-made x86-64 ELF files that look like Go programs to the
inspector, for the tests of what a hostile "Go" file can do to it
(tests/unit/test_inspector.c, run by meson at build time):

    make_fake_go.py plain OUT   .text (Read, Write, Close: Go's stack
                                check, NOPs, one RET each), .gopclntab (Go 1.18 layout),
                                .go.buildinfo (go1.19.8); no DWARF
    make_fake_go.py bomb OUT    the same, with a .debug_info whose
                                SHF_COMPRESSED header promises 1 GiB and
                                whose zlib stream inflates to that: what
                                libdw would decompress whole before reading
                                a byte

One PT_LOAD maps the whole file read+execute at 0x400000."""
import struct
import sys
import zlib

BASE = 0x400000
NAMES = ["crypto/tls.(*Conn).Read", "crypto/tls.(*Conn).Write", "crypto/tls.(*Conn).Close"]
FUNC_BYTES = 64
SHF_ALLOC, SHF_EXECINSTR, SHF_COMPRESSED = 0x2, 0x4, 0x800


def pclntab(text_addr):
    n = len(NAMES)
    names = b"".join(s.encode() + b"\0" for s in NAMES)
    fnames = 72
    tab = (fnames + len(names) + 7) & ~7
    funcs = (n + 1) * 8  # the _funcs follow the table, offsets from tab
    t = struct.pack("<IBBBB8Q", 0xfffffff0, 0, 0, 1, 8, n, 0, text_addr, fnames, 0, 0, 0, tab)
    t += names + b"\0" * (tab - fnames - len(names))
    name_off, body = 0, b""
    for i, s in enumerate(NAMES):
        t += struct.pack("<II", i * FUNC_BYTES, funcs + i * 8)
        body += struct.pack("<II", i * FUNC_BYTES, name_off)
        name_off += len(s) + 1
    return t + struct.pack("<II", n * FUNC_BYTES, 0) + body


def buildinfo(version=b"go1.19.8"):
    return b"\xff Go buildinf:" + bytes([8, 2]) + b"\0" * 16 + bytes([len(version)]) + version + b"\0"


def dwarf_bomb(size=1 << 30):
    z = zlib.compressobj(9)
    zero = b"\0" * (1 << 20)
    data = b"".join(z.compress(zero) for _ in range(size >> 20)) + z.flush()
    return struct.pack("<IIQQ", 1, 0, size, 1) + data  # Elf64_Chdr: ELFCOMPRESS_ZLIB


def elf(sections):
    out = bytearray(0x1000)
    offs = []
    for _, data, _ in sections:
        out += b"\0" * (-len(out) % 16)
        offs.append(len(out))
        out += data
    shstr = b"\0" + b"".join(s[0].encode() + b"\0" for s in sections) + b".shstrtab\0"
    out += b"\0" * (-len(out) % 16)
    shstr_off = len(out)
    out += shstr + b"\0" * (-(len(out) + len(shstr)) % 8)
    shoff = len(out)

    def sh(name, typ, flags, addr, off, size):
        return struct.pack("<IIQQQQIIQQ", name, typ, flags, addr, off, size, 0, 0, 1, 0)

    table, name = sh(0, 0, 0, 0, 0, 0), 1
    for (sname, data, flags), off in zip(sections, offs):
        table += sh(name, 1, flags, BASE + off if flags & SHF_ALLOC else 0, off, len(data))
        name += len(sname) + 1
    table += sh(name, 3, 0, 0, shstr_off, len(shstr))
    out += table
    nsec = len(sections) + 2
    eh = struct.pack("<16sHHIQQQIHHHHHH", b"\x7fELF\x02\x01\x01" + b"\0" * 9, 2, 62, 1,
                     BASE + 0x1000, 64, shoff, 0, 64, 56, 1, 64, nsec, nsec - 1)
    ph = struct.pack("<IIQQQQQQ", 1, 5, 0, BASE, BASE, len(out), len(out), 0x1000)
    out[0:64], out[64:120] = eh, ph
    return bytes(out)


def main():
    kind, path = sys.argv[1], sys.argv[2]
    # Go's prologue: cmp rsp, [r14 + 16]; jbe (back to the start, as to
    # morestack); then NOPs and one RET
    prologue = b"\x49\x3b\x66\x10" + b"\x0f\x86" + struct.pack("<i", -10)
    code = (prologue + b"\x90" * (FUNC_BYTES - len(prologue) - 1) + b"\xc3") * len(NAMES)
    sections = [(".text", code, SHF_ALLOC | SHF_EXECINSTR),
                (".gopclntab", pclntab(BASE + 0x1000), SHF_ALLOC),
                (".go.buildinfo", buildinfo(), SHF_ALLOC)]
    if kind == "bomb":
        sections.append((".debug_info", dwarf_bomb(), SHF_COMPRESSED))
    elif kind != "plain":
        raise SystemExit("usage: make_fake_go.py plain|bomb OUT")
    with open(path, "wb") as f:
        f.write(elf(sections))


if __name__ == "__main__":
    main()
