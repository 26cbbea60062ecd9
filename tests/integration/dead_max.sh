# A queue keeps at most dead_max dead letters, and dead_max_bytes of
# them, dropping the oldest: a consumer that fails every task cannot grow
# the master without bound.
# The drops are counted in /queues and /metrics and logged, and a durable
# queue drops them from its store too; a reload or a restart with a
# smaller dead_max trims the list at once.
. "$(dirname "$0")/lib.sh"

DB=$T/state/queues.db
PORT=$(free_port)
URL=http://127.0.0.1:$PORT

# config DEAD_MAX PRODUCE [MORE]: a durable queue whose consumer
# dead-letters every task, and a producer of PRODUCE tasks (none when 0);
# MORE is added to the queue's map.
config() {
	{
		cat <<YML
platform:
  state_dir: $T/state
  http: {enabled: true, listen: 127.0.0.1:$PORT}
  ipc: {heartbeat_interval: 200ms}
queues:
  jobs: {max_attempts: 1, durable: true, dead_max: $1${3:-}}
workers:
  consumer:
    command: [$PW, consume, dead-every, 1]
    consumes: jobs
    prefetch: 1
YML
		if [ "$2" -gt 0 ]; then
			cat <<YML
  producer:
    command: [$PW, produce, jobs, "$2"]
    ready: protocol
    restart: never
YML
		fi
	} >"$T/plba.yml"
}

# The payloads' n of the dead letters listed, oldest first.
dead_ns() { curl -sf --max-time 5 "$URL/queues/jobs/dead" |
	python3 -c 'import json,sys; print(" ".join(str(t["task"]["payload"]["n"]) for t in json.load(sys.stdin)["tasks"]))'; }

# 1. Ten tasks, all dead-lettered, three kept: the newest.
config 3 10
start_master
wait_for 30 log_has "produced 10"
wait_for 30 queue_field_is jobs dead_dropped 7
queue_field_is jobs dead 3 || fail "dead: $(queue_field jobs dead)"
queue_field_is jobs dead_max 3 || fail "dead_max: $(queue_field jobs dead_max)"
[ "$(dead_ns)" = "7 8 9" ] || fail "dead letters kept: $(dead_ns)"
metrics=$(curl -sf "$URL/metrics")
grep -qx 'plba_queue_dead_dropped_total{queue="jobs"} 7' <<<"$metrics" ||
	fail "metrics: $(curl -sf "$URL/metrics" | grep dead)"
wait_for 10 log_has "queue jobs: the dead-letter list is full (dead_max 3, dead_max_bytes 268435456): 7 oldest dead letters dropped so far"
# Every dead-lettering is still logged as it happens.
[ "$(log_count "task [0-9]* dead-lettered")" -eq 10 ] ||
	fail "$(log_count "task [0-9]* dead-lettered") dead-letterings logged"
wait_for 10 rows_are dead 3

# 2. A reload with a smaller dead_max trims the list, and the store.
config 2 0
kill -HUP "$MASTER"
wait_for 10 queue_field_is jobs dead 2
queue_field_is jobs dead_dropped 8 || fail "dead_dropped: $(queue_field jobs dead_dropped)"
[ "$(dead_ns)" = "8 9" ] || fail "after the reload: $(dead_ns)"
wait_for 10 rows_are dead 2
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
log_has "queue jobs: published 10, .* dead 2, queued 0, in flight 0, dead letters dropped 8" ||
	fail "totals: $(grep 'queue jobs: published' "$LOG")"

# 3. A restart with a smaller one still: what the store gives back is
#    trimmed before anything else happens.
config 1 0
start_master
wait_for 10 curl_ok "$URL/livez"
wait_for 10 queue_field_is jobs dead 1
queue_field_is jobs dead_dropped 1 || fail "dead_dropped after restart: $(queue_field jobs dead_dropped)"
[ "$(dead_ns)" = "9" ] || fail "after the restart: $(dead_ns)"
wait_for 10 rows_are dead 1
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"

# 4. Bytes: each task is 33 bytes, {"name":"item","payload":{"n":7}}, and
#    its error 19, "item 7 is malformed"; 110 bytes of dead letters hold
#    the newest two, whatever dead_max.
config 100 10 ", dead_max_bytes: 110"
start_master
wait_for 30 log_has "produced 10"
wait_for 30 queue_field_is jobs dead_dropped 9
queue_field_is jobs dead 2 || fail "dead: $(queue_field jobs dead)"
queue_field_is jobs dead_bytes 104 || fail "dead_bytes: $(queue_field jobs dead_bytes)"
queue_field_is jobs dead_max_bytes 110 || fail "dead_max_bytes: $(queue_field jobs dead_max_bytes)"
[ "$(dead_ns)" = "8 9" ] || fail "dead letters kept by bytes: $(dead_ns)"
# Read whole before grep: grep -q may leave before curl is done (lib.sh).
metrics=$(curl -sf "$URL/metrics")
grep -qx 'plba_queue_dead_bytes{queue="jobs"} 104' <<<"$metrics" ||
	fail "metrics: $(grep dead <<<"$metrics")"
wait_for 10 log_has "queue jobs: the dead-letter list is full (dead_max 100, dead_max_bytes 110): 9 oldest dead letters dropped so far"
wait_for 10 rows_are dead 2
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
