# The HTTP API: every endpoint's code and shape, actions and their
# effects, the token, and bad requests answered without harm.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
URL=http://127.0.0.1:$PORT
echo "s3cret-token" >"$T/token"
cat >"$T/plba.yml" <<YML
platform:
  name: web
  http: {enabled: true, listen: 127.0.0.1:$PORT, token_file: $T/token}
  ipc: {max_frame: 4KiB}
queues:
  q: {capacity: 5, max_attempts: 1}
workers:
  slowstart:
    command: [$TW, --record, $T]
    ready: 1500ms
  w:
    command: [$TW, --record, $T]
    concurrency: 2
    restart_delay: 0
  c:
    command: [$PW, consume, record, $T/rec, dead-every, 3]
    consumes: q
YML
start_master
wait_for 10 curl_ok "$URL/livez"
# Not ready while slowstart is starting; ready once it is.
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/readyz")
[ "$code" = 503 ] || fail "readyz during start-up: $code"
wait_for 10 curl_ok "$URL/readyz"

j=$(curl -sf "$URL/status")
jq_check "$j" 'd["name"] == "web" and d["state"] in ("idle", "busy") and d["health"] == "ok"'
jq_check "$j" 'len(d["workers"]["w"]["instances"]) == 2 and d["workers"]["w"]["instances"][1]["pid"] > 0'
jq_check "$j" 'd["queues"]["q"]["capacity"] == 5 and len(d["instances"]) == 4'
jq_check "$(curl -sf "$URL/health")" 'd["health"] == "ok" and d["workers"]["w"]["health"] == "ok"'
jq_check "$(curl -sf "$URL/workers/w")" 'd["concurrency"] == 2'
jq_check "$(curl -sf "$URL/queues/q")" 'd["depth"] == 0'
jq_check "$(curl -sf "$URL/workers")" '"slowstart" in d'
jq_check "$(curl -sf "$URL/queues")" '"q" in d'

# Errors: 404, 405, 400, 401, 413, each with a JSON error.
expect() { # CODE CURL-ARGS...
	local want=$1 got
	shift
	got=$(curl -s -o "$T/body" -w '%{http_code}' "$@")
	[ "$got" = "$want" ] || fail "$* -> $got, wanted $want: $(cat "$T/body")"
}
AUTH=(-H "Authorization: Bearer s3cret-token")
expect 404 "$URL/nope"
expect 404 "$URL/workers/nobody"
expect 404 "$URL/queues/none"
expect 404 "$URL/a/b/c/d/e"
jq_check "$(cat "$T/body")" '"error" in d'
expect 405 -X POST "$URL/status" "${AUTH[@]}"
expect 405 "$URL/actions/stop"
expect 401 -X POST "$URL/actions/stop"
expect 401 -X POST "$URL/actions/stop" -H "Authorization: Bearer wrong"
expect 401 -X POST -d '{}' "$URL/queues/q/tasks"
expect 400 -X POST -d '{"name":' "$URL/queues/q/tasks" "${AUTH[@]}"
expect 400 -X POST -d '{"payload":1}' "$URL/queues/q/tasks" "${AUTH[@]}"
expect 400 -X POST -d "$(python3 -c 'print("["*5000 + "]"*5000)')" "$URL/queues/q/tasks" "${AUTH[@]}"
# As deep as cJSON takes, one level too deep once wrapped: refused for
# its depth before either (the client once got "SON", then "invalid JSON").
expect 400 -X POST -d "{\"name\":\"n\",\"p\":$(python3 -c 'print("["*999 + "]"*999)')}" "$URL/queues/q/tasks" "${AUTH[@]}"
jq_check "$(cat "$T/body")" 'd["error"] == "a member of the task is nested more than 256 deep"'
expect 404 -X POST -d '{"name":"x"}' "$URL/queues/none/tasks" "${AUTH[@]}"
head -c 2000000 /dev/zero | tr '\0' 'a' >"$T/big"
expect 413 -X POST --data-binary @"$T/big" "$URL/queues/q/tasks" "${AUTH[@]}"
# Under the body limit but over max_frame as a publish frame: a worker
# could not have published it, and its task frame would be far over.
expect 413 -X POST -d "{\"name\":\"n\",\"payload\":\"$(head -c 5000 /dev/zero | tr '\0' 'p')\"}" \
	"$URL/queues/q/tasks" "${AUTH[@]}"
jq_check "$(cat "$T/body")" 'd["error"] == "the task is over platform.ipc.max_frame (4096 bytes) as a publish frame"'
expect 400 -X POST -d '{"force":"yes"}' "$URL/actions/stop" "${AUTH[@]}"
# Huge headers and a truncated request do not hurt.
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 40000 /dev/zero | tr '\0' 'b')" "$URL/status")
[ "$code" = 413 ] || [ "$code" = 431 ] || [ "$code" = 400 ] || fail "huge header -> $code"
python3 - "$PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /queues/q/tasks HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"na")
s.close()
PY

# Publish: 202 with an id; the consumer gets it; dead letters are listed.
expect 202 -X POST -d '{"name":"job","payload":{"n":1}}' "$URL/queues/q/tasks" "${AUTH[@]}"
jq_check "$(cat "$T/body")" 'd["id"] == "1"'
expect 202 -X POST -d '{"name":"job","payload":{"n":3}}' "$URL/queues/q/tasks" "${AUTH[@]}"
wait_for 10 has_lines "$T/rec" 1
wait_for 10 curl_has "$URL/queues/q" '"dead":1'
jq_check "$(curl -sf "$URL/queues/q/dead")" 'd["tasks"][0]["error"] == "item 3 is malformed" and d["tasks"][0]["task"]["payload"]["n"] == 3'

# Rolling restart: both instances get new pids.
a=$(last_pid "$T/w.0")
b=$(last_pid "$T/w.1")
expect 202 -X POST "$URL/workers/w/restart" "${AUTH[@]}"
wait_for 20 has_lines "$T/w.1" 2
[ "$(last_pid "$T/w.0")" != "$a" ] && [ "$(last_pid "$T/w.1")" != "$b" ] || fail "not restarted"
expect 404 -X POST "$URL/workers/nobody/restart" "${AUTH[@]}"

# Stop keeps the master up in state stopped; start brings the workers back.
expect 202 -X POST -d '{"force": false, "timeout": "5s"}' "$URL/actions/stop" "${AUTH[@]}"
wait_for 20 curl_has "$URL/status" '"state":"stopped"'
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/readyz")
[ "$code" = 503 ] || fail "readyz while stopped: $code"
alive "$MASTER" || fail "master left after the stop action"
dead "$(last_pid "$T/w.0")" || fail "instance alive after stop"
expect 202 -X POST "$URL/actions/start" "${AUTH[@]}"
wait_for 20 curl_ok "$URL/readyz"
wait_for 10 has_lines "$T/w.0" 3

# A critical worker with no healthy instance: 503 from /health.
cat >"$T/bad.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
workers:
  broken:
    command: [$TW, --exit-after, 0, 1]
    max_restarts: 1
YML
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
"$PLBA_MASTER" -c "$T/bad.yml" >>"$LOG" 2>&1 &
MASTER=$!
wait_for 10 curl_has "$URL/status" '"failed":true'
code=$(curl -s -o "$T/body" -w '%{http_code}' "$URL/health")
[ "$code" = 503 ] || fail "health of a failed critical worker: $code"
jq_check "$(cat "$T/body")" 'd["health"] == "unhealthy"'
stop_master

# A non-loopback listener without a token refuses to start.
cat >"$T/open.yml" <<YML
platform:
  http: {enabled: true, listen: 0.0.0.0:$PORT}
workers: {}
YML
st=0
"$PLBA_MASTER" -c "$T/open.yml" >"$T/out" 2>&1 || st=$?
[ $st -eq 2 ] || fail "open listener without token exited $st"
grep -q "token" "$T/out" || fail "no reason given: $(cat "$T/out")"
grep -q "s3cret" "$LOG" && fail "the token leaked into the log"
echo "ok"
