# While the trace buffer is full (the collector hangs), spans that find no
# room are dropped from the export but still kept for GET /traces: a
# child's, and the master's own, which are kept as their fields and
# printed when looked up.
. "$(dirname "$0")/lib.sh"

need_protoworker

# Takes each batch and answers none for a minute: the exporter's first
# batch hangs, and its buffer stays full.
slow_receiver 60

http_port
cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: "127.0.0.1:$PORT"}
  trace: {transport: otlp, endpoint: "$RECEIVER_URL"}
queues:
  jobs: {}
workers:
  spans:
    command: [$PW, burst, bigspans, "100", "15000"]
    restart: never
YML
start_master
wait_for 60 log_has "bigspans: 15000 sent"
metric() { curl -sf "$URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
full() { [ "$(metric plba_trace_spans_dropped_total)" -ge 4000 ]; }
wait_for 30 full

TID=4bf92f3577b34da6a3ce929d0e0e47aa
dropped=$(metric plba_trace_spans_dropped_total)
curl -sf -X POST -H "traceparent: 00-$TID-00f067aa0ba902b7-01" \
	-d '{"name":"t","payload":{}}' "$URL/queues/jobs/tasks" >/dev/null ||
	fail "publish"
# Its plba.enqueue found no room either.
dropped_more() { [ "$(metric plba_trace_spans_dropped_total)" -gt "$dropped" ]; }
wait_for 10 dropped_more
jq_check "$(curl -sf "$URL/traces/$TID")" '(len(d["spans"]) == 1 and
	d["spans"][0]["name"] == "plba.enqueue" and
	d["spans"][0]["trace_id"] == "'$TID'" and
	d["spans"][0]["parent_span_id"] == "00f067aa0ba902b7" and
	d["spans"][0]["attributes"] == {"plba.queue": "jobs",
	    "plba.task.id": "1", "plba.task.attempt": 1,
	    "plba.detail": "published over HTTP"} and
	d["spans"][0]["worker"] == "plba-master" and
	d["spans"][0]["instance"] == -1)'
# The child's last spans too, dropped or not: some megabytes of answer.
curl -sf -o "$T/child.json" "$URL/traces/0af7651916cd43dd8448eb211c80319c" ||
	fail "the child's trace is not found"
python3 - "$T/child.json" <<'PY' || fail "the child's spans: $(head -c 300 "$T/child.json")"
import json, sys
spans = json.load(open(sys.argv[1]))["spans"]
sys.exit(0 if len(spans) >= 1000 and all(s["name"] == "big" and
         s["worker"] == "spans" for s in spans) else 1)
PY
curl -sf --max-time 5 -o /dev/null "$URL/livez" || fail "master slow with the buffer full"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
