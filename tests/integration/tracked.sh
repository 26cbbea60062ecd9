# A publisher that tracks its tasks hears, once each, what became of them:
# acked, or dead-lettered with the consumer's error; one that does not
# track hears nothing.
. "$(dirname "$0")/lib.sh"

PW=$PLBA_PROTOWORKER
cat >"$T/plba.yml" <<YML
queues:
  items: {capacity: 100, max_attempts: 3}
workers:
  producer:
    command: [$PW, produce, items, "100", tracked]
    ready: protocol
  plain:
    command: [$PW, produce, items, "20"]
    ready: protocol
  consumer:
    command: [$PW, consume, record, $T/rec, dead-every, 10, fail-every, 4]
    consumes: items
    concurrency: 2
YML
start_master
wait_for 60 log_has "\[producer.0\] all done: 90 acked, 10 dead"
[ "$(grep -c '\[producer.0\] done items [0-9]* acked$' "$LOG")" -eq 90 ] ||
	fail "expected 90 acked notices"
[ "$(grep -c '\[producer.0\] done items [0-9]* dead: item [0-9]*0 is malformed$' "$LOG")" -eq 10 ] ||
	fail "expected 10 dead notices with the consumer's error"
# One notice per task: no id twice.
dups=$(grep -o '\[producer.0\] done items [0-9]*' "$LOG" | sort | uniq -d)
[ -z "$dups" ] || fail "notices repeated: $dups"
! log_has "\[plain.0\] done" || fail "an untracked publisher got a notice"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
