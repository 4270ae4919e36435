#!/usr/bin/env python3
"""Writes usm.conf: every configuration key commented out at its default.

usage: gen_usm_conf.py USM_CONFIG_DEFAULTS README.md OUTPUT

The keys, their order and their defaults are what USM_CONFIG_DEFAULTS
(the parser's own table, tools/usm-conf/usm-config-defaults.c) prints; the
meaning of each is the third column of README.md's configuration table.
A key README.md does not describe, or one it describes that the parser
does not know, is an error: both would be drift.
"""
import re
import subprocess
import sys
import textwrap

HEADER = """\
# usm.conf: usm-privd's configuration (usm-privd -c /etc/usm/usm.conf).
#
# "key = value" lines; "#" starts a comment. Every key usm knows is below,
# commented out at its default: uncomment a line and change the value to
# override it. An unknown key or a bad value stops usm-privd before anything
# starts, with FILE:LINE: message and exit status 2. The file is read at
# start only: restart usm after a change (systemctl restart usm).
#
# Generated at build time from usm's configuration table; README.md,
# "Configuration", says the same (/usr/share/doc/usm/README.md.gz).
"""


def readme_meanings(path):
    """{key: meaning} from the table under '## Configuration'."""
    meanings, in_section = {}, False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("## "):
                in_section = line.strip() == "## Configuration"
                continue
            m = re.match(r"^\| `([a-z0-9_]+)` \| (.*?) \| (.*) \|$", line.rstrip("\n"))
            if in_section and m:
                meanings[m.group(1)] = m.group(3).replace("`", "")
    return meanings


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    defaults_exe, readme, output = sys.argv[1:]
    lines = subprocess.run([defaults_exe], check=True, capture_output=True,
                           text=True).stdout.splitlines()
    defaults = [line.partition("=")[::2] for line in lines]
    meanings = readme_meanings(readme)
    keys = [k for k, _ in defaults]
    undocumented = [k for k in keys if k not in meanings]
    unknown = sorted(set(meanings) - set(keys))
    if undocumented or unknown or not keys:
        sys.exit("gen_usm_conf.py: README.md's configuration table and the parser's table "
                 "differ: not in README.md: %s; not a key: %s" % (undocumented, unknown))
    out = [HEADER.rstrip("\n")]
    for key, value in defaults:
        out.append("")
        out += textwrap.wrap(meanings[key], width=76, initial_indent="# ",
                             subsequent_indent="# ", break_on_hyphens=False)
        out.append(("#%s = %s" % (key, value)).rstrip())
    with open(output, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
