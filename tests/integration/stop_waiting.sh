# A stop that reaches its deadline while a producer, not yet asked to stop
# (a worker that ignores SIGTERM depends on it), waits for room in a full
# queue: the waiting publish was never accepted, so it is not counted as
# queued but said apart, and the loss agrees with the queue's summary.
. "$(dirname "$0")/lib.sh"

http_port
cat >"$T/plba.yml" <<YML
platform:
  stop_timeout: 2s
  http: {enabled: true, listen: 127.0.0.1:$PORT}
queues:
  small: {capacity: 1}
workers:
  burst:
    type: timer
    config: {queue: small, interval: 100ms}
  deaf:
    command: [$TW, --ignore-term]
    depends_on: [burst]
YML
start_master
wait_for 20 queue_field_is small waiting_publishers 1
wait_for 20 log_has "deaf.0: ready"
stop_master
[ "$STATUS" -eq 1 ] || fail "exit $STATUS after the deadline"
log_has "stop_timeout reached" || fail "the stop was not forced"
log_has "1 task not processed and lost with the in-memory queues (1 queued, 0 in flight)" ||
	fail "loss: $(grep 'not processed' "$LOG")"
log_has "1 publish waiting for room in a full queue not accepted: never queued, so not counted as queued" ||
	fail "the waiting publish was not said apart"
log_has "queue small: published 1, .* queued 1," || fail "summary: $(grep 'queue small' "$LOG")"
echo "ok"
