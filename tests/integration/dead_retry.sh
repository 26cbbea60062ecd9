# Dead letters get a second chance: POST /queues/NAME/dead/retry puts
# them back on the queue with attempt 1, .../purge deletes them, all of
# them or those whose ids the body names; plbactl retry and purge do the
# same.  A durable queue's store follows, and a traced task's retry is on
# its trace.
. "$(dirname "$0")/lib.sh"

CTL=${PLBACTL:-$PLBA_BUILDDIR/plbactl}
DB=$T/state/queues.db
PORT=$(free_port)
URL=http://127.0.0.1:$PORT

# config CONSUMER-ARGS...: a durable queue, a producer of 6 and a consumer.
config() {
	local args
	args=$(printf ', %s' "$@")
	cat >"$T/plba.yml" <<YML
platform:
  state_dir: $T/state
  http: {enabled: true, listen: 127.0.0.1:$PORT}
  trace: {transport: file, file: $T/traces.jsonl}
queues:
  jobs: {max_attempts: 3, durable: true}
workers:
  producer:
    command: [$PW, produce, jobs, "6"]
    ready: protocol
    restart: never
  consumer:
    command: [$PW, consume$args]
    consumes: jobs
YML
}

dead_ids() { curl -sf --max-time 5 "$URL/queues/jobs/dead" |
	python3 -c 'import json,sys; print(" ".join(t["id"] for t in json.load(sys.stdin)["tasks"]))'; }
# post PATH BODY: prints the status code; the answer is in $T/answer.
post() { curl -s -o "$T/answer" -w '%{http_code}' --max-time 5 -X POST \
	-d "$2" "$URL$1"; }
expect() { # CODE PATH BODY
	local got
	got=$(post "$2" "$3")
	[ "$got" = "$1" ] || fail "POST $2 $3: $got $(cat "$T/answer"), want $1"
}

# 1. A consumer that fails every task: six dead letters, and a seventh
#    published over HTTP on a trace.
config dead-every 1
start_master
wait_for 30 queue_field_is jobs dead 6
TRACE=4bf92f3577b34da6a3ce929d0e0e4736
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST \
	-H "traceparent: 00-$TRACE-00f067aa0ba902b7-01" \
	-d '{"name":"traced","payload":{"n":99}}' "$URL/queues/jobs/tasks")
[ "$code" = 202 ] || fail "traced publish: $code"
wait_for 30 queue_field_is jobs dead 7
wait_for 10 rows_are dead 7
set -- $(dead_ids)
[ $# -eq 7 ] || fail "dead letters: $*"
traced_id=$7

# Bad requests change nothing.
expect 400 /queues/jobs/dead/retry '{"ids": []}'
expect 400 /queues/jobs/dead/retry "{\"ids\": [$1]}"
expect 400 /queues/jobs/dead/purge '{"ids": ["x"]}'
expect 400 /queues/jobs/dead/purge '{"ids": ["-1"]}'
expect 400 /queues/jobs/dead/purge '["1"]'
expect 400 /queues/jobs/dead/purge '{"ids":'
grep -q '"error"' "$T/answer" || fail "no JSON error: $(cat "$T/answer")"
expect 404 /queues/nope/dead/retry ''
expect 404 /queues/jobs/dead/forget ''
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/queues/jobs/dead/retry")
[ "$code" = 405 ] || fail "GET on retry: $code"
queue_field_is jobs dead 7 || fail "a bad request changed the list: $(queue_field jobs dead)"

# 2. Purge one by id over HTTP, one with plbactl; an id not there is 0.
expect 200 /queues/jobs/dead/purge "{\"ids\": [\"$1\"]}"
grep -q '"purged":1' "$T/answer" || fail "purge: $(cat "$T/answer")"
out=$("$CTL" -u "$URL" purge jobs "$2") || fail "plbactl purge: $out"
[ "$out" = "jobs: 1 dead letter deleted" ] || fail "plbactl purge said: $out"
expect 200 /queues/jobs/dead/purge '{"ids": ["999"]}'
grep -q '"purged":0' "$T/answer" || fail "purge of nothing: $(cat "$T/answer")"
queue_field_is jobs dead 5 || fail "dead after purges: $(queue_field jobs dead)"
[ "$(dead_ids)" = "$3 $4 $5 $6 $7" ] || fail "left: $(dead_ids)"
wait_for 10 rows_are dead 5

# 3. A consumer that works now: retry one by id, then the rest.
config record "$T/rec"
kill -HUP "$MASTER"
wait_for 20 log_has "consumer.0: started, pid"
wait_for 20 log_at_least "consumer.0: ready" 2
# Named out of order, they come back in the order they died.
expect 200 /queues/jobs/dead/retry "{\"ids\": [\"$5\", \"$4\"]}"
grep -q '"requeued":2' "$T/answer" || fail "retry: $(cat "$T/answer")"
wait_for 20 has_lines "$T/rec" 2
[ "$(cut -d' ' -f1,3 "$T/rec" | tr '\n' ' ')" = "$4 1 $5 1 " ] ||
	fail "retried: $(cat "$T/rec")"
out=$("$CTL" -u "$URL" retry jobs) || fail "plbactl retry: $out"
[ "$out" = "jobs: 3 dead letters queued again" ] || fail "plbactl retry said: $out"
wait_for 20 has_lines "$T/rec" 5
[ "$(cut -d' ' -f1 "$T/rec" | sort -n | tr '\n' ' ')" = "$3 $4 $5 $6 $7 " ] ||
	fail "handled: $(cat "$T/rec")"
awk '$3 != 1 { exit 1 }' "$T/rec" || fail "attempts not reset: $(cat "$T/rec")"
queue_field_is jobs dead 0 || fail "dead at the end: $(queue_field jobs dead)"
wait_for 10 rows_are dead 0
log_has "queue jobs: 2 dead letters queued again over HTTP" &&
	log_has "queue jobs: 3 dead letters queued again over HTTP" ||
	fail "retries not logged"
# The traced task's retry, and its delivery after it, are on its trace.
retried() {
	python3 - "$T/traces.jsonl" "$TRACE" "$traced_id" 2>/dev/null <<'PY'
import json, sys
spans = [json.loads(l) for l in open(sys.argv[1])]
mine = [s for s in spans if s["trace_id"] == sys.argv[2]]
names = [s["name"] for s in mine]
retry = [s for s in mine if s["name"] == "plba.retry"]
assert len(retry) == 1, names
assert retry[0]["attributes"]["plba.task.id"] == sys.argv[3], retry
assert retry[0]["attributes"]["plba.task.attempt"] == 1, retry
after = [s for s in mine if s["name"] == "plba.dispatch" and
         int(s["start_ns"]) > int(retry[0]["start_ns"])]
assert after, names
PY
}
wait_for 20 retried
log_has "queue jobs: 1 dead letter deleted over HTTP" || fail "purge not logged"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
