#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build-fuzz/) and runs each for a
# short while (USM_FUZZ_SECONDS, default 20): the parsers that take input
# from outside (HTTP bytes, discovery and capture events, policy text, the
# files the inspector reads) must not crash. A target starts from its seeds
# in tests/fuzz/corpus/NAME/ (NAME without "fuzz_") when there are any.
# Prints one TAP-style line per target and "fuzz: N passed, N failed, N skipped".
# Crash inputs are kept in build-fuzz/crashes/ for reproduction.
set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
seconds=${USM_FUZZ_SECONDS:-20}
targets=(fuzz_http_parse fuzz_proc_event fuzz_data_event fuzz_policy_parse fuzz_elf_symbols
	fuzz_go_tables fuzz_h2_conn fuzz_h2_link fuzz_ipc_codec fuzz_config fuzz_attach_policy fuzz_api_request)

if [ ! -f build-fuzz/build.ninja ]; then
	CC=clang meson setup build-fuzz -Dtests=enabled -Db_sanitize=address,undefined \
		-Db_lundef=false >/dev/null || { echo "fuzz: 0 passed, 1 failed, 0 skipped"; exit 1; }
fi
if ! ninja -C build-fuzz "${targets[@]/#/tests/}" >/dev/null; then
	echo "fuzz: 0 passed, 1 failed, 0 skipped"
	exit 1
fi
mkdir -p build-fuzz/crashes
# libseccomp 2.5 leaks a little on some of its own error paths (rule
# conflicts); that is not ours to find here.
printf 'leak:libseccomp.so\n' > build-fuzz/lsan.supp
export LSAN_OPTIONS="suppressions=$top/build-fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
passed=0 failed=0 n=0
for t in "${targets[@]}"; do
	n=$((n + 1))
	corpus=$(mktemp -d)
	seeds=tests/fuzz/corpus/${t#fuzz_}
	if [ -d "$seeds" ]; then
		cp "$seeds"/* "$corpus"/
	fi
	log=$(mktemp)
	# -timeout: a single input running longer is a finding (a hang), and
	# without it clang 14's libFuzzer can hang at exit; the outer timeout
	# is a last resort so CI never waits on a fuzzer.
	if timeout $((seconds + 120)) build-fuzz/tests/"$t" -max_total_time="$seconds" -timeout=10 \
		-rss_limit_mb=2048 -seed=1 -artifact_prefix=build-fuzz/crashes/"$t"- \
		"$corpus" >"$log" 2>&1; then
		runs=$(grep -o 'Done [0-9]* runs' "$log" | grep -o '[0-9]*' || echo '?')
		echo "ok $n - $t ($runs runs in ${seconds}s)"
		passed=$((passed + 1))
	else
		echo "not ok $n - $t (crash input in build-fuzz/crashes/)"
		tail -20 "$log" | sed 's/^/# /'
		failed=$((failed + 1))
	fi
	rm -rf "$corpus" "$log"
done
echo "fuzz: $passed passed, $failed failed, 0 skipped"
[ "$failed" -eq 0 ]
