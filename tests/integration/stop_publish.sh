# A publish that waits for room in a queue nothing consumes does not hold
# a graceful stop up: once its instance is asked to stop, the master
# refuses it (PLBA_ESTATE), the timer ends, and the master exits 0 at
# once instead of killing it at stop_timeout.  The task was never
# accepted: the queue still holds only the one it had.
. "$(dirname "$0")/lib.sh"

http_port
cat >"$T/plba.yml" <<YML
platform:
  stop_timeout: 3s
  http: {enabled: true, listen: 127.0.0.1:$PORT}
queues:
  small: {capacity: 1}
workers:
  burst:
    type: timer
    config: {queue: small, interval: 100ms}
YML
start_master
wait_for 20 queue_field_is small waiting_publishers 1
stop_master
[ "$STATUS" -eq 0 ] || fail "stop exited $STATUS"
! log_has "stop_timeout reached" || fail "the stop was forced"
log_has "burst.0: stopped, exited with status 0" || fail "burst.0 failed"
log_has 'queue small: published 1,' || fail "a refused task was counted"
! log_has "timer: publish" || fail "the refusal was logged as a failure"
echo "ok"
