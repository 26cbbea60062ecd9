# A pipeline stage asked to stop (here by its restart) while its publish
# waits for room in the next stage's full queue finishes that publish once
# the next stage makes room: only a queue that no worker drains has such
# publishes refused at a stop (stop_publish.sh).
. "$(dirname "$0")/lib.sh"

need_protoworker
http_port
cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
queues:
  first: {}
  second: {capacity: 1}
workers:
  stage:
    command: [$PW, consume, relay, second]
    consumes: first
  last:
    command: [$PW, consume, record, $T/rec, sleep, 300]
    consumes: second
YML
start_master
wait_for 10 curl_ok "$URL/readyz"
for i in 1 2 3 4 5; do
	curl -sf -o /dev/null -d "{\"name\":\"t$i\",\"payload\":{\"n\":$i}}" \
		"$URL/queues/first/tasks" || fail "publish $i"
done
# The stage's publish waits: the last stage holds one, one is queued.
wait_for 20 queue_field_is second waiting_publishers 1
curl -sf -o /dev/null -X POST "$URL/workers/stage/restart" || fail "restart refused"
wait_for 60 has_lines "$T/rec" 5
log_has "relay: publish:" && fail "a stopping stage's publish was refused: $(grep 'relay:' "$LOG")"
[ "$(cut -d' ' -f2 "$T/rec" | sort -n | tr '\n' ' ')" = "1 2 3 4 5 " ] ||
	fail "the last stage got: $(cat "$T/rec")"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
