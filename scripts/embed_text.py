#!/usr/bin/env python3
"""Embed a text file into C as a NUL-terminated string constant.

Usage: embed_text.py INPUT OUTPUT SYMBOL
Writes `const char SYMBOL[] = "...";` and `const unsigned long SYMBOL_len`.
Used to build each daemon's seccomp policy into its binary, so the policy a
daemon enforces is exactly the reviewed file and no file is read at run time,
and apid's dashboard page (apid/dashboard.html), which apid may not open.
"""
import sys

src, dst, sym = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(src, 'rb').read()
with open(dst, 'w') as out:
    out.write('/* generated from %s by scripts/embed_text.py; do not edit */\n' % src.split('/')[-1])
    out.write('const char %s[] =\n' % sym)
    # Byte by byte: a character beyond ASCII is its UTF-8 bytes, each an
    # octal escape (at most three digits, so a digit after one stays text).
    for line in data.splitlines(keepends=True):
        esc = ''.join(chr(b) if (32 <= b < 127 and chr(b) not in '"\\?') else '\\%03o' % b
                      for b in line)
        out.write('    "%s"\n' % esc)
    out.write('    "";\n')
    out.write('const unsigned long %s_len = %d;\n' % (sym, len(data)))
