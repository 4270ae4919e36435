#!/usr/bin/env bash
# Regenerates the seed corpus of fuzz_elf_symbols (tests/fuzz/corpus/
# elf_symbols/): tiny ELF files built with gcc (page size 16 so that each
# stays under 8 KiB), whole and cut short at the places a parser trips on.
# Run from anywhere; needs gcc, and gcc-multilib for the 32-bit seed
# (skipped without it). The committed files are what the fuzzer uses.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=$top/tests/fuzz/corpus/elf_symbols
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
cat > lib.c <<'C'
int SSL_read(void *s, void *b, int n) { (void)s; (void)b; return n; }
int SSL_write(void *s, const void *b, int n) { (void)s; (void)b; return n; }
__attribute__((noinline)) static int helper(int x) { return x * 3 + 1; }
int f(int x) { return helper(x); }
C
printf 'int f(int);\nvoid _start(void) { for (;;) f(1); }\n' > start.c
echo 'V1 { global: SSL_read; SSL_write; local: *; }; V2 { global: f; } V1;' > vers.map
small=(-Os -nostdlib -Wl,-z,max-page-size=16 -Wl,-z,noseparate-code -Wl,--build-id=none)

gcc "${small[@]}" -fPIC -shared -o shared.so lib.c
gcc "${small[@]}" -fPIC -shared -Wl,--version-script=vers.map -o versioned.so lib.c
gcc "${small[@]}" -static -fno-pie -no-pie -o static-exe lib.c start.c
strip --strip-all -o stripped.so versioned.so
gcc -m32 "${small[@]}" -fPIC -shared -o elf32.so lib.c 2>/dev/null || rm -f elf32.so

mkdir -p "$out"
rm -f "$out"/*
for f in shared.so versioned.so static-exe stripped.so elf32.so; do
	[ -f "$f" ] && cp "$f" "$out/$f"
done
# Cut: after the ELF header, in the middle, and just before the section
# header table ends.
size=$(stat -c %s versioned.so)
head -c 64 versioned.so > "$out/cut-header"
head -c $((size / 2)) versioned.so > "$out/cut-half"
head -c $((size - 1)) versioned.so > "$out/cut-last-byte"
chmod 0644 "$out"/*
ls -l "$out"
