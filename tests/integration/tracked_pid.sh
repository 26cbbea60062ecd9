# A done notice goes to the process that published the task, not to
# whichever process has its pid now.  In a PID namespace the test makes
# the publisher's successor get the very same pid (ns_last_pid): the
# first task's notice then belongs to no one, and the successor hears
# only of its own task.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "needs root for a PID namespace"; exit 77; }
command -v unshare >/dev/null || { echo "no unshare (util-linux)"; exit 77; }
unshare --pid --fork --mount-proc true 2>/dev/null ||
	{ echo "cannot create a PID namespace here"; exit 77; }

PW=$PLBA_PROTOWORKER
# No consumer yet: while the producer hands its pid on, nothing else in
# the namespace may start a process or a thread, which would take it.
cat >"$T/plba.yml" <<YML
queues:
  items: {capacity: 10}
workers:
  producer:
    command: [$PW, reincarnate, $T/marker, items]
    restart_delay: 0
    critical: false
YML
: >"$LOG"
unshare --pid --fork --mount-proc "$PLBA_MASTER" -c "$T/plba.yml" >>"$LOG" 2>&1 &
UNS=$!
# The master, PID 1 inside: killed by the cleanup, it takes the whole
# namespace with it.
master_found() { MASTER=$(pgrep -P "$UNS" | head -1); [ -n "$MASTER" ]; }
wait_for 10 master_found
wait_for 20 log_has "\[producer.0\] second pid"
first=$(sed -n 's/.*\[producer.0\] first pid \([0-9]*\) published \([0-9]*\)$/\1 \2/p' "$LOG")
second=$(sed -n 's/.*\[producer.0\] second pid \([0-9]*\) published \([0-9]*\)$/\1 \2/p' "$LOG")
[ -n "$first" ] && [ -n "$second" ] || fail "publishes not seen"
set -- $first $second
[ "$1" = "$3" ] || fail "the successor did not get pid $1 (it has $3): the test cannot judge"
first_id=$2 second_id=$4
cat >>"$T/plba.yml" <<YML
  consumer:
    command: [$PW, consume]
    consumes: items
    prefetch: 1
YML
kill -HUP "$MASTER"
wait_for 20 log_has "\[producer.0\] all done: 1 acked"
log_has "\[producer.0\] done items $second_id acked" ||
	fail "the successor heard: $(grep '\[producer.0\] done' "$LOG")"
! log_has "\[producer.0\] done items $first_id " ||
	fail "the successor was told of its predecessor's task $first_id"
kill -TERM "$MASTER"
STATUS=0
wait "$UNS" || STATUS=$?
MASTER=
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
