# Helpers for the integration tests: each test runs the real plba-master
# with real child processes in a scratch directory, and waits on
# conditions with deadlines, never on fixed sleeps.
set -euo pipefail

: "${PLBA_MASTER:?run through make check}"
: "${PLBA_TESTWORKER:?run through make check}"
TW=$PLBA_TESTWORKER
PW=${PLBA_PROTOWORKER:-}
T=$(mktemp -d "${TMPDIR:-/tmp}/plba-test.XXXXXX")
MASTER=
LOG=$T/master.log

cleanup() {
	local rc=${1:-$?}
	if [ -n "$MASTER" ] && kill -0 "$MASTER" 2>/dev/null; then
		kill -KILL "$MASTER" 2>/dev/null || true
		wait "$MASTER" 2>/dev/null || true
	fi
	if [ $rc -ne 0 ] && [ -f "$LOG" ]; then
		echo "--- master log (last 60 lines) ---"
		tail -n 60 "$LOG"
	fi
	rm -rf "$T"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# wait_for SECONDS COMMAND...: polls COMMAND until it succeeds or time is up.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		if [ $SECONDS -ge $deadline ]; then
			fail "timed out waiting for: $*"
		fi
		sleep 0.02
	done
}

# start_master [ARGS...]: runs plba-master on $T/plba.yml in the background.
start_master() {
	# Created here: the background job opens it only once it runs.
	: >"$LOG"
	"$PLBA_MASTER" -c "$T/plba.yml" "$@" >>"$LOG" 2>&1 &
	MASTER=$!
}

# stop_master [SIGNAL]: signals the master and waits; sets STATUS.
stop_master() {
	kill -"${1:-TERM}" "$MASTER"
	wait_master
}

wait_master() {
	STATUS=0
	wait "$MASTER" || STATUS=$?
	MASTER=
}

# slow_receiver SECONDS: otlp_receiver.py on a free port, answering each
# request SECONDS late; RECEIVER_URL is its endpoint.  Stopped at exit,
# before the clean-up.
slow_receiver() {
	python3 "$(dirname "${BASH_SOURCE[0]}")/otlp_receiver.py" --slow "$1" 0 \
		"$T/otlp.jsonl" >"$T/rport" 2>"$T/receiver.log" &
	RECV=$!
	trap 'rc=$?; stop_receiver; cleanup $rc' EXIT
	wait_for 10 test -s "$T/rport"
	RECEIVER_URL="http://127.0.0.1:$(head -1 "$T/rport")/v1/traces"
}
stop_receiver() { kill "$RECV" 2>/dev/null || true; wait "$RECV" 2>/dev/null || true; }

log_has() { grep -q -- "$1" "$LOG"; }
log_count() { grep -c -- "$1" "$LOG" || true; }
# For wait_for: these evaluate their condition on every try.
log_at_least() { [ "$(log_count "$1")" -ge "$2" ]; }
no_zombies() { [ "$(zombies_of "$1")" -eq 0 ]; }
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
has_lines() { [ "$(lines "$1")" -ge "$2" ]; }
last_pid() { tail -n 1 "$1"; }
alive() { kill -0 "$1" 2>/dev/null; }
dead() { ! kill -0 "$1" 2>/dev/null; }
zombies_of() {
	# Children of $1 in state Z.
	local n=0 st
	for st in /proc/[0-9]*/stat; do
		{ read -r _ _ s pp _ <"$st"; } 2>/dev/null || continue
		[ "$pp" = "$1" ] && [ "$s" = Z ] && n=$((n + 1))
	done
	echo $n
}
fd_count() { ls "/proc/$1/fd" | wc -l; }
# civetweb closes a connection a moment after the client has its answer,
# so a count taken at once may include it: wait for it to settle.
fds_at_most() { [ "$(fd_count "$1")" -le "$2" ]; }

# A TCP port nobody listens on now, on loopback.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# http_port: PORT, a free loopback port for the master's HTTP server, and
# URL, its base.
http_port() {
	PORT=$(free_port)
	URL=http://127.0.0.1:$PORT
}
# need_protoworker: skips a test that needs plba-protoworker without it.
need_protoworker() {
	[ -n "$PW" ] || { echo "skip: no protoworker"; exit 77; }
}
curl_ok() { curl -sf -o /dev/null --max-time 5 "$1"; }
# The body is read whole before grep: grep -q leaves at its first match,
# and with pipefail a curl still writing would fail the test on SIGPIPE.
curl_has() {
	local body
	body=$(curl -s --max-time 5 "$1") || return 1
	grep -q -- "$2" <<<"$body"
}
# queue_field QUEUE FIELD: a member of GET $URL/queues/QUEUE; nothing
# while the master does not answer.
queue_field() {
	curl -sf --max-time 5 "$URL/queues/$1" 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2" 2>/dev/null
}
queue_field_is() { [ "$(queue_field "$1" "$2")" = "$3" ]; }
# rows [STATE [QUEUE]]: tasks of queue QUEUE (jobs) in the durable store $DB, in
# that state (any).
rows() {
	python3 - "$DB" "${1:-}" "${2:-jobs}" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=5)
q = "select count(*) from tasks where queue = ?"
a = (sys.argv[3],)
if sys.argv[2]:
    q += " and state = ?"
    a += (sys.argv[2],)
print(c.execute(q, a).fetchone()[0])
PY
}
rows_are() { [ "$(rows "$1")" -eq "$2" ]; }
# jq_check JSON PYTHON-EXPR: the expression over d (the parsed JSON) holds.
jq_check() {
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" ||
		fail "JSON check failed: $2 on $(printf '%.400s' "$1")"
}

# builtin_config_error TYPE NAME CONFIG WANT: a built-in worker of TYPE
# named NAME with `config: CONFIG` exits 2 at start, and the log says WANT.
builtin_config_error() {
	local type=$1 name=$2 config=$3 want=$4
	cat >"$T/bad.yml" <<YML
workers:
  $name:
    type: $type
    restart: never
    config: $config
YML
	: >"$LOG"
	"$PLBA_MASTER" -c "$T/bad.yml" >>"$LOG" 2>&1 &
	MASTER=$!
	wait_for 20 log_has "exited with status 2"
	log_has "$want" || fail "$name: no \"$want\" in the log"
	stop_master
}

# mob_dead_config TRACE-MEMBERS: $T/plba.yml for mail_order_bot's faked
# mails, fourteen of them, with `platform.trace: {TRACE-MEMBERS}` and the
# HTTP API on $PORT: one consumer, no second attempt, so the two
# malformed mails are dead letters at once (mob_dead_two).
mob_dead_config() {
	cat >"$T/plba.yml" <<YML
platform:
  name: mob
  modules: [$PLBA_BUILDDIR/examples/mail_order_bot/.libs/mail_order_bot.so]
  http: {enabled: true, listen: 127.0.0.1:$PORT}
  trace: {$1}
queues:
  emails: {max_attempts: 1}
workers:
  mail-poller:
    module: mail-faker
    config: {poll_interval: 50ms, batch: 7, limit: 14}
  email-processor:
    module: email-processor
    consumes: emails
mail_order_bot:
  orders_file: $T/orders.jsonl
YML
}
mob_dead_two() { [ "$(queue_field emails dead)" = 2 ]; }

# stuck_config: $T/plba.yml for a queue "items" whose one consumer,
# stuck.0, never finishes a task and so holds its prefetch of two; HTTP
# on $PORT, tracing to $T/traces.jsonl.  It cannot drain: a stop kills it
# after 300ms and the master exits 1.  stuck_publish NAME [TRACEPARENT]
# publishes a task over HTTP.
stuck_config() {
	cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
  ipc: {heartbeat_timeout: 120s}
  trace: {transport: file, file: $T/traces.jsonl}
queues:
  items: {max_attempts: 5}
workers:
  stuck:
    command: [$PW, consume, hang]
    consumes: items
    prefetch: 2
    restart_delay: 0
    stop_timeout: 300ms
YML
}
stuck_publish() {
	local code
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST \
		${2:+-H "traceparent: $2"} -d "{\"name\":\"$1\",\"payload\":{}}" \
		"$URL/queues/items/tasks")
	[ "$code" = 202 ] || fail "publish $1: $code"
}
