# plbactl against a real master over HTTP: the tables, --json, health's
# exit status, publishing and dead letters, a rolling restart, stop and
# start with the master staying up, and the errors a person sees.
. "$(dirname "$0")/lib.sh"

CTL=${PLBACTL:-${PLBA_BUILDDIR:?run through make check}/plbactl}
[ -x "$CTL" ] || fail "no plbactl at $CTL"
[ -n "$PW" ] || fail "PLBA_PROTOWORKER is not set"
unset PLBA_URL PLBA_TOKEN_FILE

echo "s3cret-$$-$RANDOM" >"$T/token"
mkdir "$T/pids"

# A loopback port nothing listens on right now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

listening_or_gone() { log_has "http: listening" || ! alive "$MASTER"; }

# start_http_master CONFIG-FUNCTION: writes the configuration for a fresh
# port and starts the master, again on another port if that one was taken
# in between.
start_http_master() {
	local try
	for try in 1 2 3 4 5; do
		PORT=$(free_port)
		export PLBA_URL=http://127.0.0.1:$PORT
		"$1" >"$T/plba.yml"
		start_master
		wait_for 10 listening_or_gone
		log_has "http: listening" && return 0
		wait_master
		log_has "cannot listen" || fail "the master did not start"
	done
	fail "no free port after $try tries"
}

# ctl EXPECTED-EXIT ARGS...: runs plbactl; its output is in OUT and ERR.
ctl() {
	local want=$1 rc=0
	shift
	"$CTL" "$@" >"$T/out" 2>"$T/err" || rc=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
	[ "$rc" -eq "$want" ] ||
		fail "plbactl $*: exit $rc, expected $want; stdout: $OUT; stderr: $ERR"
}
out_has() { grep -Eq -- "$1" "$T/out" || fail "stdout lacks /$1/: $OUT"; }
err_is() { [ "$ERR" = "$1" ] || fail "stderr is \"$ERR\", expected \"$1\""; }

# jget EXPR COMMAND...: a member of plbactl --json COMMAND, e.g.
# jget "['state']" status.
jget() {
	local expr=$1
	shift
	"$CTL" --json "$@" | python3 -c "import json, sys; print(json.load(sys.stdin)$expr)"
}
state_is() { [ "$(jget "['state']" status)" = "$1" ]; }
acked_is() { [ "$(jget "['acked']" queues "$1")" = "$2" ]; }
dead_is() { [ "$(jget "['dead']" queues "$1")" = "$2" ]; }
health_exits() {
	local rc=0
	"$CTL" health >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq "$1" ]
}

config_main() {
	cat <<YML
platform:
  name: ctltest
  http: {enabled: true, listen: 127.0.0.1:$PORT, token_file: $T/token}
queues:
  jobs: {capacity: 100, max_attempts: 2}
  broken: {capacity: 100, max_attempts: 1}
  orphan: {capacity: 1}
workers:
  plain:
    command: [$TW, --record, $T/pids]
    concurrency: 2
    ready: 200ms
  consumer:
    command: [$PW, consume, record, $T/rec]
    consumes: jobs
  rejecter:
    command: [$PW, consume, dead-every, 1]
    consumes: broken
YML
}

start_http_master config_main
wait_for 20 state_is idle

# Usage errors and a master that is not there: exit 2, nothing sent.
ctl 2
ctl 2 frobnicate
ctl 2 restart
ctl 2 publish jobs
ctl 2 status extra
ctl 2 stop --timeout soon
ctl 2 --timeout 0 status
ctl 2 --bogus status
ctl 0 --version
out_has '^plbactl [0-9]'
ctl 0 -h
out_has 'publish QUEUE JSON'
nobody=$(free_port)
ctl 2 -u "http://127.0.0.1:$nobody" status
err_is "plbactl: cannot connect to http://127.0.0.1:$nobody: is plba-master running?"

# A server that is not plba-master: exit 2 with --json or without,
# nothing printed as if it were the master's answer.
cat >"$T/fake.py" <<'PY'
import http.server, sys
answers = {
    "/status": (200, "text/html", b"<html><body>It works!</body></html>\n"),
    "/health": (200, "application/json", b'{"foo":1}'),
    "/queues": (200, "application/json", b'[1, 2]'),
    "/queues/jobs/dead/retry": (200, "application/json", b'{"queue":"jobs"}'),
}
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass
    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        code, ctype, body = answers.get(self.path,
            (404, "text/html", b"<html><h1>Not Found</h1></html>\n"))
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = answer
s = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.server_address[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.serve_forever()
PY
python3 "$T/fake.py" "$T/fake.port" &
FAKE=$!
trap 'rc=$?; kill "$FAKE" 2>/dev/null || true; cleanup $rc' EXIT
wait_for 10 test -s "$T/fake.port"
fake=http://127.0.0.1:$(cat "$T/fake.port")
not_plba() { # WHAT ARGS...: exit 2, stderr says WHAT, stdout empty
	local what=$1
	shift
	ctl 2 -u "$fake" "$@"
	grep -qF -- "$what" <<<"$ERR" || fail "plbactl $*: stderr lacks \"$what\": $ERR"
	grep -qF "is this plba-master?" <<<"$ERR" || fail "plbactl $*: $ERR"
	[ -z "$OUT" ] || fail "plbactl $* printed: $OUT"
}
for json in "" --json; do
	not_plba "$fake/status: the answer is not JSON" $json status
	not_plba "$fake/health: the answer has no valid \"health\"" $json health
	not_plba "$fake/queues: the answer is not a JSON object" $json queues
	not_plba "$fake/workers: HTTP status 404, and the answer is not a plba-master error" $json workers
	not_plba "$fake/metrics: HTTP status 404" $json metrics
	not_plba "$fake/queues/jobs/dead/retry: the answer has no valid \"requeued\"" $json retry jobs
	not_plba "HTTP status 404" $json --token-file "$T/token" publish jobs '{"name":"x"}'
done
kill "$FAKE"
wait "$FAKE" 2>/dev/null || true
trap cleanup EXIT

# status: the runtime, then one row per instance, then the queues.
ctl 0 status
out_has '^ctltest: state idle, health ok, up [0-9]+s \(pid [0-9]+'
out_has '^WORKER +INSTANCE +PID +STATUS +HEALTH +RESTARTS +LAST-EXIT +DETAIL$'
out_has '^plain +0 +[0-9]+ +idle +ok +0 +- +-$'
out_has '^plain +1 +[0-9]+ +idle +ok +0 +- +-$'
out_has '^consumer +0 +[0-9]+ +idle +ok +0 +- +-$'
out_has '^rejecter +0 +[0-9]+ +idle +ok +0 +- +-$'
out_has '^QUEUE +DEPTH +IN-FLIGHT +DEAD +PUBLISHED +ACKED +CAPACITY$'
out_has '^jobs +0 +0 +0 +0 +0 +100$'
out_has '^broken +0 +0 +0 +0 +0 +100$'
# -u wins over PLBA_URL.
PLBA_URL=http://127.0.0.1:$nobody ctl 0 -u "http://127.0.0.1:$PORT/" status
out_has '^ctltest: state idle'

# --json: the master's own answer, the same shape as GET /status.
ctl 0 --json status
python3 -m json.tool "$T/out" >/dev/null || fail "--json status is not JSON: $OUT"
python3 - "$PLBA_URL/status" "$T/out" <<'PY' || fail "--json status differs from GET /status"
import json, sys, urllib.request
def shape(v):
    if isinstance(v, dict):
        return {k: shape(x) for k, x in v.items()}
    if isinstance(v, list):
        return [shape(x) for x in v]
    return type(v).__name__
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
direct = json.load(opener.open(sys.argv[1]))
ours = json.load(open(sys.argv[2]))
assert shape(ours) == shape(direct), (shape(ours), shape(direct))
ids = lambda d: [(i["name"], i["instance"], i["pid"]) for i in d["instances"]]
assert ids(ours) == ids(direct)
assert ours["name"] == "ctltest" and ours["pid"] == direct["pid"]
PY
ctl 0 status --json
python3 -m json.tool "$T/out" >/dev/null || fail "status --json is not JSON"

# health: 0 when ok.
ctl 0 health
out_has '^health: ok$'
out_has '^plain +ok +-$'
ctl 0 --json health
[ "$(jget "['health']" health)" = ok ] || fail "health not ok in JSON"

# workers and queues, all or one.
ctl 0 workers
out_has '^WORKER +HEALTH +UP +CRITICAL +CONSUMES +DETAIL$'
out_has '^plain +ok +2/2 +yes +- +-$'
out_has '^consumer +ok +1/1 +yes +jobs +-$'
out_has '^plain +1 +[0-9]+ +idle'
ctl 0 workers consumer
out_has '^consumer +ok +1/1'
grep -q '^plain' "$T/out" && fail "workers consumer shows plain: $OUT"
ctl 1 workers nosuch
err_is 'plbactl: no worker named "nosuch"'
ctl 0 queues
out_has '^QUEUE +DEPTH +IN-FLIGHT +DEAD +PUBLISHED +ACKED +NACKED +REDELIVERED +WAITING +CAPACITY$'
out_has '^jobs '
out_has '^broken '
ctl 0 queues jobs
out_has '^jobs +0 +0 +0 +0 +0 +0 +0 +0 +100$'
ctl 1 queues nosuch
err_is 'plbactl: no queue named "nosuch"'
ctl 0 metrics
out_has '^plba_instance_up\{worker="plain",instance="1"\} 1$'

# publish: the consumer handles the task, the counters show it.
ctl 0 --token-file "$T/token" publish jobs '{"name":"greet","payload":{"n":7},"metadata":{}}'
out_has '^published task [0-9]+ to jobs$'
wait_for 10 has_lines "$T/rec" 1
grep -q '^[0-9]* 7 1 consumer.0$' "$T/rec" || fail "consumer record: $(cat "$T/rec")"
wait_for 10 acked_is jobs 1
ctl 0 queues jobs
out_has '^jobs +0 +0 +0 +1 +1 +0 +0 +0 +100$'
# From standard input, with the token file from the environment.
PLBA_TOKEN_FILE=$T/token ctl 0 publish jobs - <<<'{"name":"greet","payload":{"n":8}}'
out_has '^published task [0-9]+ to jobs$'
wait_for 10 has_lines "$T/rec" 2
# Invalid JSON: the master's error, exit 1.
ctl 1 --token-file "$T/token" publish jobs '{"name": "greet", '
err_is 'plbactl: the body is not valid JSON'
ctl 1 --token-file "$T/token" publish nosuch '{"name":"x","payload":{}}'
err_is 'plbactl: no queue named "nosuch"'
# A full queue refuses with 503: the master's message all the same.
ctl 0 --token-file "$T/token" publish orphan '{"name":"x","payload":{}}'
ctl 1 --token-file "$T/token" publish orphan '{"name":"x","payload":{}}'
err_is 'plbactl: queue "orphan" is full: 1 task waits, its capacity'
# A task id that is not a number is a usage error, caught before sending.
for id in abc 0 007 1.5 18446744073709551616; do
	ctl 2 --token-file "$T/token" retry broken "$id"
	grep -qx "plbactl: retry: \"$id\" is not a task id (a number from 1, as plbactl dead shows)" <<<"$ERR" ||
		fail "retry broken $id: $ERR"
done
ctl 2 --token-file "$T/token" purge --queued orphan abc
grep -qx 'plbactl: purge: "abc" is not a task id (a number from 1, as plbactl tasks shows)' <<<"$ERR" ||
	fail "purge --queued orphan abc: $ERR"
# The largest id is one, of no task here.
ctl 0 --token-file "$T/token" purge --queued orphan 18446744073709551615
out_has '^orphan: 0 queued tasks deleted$'

# dead: a task the consumer refuses lands in the dead letters.
ctl 0 dead broken
out_has '^broken: no dead-lettered tasks$'
ctl 0 --token-file "$T/token" publish broken '{"name":"poison","payload":{"n":3}}'
wait_for 10 dead_is broken 1
ctl 0 dead broken
out_has '^broken: 1 dead-lettered task$'
out_has '^ID +ATTEMPT +TASK-NAME +ERROR$'
out_has '^ *[0-9]+ +1 +poison +item 3 is malformed$'
ctl 0 --json dead broken
[ "$(jget "['tasks'][0]['task']['name']" dead broken)" = poison ] || fail "dead --json"

# Actions need the token: 401, exit 1, and nothing happens.
ctl 1 stop
err_is 'plbactl: 401: a valid bearer token is required (use --token-file)'
echo wrong >"$T/badtoken"
ctl 1 --token-file "$T/badtoken" stop
state_is idle || fail "a refused stop stopped something"
ctl 2 --token-file "$T/missing" status
export PLBA_TOKEN_FILE=$T/token

# restart: new pids, one instance at a time, and the worker comes back.
old0=$(last_pid "$T/pids/plain.0")
old1=$(last_pid "$T/pids/plain.1")
ctl 0 restart plain
out_has '^restarting plain, one instance at a time$'
wait_for 20 has_lines "$T/pids/plain.1" 2
[ "$(last_pid "$T/pids/plain.0")" != "$old0" ] || fail "plain.0 kept its pid"
[ "$(last_pid "$T/pids/plain.1")" != "$old1" ] || fail "plain.1 kept its pid"
dead "$old0" && dead "$old1" || fail "an old instance survived the restart"
# plain.1 was stopped only once the new plain.0 was ready.
ready0=$(grep -n 'plain\.0: ready' "$LOG" | tail -n 1 | cut -d: -f1)
stop1=$(grep -n 'plain\.1: stopping pid' "$LOG" | tail -n 1 | cut -d: -f1)
[ -n "$ready0" ] && [ -n "$stop1" ] && [ "$ready0" -lt "$stop1" ] ||
	fail "not one at a time: plain.0 ready at line $ready0, plain.1 stopped at $stop1"
wait_for 20 state_is idle
ctl 0 workers plain
out_has '^plain +ok +2/2 '
ctl 1 restart nosuch
err_is 'plbactl: no worker named "nosuch"'

# stop: the workers go, the master stays; start brings them back.
ctl 0 stop --force --timeout 10s
out_has '^(stopping|stopped)$'
wait_for 20 state_is stopped
alive "$MASTER" || fail "the master exited on the stop action"
ctl 0 status
out_has '^ctltest: state stopped'
out_has '^plain +0 +- +stopped '
dead "$(last_pid "$T/pids/plain.0")" || fail "plain.0 still runs after stop"
ctl 0 start
out_has '^(starting|idle)$'
wait_for 20 state_is idle
ctl 0 status
out_has '^plain +1 +[0-9]+ +idle '
[ "$(lines "$T/pids/plain.0")" -eq 3 ] || fail "plain.0 started $(lines "$T/pids/plain.0") times"
stop_master
[ $STATUS -eq 0 ] || fail "the master exited $STATUS"

# health: 1 once a critical worker has failed, table and --json alike.
config_failing() {
	cat <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
workers:
  steady:
    command: [$TW]
  crasher:
    command: [$TW, --exit-after, 0, 3]
    critical: true
    max_restarts: 1
    restart_delay: 10ms
YML
}
unset PLBA_TOKEN_FILE
start_http_master config_failing
wait_for 20 health_exits 1
ctl 1 health
out_has '^health: unhealthy$'
out_has '^crasher +unhealthy +failed'
out_has '^steady +ok +-$'
ctl 1 --json health
[ "$(python3 -c 'import json, sys; print(json.load(sys.stdin)["health"])' <"$T/out")" = unhealthy ] ||
	fail "--json health: $OUT"
[ -z "$ERR" ] || fail "unhealthy is no error message: $ERR"
ctl 0 status
out_has '^crasher +0 +- +failed +unhealthy +1 +3 +failed'
# Without a token file on the master, actions need none.
ctl 0 stop
wait_for 20 state_is stopped
stop_master
[ $STATUS -eq 0 ] || fail "the master exited $STATUS"
echo "ok"
