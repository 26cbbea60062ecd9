# SIGHUP applies platform.trace: the master's transport changes at once,
# the old exporter draining on its own thread while the loop goes on;
# running libplba instances are told whether tracing is on and the sample
# ratio, and workers that did not ask for it (the Python example) are not;
# the counters never go back; a trace file that cannot be opened rejects
# the reload whole.
. "$(dirname "$0")/lib.sh"

export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1
: "${PLBA_PROTOWORKER:?run through make check}"
SRC=$(cd "${PLBA_SRCDIR:-$(dirname "$0")/../..}" && pwd)
PY=$(python3 -c 'import sys; print(sys.executable)')
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
DEAD_PORT=$(free_port)

config() { # TRACE-MAP
	cat >"$T/plba.yml" <<YML
platform:
  name: reloaded
  http: {enabled: true, listen: 127.0.0.1:$PORT}
  trace: {$1}
queues:
  jobs: {}
  greetings: {}
workers:
  sp:
    command: [$PW, spans, "1000000", "50", say]
  py:
    command: [$PY, $SRC/examples/python-worker/worker.py, consume, $T/py.rec]
    consumes: greetings
YML
}
reload() { # TRACE-MAP: and waits until the master has taken it
	local n
	n=$(log_count "reloading configuration")
	config "$1"
	kill -HUP "$MASTER"
	wait_for 10 log_at_least "reloading configuration" $((n + 1))
	wait_for 10 curl_ok "$URL/livez"
}
pid_of() { curl -sf "$URL/workers/$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["instances"][0]["pid"])'; }
# publish TRACE-ID: a task over HTTP with a sampled traceparent.
publish() {
	curl -sf -X POST -H "traceparent: 00-$1-00f067aa0ba902b7-01" \
		-d '{"name":"t","payload":{}}' "$URL/queues/jobs/tasks" >/dev/null
}
has_span() { grep -qs "\"trace_id\":\"$2\".*\"name\":\"plba.enqueue\"" "$1"; }
sp_spans() { grep -cs '"worker":"sp"' "$1" || true; }
sp_spans_in() { [ "$(sp_spans "$1")" -ge "$2" ]; }
metric() { curl -sf "$URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
# status_trace: GET /status's "trace", as Python would print it.
status_trace() { curl -sf "$URL/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["trace"])'; }
CTL=${PLBACTL:-${PLBA_BUILDDIR:?run through make check}/plbactl}
ctl_tracing() { "$CTL" -u "$URL" status | grep '^tracing' || true; }
# The snapshot /status answers from follows a reload within moments.
status_trace_is() { [ "$(status_trace)" = "$1" ]; }
ctl_tracing_is() { [ "$(ctl_tracing)" = "$1" ]; }
# made HOW: spans sp made since the log began that were HOW (off, sampled,
# unsampled); made_since LINE HOW: those after line LINE of the log.
made() { log_count "made lone [0-9]* $1"; }
made_since() { tail -n +"$(($1 + 1))" "$LOG" | grep -c "made lone [0-9]* $2" || true; }
made_since_at_least() { [ "$(made_since "$1" "$2")" -ge "$3" ]; }
log_lines() { wc -l <"$LOG"; }
A=4bf92f3577b34da6a3ce929d0e0e4701
B=4bf92f3577b34da6a3ce929d0e0e4702
C=4bf92f3577b34da6a3ce929d0e0e4703
D=4bf92f3577b34da6a3ce929d0e0e4704
E=4bf92f3577b34da6a3ce929d0e0e4705

# --- none -> file: the master's spans, and sp's, without a restart -----------
config "transport: none"
start_master
wait_for 10 curl_ok "$URL/livez"
wait_for 10 made_since_at_least 0 off 2
sp=$(pid_of sp)
py=$(pid_of py)
[ -z "$(metric plba_trace_spans_exported_total)" ] || fail "trace counters with tracing never on"
[ "$(status_trace)" = "{'transport': 'none'}" ] || fail "status: $(status_trace)"
[ -z "$(ctl_tracing)" ] || fail "plbactl status: $(ctl_tracing)"
reload "transport: file, file: $T/a.jsonl"
publish $A
wait_for 10 has_span "$T/a.jsonl" $A
log_has "platform.trace: transport file $T/a.jsonl" || fail "the change was not logged"
# sp was told "trace": false in its welcome, then "tracing" on.
wait_for 10 sp_spans_in "$T/a.jsonl" 3
[ "$(made sampled)" -ge 3 ] || fail "sp's spans are not sampled"

# --- file -> another file: the old one stops, /traces keeps what it had -------
reload "transport: file, file: $T/b.jsonl"
publish $B
wait_for 10 has_span "$T/b.jsonl" $B
wait_for 10 sp_spans_in "$T/b.jsonl" 3
a_lines=$(lines "$T/a.jsonl")
wait_for 10 sp_spans_in "$T/b.jsonl" $(($(sp_spans "$T/b.jsonl") + 3))
[ "$(lines "$T/a.jsonl")" -eq "$a_lines" ] || fail "a.jsonl still written after the switch"
! has_span "$T/a.jsonl" $B || fail "B's span went to the old file"
# Those spans were in the old exporter's log, which goes with it: the
# answer holds them, and nothing of another trace the new log has put
# where they were.
jq_check "$(curl -sf "$URL/traces/$A")" 'd["spans"][0]["name"] == "plba.enqueue" and all(s["trace_id"] == "'$A'" for s in d["spans"])'
exported=$(metric plba_trace_spans_exported_total)
[ "$exported" -ge "$((a_lines + 1))" ] || fail "exported $exported, below a.jsonl's $a_lines spans and B's"

# --- a file that cannot be opened: rejected, nothing changes -----------------
reload "transport: file, file: $T/no/such/dir/c.jsonl"
wait_for 10 log_has "configuration rejected"
log_has "platform.trace.file: $T/no/such/dir/c.jsonl" || fail "the reason was not logged"
status_trace_is "{'transport': 'file', 'file': '$T/b.jsonl', 'sample': 1}" ||
	fail "status after a rejected reload: $(status_trace)"
publish $C
wait_for 10 has_span "$T/b.jsonl" $C

# --- file -> otlp at a port nobody listens on, and back, at once -------------
# The otlp exporter is left retrying its batches: the loop must not wait.
reload "transport: otlp, endpoint: \"http://127.0.0.1:$DEAD_PORT/v1/traces\""
wait_for 10 ctl_tracing_is "tracing: otlp http://127.0.0.1:$DEAD_PORT/v1/traces, sample 1"
publish $D
reload "transport: file, file: $T/b.jsonl"
curl -sf --max-time 1 -o /dev/null "$URL/livez" || fail "the master waited for the old exporter"
publish $E
wait_for 10 has_span "$T/b.jsonl" $E
! has_span "$T/b.jsonl" $D || fail "D should have gone to the collector"
# D's span, and whatever sp sent meanwhile, are counted as dropped once
# the otlp exporter gives up.
dropped_some() { [ "$(metric plba_trace_spans_dropped_total)" -ge 1 ]; }
wait_for 20 dropped_some
wait_for 20 log_has "tracing: .* span records dropped so far"
now=$(metric plba_trace_spans_exported_total)
[ "$now" -ge "$exported" ] || fail "exported went back from $exported to $now"

# --- a new ratio reaches the running instance --------------------------------
at=$(log_lines)
reload "transport: file, file: $T/b.jsonl, sample: 0"
log_has "platform.trace.sample: 0" || fail "sample change not logged"
wait_for 10 ctl_tracing_is "tracing: file $T/b.jsonl, sample 0"
wait_for 10 made_since_at_least "$at" unsampled 10
# Not one span sp made unsampled is in the file.
tail -n +"$((at + 1))" "$LOG" | sed -n 's/.*made \(lone [0-9]*\) unsampled.*/\1/p' >"$T/unsampled"
while read -r name; do
	! grep -q "\"name\":\"$name\".*\"worker\":\"sp\"" "$T/b.jsonl" ||
		fail "$name was recorded with sample 0"
done <"$T/unsampled"

# --- many switches: every replaced exporter's thread and file go -----------
threads() { ls "/proc/$MASTER/task" | wc -l; }
threads_at_most() { [ "$(threads)" -le "$1" ]; }
base_threads=$(threads)
base_fds=$(fd_count "$MASTER")
for i in $(seq 1 15); do
	reload "transport: file, file: $T/a.jsonl"
	reload "transport: none"
	reload "transport: file, file: $T/b.jsonl, sample: 0"
done
# Reaped at a heartbeat scan once drained.
wait_for 10 threads_at_most "$base_threads"
wait_for 10 fds_at_most "$MASTER" "$base_fds"

# --- file -> none: /traces goes; sp is told ----------------------------------
at=$(log_lines)
reload "transport: none"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/traces/$A")
[ "$code" = 404 ] || fail "/traces with tracing off -> $code"
wait_for 10 made_since_at_least "$at" off 3
[ -n "$(metric plba_trace_spans_exported_total)" ] || fail "the counters went with tracing"

# Nobody was restarted for all this: not sp, which took every change as
# it ran, nor the Python worker, which never asked to be told.
[ "$(pid_of sp)" = "$sp" ] || fail "sp was restarted"
[ "$(pid_of py)" = "$py" ] || fail "the Python worker was restarted: $(grep py "$LOG" | tail -3)"
[ "$(log_count "protocol error")" -eq 0 ] || fail "protocol errors: $(grep 'protocol error' "$LOG" | head -3)"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
