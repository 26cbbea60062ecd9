# capacity counts the tasks waiting in the queue, not those delivered and
# not yet acked: when a consumer comes to a full queue and takes one,
# a publisher waiting for room goes in at once, and the queue is full
# again.
. "$(dirname "$0")/lib.sh"

need_protoworker
http_port
touch "$T/hold"
cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
queues:
  q: {capacity: 2}
workers:
  producer:
    command: [$PW, produce, q, "6", async]
    restart: never
YML
start_master
wait_for 10 curl_ok "$URL/readyz"
wait_for 20 queue_field_is q depth 2
wait_for 20 queue_field_is q waiting_publishers 4
cat >>"$T/plba.yml" <<YML
  sink:
    command: [$PW, consume, hang-while, $T/hold]
    consumes: q
    prefetch: 1
YML
kill -HUP "$MASTER"
wait_for 20 queue_field_is q in_flight 1
wait_for 10 queue_field_is q depth 2
queue_field_is q waiting_publishers 3 || fail "waiting: $(queue_field q waiting_publishers)"
rm "$T/hold"
wait_for 30 queue_field_is q acked 6
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
