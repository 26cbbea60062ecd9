# POST /actions/reload and plbactl reload: a reload as on SIGHUP, for an
# operator who can reach the API but not the master's pid.  A broken file
# is answered 422 with its errors (file, line, column, key) and changes
# nothing; a sound one is answered with the workers and queues it will
# add, restart or remove, and applied after the answer, even when it
# moves the HTTP server the request came in on.
. "$(dirname "$0")/lib.sh"

CTL=${PLBACTL:-$PLBA_BUILDDIR/plbactl}
A=$(free_port)
B=$(free_port)
[ "$A" != "$B" ] || B=$(free_port)
echo "reload-$$" >"$T/token"

# config PORT WORKERS: the file.
config() {
	cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$1, token_file: $T/token}
workers:
  first:
    command: [$TW, --record, $T]
$2
YML
}
ctl() { # PORT WANT-STATUS ARGS...: plbactl's output in OUT, errors in ERR
	local port=$1 want=$2 rc=0
	shift 2
	"$CTL" -u "http://127.0.0.1:$port" "$@" >"$T/out" 2>"$T/err" || rc=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
	[ "$rc" -eq "$want" ] || fail "plbactl $* exited $rc, not $want: $OUT $ERR"
}
code_of() { # METHOD PATH [CURL-ARGS...]: the status; the answer in $T/answer
	local method=$1 path=$2
	shift 2
	curl -s -o "$T/answer" -w '%{http_code}' --max-time 5 -X "$method" "$@" \
		"http://127.0.0.1:$A$path"
}

config "$A" ""
start_master
wait_for 10 has_lines "$T/first.0" 1
wait_for 10 curl_ok "http://127.0.0.1:$A/livez"
first=$(last_pid "$T/first.0")

# 1. A mutating request: the token is required; only POST.
ctl "$A" 1 reload
case $ERR in *401*) ;; *) fail "reload without the token: $ERR" ;; esac
[ "$(code_of GET /actions/reload)" = 405 ] || fail "GET: $(cat "$T/answer")"
! log_has "reloading configuration" || fail "reloaded without the token"

# 2. A new worker: reloading, then it runs; the first one is untouched.
config "$A" "  second:
    command: [$TW, --record, $T]"
ctl "$A" 0 --token-file "$T/token" reload
[ "$OUT" = "reloading
  workers added: second" ] || fail "reload printed: $OUT"
wait_for 10 log_has "second: added"
wait_for 10 has_lines "$T/second.0" 1
[ "$(last_pid "$T/first.0")" = "$first" ] || fail "first was restarted"
log_has "reload asked for over HTTP" || fail "the request was not logged"

# 2b. A reload that adds or changes no worker leaves the runtime up: it
#     is not "starting" again, nor said to be ready again (checked after
#     the next request, which the loop handles after this one).
wait_for 20 curl_has "http://127.0.0.1:$A/status" '"state":"idle"'
ready=$(log_count "all workers started, critical ones ready")
ctl "$A" 0 --token-file "$T/token" reload

# 3. A broken file: 422 with the errors, and nothing changes.
config "$A" "  second:
    command: [$TW, --record, $T]
    concurrency: none"
line=$(grep -n 'concurrency: none' "$T/plba.yml" | cut -d: -f1)
ctl "$A" 1 --token-file "$T/token" reload
case $ERR in
*"plbactl: configuration rejected; keeping the running one"*) ;;
*) fail "rejection not said: $ERR" ;;
esac
case $ERR in
*"  $T/plba.yml:$line:18: workers.second.concurrency: "*) ;;
*) fail "the error does not name file, line, column and key: $ERR" ;;
esac
[ "$(code_of POST /actions/reload -H "Authorization: Bearer reload-$$")" = 422 ] ||
	fail "broken file: $(cat "$T/answer")"
jq_check "$(cat "$T/answer")" '(d["error"] == "configuration rejected; keeping the running one" and
    len(d["errors"]) == 1 and d["errors"][0].startswith("'"$T/plba.yml:$line:18: workers.second.concurrency: "'"))'
[ "$(log_count "reloading configuration")" -eq 2 ] || fail "a broken file was applied"
[ "$(log_count "all workers started, critical ones ready")" -eq "$ready" ] ||
	fail "a reload that changed no worker made the runtime start again"
[ "$(last_pid "$T/first.0")" = "$first" ] || fail "first was restarted"
alive "$(last_pid "$T/second.0")" || fail "second stopped"

# 4. A new port: the answer comes from the old listener, then the new one
#    serves.
config "$B" "  second:
    command: [$TW, --record, $T]"
ctl "$A" 0 --token-file "$T/token" reload
wait_for 10 curl_ok "http://127.0.0.1:$B/livez"
wait_for 10 log_at_least "reloading configuration" 2
! curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$A/livez" || fail "the old port still answers"
[ "$(last_pid "$T/first.0")" = "$first" ] || fail "first was restarted"
# Nothing to add, restart or remove: the lists are empty, and plbactl
# says only that it reloads.
ctl "$B" 0 --token-file "$T/token" reload
[ "$OUT" = reloading ] || fail "an empty reload printed: $OUT"
wait_for 10 log_at_least "reloading configuration" 3

# 5. The answer says what the reload will do: first changed, second
#    removed, third and a queue added; and it does that.
cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$B, token_file: $T/token}
queues:
  jobs: {}
workers:
  first:
    command: [$TW, --record, $T]
    environment: {CHANGED: "1"}
  third:
    command: [$TW, --record, $T]
YML
code=$(curl -s -o "$T/answer" -w '%{http_code}' --max-time 5 -X POST \
	-H "Authorization: Bearer reload-$$" "http://127.0.0.1:$B/actions/reload")
[ "$code" = 202 ] || fail "reload: $code $(cat "$T/answer")"
jq_check "$(cat "$T/answer")" '(d["ok"] is True and
    d["workers"] == {"added": ["third"], "changed": ["first"], "scaled": [], "removed": ["second"]} and
    d["queues"] == {"added": ["jobs"], "removed": []})'
wait_for 10 has_lines "$T/third.0" 1
wait_for 10 log_has "second: removed from the configuration"
wait_for 10 curl_ok "http://127.0.0.1:$B/queues/jobs"
wait_for 20 eval '[ "$(last_pid "$T/first.0")" != "$first" ]'
# Changed again, first keeps its place before third: the order of the
# file, not of the changes.
sed -i 's/CHANGED: "1"/CHANGED: "2"/' "$T/plba.yml"
first=$(last_pid "$T/first.0")
ctl "$B" 0 --token-file "$T/token" reload
wait_for 20 eval '[ "$(last_pid "$T/first.0")" != "$first" ]'
order() {
	curl -sf --max-time 5 "http://127.0.0.1:$B/status" |
		python3 -c 'import json, sys; print(" ".join(json.load(sys.stdin)["workers"]))'
}
wait_for 10 eval '[ "$(order)" = "first third" ]'
ctl "$B" 0 --token-file "$T/token" reload
[ "$OUT" = reloading ] || fail "reload after reload printed: $OUT"
config "$B" ""
ctl "$B" 0 --token-file "$T/token" reload
[ "$OUT" = "reloading
  workers changed: first
  workers removed: third
  queues removed: jobs" ] || fail "reload printed: $OUT"

stop_master
[ "$STATUS" -eq 0 ] || fail "master exited $STATUS"
echo "ok"
