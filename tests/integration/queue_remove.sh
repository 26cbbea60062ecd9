# SIGHUP removes the queues the configuration no longer declares, and
# loses nothing doing it: an empty one goes at once; one that holds tasks
# or dead letters takes no more publishes and goes once it is empty; one
# declared again before then keeps its tasks.  Publishes waiting for room
# in a removed queue are refused.  A durable queue goes the same way,
# once its tasks are gone from the store too.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
URL=http://127.0.0.1:$PORT

# config QUEUES WORKERS: the file, with the HTTP API on $PORT.
config() {
	cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
  ipc: {heartbeat_interval: 100ms}
  state_dir: $T/state
queues:
$1
workers:
  idle:
    command: [$TW, --record, $T]
$2
YML
}
code_of() { # METHOD PATH [BODY]: the status; the answer in $T/answer
	curl -s -o "$T/answer" -w '%{http_code}' --max-time 5 -X "$1" \
		${3:+-d "$3"} "$URL$2"
}
gone() { [ "$(code_of GET "/queues/$1")" = 404 ]; }
reload() { kill -HUP "$MASTER"; wait_for 10 log_at_least "reloading configuration" "$1"; }

QUEUES='  keep: {}
  stored: {durable: true}
  gone: {}
  dead: {max_attempts: 1}
  full: {capacity: 1}'
config "$QUEUES" "  failer:
    command: [$PW, consume, dead-every, 1]
    consumes: dead
  feeder:
    command: [$PW, produce, dead, \"2\"]
    ready: protocol
    restart: never
  filler:
    command: [$PW, produce, full, \"3\"]
    ready: protocol
    restart: never"
start_master
wait_for 20 queue_field_is dead dead 2
wait_for 20 queue_field_is full waiting_publishers 1
wait_for 10 queue_field_is full depth 1

# 1. Every queue but keep removed, with failer and feeder.
config "  keep: {}" "  filler:
    command: [$PW, produce, full, \"3\"]
    ready: protocol
    restart: never"
reload 1
# Empty: gone at once.
wait_for 10 gone gone
log_has "queue gone: removed (published 0, acked 0, nacked 0)" ||
	fail "no removal logged for gone"
# Holding something: kept, marked, and said so.
wait_for 10 log_has "queue dead: removed from the configuration; it takes no more tasks and goes once its 0 queued, 0 in flight and 2 dead are gone"
log_has "queue full: removed from the configuration; it takes no more tasks and goes once its 1 queued, 0 in flight and 0 dead are gone" ||
	fail "full: $(grep 'queue full' "$LOG")"
jq_check "$(curl -sf "$URL/queues/dead")" 'd["removed"] is True and d["dead"] == 2'
jq_check "$(curl -sf "$URL/queues/keep")" '"removed" not in d'
# The publish waiting for room in full was refused, not left waiting:
# plba_publish says PLBA_ENOENT, as for a queue that never was.
wait_for 10 log_has "\[filler.0\] publish 1: no such key, worker, queue or file"
queue_field_is full waiting_publishers 0 || fail "a publisher still waits on full"
# No more tasks, over HTTP either; dead letters are purged, not retried.
[ "$(code_of POST /queues/dead/tasks '{"name":"x"}')" = 404 ] || fail "publish to a removed queue"
grep -q 'was removed from the configuration' "$T/answer" || fail "publish: $(cat "$T/answer")"
[ "$(code_of POST /queues/dead/dead/retry)" = 409 ] || fail "retry: $(cat "$T/answer")"
jq_check "$(curl -sf "$URL/queues/dead")" 'd["dead"] == 2 and d["depth"] == 0'
[ "$(code_of POST /queues/dead/dead/purge)" = 200 ] || fail "purge: $(cat "$T/answer")"
wait_for 10 gone dead
log_has "queue dead: removed (published 2, acked 0, " || fail "$(grep 'queue dead' "$LOG")"
# A durable queue that is empty goes too.
wait_for 10 gone stored
log_has "queue stored: removed (published 0, acked 0, nacked 0)" ||
	fail "stored: $(grep 'queue stored' "$LOG")"
# full still holds its task: nothing took it, nothing dropped it.
jq_check "$(curl -sf "$URL/queues/full")" 'd["removed"] is True and d["depth"] == 1'

# 2. Declared again before it was empty: it keeps its task.
config "  keep: {}
  full: {capacity: 1}" ""
reload 2
wait_for 10 log_has "queue full: declared again before it was empty; it keeps its tasks"
jq_check "$(curl -sf "$URL/queues/full")" '"removed" not in d and d["depth"] == 1 and d["published"] == 1'
[ "$(code_of POST /queues/full/tasks '{"name":"x"}')" = 503 ] ||
	fail "a full queue declared again: $(cat "$T/answer")"

# 3. A removed queue declared again after it went is a new, empty queue.
config "  keep: {}
  full: {capacity: 1}
  dead: {}" ""
reload 3
wait_for 10 curl_ok "$URL/queues/dead"
jq_check "$(curl -sf "$URL/queues/dead")" 'd["published"] == 0 and d["dead"] == 0'
[ "$(code_of POST /queues/dead/tasks '{"name":"x"}')" = 202 ] || fail "publish: $(cat "$T/answer")"

# 4. Removed while it holds a queued task nobody will take: an operator
#    purges it, and the queue goes.
config "  keep: {}
  dead: {}" ""
reload 4
wait_for 10 log_has "queue full: removed from the configuration; it takes no more tasks and goes once its 1 queued"
jq_check "$(curl -sf "$URL/queues/full")" 'd["removed"] is True and d["depth"] == 1'
[ "$(code_of POST /queues/full/tasks/purge)" = 200 ] || fail "purge: $(cat "$T/answer")"
wait_for 10 gone full
log_has "queue full: removed (published 1, acked 0, nacked 0)" || fail "$(grep 'queue full' "$LOG")"

# 5. A durable queue removed with a task and a dead letter keeps both,
#    in memory and on disk, until an operator purges them; then it goes,
#    and a queue of its name declared later starts empty, with new ids.
config "  keep: {}
  stored: {durable: true, max_attempts: 1}" "  failer:
    command: [$PW, consume, dead-every, 1]
    consumes: stored"
reload 5
wait_for 10 curl_ok "$URL/queues/stored"
[ "$(code_of POST /queues/stored/tasks '{"name":"doomed","payload":{"n":1}}')" = 202 ] ||
	fail "publish: $(cat "$T/answer")"
wait_for 20 queue_field_is stored dead 1
config "  keep: {}
  stored: {durable: true, max_attempts: 1}" ""
reload 6
wait_for 20 log_has "failer.0: stopped"
[ "$(code_of POST /queues/stored/tasks '{"name":"waiting"}')" = 202 ] || fail "publish: $(cat "$T/answer")"
config "  keep: {}" ""
reload 7
wait_for 10 log_has "queue stored: removed from the configuration; it takes no more tasks and goes once its 1 queued, 0 in flight and 1 dead are gone"
rows_in() {
	python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT count(*) FROM tasks WHERE queue = ?", ("stored",)).fetchone()[0])' \
		"$T/state/queues.db"
}
[ "$(rows_in)" = 2 ] || fail "the store holds $(rows_in) rows of stored, not 2"
[ "$(code_of POST /queues/stored/tasks '{"name":"x"}')" = 404 ] || fail "publish to stored: $(cat "$T/answer")"
[ "$(code_of POST /queues/stored/tasks/purge)" = 200 ] || fail "purge: $(cat "$T/answer")"
[ "$(code_of POST /queues/stored/dead/purge)" = 200 ] || fail "purge: $(cat "$T/answer")"
wait_for 10 gone stored
log_has "queue stored: removed (published 2, " || fail "$(grep 'queue stored' "$LOG")"
[ "$(rows_in)" = 0 ] || fail "the store still holds $(rows_in) rows of stored"
config "  keep: {}
  stored: {durable: true}" ""
reload 8
wait_for 10 curl_ok "$URL/queues/stored"
jq_check "$(curl -sf "$URL/queues/stored")" 'd["published"] == 0 and d["depth"] == 0 and d["dead"] == 0'
[ "$(code_of POST /queues/stored/tasks '{"name":"again"}')" = 202 ] || fail "publish: $(cat "$T/answer")"
jq_check "$(cat "$T/answer")" 'int(d["id"]) > 2'

stop_master
[ "$STATUS" -eq 0 ] || fail "master exited $STATUS"
echo "ok"
