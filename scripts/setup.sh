#!/usr/bin/env bash
# Installs what usm needs on Debian 12 (only what is missing), creates the
# two unprivileged users, and builds.
#
#   scripts/setup.sh release   -> build/       (what scripts/run.sh runs)
#   scripts/setup.sh test      -> build-test/  (ASan + UBSan, unit tests, e2e helpers)
#   scripts/setup.sh bench     -> build-bench/ (release buildtype, what bench/run measures)
#
# Run as root. Idempotent: a second run installs and creates nothing.
set -euo pipefail

kind=${1:-release}
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [ "$(id -u)" -ne 0 ]; then
	echo "setup.sh: run as root (it installs packages and creates users)" >&2
	exit 1
fi

# Build and run dependencies, then what the tests drive.
packages=(
	meson ninja-build pkg-config gcc clang llvm bpftool
	libbpf-dev libelf-dev zlib1g-dev libseccomp-dev libcap-dev
	libnng-dev libjson-c-dev libcmocka-dev libcapstone-dev libdw-dev libnghttp2-dev libhttp-parser-dev
	libncurses-dev # usmctl top's screen
	python3 util-linux curl binutils openssl nodejs libclang-rt-14-dev
)
if [ "$kind" = test ]; then
	# promtool, which checks GET /metrics in the unit and e2e tests, and the
	# Prometheus server an e2e test scrapes usm with (tests/e2e/test_otel_metrics.py)
	packages+=(prometheus)
	# headless, driven over its DevTools pipe: the dashboard's test (tests/e2e/test_dashboard.py)
	packages+=(chromium)
	packages+=(golang-go)  # builds the Go HTTPS peers of the Go TLS tests
	# the TLS servers people run (tests/e2e/test_tls_servers.py); wget: a GnuTLS client
	packages+=(apache2 lighttpd lighttpd-mod-openssl lighttpd-mod-gnutls haproxy wget wrk)
	# BoringSSL (the TLS library envoy carries), for the server that stands in for envoy
	packages+=(android-libboringssl-dev)
	# HTTP/2 (tests/e2e/test_http2.py): nginx serves h2, h2load drives it
	packages+=(nginx nghttp2-client nghttp2-server python3-grpcio)
	# HTTP/2 frames exactly as a test wants them (tests/e2e/test_http2_scenarios.py)
	packages+=(python3-h2)
	packages+=(tmux) # a real terminal for usmctl top (tests/e2e/test_usmctl.py)
	# the Debian package (tests/e2e/test_package.py builds, installs and verifies it):
	# dpkg-buildpackage and debhelper, adduser for its postinst, systemd-analyze
	packages+=(build-essential dpkg-dev debhelper adduser systemd)
fi
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup.sh: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# One system user per unprivileged process (the collector, apid, privd's
# BPF owner, the inspector), each with its own group
# (the runtime directory's permissions tell them apart by group).
for user in usm-collector usm-api usm-bpf usm-inspect; do
	if ! id "$user" >/dev/null 2>&1; then
		echo "setup.sh: creating system user $user"
		useradd --system --user-group --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin "$user"
	fi
done

cd "$top"
case "$kind" in
release)
	dir=build
	opts=(-Dtests=disabled)
	;;
bench)
	# Its own tree, optimised like a distribution package (release, -O2
	# as Debian builds), so the benchmarks do not depend on build/, which
	# others rebuild while they run.
	dir=build-bench
	opts=(-Dtests=disabled --buildtype=release -Doptimization=2)
	;;
test)
	dir=build-test
	# b_lundef=false: sanitizer runtimes are linked into executables only.
	opts=(-Dtests=enabled -Db_sanitize=address,undefined -Db_lundef=false)
	;;
*)
	echo "usage: setup.sh [release|test|bench]" >&2
	exit 2
	;;
esac
if [ ! -f "$dir/build.ninja" ]; then
	meson setup "$dir" "${opts[@]}"
fi
meson compile -C "$dir"
