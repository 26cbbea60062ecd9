# A stop that reaches its deadline with tasks left says what becomes of
# them: after a stop action the master stays up and they stay queued (the
# ones in flight go back), and they are handled once the workers start
# again; at exit, those of queues in memory are lost.
. "$(dirname "$0")/lib.sh"

need_protoworker
http_port
cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
  stop_timeout: 2s
queues:
  jobs: {capacity: 10}
workers:
  stuck:
    command: [$PW, consume, hang-while, $T/hang, record, $T/rec]
    consumes: jobs
    prefetch: 1
YML
post() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST \
	    -d "{\"name\":\"t\",\"payload\":{\"n\":$1}}" "$URL/queues/jobs/tasks"
}
touch "$T/hang"
start_master
wait_for 20 curl_ok "$URL/readyz"
for n in 1 2 3; do [ "$(post $n)" = 202 ] || fail "publish $n"; done
wait_for 20 queue_field_is jobs in_flight 1
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST \
    -d '{"timeout": "1s"}' "$URL/actions/stop")
[ "$code" = 202 ] || fail "stop action: $code"
wait_for 20 log_has "3 tasks not processed stay in the in-memory queues (2 queued, 1 in flight, which go back)"
log_has "lost with the in-memory queues" && fail "a stop action called its tasks lost"
wait_for 20 queue_field_is jobs depth 3
alive "$MASTER" || fail "the master exited on the stop action"
# Started again, the worker handles all three.
rm -f "$T/hang"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST "$URL/actions/start")
[ "$code" = 202 ] || fail "start action: $code"
wait_for 20 has_lines "$T/rec" 3

# At exit, what is left in memory is lost, and said so.
touch "$T/hang"
for n in 4 5; do [ "$(post $n)" = 202 ] || fail "publish $n"; done
wait_for 20 queue_field_is jobs in_flight 1
stop_master TERM
log_has "2 tasks not processed and lost with the in-memory queues (1 queued, 1 in flight)" ||
	fail "the loss at exit was not logged"

[ "$STATUS" -eq 1 ] || fail "exit $STATUS after the deadline"
echo "ok"
