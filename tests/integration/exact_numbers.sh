# A task's payload reaches its consumer as it was published, numbers of
# more digits than a double keeps included (ids past 2^53), whether it
# was published by a worker or over HTTP; task lists show them the same.
. "$(dirname "$0")/lib.sh"

need_protoworker
http_port
P='[9007199254740993,12345678901234567890123,-0.000012345678901234567,1.5,"12345678901234567890",{"id":123456789012345678}]'
cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
queues:
  q: {}
  held: {}
workers:
  producer:
    command: [$PW, produce, q, "1", payload, '$P']
    restart: never
  sink:
    command: [$PW, consume, payloads, $T/payloads]
    consumes: q
YML
start_master
wait_for 10 curl_ok "$URL/readyz"
curl -sf -o /dev/null -d "{\"name\":\"http\",\"payload\":$P}" "$URL/queues/q/tasks" ||
	fail "the HTTP publish was refused"
curl -sf -o /dev/null -d "{\"name\":\"http\",\"payload\":$P}" "$URL/queues/held/tasks" ||
	fail "the HTTP publish was refused"
wait_for 20 has_lines "$T/payloads" 2
while read -r name payload; do
	[ "$payload" = "$P" ] || fail "$name's payload came as $payload"
done <"$T/payloads"
curl -s "$URL/queues/held/tasks" | grep -qF "\"payload\":$P" ||
	fail "the task list shows: $(curl -s "$URL/queues/held/tasks")"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
