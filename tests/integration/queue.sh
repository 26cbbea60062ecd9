# Queues over the worker protocol: every task acked exactly once, nacks,
# retries and dead letters, and a graceful stop that drains the backlog.
. "$(dirname "$0")/lib.sh"

N=100000
cat >"$T/plba.yml" <<YML
queues:
  items: {capacity: 1000, max_attempts: 3}
workers:
  producer:
    command: [$PW, produce, items, "$N", async]
    ready: protocol
  consumer:
    command: [$PW, consume, record, $T/rec]
    concurrency: 3
    consumes: items
    prefetch: 8
YML
start_master
wait_for 120 has_lines "$T/rec" $N
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
# Every task exactly once, spread over the three instances.
[ "$(cut -d' ' -f2 "$T/rec" | sort -n | uniq | wc -l)" -eq $N ] || fail "not every task handled"
[ "$(wc -l <"$T/rec")" -eq $N ] || fail "duplicates without a failure"
for i in 0 1 2; do
	grep -q " consumer.$i\$" "$T/rec" || fail "consumer.$i got nothing"
done
log_has "queue items: published $N, acked $N, nacked 0, redelivered 0, dead 0, queued 0, in flight 0" ||
	fail "master's counts wrong: $(grep 'queue items' "$LOG")"

# Nacks: retried up to max_attempts, FAIL goes straight to the dead letters.
rm -f "$T/rec"
cat >"$T/plba.yml" <<YML
queues:
  items: {capacity: 100, max_attempts: 3}
workers:
  producer:
    command: [$PW, produce, items, "100"]
    ready: protocol
  consumer:
    command: [$PW, consume, record, $T/rec, dead-every, 10, fail-every, 4]
    consumes: items
YML
start_master
# 90 good tasks end acked; 10 (n % 10 == 0) end dead.
wait_for 60 has_lines "$T/rec" 90
wait_for 20 log_has "items: task .* dead-lettered: item 90 is malformed"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
grep -q "published 100, acked 90, .* dead 10, queued 0, in flight 0" "$LOG" ||
	fail "counts: $(grep 'queue items' "$LOG")"
# Retried tasks were delivered again with a higher attempt.
awk '$3 > 1' "$T/rec" | grep -q . || fail "no retried task recorded"

# A graceful stop in the middle of a backlog drains it.
rm -f "$T/rec"
cat >"$T/plba.yml" <<YML
queues:
  items: {capacity: 5000}
workers:
  producer:
    command: [$PW, produce, items, "3000", async]
    ready: protocol
  consumer:
    command: [$PW, consume, record, $T/rec, sleep, 1]
    concurrency: 2
    consumes: items
YML
start_master
wait_for 30 log_has "produced 3000"
wait_for 30 has_lines "$T/rec" 10
kill -TERM "$MASTER"
wait_master
[ $STATUS -eq 0 ] || fail "draining stop exited $STATUS"
[ "$(wc -l <"$T/rec")" -eq 3000 ] || fail "drained $(wc -l <"$T/rec") of 3000"
log_has "published 3000, acked 3000, .* queued 0, in flight 0" || fail "not drained"
producer_stop=$(grep -n "producer.0: stopped" "$LOG" | cut -d: -f1)
consumer_stop=$(grep -n "consumer.0: stopped" "$LOG" | cut -d: -f1)
[ "$producer_stop" -lt "$consumer_stop" ] || fail "consumers stopped before the producer"
echo "ok"
