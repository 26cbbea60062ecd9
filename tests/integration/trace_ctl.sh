# plbactl reads traces back: a dead letter names its trace, and
# "plbactl trace ID" shows that mail's journey as a tree.
. "$(dirname "$0")/lib.sh"

export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1
: "${PLBA_BUILDDIR:?run through make check}"
CTL=${PLBACTL:-$PLBA_BUILDDIR/plbactl}
PORT=$(free_port)
URL=http://127.0.0.1:$PORT

# ctl WANT-STATUS ARGS...: runs plbactl; its output in OUT and ERR.
ctl() {
	local want=$1 rc=0
	shift
	"$CTL" -u "$URL" "$@" >"$T/out" 2>"$T/err" || rc=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
	[ "$rc" -eq "$want" ] ||
		fail "plbactl $* exited $rc, not $want: $OUT $ERR"
}

# The row of OUT whose span is NAME, indented by INDENT spaces.
row_of() { # INDENT NAME
	grep -E "^ *[^ ]+ +[^ ]+  $(printf '%*s' "$1" '')$2  " <<<"$OUT"
}

mob_dead_config "transport: file, file: $T/traces.jsonl"
start_master
wait_for 30 has_lines "$T/orders.jsonl" 12
wait_for 30 mob_dead_two

# The dead letters name their traces.
ctl 0 dead emails
grep -q '^ID  ATTEMPT  TASK-NAME  TRACE  *ERROR$' <<<"$OUT" ||
	fail "no TRACE column: $OUT"
tid=$(sed -n 4p <<<"$OUT" | grep -oE ' [0-9a-f]{32} ' | tr -d ' ')
[ -n "$tid" ] || fail "no trace id among the dead letters: $OUT"

# The log names it too, with its trace.
log_has "emails: task [0-9]* dead-lettered: no order lines.* (trace $tid)\$" ||
	fail "the log does not name the trace: $(grep dead-lettered "$LOG")"

# One of them, as a tree: the poller's span first, the master's and the
# consumer's under it, the business step under the consumer's.
wait_for 10 grep -q "\"trace_id\":\"$tid\".*\"name\":\"plba.dead_letter\"" \
	"$T/traces.jsonl"
ctl 0 trace "$tid"
from_master=$OUT
head -n 1 <<<"$OUT" | grep -qE "^trace $tid: [0-9]+ spans over " ||
	fail "bad first line: $OUT"
sed -n 3p <<<"$OUT" | grep -qE '^ *START +DURATION +SPAN +WORKER +STATUS +DETAIL$' ||
	fail "bad header: $OUT"
sed -n 4p <<<"$OUT" | grep -qE '^ +0 .*  mail discovered +mail-poller\.0 ' ||
	fail "the trace does not begin with the poller's span: $OUT"
row_of 2 plba.enqueue | grep -q ' plba-master ' || fail "no enqueue: $OUT"
row_of 2 plba.dispatch | grep -q 'email-processor\.0$' ||
	fail "no dispatch naming its instance: $OUT"
row_of 2 'process emails' | grep -qE ' email-processor\.0 +error +no order lines' ||
	fail "no failed consumer span: $OUT"
row_of 4 'mail parsed' | grep -q ' error ' || fail "no business step: $OUT"
row_of 2 plba.dead_letter | grep -q ' error ' || fail "no dead letter: $OUT"

# A good mail's trace goes down to its order.
good=$(grep -m1 '"name":"order created"' "$T/traces.jsonl" |
	python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["trace_id"])')
ctl 0 trace "$good"
grep -qE '^ *[^ ]+ +[^ ]+ {6}order created +email-processor\.0 +(ok|unset) ' <<<"$OUT" ||
	fail "no order created under the business step: $OUT"
# Its trace message, an event, under it, the text as the row's detail.
span_at=$(awk '/order created/ { print index($0, "order created"); exit }' <<<"$OUT")
event=$(grep -E '\* event +recorded, [0-9]+ lines?$' <<<"$OUT") ||
	fail "no trace message: $OUT"
[ "$(awk '{ print index($0, "* event") }' <<<"$event")" -eq $((span_at + 2)) ] ||
	fail "the event is not under order created: $OUT"

# --json gives the master's answer as it is.
ctl 0 --json trace "$good"
jq_check "$OUT" "d['trace_id'] == '$good' and len(d['spans']) >= 6"

# A trace the master does not hold, and a malformed id.
ctl 1 trace 00000000000000000000000000000001
grep -q 'no spans held for trace 00000000000000000000000000000001' <<<"$ERR" ||
	fail "unknown trace: $ERR"
ctl 1 trace 'not/a trace'
[ -z "$OUT" ] || fail "output for a bad id: $OUT"
ctl 2 trace
grep -q 'missing argument' <<<"$ERR" || fail "no usage error: $ERR"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"

# The trace file has every span, with or without a master: the same tree.
ctl 0 trace --file "$T/traces.jsonl" "$tid"
[ "$OUT" = "$from_master" ] ||
	fail "the file's tree differs from the master's: $OUT -- $from_master"
ctl 0 trace --file=- "$tid" <"$T/traces.jsonl"
[ "$OUT" = "$from_master" ] || fail "from standard input: $OUT"
# Rotated: the trace's spans split over two files, the older one read
# from standard input as zcat would give it, still one tree.
grep "$tid" "$T/traces.jsonl" | head -n 3 >"$T/traces.jsonl.1"
grep -v -F -x -f "$T/traces.jsonl.1" "$T/traces.jsonl" >"$T/traces.jsonl.0"
[ "$(grep -c "$tid" "$T/traces.jsonl.0")" -gt 0 ] || fail "nothing left to split"
ctl 0 trace --file - --file "$T/traces.jsonl.0" "$tid" <"$T/traces.jsonl.1"
[ "$OUT" = "$from_master" ] || fail "from two files: $OUT"
ctl 1 trace --file "$T/traces.jsonl.1" --file "$T/traces.jsonl.1" 00000000000000000000000000000001
grep -q "no spans of trace 00000000000000000000000000000001 in $T/traces.jsonl.1 and the other files" <<<"$ERR" ||
	fail "unknown trace in two files: $ERR"
ctl 0 --json trace --file "$T/traces.jsonl" "$good"
jq_check "$OUT" "d['trace_id'] == '$good' and len(d['spans']) >= 6 and all(s['worker'] == s['resource']['worker'] for s in d['spans'])"
ctl 1 trace --file "$T/traces.jsonl" 00000000000000000000000000000001
grep -q "no spans of trace 00000000000000000000000000000001 in $T/traces.jsonl" <<<"$ERR" ||
	fail "unknown trace in the file: $ERR"
ctl 2 trace --file "$T/missing.jsonl" "$tid"
grep -q "missing.jsonl: No such file" <<<"$ERR" || fail "missing file: $ERR"
ctl 2 trace --file "$T/traces.jsonl" ABC
grep -q 'not a trace id' <<<"$ERR" || fail "bad id: $ERR"
ctl 2 trace --file
grep -q 'needs the trace file' <<<"$ERR" || fail "no path: $ERR"

# With tracing off the master says so, and dead letters keep their
# narrow table.
rm -f "$T/orders.jsonl"
mob_dead_config "transport: none"
start_master
wait_for 30 has_lines "$T/orders.jsonl" 12
wait_for 30 mob_dead_two
ctl 1 trace "$tid"
grep -q 'tracing is off' <<<"$ERR" || fail "tracing off: $ERR"
ctl 0 dead emails
grep -q '^ID  ATTEMPT  TASK-NAME  ERROR$' <<<"$OUT" ||
	fail "a TRACE column without traces: $OUT"
log_has 'dead-lettered: no order lines' || fail "no dead letter logged"
! log_has '(trace ' || fail "a trace named with tracing off: $(grep dead-lettered "$LOG")"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
