# SIGHUP applies platform.http without touching the workers: a token
# file read again (rotation), a token required from then on, a new
# listener, the server turned off and on; a listener that cannot start
# leaves the previous one serving.
. "$(dirname "$0")/lib.sh"

A=$(free_port)
B=$(free_port)
[ "$A" != "$B" ] || B=$(free_port)

# config HTTP-MEMBERS: the file.
config() {
	cat >"$T/plba.yml" <<YML
platform:
  http: {$1}
workers:
  steady:
    command: [$TW, --record, $T]
YML
}
reload() { kill -HUP "$MASTER"; wait_for 10 log_at_least "reloading configuration" "$1"; }
# start_code PORT [TOKEN]: the status of POST /actions/start on PORT.
start_code() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST \
		${2:+-H "Authorization: Bearer $2"} "http://127.0.0.1:$1/actions/start"
}
code_is() { [ "$(start_code "$@")" = "${WANT}" ]; }
refused() { ! curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/livez"; }

config "enabled: true, listen: 127.0.0.1:$A"
start_master
wait_for 10 has_lines "$T/steady.0" 1
pid=$(last_pid "$T/steady.0")
wait_for 10 curl_ok "http://127.0.0.1:$A/livez"
[ "$(start_code "$A")" = 202 ] || fail "no token needed yet"

# 1. A token from now on.
echo one >"$T/token"
config "enabled: true, listen: 127.0.0.1:$A, token_file: $T/token"
reload 1
WANT=401 wait_for 10 code_is "$A"
[ "$(start_code "$A" one)" = 202 ] || fail "token one refused"
log_has "http: listening on 127.0.0.1:$A (token required for actions)" ||
	fail "restart not logged"

# 2. The same file with a new token: read again on SIGHUP.
echo two >"$T/token"
reload 2
wait_for 10 log_has "http: token read again from $T/token"
[ "$(start_code "$A" one)" = 401 ] || fail "the old token still works"
[ "$(start_code "$A" two)" = 202 ] || fail "the new token is refused"
# An unreadable token file keeps the token read before.
rm "$T/token"
reload 3
wait_for 10 log_has "keeping the token read before"
[ "$(start_code "$A" two)" = 202 ] || fail "token lost with its file"
echo two >"$T/token"

# 3. Another port: the old one closes, the new one answers.
config "enabled: true, listen: 127.0.0.1:$B, token_file: $T/token"
reload 4
wait_for 10 curl_ok "http://127.0.0.1:$B/livez"
wait_for 10 refused "$A"
[ "$(start_code "$B" two)" = 202 ] || fail "token on the new port"
# The answers counted on the old listener still count: at least two 401s.
curl -sf --max-time 5 "http://127.0.0.1:$B/metrics" >"$T/metrics" ||
	fail "no /metrics on the new port"
n=$(sed -n 's/^plba_http_requests_total{code="401"} //p' "$T/metrics")
[ "${n:-0}" -ge 2 ] || fail "401s counted before the restart: ${n:-none}"

# hold PORT: a process keeps PORT bound, its pid in $holder.  It sets
# SO_REUSEADDR as servers do: the master closes each connection, so its
# old port has connections in TIME_WAIT.
hold() {
	rm -f "$T/holding"
	python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
open(sys.argv[2], "w").close()
time.sleep(60)' "$1" "$T/holding" &
	holder=$!
	wait_for 10 test -e "$T/holding"
}

# 4. A port that is taken: the previous listener goes on serving.
hold "$A"
config "enabled: true, listen: 127.0.0.1:$A, token_file: $T/token"
reload 5
wait_for 10 log_has "http: the new platform.http does not start; serving the previous one"
curl_ok "http://127.0.0.1:$B/livez" || fail "the previous listener is gone"
kill "$holder"; wait "$holder" 2>/dev/null || true

# 5. Off, then on again: on a taken port it stays off, and the next
#    SIGHUP, the port free, starts it with the same file.
config "enabled: false"
reload 6
wait_for 10 log_has "http: off"
wait_for 10 refused "$B"
hold "$A"
config "enabled: true, listen: 127.0.0.1:$A"
reload 7
wait_for 10 log_has "http: the HTTP server is off until a reload that starts it"
kill "$holder"; wait "$holder" 2>/dev/null || true
reload 8
wait_for 10 curl_ok "http://127.0.0.1:$A/livez"
jq_check "$(curl -sf "http://127.0.0.1:$A/status")" 'd["pid"] > 0'

# The worker never noticed.
alive "$pid" || fail "the worker was restarted"
[ "$(lines "$T/steady.0")" -eq 1 ] || fail "the worker was restarted"
stop_master
[ "$STATUS" -eq 0 ] || fail "master exited $STATUS"
echo "ok"
