# A task held past task_timeout: its instance is killed and the task
# retried, then dead-lettered with the reason "timeout".
. "$(dirname "$0")/lib.sh"

cat >"$T/plba.yml" <<YML
platform:
  ipc: {heartbeat_interval: 100ms, heartbeat_timeout: 5s}
queues:
  items: {max_attempts: 2}
workers:
  producer:
    command: [$PW, produce, items, "1"]
    ready: protocol
  stuck:
    command: [$PW, consume, hang]
    consumes: items
    task_timeout: 300ms
    restart_delay: 0
YML
start_master
wait_for 20 log_has "stuck.0: task 1 held over task_timeout; killing"
wait_for 20 log_at_least 'held over task_timeout' 2
wait_for 20 log_has "items: task 1 dead-lettered: timeout"
# Put back after the first timeout; after the second it is a dead letter,
# and not also said to be put back.
[ "$(log_count "stuck.0: 1 task in flight put back on items")" -eq 1 ] ||
	fail "put back: $(grep 'put back' "$LOG")"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
log_has "published 1, acked 0, .* dead 1," || fail "counts: $(grep 'queue items' "$LOG")"
echo "ok"
