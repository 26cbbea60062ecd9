# GET /queues/NAME/tasks and plbactl tasks: what a queue's consumers hold
# (who, since when, on which attempt, after which error) and what waits,
# in the order it will go, each task with its trace.
. "$(dirname "$0")/lib.sh"

CTL=${PLBACTL:-$PLBA_BUILDDIR/plbactl}
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
TRACE=4bf92f3577b34da6a3ce929d0e0e4736

stuck_config

ctl() { # WANT-STATUS ARGS...: plbactl's output in OUT
	local want=$1 rc=0
	shift
	"$CTL" -u "$URL" "$@" >"$T/out" 2>"$T/err" || rc=$?
	OUT=$(cat "$T/out")
	[ "$rc" -eq "$want" ] ||
		fail "plbactl $* exited $rc, not $want: $OUT $(cat "$T/err")"
}
get() { # PATH: the answer in BODY, its status in CODE
	CODE=$(curl -s -o "$T/body" -w '%{http_code}' --max-time 5 "$URL$1")
	BODY=$(cat "$T/body")
}

start_master
wait_for 20 curl_ok "$URL/readyz"

# 1. Nothing yet: an empty list, not an error.
get /queues/items/tasks
[ "$CODE" = 200 ] || fail "empty queue: $CODE $BODY"
jq_check "$BODY" 'd == {"queue": "items", "in_flight": 0, "depth": 0,
    "waiting_publishers": 0, "tasks": []}'
ctl 0 tasks items
[ "$OUT" = "items: 0 in flight, 0 queued" ] || fail "empty: $OUT"

# 2. Five tasks: the first two held by stuck.0, three waiting in order.
#    The third is on a trace.
stuck_publish one
stuck_publish two
stuck_publish three "00-$TRACE-00f067aa0ba902b7-01"
stuck_publish four
stuck_publish five
wait_for 20 queue_field_is items in_flight 2
get /queues/items/tasks
[ "$CODE" = 200 ] || fail "list: $CODE $BODY"
jq_check "$BODY" 'd["in_flight"] == 2 and d["depth"] == 3'
jq_check "$BODY" '([(t["id"], t["state"], t["task"]["name"]) for t in d["tasks"]] ==
    [("1", "in_flight", "one"), ("2", "in_flight", "two"),
     ("3", "queued", "three"), ("4", "queued", "four"), ("5", "queued", "five")])'
jq_check "$BODY" 'all(t["instance"] == "stuck.0" and t["held_ms"] >= 0
    for t in d["tasks"][:2])'
jq_check "$BODY" 'all("instance" not in t and "held_ms" not in t
    for t in d["tasks"][2:])'
jq_check "$BODY" 'all(t["attempt"] == 1 and t["age_ms"] >= 0 and "error" not in t
    for t in d["tasks"])'
jq_check "$BODY" 'd["tasks"][2]["task"]["metadata"]["traceparent"].split("-")[1] == "'$TRACE'"'

# The ages grow: a task waiting is seen to wait.
age=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["tasks"][4]["age_ms"])' "$BODY")
older() {
	get /queues/items/tasks
	python3 -c 'import json,sys; sys.exit(0 if json.loads(sys.argv[1])["tasks"][4]["age_ms"] > float(sys.argv[2]) + 100 else 1)' "$BODY" "$age"
}
wait_for 10 older

# 3. ?limit: held tasks first, then the head of the queue.
get '/queues/items/tasks?limit=3'
jq_check "$BODY" '[t["id"] for t in d["tasks"]] == ["1", "2", "3"] and d["depth"] == 3'
for bad in 0 1001 abc -1 '' 2x; do
	get "/queues/items/tasks?limit=$bad"
	[ "$CODE" = 400 ] || fail "limit=$bad: $CODE $BODY"
	jq_check "$BODY" '"limit" in d["error"]'
done
get /queues/nosuch/tasks
[ "$CODE" = 404 ] || fail "unknown queue: $CODE"
jq_check "$BODY" 'd["error"] == "no queue named \"nosuch\""'
code=$(curl -s -o /dev/null -D "$T/headers" -w '%{http_code}' --max-time 5 \
	-X DELETE "$URL/queues/items/tasks")
[ "$code" = 405 ] || fail "DELETE: $code"
grep -qi '^Allow: GET, HEAD, POST' "$T/headers" || fail "Allow: $(cat "$T/headers")"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -I "$URL/queues/items/tasks")
[ "$code" = 200 ] || fail "HEAD: $code"

# 4. plbactl tasks: the same, with a TRACE column for plbactl trace.
ctl 0 tasks items
head -n 1 <<<"$OUT" | grep -qx 'items: 2 in flight, 3 queued' || fail "head: $OUT"
grep -Eq '^ID +STATE +ATTEMPT +INSTANCE +HELD +AGE +TASK-NAME +TRACE +ERROR$' <<<"$OUT" ||
	fail "columns: $OUT"
grep -Eq '^ *1  in flight +1  stuck\.0 +[0-9.]+m?s +[0-9.]+m?s  one +-$' <<<"$OUT" ||
	fail "row 1: $OUT"
grep -Eq "^ *3  queued +1 +[0-9.]+m?s  three +$TRACE\$" <<<"$OUT" || fail "row 3: $OUT"
ctl 0 tasks --limit 2 items
grep -q '; the first 2 shown' <<<"$OUT" || fail "limit: $OUT"
[ "$(grep -c -E '^ *[0-9]+  ' <<<"$OUT")" -eq 2 ] || fail "rows: $OUT"
ctl 1 tasks nosuch
ctl 2 tasks --limit 0 items
ctl 0 --json tasks items
jq_check "$OUT" 'len(d["tasks"]) == 5'

# 5. The consumer dies: what it held goes back, on attempt 2, with how
#    it died (not merely that its channel closed, which the master sees
#    first), and the restarted instance takes the next two in order.
pid=$(curl -sf --max-time 5 "$URL/workers/stuck" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["instances"][0]["pid"])')
kill -KILL "$pid"
retried() {
	get /queues/items/tasks
	python3 -c '
import json, sys
d = json.loads(sys.argv[1])
sys.exit(0 if d["in_flight"] == 2 and [t["id"] for t in d["tasks"]] == ["3", "4", "5", "1", "2"] else 1)' "$BODY"
}
wait_for 20 retried
jq_check "$BODY" '[t["attempt"] for t in d["tasks"]] == [1, 1, 1, 2, 2]'
jq_check "$BODY" 'all("error" not in t for t in d["tasks"][:3])'
jq_check "$BODY" 'all(t["error"] == "consumer stuck.0 killed by signal 9 (Killed)"
    for t in d["tasks"][3:])'
ctl 0 tasks items
grep -Eq '^ *1  queued +2 +[0-9.]+m?s  one +- +consumer stuck\.0 killed by signal 9' <<<"$OUT" ||
	fail "retried row: $OUT"

# 6. Big tasks: a listing carries at most 8 MiB of them, and says so.
python3 -c 'import json; print(json.dumps({"name": "big", "payload": "x" * 1000000}))' >"$T/big.json"
for i in 1 2 3 4 5 6 7 8 9; do
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST \
		--data-binary @"$T/big.json" "$URL/queues/items/tasks")
	[ "$code" = 202 ] || fail "big publish $i: $code"
done
get '/queues/items/tasks?limit=1000'
# Over 8 MB: too long for an argument, so read from the file.
python3 - "$T/body" <<'PY' || fail "big listing: $(head -c 300 "$T/body")"
import json, sys
d = json.load(open(sys.argv[1]))
names = [t["task"]["name"] for t in d["tasks"]]
sys.exit(0 if d["in_flight"] + d["depth"] == 14 and
         names[5:] == ["big"] * 8 and len(names) == 13 else 1)
PY
ctl 0 tasks --limit 1000 items
head -n 1 <<<"$OUT" | grep -qx 'items: 2 in flight, 12 queued; the first 13 shown' ||
	fail "big: $(head -n 1 <<<"$OUT")"

# 7. An operator deletes queued tasks, one or all; those in flight stay
#    with their consumer.  A traced one's trace ends with the purge.
TRACE2=5bf92f3577b34da6a3ce929d0e0e4737
stuck_publish six "00-$TRACE2-00f067aa0ba902b7-01"
six=15		# after five small tasks and nine big ones
code=$(curl -s -o "$T/body" -w '%{http_code}' --max-time 5 -X POST \
	-d "{\"ids\":[\"$six\"]}" "$URL/queues/items/tasks/purge")
[ "$code" = 200 ] || fail "purge one: $code $(cat "$T/body")"
jq_check "$(cat "$T/body")" 'd == {"queue": "items", "purged": 1}'
wait_for 10 grep -q "\"trace_id\":\"$TRACE2\".*\"name\":\"plba.purge\".*\"code\":\"error\"" "$T/traces.jsonl"
log_has "queue items: 1 queued task deleted over HTTP" || fail "purge not logged"
ctl 0 purge --queued items
[ "$OUT" = "items: 12 queued tasks deleted" ] || fail "purge all: $OUT"
get /queues/items/tasks
jq_check "$BODY" 'd["depth"] == 0 and [t["state"] for t in d["tasks"]] == ["in_flight"] * 2'
ctl 0 purge --queued items
[ "$OUT" = "items: 0 queued tasks deleted" ] || fail "purge of nothing: $OUT"
[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST -d '{"ids":"x"}' \
	"$URL/queues/items/tasks/purge")" = 400 ] || fail "bad ids"
[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST \
	"$URL/queues/nosuch/tasks/purge")" = 404 ] || fail "purge of no queue"

stop_master
[ "$STATUS" -eq 1 ] || fail "master exited $STATUS, not 1 (a forced stop)"
echo "ok"
