# The built-in timer worker (type: timer): ticks on its interval with the
# configured payload, fires at once when asked, stops promptly, and names
# the key of a bad configuration.
. "$(dirname "$0")/lib.sh"

: "${PW:?run through make check}"
cat >"$T/plba.yml" <<YML
platform:
  name: timers
  stop_timeout: 10s
queues:
  ticks: {capacity: 100}
  once: {capacity: 10}
workers:
  ticker:
    type: timer
    config:
      queue: ticks
      task: ping
      interval: 200ms
      payload: {order: 42, tags: [a, "b c"], note: null, nested: {x: "y\"z"}}
  hourly:
    type: timer
    config: {queue: once, interval: 1h, immediately: true}
  nightly:
    type: timer
    environment: {TZ: UTC}
    config: {queue: once, task: night, at: ["03:00", "3:30"], immediately: yes}
  sink:
    command: [$PW, consume, payloads, $T/ticks]
    consumes: ticks
  once-sink:
    command: [$PW, consume, payloads, $T/once]
    consumes: once
YML
"$PLBA_MASTER" -t -c "$T/plba.yml" >/dev/null || fail "--check rejected type: timer"
start_master
wait_for 20 has_lines "$T/ticks" 3
t0=$EPOCHREALTIME
n0=$(lines "$T/ticks")
wait_for 20 has_lines "$T/ticks" $((n0 + 10))
t1=$EPOCHREALTIME
# Ten more ticks at 200 ms take about 2 s; a timer that bursts is quicker.
python3 -c "import sys; sys.exit(0 if $t1 - $t0 >= 1.6 else 1)" ||
	fail "10 ticks in $(python3 -c "print($t1 - $t0)")s: faster than the interval"
want='ping {"order":"42","tags":["a","b c"],"note":null,"nested":{"x":"y\"z"}}'
bad=$(grep -cvxF -- "$want" "$T/ticks" || true)
[ "$bad" -eq 0 ] || fail "unexpected payload: $(grep -vxF -- "$want" "$T/ticks" | head -1)"
# immediately: true fires once at start; then the hour, or 03:00, is far.
wait_for 10 has_lines "$T/once" 2
grep -qx 'tick null' "$T/once" || fail "no immediate tick: $(cat "$T/once")"
grep -qx 'night null' "$T/once" || fail "no immediate night task: $(cat "$T/once")"
[ "$(lines "$T/once")" -eq 2 ] || fail "immediately fired more than once: $(cat "$T/once")"
# Stop is prompt even for a timer that waits an hour.
t0=$SECONDS
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
[ $((SECONDS - t0)) -lt 5 ] || fail "stop took $((SECONDS - t0))s"
log_has "killed by signal" && fail "a timer had to be killed"

# Traced: each tick begins a trace that its task carries to the consumer.
cat >"$T/plba.yml" <<YML
platform:
  trace: {transport: file, file: $T/traces.jsonl}
queues:
  ticks: {capacity: 100}
workers:
  ticker:
    type: timer
    config: {queue: ticks, task: ping, interval: 100ms}
  sink:
    command: [$PW, consume, payloads, $T/traced]
    consumes: ticks
YML
start_master
wait_for 20 has_lines "$T/traced" 3
wait_for 10 grep -q '"name":"process ticks"' "$T/traces.jsonl"
stop_master
[ $STATUS -eq 0 ] || fail "traced: stop exited $STATUS"
python3 - "$T/traces.jsonl" <<'PY' || fail "traces: $(head -c 1500 "$T/traces.jsonl")"
import json, sys
spans = [json.loads(l) for l in open(sys.argv[1])]
ticks = {s["span_id"]: s for s in spans if s["name"] == "timer tick"}
assert len(ticks) >= 3, len(ticks)
for t in ticks.values():
    assert "parent_span_id" not in t and t["resource"]["worker"] == "ticker", t
    assert t["attributes"] == {"plba.queue": "ticks", "plba.task.name": "ping"}, t
    assert t["status"]["code"] == "ok", t
procs = [s for s in spans if s["name"] == "process ticks"]
assert procs and all(p["parent_span_id"] in ticks and
    p["trace_id"] == ticks[p["parent_span_id"]]["trace_id"] for p in procs), procs
PY

# Configuration errors: each names its key, and the instance exits 2.
check_bad() { builtin_config_error timer "$@"; }
check_bad noqueue '{interval: 1s}' \
	"workers.noqueue.config.queue: required: the queue to publish to"
check_bad both '{queue: q, interval: 1s, at: ["12:00"]}' \
	"bad.yml:[0-9]*:[0-9]*: workers.both.config.at: set either interval or at, not both"
check_bad neither '{queue: q}' "workers.neither.config.interval: required (or at)"
# Every bad entry of a list, each pointing at itself.
check_bad badat '{queue: q, at: ["12:00", "25:00", "7"]}' \
	'bad.yml:[0-9]*:[0-9]*: workers.badat.config.at\[1\]: "25:00" is not a time of day'
log_has 'bad.yml:[0-9]*:[0-9]*: workers.badat.config.at\[2\]: "7" is not a time of day' ||
	fail "badat: the second bad entry is not reported"
log_has 'config.at\[0\]' && fail "badat: a good entry reported"
check_bad badint '{queue: q, interval: soon}' \
	"workers.badint.config.interval: expected a duration"
check_bad typo '{queue: q, interval: 1s, imediately: true}' \
	"workers.typo.config.imediately: unknown key"

# A queue nobody declared: the timer stays up and reports it as health.
PORT=$(free_port)
cat >"$T/noq.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
workers:
  lost:
    type: timer
    critical: false
    config: {queue: nowhere, interval: 100ms}
YML
: >"$LOG"
"$PLBA_MASTER" -c "$T/noq.yml" >>"$LOG" 2>&1 &
MASTER=$!
wait_for 20 curl_has "http://127.0.0.1:$PORT/workers/lost" '"health":"unhealthy"'
curl_has "http://127.0.0.1:$PORT/workers/lost" 'publish to queue \\"nowhere\\"' ||
	fail "no detail: $(curl -s "http://127.0.0.1:$PORT/workers/lost")"
[ "$(log_count 'timer: publish to queue "nowhere"')" -eq 1 ] ||
	fail "the failure is logged more than once"
stop_master

# An unknown type is refused by --check.
cat >"$T/nosuch.yml" <<YML
workers:
  x:
    type: nosuch
YML
st=0
out=$("$PLBA_MASTER" -t -c "$T/nosuch.yml" 2>&1) || st=$?
[ $st -eq 2 ] || fail "type: nosuch exited $st"
grep -q -- 'workers.x.type: no built-in worker "nosuch"' <<<"$out" || fail "no clear error: $out"
echo "ok"
