# A trace file that cannot grow (a full disk, or a file size limit): the
# spans of the batches that do not fit are dropped, counted and logged
# with the reason; the master goes on, and once there is room the file
# takes lines again.  A batch goes in whole or not at all, so every line
# of the file stays one valid JSON object.  The disk is "filled" with a
# file size limit put on the running master (prlimit).
. "$(dirname "$0")/lib.sh"

command -v prlimit >/dev/null || { echo "no prlimit (Debian: util-linux)"; exit 77; }
[ -n "$PW" ] || { echo "no protocol worker"; exit 77; }

export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1
TRACES=$T/traces.jsonl
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
cat >"$T/plba.yml" <<YML
platform:
  name: full
  http: {enabled: true, listen: 127.0.0.1:$PORT}
  trace: {transport: file, file: $TRACES}
workers:
  spans:
    command: [$PW, spans, "1000000", "2"]
YML
metric() { curl -s --max-time 5 "$URL/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
dropped_over() { [ "$(metric plba_trace_spans_dropped_total)" -gt "$1" ]; }
size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }
size_over() { [ "$(size_of "$TRACES")" -gt "$1" ]; }

start_master
wait_for 20 has_lines "$TRACES" 50

# Room for a few batches more, then none.
limit=$(size_of "$TRACES")
[ "$(size_of "$LOG")" -gt "$limit" ] && limit=$(size_of "$LOG")
limit=$((limit + 20000))
prlimit --pid "$MASTER" --fsize=$limit:unlimited
wait_for 30 dropped_over 0
wait_for 30 log_has "platform.trace.file: $TRACES: File too large"
alive "$MASTER" || fail "the master died"
[ "$(size_of "$TRACES")" -le "$limit" ] || fail "the file grew past the limit"

# Room again.
prlimit --pid "$MASTER" --fsize=unlimited:unlimited
wait_for 30 size_over "$limit"
before=$(lines "$TRACES")
wait_for 30 has_lines "$TRACES" $((before + 50))
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"

python3 - "$TRACES" <<'PY'
import json, sys
with open(sys.argv[1], "rb") as f:
    for n, raw in enumerate(f, 1):
        assert raw.endswith(b"\n"), "line %d has no end" % n
        try:
            s = json.loads(raw)
        except ValueError as e:
            sys.exit("line %d is not JSON (%s): %.120r" % (n, e, raw))
        assert s["resource"]["worker"] == "spans", (n, s)
PY
echo "ok"
