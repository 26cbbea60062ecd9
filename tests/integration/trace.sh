# Tracing: one mail's journey is one trace, in a JSON-lines file and over
# OTLP/HTTP; a collector that is down or slow costs spans, never work.
. "$(dirname "$0")/lib.sh"

export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1
: "${PLBA_BUILDDIR:?run through make check}"
SO=$PLBA_BUILDDIR/examples/mail_order_bot/.libs/mail_order_bot.so
RECEIVER=$(dirname "$0")/otlp_receiver.py
N=30
PORT=$(free_port)
URL=http://127.0.0.1:$PORT

config() { # TRANSPORT-LINES
	cat >"$T/plba.yml" <<YML
platform:
  name: mob
  modules: [$SO]
  http: {enabled: true, listen: 127.0.0.1:$PORT}
  trace: {$1}
workers:
  mail-poller:
    module: mail-faker
    config: {poll_interval: 50ms, batch: 10, limit: $N}
  email-processor:
    module: email-processor
    concurrency: 3
    consumes: emails
mail_order_bot:
  orders_file: $T/orders.jsonl
YML
}

# --- file -------------------------------------------------------------------
config "transport: file, file: $T/traces.jsonl"
start_master
good=$((N - N / 7))
wait_for 30 has_lines "$T/orders.jsonl" $good
wait_for 10 grep -q '"name":"order created"' "$T/traces.jsonl"
python3 - "$T/traces.jsonl" "$N" <<'PY'
import collections, json, sys
spans = [json.loads(l) for l in open(sys.argv[1])]
by_trace = collections.defaultdict(list)
for s in spans:
    assert len(s["trace_id"]) == 32 and len(s["span_id"]) == 16, s
    assert s["resource"]["service.name"] == "mob", s
    by_trace[s["trace_id"]].append(s)
roots = [s for s in spans if s["name"] == "mail discovered"]
assert roots and all("parent_span_id" not in s for s in roots)
complete = 0
for root in roots:
    t = {s["name"]: s for s in by_trace[root["trace_id"]]}
    proc = t.get("process emails")
    if proc is None:
        continue
    # The consumer continued the producer's trace, as its child.
    assert proc["parent_span_id"] == root["span_id"], (proc, root)
    assert proc["kind"] == "consumer"
    assert t["mail parsed"]["parent_span_id"] == proc["span_id"]
    for name in ("plba.enqueue", "plba.dispatch"):
        assert t[name]["resource"]["worker"] == "plba-master", t[name]
        assert t[name]["parent_span_id"] == root["span_id"]
    if "order created" in t:
        assert proc["status"]["code"] == "ok"
        complete += 1
    else:
        assert proc["status"]["code"] == "error", proc
        assert "plba.dead_letter" in t, sorted(t)
assert complete >= int(sys.argv[2]) * 6 // 7 - 1, complete
PY
tid=$(grep -m1 '"name":"order created"' "$T/traces.jsonl" | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["trace_id"])')
jq_check "$(curl -sf "$URL/traces/$tid")" 'len(d["spans"]) >= 6 and all(s["trace_id"] == d["trace_id"] for s in d["spans"])'
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/traces/00000000000000000000000000000001")
[ "$code" = 404 ] || fail "unknown trace -> $code"
# A task published over HTTP with a traceparent header joins that trace.
curl -sf -X POST -H 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' \
	-d '{"name":"mail","payload":{"message_id":"<http@x>","body":"order: TEA-01 x 2"}}' \
	"$URL/queues/emails/tasks" >/dev/null
wait_for 10 grep -q '"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736".*"name":"process emails"' "$T/traces.jsonl"
# A later version's extra fields are not ours to pass on, whatever bytes
# they are: the task carries the trace on as version 00.
curl -sf -X POST -H "$(printf 'traceparent: 01-5bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-\377x')" \
	-d '{"name":"mail","payload":{"message_id":"<v01@x>","body":"order: TEA-01 x 1"}}' \
	"$URL/queues/emails/tasks" >/dev/null || fail "a later traceparent version refused"
wait_for 10 grep -q '"trace_id":"5bf92f3577b34da6a3ce929d0e0e4736".*"name":"process emails"' "$T/traces.jsonl"
# White space around the value is the header's (RFC 9110), not the value's.
curl -sf -X POST -H "$(printf 'traceparent: 00-6bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01   ')" \
	-d '{"name":"mail","payload":{"message_id":"<ows@x>","body":"order: TEA-01 x 1"}}' \
	"$URL/queues/emails/tasks" >/dev/null || fail "a traceparent with trailing white space refused"
wait_for 10 grep -q '"trace_id":"6bf92f3577b34da6a3ce929d0e0e4736".*"name":"process emails"' "$T/traces.jsonl"
# logrotate: the file is reopened on SIGUSR1.
mv "$T/traces.jsonl" "$T/traces.jsonl.1"
kill -USR1 "$MASTER"
curl -sf -X POST -d '{"name":"mail","payload":{"message_id":"<r@x>","body":"order: MUG-02 x 1"}}' \
	"$URL/queues/emails/tasks" >/dev/null
wait_for 10 test -s "$T/traces.jsonl"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"

# --- OTLP -------------------------------------------------------------------
rm -f "$T/orders.jsonl"
python3 "$RECEIVER" 0 "$T/otlp.jsonl" >"$T/rport" 2>"$T/receiver.log" &
RECV=$!
wait_for 10 test -s "$T/rport"
config "transport: otlp, endpoint: \"http://127.0.0.1:$(cat "$T/rport")/v1/traces\""
start_master
wait_for 30 has_lines "$T/orders.jsonl" $good
wait_for 20 grep -q '"name": *"order created"' "$T/otlp.jsonl"
grep -q '"service.name": *"mob"' "$T/otlp.jsonl" || fail "no service.name: $(head -c 300 "$T/otlp.jsonl")"
# The collector goes away: the work goes on, the drops are counted.
kill "$RECV"
wait "$RECV" 2>/dev/null || true
curl -sf -X POST -d '{"name":"mail","payload":{"message_id":"<down@x>","body":"order: BAG-13 x 1"}}' \
	"$URL/queues/emails/tasks" >/dev/null
wait_for 10 grep -q '<down@x>' "$T/orders.jsonl"
dropped() { curl -s "$URL/metrics" | awk '/^plba_trace_spans_dropped_total/ {print $2}'; }
drops_rose() { [ "${1:-0}" -lt "$(dropped)" ]; }
wait_for 30 drops_rose 0
curl -sf --max-time 5 "$URL/livez" >/dev/null || fail "master slow while the collector is down"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
log_has "tracing: .* span records dropped" || fail "drops not logged"

# A collector that takes seconds to answer slows only the exporter.
rm -f "$T/orders.jsonl" "$T/rport"
python3 "$RECEIVER" --slow 4 0 "$T/slow.jsonl" >"$T/rport" 2>"$T/receiver.log" &
RECV=$!
wait_for 10 test -s "$T/rport"
config "transport: otlp, endpoint: \"http://127.0.0.1:$(cat "$T/rport")/v1/traces\""
start_master
# Every mail becomes its order while the first batch is still hanging.
wait_for 20 has_lines "$T/orders.jsonl" $good
curl -sf --max-time 5 "$URL/livez" >/dev/null || fail "master slow with a slow collector"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
kill "$RECV" 2>/dev/null || true
wait "$RECV" 2>/dev/null || true
echo "ok"
