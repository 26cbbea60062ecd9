# platform.trace.sample: a new trace is recorded when its id falls below
# the ratio, and every process on its way follows the producer's decision;
# a trace that came with a sampled traceparent is recorded whatever the
# ratio.  The work itself never changes.
. "$(dirname "$0")/lib.sh"

export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1
: "${PLBA_BUILDDIR:?run through make check}"
SO=$PLBA_BUILDDIR/examples/mail_order_bot/.libs/mail_order_bot.so
N=280
PORT=$(free_port)
URL=http://127.0.0.1:$PORT

config() { # SAMPLE
	cat >"$T/plba.yml" <<YML
platform:
  name: sampled
  modules: [$SO]
  http: {enabled: true, listen: 127.0.0.1:$PORT}
  trace: {transport: file, file: $T/traces.jsonl, sample: $1}
workers:
  mail-poller:
    module: mail-faker
    config: {poll_interval: 20ms, batch: 20, limit: $N}
  email-processor:
    module: email-processor
    concurrency: 2
    consumes: emails
mail_order_bot:
  orders_file: $T/orders.jsonl
YML
}
good=$((N - N / 7))
# Every mail acked or dead-lettered: the last spans are on their way.
all_done() { [ $(($(queue_field emails acked) + $(queue_field emails dead))) -ge "$1" ]; }

# --- a half: the ids decide, and no trace is left in pieces -----------------
config 0.5
start_master
wait_for 60 has_lines "$T/orders.jsonl" $good
wait_for 30 all_done $N
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
python3 - "$T/traces.jsonl" "$N" <<'PY'
import collections, json, sys
by_trace = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    s = json.loads(line)
    by_trace[s["trace_id"]][s["name"]] = s
n = int(sys.argv[2])
# 280 draws of one half: 140 with a deviation of 8.4.
assert 70 < len(by_trace) < 210, len(by_trace)
for tid, t in by_trace.items():
    # Recorded exactly when the id's last 56 bits are below 2^55.
    assert int(tid[18:], 16) < 1 << 55, tid
    # Producer, master and consumer all kept it: the trace is whole.
    for name in ("mail discovered", "plba.enqueue", "plba.dispatch",
                 "process emails", "mail parsed"):
        assert name in t, (tid, sorted(t))
print(f"{len(by_trace)} of {n} traces recorded")
PY

# --- none new; a sampled traceparent from outside is still honoured ----------
rm -f "$T/orders.jsonl" "$T/traces.jsonl"
config 0
start_master
wait_for 60 has_lines "$T/orders.jsonl" $good
wait_for 30 all_done $N
curl -sf -X POST -H 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' \
	-d '{"name":"mail","payload":{"message_id":"<kept@x>","body":"order: TEA-01 x 2"}}' \
	"$URL/queues/emails/tasks" >/dev/null
wait_for 10 grep -q '"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736".*"name":"process emails"' "$T/traces.jsonl"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
grep -q '<kept@x>' "$T/orders.jsonl" || fail "the traced mail was not handled"
other=$(grep -vc '"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"' "$T/traces.jsonl" || true)
[ "$other" -eq 0 ] || fail "$other spans of new traces with sample 0: $(grep -v 4bf92f35 "$T/traces.jsonl" | head -2)"
echo "ok"
