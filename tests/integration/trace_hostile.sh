# Trace records a child sends in any form, good or bad: the file transport
# writes each as one valid JSON line in UTF-8 with the master's resource,
# or drops and counts it; neither the master nor the child suffers.  The
# records in libplba's own form take the master's fast way, the others
# the parser's (tests/workers/plba-protoworker.c, hostile traces); a frame
# that looks like one but is not JSON is a protocol error, found on the
# exporter thread, and its record counts as dropped.
. "$(dirname "$0")/lib.sh"

export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
cat >"$T/plba.yml" <<YML
platform:
  name: hs
  http: {enabled: true, listen: 127.0.0.1:$PORT}
  trace: {transport: file, file: $T/traces.jsonl}
workers:
  spans:
    command: [$PW, hostile, traces]
    ready: protocol
  badtrace:
    command: [$PW, hostile, badtrace]
    restart_delay: 50ms
    restart_max_delay: 50ms
    max_restarts: 2
YML
start_master
metric() { curl -s --max-time 5 "$URL/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
# A frame that begins and ends like libplba's trace frame but is not
# JSON is a protocol error like any other, however fast the fast way:
# each of the three processes is killed for its one bad frame.
wait_for 20 log_has "badtrace: failed"
[ "$(log_count "badtrace.0: protocol error: invalid JSON; killing")" -eq 3 ] ||
	fail "not 3 protocol errors"
bad=3
# Each round is 4 lines and 3 drops.
rounds_done() {
	local e d
	e=$(metric plba_trace_spans_exported_total)
	d=$(metric plba_trace_spans_dropped_total)
	[ "${e:-0}" -ge 12 ] && [ "${d:-0}" -ge $((9 + bad)) ]
}
wait_for 30 rounds_done
e=$(metric plba_trace_spans_exported_total)
d=$(($(metric plba_trace_spans_dropped_total) - bad))
# Lines and drops come in the proportion of the frames.
[ $((e * 3)) -le $((d * 4 + 12)) ] && [ $((d * 4)) -le $((e * 3 + 12)) ] ||
	fail "exported $e, dropped $d: not 4 to 3"
python3 - "$T/traces.jsonl" <<'PY'
import json, sys
names = {"plain", "spaced", "odd/A", "}}"}
seen = set()
with open(sys.argv[1], "rb") as f:
    for raw in f:
        line = raw.decode("utf-8")          # strict: the file is UTF-8
        assert line.endswith("\n") and "\n" not in line[:-1], line
        s = json.loads(line)
        assert s["resource"] == {"service.name": "hs", "worker": "spans",
                                 "instance": 0}, s
        assert "forged" not in line, line
        assert s["name"] in names, s["name"]
        seen.add(s["name"])
        if s["name"].startswith("odd"):
            assert s["attributes"] == {"x\u00e9\U0001F600": 1.5}, s
assert seen == names, seen
PY
jq_check "$(curl -sf "$URL/traces/0af7651916cd43dd8448eb211c80319c")" \
	'len(d["spans"]) >= 8'
# Not one protocol error: the child was never killed.
log_has "spans.0: protocol error" && fail "the child was killed"
[ "$(log_count "spans.0: started")" -eq 1 ] || fail "the child restarted"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
