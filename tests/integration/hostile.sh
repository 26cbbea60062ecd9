# Children that break the protocol are killed and restarted; the master
# and a neighbour processing tasks go on undisturbed.
. "$(dirname "$0")/lib.sh"

cat >"$T/plba.yml" <<YML
platform:
  stop_timeout: 2s
  ipc: {max_frame: 64KiB, heartbeat_interval: 200ms, heartbeat_timeout: 1s}
queues:
  items: {capacity: 100000}
  deep: {capacity: 10}
workers:
  producer:
    command: [$PW, produce, items, "200000", async]
    ready: protocol
  consumer:
    command: [$PW, consume, record, $T/rec, sleep, 1]
    consumes: items
    prefetch: 4
  bad-json:
    command: [$PW, hostile, garbage]
    restart_delay: 50ms
    restart_max_delay: 50ms
    max_restarts: 0
  huge:
    command: [$PW, hostile, huge]
    restart_delay: 50ms
    restart_max_delay: 50ms
    max_restarts: 0
  unknown:
    command: [$PW, hostile, unknown]
    restart_delay: 50ms
    restart_max_delay: 50ms
    max_restarts: 0
  nohello:
    command: [$PW, hostile, nohello]
    consumes: items
    restart_delay: 50ms
    restart_max_delay: 50ms
    max_restarts: 0
  silent:
    command: [$PW, hostile, silent]
    restart_delay: 50ms
    restart_max_delay: 50ms
    max_restarts: 0
  bytewise:
    command: [$PW, hostile, bytewise]
    ready: protocol
  badutf8:
    command: [$PW, hostile, badutf8]
    restart_delay: 50ms
    restart_max_delay: 50ms
    max_restarts: 0
  payloads:
    command: [$PW, payloads, items]
    ready: protocol
  deep:
    command: [$PW, hostile, deep]
    ready: protocol
YML
start_master
wait_for 20 log_has "bad-json.0: protocol error: invalid JSON; killing"
wait_for 20 log_has "huge.0: protocol error: frame length over platform.ipc.max_frame"
wait_for 20 log_has 'unknown.0: protocol error: unknown message type "launch_missiles"'
wait_for 20 log_has 'nohello.0: protocol error: no "hello" within'
wait_for 20 log_has "silent.0: no heartbeat for"
# A frame is UTF-8: bytes that are not make it a protocol error...
wait_for 20 log_has "badutf8.0: protocol error: invalid UTF-8 at byte"
# ... which libplba never sends: a payload the master would refuse, or
# that would change on the way, is PLBA_EINVAL, and the worker lives.
wait_for 20 log_has "\[payloads.0\] payloads: 11 of 11 refused, the good one success"
# A payload nests at most 256 levels, which leaves every reader of a
# task room (plba_publish(3)).
wait_for 20 log_has "\[payloads.0\] payloads: 257 deep: "
log_has "\[payloads.0\] payloads: 256 deep: success" || fail "256 levels refused"
log_has "\[payloads.0\] payloads: 257 deep: invalid argument: payload is nested more than 256 deep" ||
	fail "257 levels: $(grep "257 deep" "$LOG")"
log_has "payloads.0: protocol error" && fail "libplba sent what the master refuses"
# A child that sends one anyway is refused, and not killed: it is JSON.
wait_for 20 log_has '\[deep.0\] deep: {"type":"rejected","ref":"257",'
log_has '\[deep.0\] deep: {"type":"published","ref":"256",' || fail "256 levels refused"
log_has '\[deep.0\] deep: {"type":"rejected","ref":"257","error":"payload is nested more than 256 deep"}' ||
	fail "257 levels: $(grep "deep.0" "$LOG")"
# Each is restarted by its policy and fails again.
wait_for 20 log_at_least 'bad-json.0: protocol error' 3
wait_for 20 log_at_least 'huge.0: protocol error' 3
# Slow but valid: accepted.
wait_for 20 log_has "bytewise.0: ready"
# Meanwhile the neighbour kept processing, and the master is fine.
before=$(lines "$T/rec")
wait_for 20 has_lines "$T/rec" $((before + 200))
log_has "bytewise.0: protocol error" && fail "a slow, valid child was killed"
log_has "consumer.0: protocol error" && fail "the neighbour was hit"
log_has "deep.0: protocol error" && fail "a deep payload killed its child"
[ "$(grep -c 'deep.0: started' "$LOG")" -eq 1 ] || fail "the deep child restarted"
[ "$(grep -c 'consumer.0: started' "$LOG")" -eq 1 ] || fail "the neighbour restarted"
rss=$(awk '/VmRSS/ {print $2}' "/proc/$MASTER/status")
[ "$rss" -lt "${PLBA_RSS_LIMIT_KB:-65536}" ] || fail "master RSS $rss kB"
# The backlog cannot drain within stop_timeout: what is lost is counted.
stop_master INT
[ $STATUS -eq 1 ] || fail "stop past stop_timeout exited $STATUS"
log_has "tasks not processed and lost with the in-memory queues" || fail "loss not logged"
echo "ok"
