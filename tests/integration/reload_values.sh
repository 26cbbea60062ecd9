# A reload compares what a worker's definition means, not its text: a
# value quoted or written another way, or a default written out, leaves
# the worker's instances, and the HTTP server, running untouched.  A
# real change still restarts the worker.
. "$(dirname "$0")/lib.sh"

http_port
# config LISTEN STOP-TIMEOUT WORKER-LINES: the file, w's keys below command.
config() {
	cat >"$T/plba.yml" <<YML
platform:
  stop_timeout: $2
  http: {enabled: true, listen: $1}
workers:
  w:
    command: [$TW, --record, $T]
$3
YML
}
reloads=0
# noop WHAT LISTEN STOP-TIMEOUT WORKER-LINES: reloading that file changes
# nothing, says the answer.
noop() {
	local what=$1 ans
	shift
	config "$@"
	ans=$(curl -s --max-time 10 -X POST "$URL/actions/reload")
	reloads=$((reloads + 1))
	jq_check "$ans" 'd["workers"] == {"added": [], "changed": [], "scaled": [], "removed": []}' ||
		fail "$what: reload answer: $ans"
	wait_for 10 log_at_least "reloading configuration" "$reloads"
	wait_for 10 curl_ok "$URL/livez"
}

config "127.0.0.1:$PORT" 30s "    restart_delay: 100ms
    config: {n: 1, s: text, m: {a: 1, b: 2}}"
start_master
wait_for 10 curl_ok "$URL/readyz"
wait_for 10 has_lines "$T/w.0" 1
pid=$(last_pid "$T/w.0")

noop "quoted duration" "127.0.0.1:$PORT" 30s "    restart_delay: \"100ms\"
    config: {n: 1, s: text, m: {a: 1, b: 2}}"
noop "duration in seconds" "127.0.0.1:$PORT" 30s "    restart_delay: 0.1s
    config: {n: 1, s: text, m: {a: 1, b: 2}}"
noop "defaults written out" "127.0.0.1:$PORT" 30s "    restart_delay: 100ms
    critical: true
    restart: on-failure
    environment: {}
    stop_timeout: 30s
    concurrency: 1
    config: {n: 1, s: text, m: {a: 1, b: 2}}"
noop "config the same as JSON" "127.0.0.1:$PORT" 30s "    restart_delay: 100ms
    config: {m: {b: 2, a: 1.0}, s: 'text', n: 1}"
noop "quoted listen" "\"127.0.0.1:$PORT\"" 30s "    restart_delay: 100ms
    config: {n: 1, s: text, m: {a: 1, b: 2}}"
noop "listen as a list" "[127.0.0.1:$PORT]" 30s "    restart_delay: 100ms
    config: {n: 1, s: text, m: {a: 1, b: 2}}"
# The stop timeout says only how long a stop waits: the instances kept
# wait the new one, unrestarted.
noop "platform.stop_timeout" "127.0.0.1:$PORT" 10s "    restart_delay: 100ms
    config: {n: 1, s: text, m: {a: 1, b: 2}}"
noop "stop_timeout" "127.0.0.1:$PORT" 10s "    restart_delay: 100ms
    stop_timeout: 5s
    config: {n: 1, s: text, m: {a: 1, b: 2}}"
[ "$(last_pid "$T/w.0")" = "$pid" ] && alive "$pid" ||
	fail "w was restarted by a reload that changed nothing"

# A quoted number in config: is a string to the worker: a change.
config "127.0.0.1:$PORT" 10s "    restart_delay: 100ms
    config: {n: '1', s: text, m: {a: 1, b: 2}}"
ans=$(curl -s --max-time 10 -X POST "$URL/actions/reload")
jq_check "$ans" 'd["workers"]["changed"] == ["w"]'
wait_for 20 has_lines "$T/w.0" 2
wait_for 10 log_has "w: changed; restarting it"
# The log is written in order: the lines of every earlier reload are in
# by now, and none restarted w or the HTTP server.
[ "$(log_count "w: changed; restarting it")" -eq 1 ] ||
	fail "w was said changed by a reload that changed nothing"
[ "$(lines "$T/w.0")" -eq 2 ] || fail "w started $(lines "$T/w.0") times"
! log_has "platform.http changed" || fail "the HTTP server was restarted"

# A real change of the server restarts it.
http_port
config "127.0.0.1:$PORT" 10s "    restart_delay: 100ms
    config: {n: '1', s: text, m: {a: 1, b: 2}}"
kill -HUP "$MASTER"
wait_for 10 curl_ok "$URL/livez"
wait_for 10 log_has "platform.http changed"
[ "$(lines "$T/w.0")" -eq 2 ] || fail "w was restarted by an HTTP change"

stop_master
[ "$STATUS" -eq 0 ] || fail "master exited $STATUS"
echo "ok"
