#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine:
#   ./bootstrap.sh run     install build dependencies, build, run the demo
#   ./bootstrap.sh check   the same set-up, then the whole test suite
#   ./bootstrap.sh build   the set-up and the build only
set -euo pipefail

cd "$(dirname "$(readlink -f "$0")")"
top=$PWD
build=$top/build

packages=(build-essential autoconf automake libtool pkg-config
	libyaml-dev libcjson-dev libcivetweb-dev libcurl4-openssl-dev check
	libsqlite3-dev python3 curl)
# What only the test suite uses: a browser for the dashboard test,
# promtool for /metrics, mandoc for the manual pages, an IMAP server
# for the imap-poller, libfaketime to move the master's wall clock.
check_packages=(chromium prometheus mandoc procps dovecot-imapd faketime)

install_missing() {
	local missing=() p
	for p in "${packages[@]}" "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed$' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "bootstrap: missing packages: ${missing[*]}" >&2
		echo "bootstrap: run as root, or: sudo apt-get install ${missing[*]}" >&2
		exit 1
	fi
	echo "bootstrap: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# configure_build DIR [CONFIGURE-ARGS...]
configure_build() {
	local dir=$1
	shift
	if [ ! -x configure ] || [ configure.ac -nt configure ] ||
	   [ Makefile.am -nt Makefile.in ]; then
		echo "bootstrap: autoreconf"
		autoreconf -fi
	fi
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ] || [ configure -nt "$dir/config.status" ]; then
		echo "bootstrap: configure $*"
		(cd "$dir" && "$top/configure" --enable-werror -q "$@")
	fi
	make -C "$dir" -j"$(nproc)" -s
}

run_checks() { # DIR
	if ! make -C "$1" -j"$(nproc)" check; then
		cat "$1/test-suite.log" >&2 || true
		exit 1
	fi
}

cmd=${1:-}
case "$cmd" in
run)
	install_missing
	configure_build "$build"
	echo "bootstrap: starting plba-master on etc/demo.yml (Ctrl-C stops it)"
	export PLBA_BUILD=$build PLBA_SRC=$top
	exec "$build/plba-master" -c "$top/etc/demo.yml"
	;;
check)
	install_missing "${check_packages[@]}"
	configure_build "$build"
	run_checks "$build"
	# The whole suite again under AddressSanitizer and UBSan, out of
	# tree beside the normal build: any report fails a test.
	echo "bootstrap: the suite again with sanitizers, in build-asan/"
	configure_build "$top/build-asan" --enable-sanitizers
	run_checks "$top/build-asan"
	# Every fuzz target for 30 s, when clang is there (77: it is not).
	rc=0
	FUZZ_BUILDDIR=$build FUZZ_OUT=$build/fuzz sh tests/fuzz/run.sh 30 || rc=$?
	case $rc in
	0|77) ;;
	*) echo "bootstrap: fuzzing found a problem" >&2; exit 1 ;;
	esac
	;;
build)
	install_missing
	configure_build "$build"
	;;
*)
	echo "usage: $0 run|check|build" >&2
	exit 2
	;;
esac
