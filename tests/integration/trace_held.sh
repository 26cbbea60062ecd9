# libplba holds a trace frame for the next frame its worker sends, so that
# both go in one write; a span with nothing after it still reaches the
# trace file: after a quiet spell, and when the worker exits right after
# making it.
. "$(dirname "$0")/lib.sh"

cat >"$T/plba.yml" <<YML
platform:
  name: held
  # No heartbeat comes to carry the held frames out.
  ipc: {heartbeat_interval: 30s, heartbeat_timeout: 90s}
  trace: {transport: file, file: $T/traces.jsonl}
workers:
  lone:
    command: [$PW, spans, "3", "1500"]
  burst:
    command: [$PW, spans, "200", "0", exit]
    restart: never
YML
start_master
spans_of() { grep -c "\"worker\":\"$1\"" "$T/traces.jsonl" 2>/dev/null || true; }
# (Both name their spans "lone N".)  Each span of lone comes 1.5 s after the last thing it sent: its channel
# thread sleeps, and the span must wake it.  Well before a heartbeat.
for i in 0 1 2; do
	wait_for 10 grep -qs "\"name\":\"lone $i\".*\"worker\":\"lone\"" "$T/traces.jsonl"
done
[ "$(spans_of burst)" -eq 200 ] || fail "burst: $(spans_of burst) spans of 200"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
[ "$(spans_of lone)" -eq 3 ] || fail "lone: $(spans_of lone) spans of 3"
echo "ok"
