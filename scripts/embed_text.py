#!/usr/bin/env python3
"""Embed a text file into C as a NUL-terminated string constant.

Usage: embed_text.py INPUT OUTPUT SYMBOL
Writes `const char SYMBOL[] = "...";` and `const unsigned long SYMBOL_len`.
Used to build each daemon's seccomp policy into its binary, so the policy a
daemon enforces is exactly the reviewed file and no file is read at run time.
"""
import sys

src, dst, sym = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(src, 'rb').read()
with open(dst, 'w') as out:
    out.write('/* generated from %s by scripts/embed_text.py; do not edit */\n' % src.split('/')[-1])
    out.write('const char %s[] =\n' % sym)
    for line in data.splitlines(keepends=True):
        esc = ''.join(c if (32 <= ord(c) < 127 and c not in '"\\?') else '\\%03o' % ord(c)
                      for c in line.decode('utf-8'))
        out.write('    "%s"\n' % esc)
    out.write('    "";\n')
    out.write('const unsigned long %s_len = %d;\n' % (sym, len(data)))
