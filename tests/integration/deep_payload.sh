# A task's payload nests at most 256 levels, so that every reader of a
# task has room for it: the master's listings, plbactl (cJSON stops at
# 1000 levels) and Python's json.  HTTP refuses a deeper one with one
# reason however deep, even past what cJSON parses; one as deep as allowed
# is queued, dead-lettered and listed by plbactl tasks and dead.
. "$(dirname "$0")/lib.sh"

CTL=${PLBACTL:-$PLBA_BUILDDIR/plbactl}
PORT=$(free_port)
URL=http://127.0.0.1:$PORT

cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
queues:
  waits: {}
  jobs: {max_attempts: 1}
workers:
  consumer:
    command: [$PW, consume, dead-every, 1]
    consumes: jobs
YML

# nest N: N arrays, one inside the other.
nest() { python3 -c 'import sys; n = int(sys.argv[1]); print("[" * n + "]" * n)' "$1"; }
# post QUEUE BODY: prints the status code; the answer is in $T/answer.
post() {
	printf '%s' "$2" >"$T/body"
	curl -s -o "$T/answer" -w '%{http_code}' --max-time 5 -X POST \
		--data-binary @"$T/body" "$URL/queues/$1/tasks"
}
ctl() { # ARGS...: plbactl's output in OUT; it must succeed
	local rc=0
	"$CTL" -u "$URL" "$@" >"$T/out" 2>"$T/err" || rc=$?
	OUT=$(cat "$T/out")
	[ "$rc" -eq 0 ] || fail "plbactl $* exited $rc: $OUT $(cat "$T/err")"
}

start_master
wait_for 20 curl_ok "$URL/readyz"

# 1. One level too deep, as deep as cJSON parses, and deeper: one reason.
for n in 257 999 1001; do
	code=$(post waits "{\"name\":\"n\",\"payload\":$(nest $n)}")
	[ "$code" = 400 ] || fail "$n deep: $code $(cat "$T/answer")"
	jq_check "$(cat "$T/answer")" \
		'd == {"error": "the payload is nested more than 256 deep"}'
done
# Any other member of a task reaches the same readers.
code=$(post waits "{\"name\":\"n\",\"p\":$(nest 257)}")
[ "$code" = 400 ] || fail "a member 257 deep: $code $(cat "$T/answer")"
jq_check "$(cat "$T/answer")" \
	'd == {"error": "a member of the task is nested more than 256 deep"}'
[ "$(queue_field waits published)" = 0 ] || fail "a deep task was queued"

# 2. As deep as allowed: queued, and listed.
code=$(post waits "{\"name\":\"deepest\",\"payload\":$(nest 256)}")
[ "$code" = 202 ] || fail "256 deep: $code $(cat "$T/answer")"
ctl tasks waits
grep -q deepest <<<"$OUT" || fail "plbactl tasks: $OUT"
jq_check "$(curl -sf --max-time 5 "$URL/queues/waits/tasks")" \
	'd["tasks"][0]["task"]["name"] == "deepest"'

# 3. The same depth, an object and 255 arrays, dead-lettered by its
#    consumer: plbactl dead lists it.
code=$(post jobs "{\"name\":\"dead-deep\",\"payload\":{\"n\":0,\"d\":$(nest 255)}}")
[ "$code" = 202 ] || fail "256 deep to jobs: $code $(cat "$T/answer")"
wait_for 20 queue_field_is jobs dead 1
ctl dead jobs
grep -q dead-deep <<<"$OUT" || fail "plbactl dead: $OUT"
log_has "consumer.0: protocol error" && fail "the consumer was killed"

stop_master
[ "$STATUS" -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
