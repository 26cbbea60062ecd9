#!/bin/sh
# Builds the libFuzzer targets with clang and runs each for a bounded time.
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]
#
# SECONDS defaults to 30; TARGET is frame, config, http, traceparent or
# units (default: all).  Each target runs on a copy of its seed corpus, so
# the corpus in the tree does not grow.  Prints exec/s and total executions
# per target; exits 1 on any crash, leak, timeout or broken property (with
# the reproducer's path), 77 (skip) when clang-14 or its fuzzer runtime is
# missing.
#
# Environment: FUZZ_CC (clang-14), FUZZ_OUT (build directory, default
# build-fuzz/ at the top of the tree), FUZZ_BUILDDIR (where configure wrote
# config.h, default build/ or the top), FUZZ_KEEP=1 keeps the grown corpora.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
secs=30
if [ $# -gt 0 ]; then
	secs=$1
	shift
fi
case $secs in
''|*[!0-9]*) echo "usage: $0 [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac
targets=${*:-frame config http traceparent units}
cc=${FUZZ_CC:-clang-14}
out=${FUZZ_OUT:-$top/build-fuzz}

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "fuzz: $cc not installed (apt-get install clang-14 libclang-rt-14-dev); skipped"
	exit 77
fi
if [ -n "${FUZZ_BUILDDIR:-}" ]; then
	bdir=$FUZZ_BUILDDIR
elif [ -f "$top/build/config.h" ]; then
	bdir=$top/build
else
	bdir=$top
fi
if [ ! -f "$bdir/config.h" ]; then
	echo "fuzz: no config.h in $bdir: run configure first (or set FUZZ_BUILDDIR)" >&2
	exit 1
fi
if ! deps=$(pkg-config --cflags --libs yaml-0.1 libcjson); then
	echo "fuzz: pkg-config cannot find yaml-0.1 and libcjson" >&2
	exit 1
fi
mkdir -p "$out/bin" "$out/artifacts" || exit 1

# The fuzzer runtime is a separate package from the compiler.
probe=$out/bin/probe
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' \
    > "$probe.c"
if ! "$cc" -fsanitize=fuzzer "$probe.c" -o "$probe" >/dev/null 2>&1; then
	echo "fuzz: $cc cannot link -fsanitize=fuzzer (install libclang-rt-14-dev); skipped"
	exit 77
fi

cflags="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
    -fno-sanitize-recover=undefined -std=c11 -D_GNU_SOURCE -Wall -Wextra
    -include $bdir/config.h -I$bdir -I$top/include -I$top/src/lib
    -I$top/src/master -I$here"

# The library sources each target needs, compiled in directly.
sources() {
	case $1 in
	frame)		echo src/lib/frame.c src/lib/proto.c src/lib/utf8.c src/lib/json_exact.c ;;
	config)		echo src/lib/conf.c src/lib/conf_json.c src/lib/settings.c ;;
	http)		echo src/lib/frame.c src/lib/proto.c src/lib/tracectx.c src/lib/utf8.c src/lib/conf.c src/lib/json_exact.c ;;
	traceparent)	echo src/lib/tracectx.c src/lib/utf8.c ;;
	units)		echo src/lib/conf.c ;;
	*)		return 1 ;;
	esac
}

# Inputs longer than this teach nothing the shorter ones do not.
max_len() {
	case $1 in
	frame|config)	echo 16384 ;;
	http)		echo 8192 ;;
	*)		echo 256 ;;
	esac
}

# "stat::name: value" from libFuzzer's -print_final_stats output.
stat() {
	sed -n "s/^stat::$1: *//p" "$2" | tail -n 1
}

failed=0
for t in $targets; do
	if ! src=$(sources "$t"); then
		echo "fuzz: unknown target $t" >&2
		exit 2
	fi
	bin=$out/bin/fuzz_$t
	files="$here/fuzz_$t.c"
	for f in $src; do
		files="$files $top/$f"
	done
	# shellcheck disable=SC2086 # word splitting of flag lists is wanted
	if ! "$cc" $cflags $files $deps -o "$bin"; then
		echo "fuzz_$t: build failed" >&2
		failed=1
		continue
	fi
	if [ "$secs" -eq 0 ]; then
		echo "fuzz_$t: built $bin"
		continue
	fi

	work=$(mktemp -d "${TMPDIR:-/tmp}/plba-fuzz-$t.XXXXXX") || exit 1
	mkdir -p "$work/corpus"
	if [ -d "$here/corpus/$t" ]; then
		cp -R "$here/corpus/$t/." "$work/corpus/"
	fi
	dict=
	if [ -f "$here/$t.dict" ]; then
		dict=-dict=$here/$t.dict
	fi
	log=$out/fuzz_$t.log
	: > "$work/started"
	# timeout(1) because libFuzzer's own timeout handler can deadlock
	# (it allocates in a signal handler) and would hang the caller.
	# shellcheck disable=SC2086
	( cd "$work" && timeout -k 10 $((secs + 120)) \
	    "$bin" -max_total_time="$secs" -timeout=5 \
	    -rss_limit_mb=2048 -max_len="$(max_len "$t")" -print_final_stats=1 \
	    -error_exitcode=1 -timeout_exitcode=1 \
	    -artifact_prefix="$out/artifacts/$t-" $dict "$work/corpus" ) \
	    > "$log" 2>&1
	rc=$?
	execs=$(stat number_of_executed_units "$log")
	rate=$(stat average_exec_per_sec "$log")
	rss=$(stat peak_rss_mb "$log")
	ncorp=$(find "$work/corpus" -type f | wc -l)
	if [ $rc -eq 0 ]; then
		echo "fuzz_$t: ok: ${execs:-?} executions, ${rate:-?} exec/s," \
		    "peak RSS ${rss:-?} MB, corpus $ncorp, ${secs}s"
	else
		failed=1
		repro=$(sed -n 's/.*Test unit written to \([^ ]*\).*/\1/p' "$log" | tail -n 1)
		if [ -z "$repro" ]; then
			repro=$(find "$out/artifacts" -name "$t-*" -newer "$work/started" \
			    2>/dev/null | head -n 1)
		fi
		echo "fuzz_$t: FAILED (exit $rc) after ${execs:-?} executions; log $log"
		if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
			echo "fuzz_$t: libFuzzer did not finish and was killed;" \
			    "a reproducer it began to write may be empty"
		fi
		grep -a -E '^(==[0-9]+==ERROR|SUMMARY|.*property failed|.*runtime error)' \
		    "$log" | head -n 5
		echo "fuzz_$t: reproducer: ${repro:-none written}" \
		    "(replay: $bin ${repro:-FILE})"
		# A loaded host can starve one input past the limit: say
		# whether the hang is the input's.
		if grep -q 'libFuzzer: timeout' "$log" && [ -n "$repro" ]; then
			if "$bin" -timeout=5 -rss_limit_mb=2048 "$repro" >/dev/null 2>&1; then
				echo "fuzz_$t: the timeout did not reproduce on replay (a loaded host?)"
			else
				echo "fuzz_$t: the timeout reproduces on replay"
			fi
		fi
	fi
	if [ "${FUZZ_KEEP:-0}" = 1 ]; then
		echo "fuzz_$t: grown corpus kept in $work/corpus"
	else
		rm -rf "$work"
	fi
done
exit $failed
