# plba-master's command line: what is wrong with it is said before the
# usage, with exit 2, and nothing is started.
. "$(dirname "$0")/lib.sh"

cat >"$T/plba.yml" <<YML
workers:
  a:
    command: [$TW, --record, $T]
YML

# usage_error WANT ARGS...: plba-master ARGS exits 2, its first line of
# stderr is WANT, and no worker ran.
usage_error() {
	local want=$1 st=0
	shift
	"$PLBA_MASTER" "$@" >"$T/out" 2>"$T/err" </dev/null || st=$?
	[ $st -eq 2 ] || fail "plba-master $* exited $st"
	[ "$(head -n 1 "$T/err")" = "$want" ] ||
		fail "plba-master $*: stderr: $(cat "$T/err")"
	[ ! -s "$T/out" ] || fail "plba-master $* printed: $(cat "$T/out")"
	[ ! -e "$T/a.0" ] || fail "plba-master $* started a worker"
}

usage_error 'plba-master: unexpected argument "extra-arg"' -c "$T/plba.yml" extra-arg
grep -q "^usage: plba-master" "$T/err" || fail "no usage after the error: $(cat "$T/err")"
usage_error 'plba-master: unexpected argument "extra-arg"' -t -c "$T/plba.yml" extra-arg
usage_error 'plba-master: unexpected argument "--"' -c "$T/plba.yml" -- --

# Options it does not know, or without their argument, in its own name
# (getopt would name it by argv[0]: libtool's lt-plba-master here).
usage_error 'plba-master: unknown option -x' -x -c "$T/plba.yml"
usage_error 'plba-master: unknown option -x' -tx -c "$T/plba.yml"
usage_error 'plba-master: unknown option --bogus' --bogus
usage_error 'plba-master: -c needs an argument' -t -c
usage_error 'plba-master: --config needs an argument' --config
grep -q "^usage: plba-master" "$T/err" || fail "no usage after the error: $(cat "$T/err")"

# stdin is not a configuration file: a reload could not read it again.
want='plba-master: -c -: the configuration must be a file, which a reload reads again'
usage_error "$want" -c -
usage_error "$want" -t -c "$T/plba.yml" --config=-
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "more than the reason: $(cat "$T/err")"

# The same file, named, is fine.
"$PLBA_MASTER" -t -c "$T/plba.yml" >"$T/out" || fail "the file itself was refused"
grep -q "configuration ok" "$T/out" || fail "check: $(cat "$T/out")"
echo "ok"
