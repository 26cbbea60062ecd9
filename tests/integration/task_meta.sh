# A task's metadata reaches the consumer's plba_task_meta whatever its
# form: plain metadata last in the task (kept as text, not parsed, by the
# master and the consumer), first, with escapes, with an empty key, or
# none; and the task the master queues keeps it.
. "$(dirname "$0")/lib.sh"

: "${PW:?run through make check}"
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
cat >"$T/plba.yml" <<YML
platform:
  name: meta
  autostart: false
  http: {enabled: true, listen: 127.0.0.1:$PORT}
queues:
  q: {capacity: 100}
workers:
  c:
    command: [$PW, consume, payloads, $T/got, meta, k, meta, "", meta, x]
    consumes: q
YML
start_master
wait_for 10 curl_ok "$URL/livez"

publish() {
	code=$(curl -s -o "$T/answer" -w '%{http_code}' --max-time 5 \
	    -X POST -H 'Content-Type: application/json' --data-binary "$1" \
	    "$URL/queues/q/tasks")
	[ "$code" = 202 ] || fail "publish $1: $code $(cat "$T/answer")"
}
publish '{"name":"last","payload":1,"metadata":{"k":"v1","x":"{,:}"}}'
publish '{"metadata":{"k":"v2"},"name":"first","payload":2}'
publish '{"name":"escaped","payload":3,"metadata":{"k":"v\"3","x":"\u00e9"}}'
publish '{"name":"empty","payload":4,"metadata":{"":"e","k":"v4"}}'
publish '{"name":"none","payload":5}'
publish '{"name":"nothing","payload":6,"metadata":{}}'
# Queued as published, metadata and all.
wait_for 10 curl_has "$URL/queues/q" '"depth":6'
curl -sf -X POST "$URL/actions/start" >/dev/null || fail "start refused"
wait_for 20 has_lines "$T/got" 6

want=$(printf '%s\n' \
    'last 1 k=v1 =- x={,:}' \
    'first 2 k=v2 =- x=-' \
    'escaped 3 k=v"3 =- x=é' \
    'empty 4 k=v4 =e x=-' \
    'none 5 k=- =- x=-' \
    'nothing 6 k=- =- x=-')
got=$(sort -k2n "$T/got")
[ "$got" = "$want" ] || fail "metadata as the consumer saw it:
$got
wanted:
$want"
stop_master
