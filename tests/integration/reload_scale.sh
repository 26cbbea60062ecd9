# A reload that changes only a worker's concurrency adds or stops
# instances; those it keeps run on untouched.  Any other change with it
# restarts them all, as for any changed worker.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
URL=http://127.0.0.1:$PORT
config() { # CONCURRENCY [EXTRA LINE]
	cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
workers:
  w:
    command: [$TW, --record, $T]
    concurrency: $1
    stop_timeout: 5s
${2:-}
YML
}
reload_answer() { curl -s --max-time 10 -X POST "$URL/actions/reload"; }
instances_are() { # N: /workers/w has N instances, all idle, and concurrency N
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); n=int(sys.argv[2]); sys.exit(0 if d["concurrency"] == n and len(d["instances"]) == n and all(i["status"] == "idle" for i in d["instances"]) else 1)' \
		"$(curl -s --max-time 5 "$URL/workers/w")" "$1" 2>/dev/null
}

config 2
start_master
wait_for 20 curl_ok "$URL/readyz"
wait_for 20 instances_are 2
p0=$(last_pid "$T/w.0") p1=$(last_pid "$T/w.1")

# Up: two more, the two running untouched.
config 4
ans=$(reload_answer)
jq_check "$ans" 'd["workers"]["scaled"] == ["w"] and d["workers"]["changed"] == []' ||
	fail "reload answer: $ans"
wait_for 20 instances_are 4
wait_for 20 curl_ok "$URL/readyz"
log_has "w: concurrency 4, was 2: instances 2 to 3 are added, the others run on" ||
	fail "scale-up not logged"
for i in 0 1; do
	[ "$(lines "$T/w.$i")" -eq 1 ] || fail "w.$i was restarted by a scale-up"
done
alive "$p0" && alive "$p1" || fail "a kept instance died"
p3=$(last_pid "$T/w.3")

# Down: the last three stop gracefully, and leave /status once down.
config 1
kill -HUP "$MASTER"
wait_for 20 instances_are 1
for i in 1 2 3; do
	wait_for 20 log_has "w.$i: stopped, exited with status 0"
done
dead "$p3" || fail "w.3 still runs"
alive "$p0" || fail "w.0 died on a scale-down"
[ "$(lines "$T/w.0")" -eq 1 ] || fail "w.0 was restarted by a scale-down"
log_has "w.[123]: killing" && fail "a leaving instance was killed, not stopped"

# Back up: index 1 starts afresh, w.0 still untouched.
config 2
kill -HUP "$MASTER"
wait_for 20 instances_are 2
[ "$(lines "$T/w.1")" -eq 2 ] || fail "w.1 started $(lines "$T/w.1") times"
[ "$(lines "$T/w.0")" -eq 1 ] || fail "w.0 was restarted"

# A worker crashed while scaled stays supervised: its restart policy
# holds for the added instances too.
kill -KILL "$(last_pid "$T/w.1")"
wait_for 20 has_lines "$T/w.1" 3

# Concurrency and something else: every instance restarts.
config 3 "    environment: {X: 1}"
ans=$(reload_answer)
jq_check "$ans" 'd["workers"]["changed"] == ["w"] and d["workers"]["scaled"] == []' ||
	fail "reload answer: $ans"
wait_for 20 has_lines "$T/w.0" 2
wait_for 20 instances_are 3
dead "$p0" || fail "w.0 kept running through a change"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"

# A failed worker scaled up: the new instance waits for an operator's
# restart, as the failed ones do, instead of starting on its own.
crashy() {
	cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
workers:
  crashy:
    command: [$TW, --record, $T, --exit-after, 0, 1]
    concurrency: $1
    restart_delay: 0
    max_restarts: 2
    critical: false
YML
}
crashy 1
start_master
wait_for 20 log_has "crashy: failed"
crashy 2
kill -HUP "$MASTER"
second_waits() {
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); i=d["instances"]; sys.exit(0 if len(i) == 2 and i[1]["status"] == "failed" and i[1]["pid"] is None else 1)' \
		"$(curl -s --max-time 5 "$URL/workers/crashy")" 2>/dev/null
}
wait_for 20 second_waits
[ ! -e "$T/crashy.1" ] || fail "a failed worker's new instance started"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"

# Consumers scaled down while they work: the leaving ones finish or give
# back what they hold, and every task is acked once.
consumers() {
	cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
queues:
  q: {capacity: 100000}
workers:
  producer:
    command: [$PW, produce, q, 3000]
  c:
    command: [$PW, consume, record, $T/done, sleep, 2]
    consumes: q
    concurrency: $1
YML
}
consumers 4
start_master
wait_for 20 queue_field_is q published 3000
consumers 1
kill -HUP "$MASTER"
wait_for 30 log_has "c.3: stopped"
consumers 3
kill -HUP "$MASTER"
wait_for 120 queue_field_is q acked 3000
queue_field_is q depth 0 || fail "depth $(queue_field q depth)"
queue_field_is q in_flight 0 || fail "in flight $(queue_field q in_flight)"
[ "$(sort -u "$T/done" | wc -l)" -ge 3000 ] || fail "handled $(sort -u "$T/done" | wc -l) of 3000"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
