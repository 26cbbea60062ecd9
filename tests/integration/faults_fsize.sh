# The master's files cannot grow (a full disk, or a file size limit):
# its log, in JSON, and its trace file lose whole lines, never part of
# one.  The trace file's lost spans are counted and logged with the
# reason; the master goes on, and once there is room both files take
# lines again, every one of them a JSON object.  The disk is "filled" with
# a file size limit put on the running master (prlimit), which needs no
# privilege and no mount.  (A durable queue's database: durable_full.sh.)
. "$(dirname "$0")/lib.sh"

command -v prlimit >/dev/null || { echo "no prlimit (Debian: util-linux)"; exit 77; }
[ -n "$PW" ] || { echo "no protocol worker"; exit 77; }

export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1
TRACES=$T/traces.jsonl
JLOG=$T/plba.log
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
cat >"$T/plba.yml" <<YML
platform:
  name: full
  http: {enabled: true, listen: 127.0.0.1:$PORT}
  trace: {transport: file, file: $TRACES}
log: {output: $JLOG, format: json}
workers:
  spans:
    command: [$PW, spans, "1000000", "2"]
  steady:
    command: [$TW, --record, $T, --line, "4000"]
    restart_delay: 0
    restart_max_delay: 100ms
    max_restarts: 0
YML
metric() { curl -s --max-time 5 "$URL/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
dropped_over() { [ "$(metric plba_trace_spans_dropped_total)" -gt "$1" ]; }
size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }
size_over() { [ "$(size_of "$2")" -gt "$1" ]; }
jlog_has() { grep -q -- "$1" "$JLOG"; }
# restarts N: kills steady.0 N times, each time waiting for its successor;
# every start logs its 4 000-byte line.
restarts() {
	local i n
	for i in $(seq 1 "$1"); do
		n=$(lines "$T/steady.0")
		kill -KILL "$(last_pid "$T/steady.0")"
		wait_for 10 has_lines "$T/steady.0" $((n + 1))
	done
}

start_master
wait_for 20 has_lines "$TRACES" 50
wait_for 10 has_lines "$T/steady.0" 1

# The trace file grows fast and the log slowly: a limit of the bigger of
# the two plus 20 000 bytes stops the trace file within a few batches and
# leaves the log room for its first lines, the dropped spans' among them.
limit=$(size_of "$TRACES")
[ "$(size_of "$JLOG")" -gt "$limit" ] && limit=$(size_of "$JLOG")
limit=$((limit + 20000))
prlimit --pid "$MASTER" --fsize=$limit:unlimited
wait_for 30 dropped_over 0
wait_for 30 jlog_has "platform.trace.file: $TRACES: File too large"
# Then the log, 4 000 bytes a restart: the line that would cross the limit
# is not written at all, nor those after it.
deadline=$((SECONDS + 60))
until [ $(($(size_of "$JLOG") + 5000)) -gt "$limit" ]; do
	[ $SECONDS -lt $deadline ] || fail "the log did not reach the limit"
	restarts 1
done
restarts 3
alive "$MASTER" || fail "the master died"
[ "$(size_of "$TRACES")" -le "$limit" ] || fail "the trace file grew past the limit"
[ "$(size_of "$JLOG")" -le "$limit" ] || fail "the log grew past the limit"

# Room again.
prlimit --pid "$MASTER" --fsize=unlimited:unlimited
wait_for 30 size_over "$limit" "$TRACES"
before=$(lines "$TRACES")
wait_for 30 has_lines "$TRACES" $((before + 50))
restarts 1
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
jlog_has '"exiting"' || fail "the last lines were not logged once there was room"

python3 - "$TRACES" "$JLOG" <<'PY'
import json, sys
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            assert raw.endswith(b"\n"), "%s: line %d has no end" % (path, n)
            try:
                json.loads(raw)
            except ValueError as e:
                sys.exit("%s: line %d is not JSON (%s): %.120r" % (path, n, e, raw))
PY
echo "ok"
