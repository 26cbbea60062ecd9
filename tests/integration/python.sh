# The worker protocol is language-neutral: the Python example worker
# (standard library only) consumes from a queue fed by a C producer and by
# its own producer mode, survives a SIGTERM mid-stream without losing or
# repeating a task, dead-letters a malformed task, traces (and learns of
# tracing turned on by a reload), stops cleanly, and obeys a forced stop.
. "$(dirname "$0")/lib.sh"

if ! command -v python3 >/dev/null ||
   ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 8))'; then
	echo "SKIP: python3 (3.8 or later) is not installed"
	exit 77
fi
[ -n "$PW" ] || fail "PLBA_PROTOWORKER is not set"
SRC=$(cd "${PLBA_SRCDIR:-$(dirname "$0")/../..}" && pwd)
EXAMPLE=$SRC/examples/python-worker
WORKER=$EXAMPLE/worker.py
[ -f "$WORKER" ] || fail "$WORKER not found"
# The interpreter itself, not a wrapper such as a pyenv shim: the pid the
# master starts is then the one that answers signals.
PY=$(python3 -c 'import sys; print(sys.executable)')
# Conditions waited for only make sense while the master runs.
up() { alive "$MASTER" || fail "plba-master exited early"; "$@"; }

N=2000		# items from the C producer
G=20		# greetings from the Python producer, plus one malformed
cat >"$T/plba.yml" <<YML
platform:
  stop_timeout: 30s
  ipc: {heartbeat_interval: 100ms, heartbeat_timeout: 5s}
queues:
  greetings: {capacity: 100, max_attempts: 3}
workers:
  consumer:
    command: [$PY, $WORKER, consume, $T/rec]
    concurrency: 2
    consumes: greetings
    prefetch: 4
    restart: always
    restart_delay: 50ms
  items:
    command: [$PW, produce, greetings, "$N", async]
    ready: protocol
  guests:
    command: [$PY, $WORKER, produce, greetings, "$G", "1"]
    ready: protocol
YML
start_master
wait_for 60 up has_lines "$T/rec" 200
# Ready means its SIGTERM handler is in place.
wait_for 20 log_has "consumer\.0: ready"

# SIGTERM alone, as an operator would send it: the instance finishes the
# tasks it has received, acks them, exits 0 and is started again; what it
# had not yet read goes back to the queue.
pid=$(grep -o 'consumer\.0: started, pid [0-9]*' "$LOG" | tail -n 1 | awk '{print $4}')
[ -n "$pid" ] || fail "no pid for consumer.0"
kill -TERM "$pid"
wait_for 20 log_has "consumer\.0: exited with status 0"
wait_for 20 eval '[ "$(log_count "consumer\.0: started")" -ge 2 ]'
# Its replacement must be up (SIGTERM handler installed) before the stop.
wait_for 20 log_at_least "consumer\.0: ready" 2

total=$((N + G))
wait_for 120 up has_lines "$T/rec" $total
wait_for 20 log_has "greetings: task [0-9]* dead-lettered: greet needs a payload"
wait_for 20 log_has "\[guests.0\] produced $((G + 1))"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"

# Every task handled and acked exactly once, by both instances.
[ "$(wc -l <"$T/rec")" -eq $total ] || fail "$(wc -l <"$T/rec") records for $total tasks"
[ "$(cut -d' ' -f1 "$T/rec" | sort -u | wc -l)" -eq $total ] || fail "a task id recorded twice"
[ "$(grep -c ' item-[0-9]* ' "$T/rec")" -eq $N ] || fail "items missing"
[ "$(cut -d' ' -f2 "$T/rec" | grep '^item-' | sort -u | wc -l)" -eq $N ] ||
	fail "an item handled twice"
[ "$(cut -d' ' -f2 "$T/rec" | grep '^guest-' | sort -u | wc -l)" -eq $G ] ||
	fail "greetings missing"
[ "$(log_count '\] hello guest-')" -eq $G ] || fail "greetings not printed once each"
# Which instance got what depends on when each was ready (a slow Python
# start-up can leave one idle): fair dispatch is tested in test_queue.
log_has "queue greetings: published $((total + 1)), acked $total, nacked 1, redelivered [0-9]*, dead 1, queued 0, in flight 0" ||
	fail "master's counts wrong: $(grep 'queue greetings' "$LOG")"
# The stop was graceful for every instance, and nobody broke the protocol
# or missed a heartbeat.
for w in consumer.0 consumer.1 items.0 guests.0; do
	log_has "$w: stopped, exited with status 0" || fail "$w did not stop cleanly"
done
! log_has "protocol error" || fail "protocol error: $(grep 'protocol error' "$LOG")"
! log_has "no heartbeat" || fail "a Python worker was taken for hung"

# Traced: each greeting's journey, from the Python producer through the
# master to the Python consumer, is one trace in the file.
rm -f "$T/rec"
cat >"$T/plba.yml" <<YML
platform:
  trace: {transport: file, file: $T/traces.jsonl}
queues:
  greetings: {max_attempts: 1}
workers:
  consumer:
    command: [$PY, $WORKER, consume, $T/rec]
    consumes: greetings
  guests:
    command: [$PY, $WORKER, produce, greetings, "5", "1"]
    ready: protocol
YML
start_master
wait_for 30 up has_lines "$T/rec" 5
wait_for 20 log_has "greetings: task [0-9]* dead-lettered: greet needs a payload.* (trace [0-9a-f]*)"
stop_master
[ $STATUS -eq 0 ] || fail "traced: stop exited $STATUS"
python3 - "$T/traces.jsonl" <<'PY' || fail "traces: $(head -c 2000 "$T/traces.jsonl")"
import collections, json, sys
spans = [json.loads(l) for l in open(sys.argv[1])]
by_trace = collections.defaultdict(dict)
for s in spans:
    by_trace[s["trace_id"]][s["name"]] = s
pubs = [s for s in spans if s["name"] == "publish greetings"]
assert len(pubs) == 6, len(pubs)
outcomes = collections.Counter()
for pub in pubs:
    assert "parent_span_id" not in pub and pub["kind"] == "producer", pub
    assert pub["resource"]["worker"] == "guests", pub
    t = by_trace[pub["trace_id"]]
    proc = t["process greetings"]
    assert proc["parent_span_id"] == pub["span_id"], (proc, pub)
    assert proc["kind"] == "consumer" and proc["resource"]["worker"] == "consumer"
    assert proc["attributes"]["plba.task.id"] == pub["attributes"]["plba.task.id"]
    assert int(proc["start_ns"]) <= int(proc["end_ns"]), proc
    for name in ("plba.enqueue", "plba.dispatch"):
        assert t[name]["parent_span_id"] == pub["span_id"], t[name]
    outcomes[proc["attributes"]["plba.task.outcome"]] += 1
    if proc["status"]["code"] == "error":
        assert "greet needs a payload" in proc["status"]["message"], proc
        assert "plba.dead_letter" in t, sorted(t)
assert outcomes == {"ack": 5, "nack-dead": 1}, outcomes
PY
! log_has "protocol error" || fail "traced: $(grep 'protocol error' "$LOG")"

# A reload that turns tracing on reaches the running Python consumer
# (hello's tracing_updates): its next task is a span, and it was not
# restarted for it.
rm -f "$T/rec" "$T/traces.jsonl"
PORT=$(free_port)
traced_config() {
	cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
  trace: {$1}
queues:
  greetings: {}
workers:
  consumer:
    command: [$PY, $WORKER, consume, $T/rec]
    consumes: greetings
YML
}
greet_over_http() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST \
		-d "{\"name\":\"greet\",\"payload\":{\"name\":\"$1\"}}" \
		"http://127.0.0.1:$PORT/queues/greetings/tasks")" = 202 ] ||
		fail "publish $1"
}
consumer_pid() {
	curl -sf --max-time 5 "http://127.0.0.1:$PORT/workers/consumer" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["instances"][0]["pid"])'
}
traced_config "transport: none"
start_master
wait_for 20 curl_ok "http://127.0.0.1:$PORT/readyz"
greet_over_http ada
wait_for 20 up has_lines "$T/rec" 1
pid=$(consumer_pid)
traced_config "transport: file, file: $T/traces.jsonl"
kill -HUP "$MASTER"
wait_for 10 log_has "reloading configuration"
wait_for 10 test -e "$T/traces.jsonl"
greet_over_http grace
wait_for 20 up has_lines "$T/rec" 2
wait_for 10 grep -q '"name":"process greetings".*"worker":"consumer"' "$T/traces.jsonl"
[ "$(consumer_pid)" = "$pid" ] || fail "the consumer was restarted for tracing"
! log_has "protocol error" || fail "tracing reload: $(grep 'protocol error' "$LOG")"
# A forced stop is a stop {force: true}, which the example obeys at once:
# it exits 0, and no SIGKILL is needed.
[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST \
	-d '{"force": true}' "http://127.0.0.1:$PORT/actions/stop")" = 202 ] ||
	fail "forced stop action"
wait_for 20 log_has "consumer.0: stopped, exited with status 0"
log_has "consumer.0: stopping pid $pid at once (forced)" || fail "not told with force"
! log_has "consumer.0: killing pid" || fail "the example had to be killed"
# The signal that ends the master then stops nothing: a clean exit.
wait_for 20 curl_has "http://127.0.0.1:$PORT/status" '"state":"stopped"'
stop_master
[ $STATUS -eq 0 ] || fail "a signal after a forced stop action: exit $STATUS, not 0"

# The example configuration runs as shipped.
rm -f "$T/rec"
export PLBA_EXAMPLE_DIR=$EXAMPLE
sed "s|command: \[python3,|command: [$PY,|" "$EXAMPLE/plba.yml" >"$T/plba.yml"
start_master
wait_for 30 up log_has "greetings: task [0-9]* dead-lettered"
wait_for 30 eval '[ "$(log_count "\] hello guest-")" -eq 10 ]'
stop_master INT
[ $STATUS -eq 0 ] || fail "example: stop exited $STATUS"
log_has "queue greetings: published 11, acked 10, nacked 1, redelivered 0, dead 1, queued 0, in flight 0" ||
	fail "example: counts wrong: $(grep 'queue greetings' "$LOG")"
echo "ok"
