# Tracing and durable queues: the master reads a task's traceparent once,
# when it is published, and keeps it with the task; a task restored from
# the durable store after a restart was never read by this master, and its
# spans (plba.dispatch) must still be on its trace, under its publisher.
. "$(dirname "$0")/lib.sh"

export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
TID1=4bf92f3577b34da6a3ce929d0e0e4736
TID2=0af7651916cd43dd8448eb211c80319c
PID1=00f067aa0ba902b7
PID2=b7ad6b7169203331

# config TRACE-FILE [CONSUMER-ARGS]: one durable queue; a consumer or
# none.
config() {
	cat >"$T/plba.yml" <<YML
platform:
  state_dir: $T/state
  stop_timeout: 2s
  http: {enabled: true, listen: 127.0.0.1:$PORT}
  trace: {transport: file, file: $1}
queues:
  jobs: {capacity: 100, durable: true, max_attempts: ${MAX_ATTEMPTS:-3}}
workers:
YML
	if [ -n "${2:-}" ]; then
		cat >>"$T/plba.yml" <<YML
  consumer:
    command: [$PW, consume, $2]
    consumes: jobs
YML
	else
		# Something to supervise; it takes no task.
		cat >>"$T/plba.yml" <<YML
  idle:
    command: [$TW, sleep, "60"]
YML
	fi
}

publish() { # TRACE-ID SPAN-ID: a task over HTTP under that parent
	curl -sf -o /dev/null -X POST -H "traceparent: 00-$1-$2-01" \
		-d '{"name":"item","payload":{"n":1}}' "$URL/queues/jobs/tasks"
}

# 1. Two tasks published with a trace, stored, never dispatched: the
#    master dies with them ready.
config "$T/traces1.jsonl"
start_master
wait_for 10 curl_ok "$URL/livez"
publish $TID1 $PID1 || fail "publish 1"
publish $TID2 $PID2 || fail "publish 2"
wait_for 10 grep -q "\"trace_id\":\"$TID2\".*\"name\":\"plba.enqueue\"" "$T/traces1.jsonl"
grep -q "\"trace_id\":\"$TID1\",\"span_id\":\"[0-9a-f]*\",\"parent_span_id\":\"$PID1\",\"name\":\"plba.enqueue\"" \
	"$T/traces1.jsonl" || fail "no enqueue span: $(cat "$T/traces1.jsonl")"
stop_master KILL

# 2. A new master restores them from the store and dispatches them: each
#    gets its dispatch span, on its own trace, child of its publisher.
config "$T/traces2.jsonl" "record, $T/rec"
start_master
wait_for 30 has_lines "$T/rec" 2
wait_for 10 grep -q "\"trace_id\":\"$TID2\".*\"name\":\"plba.dispatch\"" "$T/traces2.jsonl"
python3 - "$T/traces2.jsonl" "$TID1:$PID1" "$TID2:$PID2" <<'PY'
import json, sys
spans = [json.loads(l) for l in open(sys.argv[1])]
for arg in sys.argv[2:]:
    tid, parent = arg.split(":")
    d = [s for s in spans if s["name"] == "plba.dispatch" and s["trace_id"] == tid]
    assert len(d) == 1, (tid, spans)
    assert d[0]["parent_span_id"] == parent, d[0]
    assert d[0]["resource"]["worker"] == "plba-master", d[0]
    assert d[0]["attributes"]["plba.queue"] == "jobs", d[0]
    assert d[0]["attributes"]["plba.detail"] == "consumer.0", d[0]
    # The restored task still carries its traceparent to the consumer.
    c = [s for s in spans if s["trace_id"] == tid and s.get("kind") == "consumer"]
    assert len(c) == 1 and c[0]["parent_span_id"] == parent, (c, spans)
PY
[ $? -eq 0 ] || fail "spans of the restored tasks"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"

# 3. A task in flight on its last delivery when the master dies is
#    dead-lettered by the next one, as a dead letter is: logged with its
#    trace, and a plba.dead_letter span on that trace.
TID3=5bf92f3577b34da6a3ce929d0e0e4737
MAX_ATTEMPTS=1 config "$T/traces3.jsonl" hang
start_master
wait_for 10 curl_ok "$URL/livez"
publish $TID3 $PID1 || fail "publish 3"
wait_for 20 queue_field_is jobs in_flight 1
# In flight in the store too: its dispatch is committed.
DB=$T/state/queues.db
wait_for 20 rows_are held 1
stop_master KILL
MAX_ATTEMPTS=1 config "$T/traces4.jsonl"
start_master
wait_for 20 log_has "jobs: task 3 dead-lettered: plba-master died while the task was in flight (trace $TID3)"
wait_for 10 grep -q "\"trace_id\":\"$TID3\".*\"name\":\"plba.dead_letter\"" "$T/traces4.jsonl"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
