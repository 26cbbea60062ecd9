# A disk that stalls holds up only what waits for it.  While the durable
# queue's commit cannot finish (fsync held by tests/workers/masterfaults.c
# while $T/gate exists), a publish to that queue is not confirmed, over
# HTTP or over the channel; everything else goes on: a memory queue's
# publish is answered and delivered, a killed worker is replaced.  A
# producer that goes on publishing without waiting is held back once
# 16 MiB of changes wait for the disk, so the master does not grow with
# it.  Once the disk is back, every publish is confirmed and nothing is
# lost.  A reload that declares a durable queue does not wait for the
# disk to read it: the queue takes publishes once it is read.  A stop
# gives up on the disk after platform.stop_timeout and exits 1.  A disk
# that fails every commit (fsync failing, $T/failing) is not taken for a
# stalled one.
. "$(dirname "$0")/lib.sh"

need_protoworker
SHIM=$PLBA_BUILDDIR/tests/workers/.libs/masterfaults.so
[ -f "$SHIM" ] || { echo "no $SHIM"; exit 77; }
# AddressSanitizer wants to be the first library loaded; the shim only
# wraps fsync and realloc, so it may come first here.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

http_port
DB=$T/state/queues.db
GATE=$T/gate
# Publishes of 256 KiB, 50 MiB in all.
N=200

# [LATER=1] config [producer [big]]: a durable queue and a memory queue,
# each with a recording consumer; then a producer of one task for jobs,
# and one that publishes N tasks without waiting for their confirmations.
# LATER adds a durable queue, later, and a producer of one task for it.
config() {
	cat >"$T/plba.yml" <<YML
platform:
  state_dir: $T/state
  stop_timeout: 5s
  http: {enabled: true, listen: 127.0.0.1:$PORT}
queues:
  jobs: {capacity: 1000000, durable: true}
  fast: {capacity: 100}
$([ -z "${LATER:-}" ] || echo "  later: {durable: true}")
workers:
  jobsc:
    command: [$PW, consume, record, $T/jobs]
    consumes: jobs
    prefetch: 64
  fastc:
    command: [$PW, consume, record, $T/fast]
    consumes: fast
YML
	[ -n "${LATER:-}" ] && cat >>"$T/plba.yml" <<YML
  laterp:
    command: [$PW, produce, later, "1"]
    ready: protocol
YML
	[ $# -ge 1 ] && cat >>"$T/plba.yml" <<YML
  producer:
    command: [$PW, produce, jobs, "1"]
    ready: protocol
YML
	[ $# -ge 2 ] && cat >>"$T/plba.yml" <<YML
  big:
    command: [$PW, burst, bigpublish, jobs, "262144", "$N"]
YML
	return 0
}

# post QUEUE N: publishes task N; prints the HTTP status.
post() {
	curl -s -o "$T/answer.$1.$2" -w '%{http_code}' --max-time "${3:-10}" \
	    -X POST -d "{\"name\":\"t\",\"payload\":{\"n\":$2}}" \
	    "$URL/queues/$1/tasks"
}
fastc_pid() {
	curl -sf --max-time 5 "$URL/workers/fastc" | python3 -c \
	    'import json,sys; print(json.load(sys.stdin)["instances"][0]["pid"] or 0)'
}
waiting_publishers() { [ "$(queue_field jobs waiting_publishers)" -ge 1 ]; }
# metric NAME: its value in /metrics, or nothing.
metric() {
	curl -sf --max-time 5 "$URL/metrics" | awk -v n="$1" '$1 == n {print $2}'
}
metric_above() { awk -v v="$(metric "$1")" -v m="$2" 'BEGIN {exit !(v != "" && v > m)}'; }

config
LD_PRELOAD=$SHIM PLBA_SYNCGATE=$GATE start_master
wait_for 20 curl_ok "$URL/status"
[ "$(post jobs 1)" = 202 ] || fail "a durable publish with the disk working"
wait_for 20 has_lines "$T/jobs" 1

# 1. The disk stalls.  A durable publish over HTTP waits for it...
touch "$GATE"
published=$(queue_field jobs published)
post jobs 2 30 >"$T/jobs2.code" &
held_post=$!
wait_for 20 eval '[ "$(queue_field jobs published)" -gt "$published" ]'
# ... and so does one over the channel: a producer added by a reload.
# The same reload declares a durable queue, whose tasks cannot be read
# with the writer stalled: the reload does not wait for them, and the
# queue takes nothing meanwhile.
LATER=1 config producer
kill -HUP "$MASTER"
wait_for 20 curl_has "$URL/workers" '"producer"'
wait_for 20 queue_field_is later loading True
[ "$(post later 9)" = 503 ] || fail "a queue not read yet took a publish"
grep -q "still being read from its database" "$T/answer.later.9" ||
	fail "the 503 does not say why: $(cat "$T/answer.later.9")"
# Everything else goes on: a memory queue's publish is answered ...
[ "$(post fast 3)" = 202 ] || fail "a memory queue's publish waited for the disk"
wait_for 20 has_lines "$T/fast" 1
# ... and a killed worker is replaced.
old=$(fastc_pid)
[ "$old" -gt 0 ] || fail "no pid for fastc"
kill -KILL "$old"
wait_for 20 eval '[ "$(fastc_pid)" -gt 0 ] && [ "$(fastc_pid)" != "$old" ]'
[ "$(post fast 4)" = 202 ] || fail "the new fastc was not given a task"
wait_for 20 has_lines "$T/fast" 2
# The HTTP publish is not confirmed: past the answer's deadline it is
# told so, and why.  Nor is the producer's.
wait "$held_post" || true
[ "$(cat "$T/jobs2.code")" = 503 ] ||
	fail "a durable publish got $(cat "$T/jobs2.code") with its commit stalled"
grep -q "may still be stored" "$T/answer.jobs.2" ||
	fail "the 503 does not say why: $(cat "$T/answer.jobs.2")"
log_has "produced 1" && fail "a durable publish was confirmed with its commit stalled"
# The stall is in the log and in /metrics.
wait_for 20 log_has "queues.db: a commit has not finished in [0-9]*s; durable publishes wait for the disk"
wait_for 20 metric_above plba_durable_writing_seconds 4
wait_for 20 metric_above plba_durable_waiting_bytes 0

# 2. The disk is back: the producer's publish is confirmed, and the task
#    told "may still be stored" was stored, and delivered.
commits=$(metric plba_durable_commits_total)
rm -f "$GATE"
wait_for 20 log_at_least "produced 1" 2
# The queue the reload declared is read, and takes publishes.
wait_for 20 eval '! curl_has "$URL/queues/later" loading'
[ "$(post later 10)" = 202 ] || fail "the queue read late took no publish"
[ "$(queue_field later published)" = 2 ] || fail "later: $(queue_field later published) published"
wait_for 20 has_lines "$T/jobs" 3
wait_for 20 log_has "queues.db: the commit finished after"
wait_for 20 metric_above plba_durable_commits_total "$commits"
[ "$(metric plba_durable_writing_seconds)" = 0 ] || fail "still writing after the stall"
# A publish over HTTP is answered 202 once its commit is in.
touch "$GATE"
published=$(queue_field jobs published)
post jobs 5 30 >"$T/jobs5.code" &
held_post=$!
wait_for 20 eval '[ "$(queue_field jobs published)" -gt "$published" ]'
# Still waiting, unless the box was so slow that its 5 s deadline passed.
if alive "$held_post"; then want=202; else want=503; fi
rm -f "$GATE"
wait "$held_post" || true
[ "$(cat "$T/jobs5.code")" = $want ] || fail "the held publish got $(cat "$T/jobs5.code")"
[ $want = 202 ] || grep -q "may still be stored" "$T/answer.jobs.5" ||
	fail "answered before its commit: $(cat "$T/answer.jobs.5")"
wait_for 20 has_lines "$T/jobs" 4

# 3. A child that does not wait for its confirmations, with the disk
#    stalled: it is held back rather than journaled without bound.
touch "$GATE"
config producer big
kill -HUP "$MASTER"
wait_for 60 log_has "bigpublish: held back after"
log_has "bigpublish: $N sent" && fail "all $N were taken with the disk stalled"
wait_for 20 waiting_publishers
wait_for 20 log_has "MiB of changes wait for the disk; durable publishes wait until it catches up"
# Over HTTP, which does not hold a publish, the store being behind is a 503.
[ "$(post jobs 8)" = 503 ] || fail "a publish over HTTP went in with the store behind"
grep -q "is durable, and its database is behind" "$T/answer.jobs.8" ||
	fail "the 503 does not say why: $(cat "$T/answer.jobs.8")"
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$MASTER/status")
echo "master RSS with the disk stalled: $rss KiB"
rm -f "$GATE"
wait_for 120 log_has "bigpublish: $N sent"
wait_for 20 log_has "caught up; durable publishes go in again"
wait_for 120 has_lines "$T/jobs" $((N + 4))
wait_for 30 rows_are "" 0
stop_master
[ "$STATUS" -eq 0 ] || fail "exit $STATUS"
# Every task once: no publish was lost or confirmed twice.
[ "$(cut -d' ' -f1 "$T/jobs" | sort -u | wc -l)" -eq $((N + 4)) ] ||
	fail "tasks recorded twice or missing"

# 4. A stop with the disk stalled: the master gives up on the disk after
#    platform.stop_timeout and exits 1, rather than never.  The writer and
#    the database are left for the process's exit to take, which
#    LeakSanitizer would count as leaks.
export ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0
exited() { [ ! -e "/proc/$MASTER" ] || [ "$(awk '{print $3}' "/proc/$MASTER/stat" 2>/dev/null)" = Z ]; }
config
LD_PRELOAD=$SHIM PLBA_SYNCGATE=$GATE start_master
wait_for 20 curl_ok "$URL/status"
touch "$GATE"
published=$(queue_field jobs published)
post jobs 6 30 >"$T/jobs6.code" &
held_post=$!
wait_for 20 eval '[ "$(queue_field jobs published)" -gt "$published" ]'
# A reload that declares a durable queue goes on without waiting for its
# tasks, which stay unread while the disk is stalled.
LATER=1 config
kill -HUP "$MASTER"
wait_for 20 queue_field_is later loading True
wait_for 20 curl_has "$URL/workers" '"laterp"'
kill -TERM "$MASTER"
wait_for 30 exited
wait_master
[ "$STATUS" -eq 1 ] || fail "exit $STATUS after giving up on the disk"
log_has "queues.db: gave up on a commit that has not finished in" ||
	fail "the master did not say it gave up on the disk"
wait "$held_post" || true
[ "$(cat "$T/jobs6.code")" = 503 ] || fail "the publish at the stop got $(cat "$T/jobs6.code")"
grep -q "may still be stored" "$T/answer.jobs.6" ||
	fail "the 503 does not say why: $(cat "$T/answer.jobs.6")"
# Its lock went with it: the next master opens the database.
rm -f "$GATE"
FAILING=$T/failing
LD_PRELOAD=$SHIM PLBA_SYNCFAIL=$FAILING start_master
wait_for 20 curl_ok "$URL/status"

# 5. A disk that fails every commit is not one that stalls: a stop goes
#    through at once, without waiting for it or giving up on it.
touch "$FAILING"
[ "$(post jobs 7)" = 503 ] || fail "a publish was confirmed with every commit failing"
grep -q "not stored: the durable queue's database write failed" "$T/answer.jobs.7" ||
	fail "the 503 does not say why: $(cat "$T/answer.jobs.7")"
stop_master
[ "$STATUS" -eq 0 ] || fail "exit $STATUS with every commit failing"
# Each failure is of a transaction that had something to write: a failed
# commit is not retried for its own sake.
[ "$(log_count "commit: disk I/O error")" -le 10 ] ||
	fail "$(log_count "commit: disk I/O error") failed commits for one publish"
log_has "gave up on a commit" && fail "a failing disk was taken for a stalled one"

# 6. A queue that a reload declares and the database cannot give, here
#    because another process holds it locked, is not created: in memory
#    only it would break its promise.  Its producer is refused.
config
start_master
wait_for 20 curl_ok "$URL/status"
python3 -c '
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
time.sleep(120)' "$DB" "$T/locked" &
locker=$!
wait_for 20 test -e "$T/locked"
LATER=1 config
kill -HUP "$MASTER"
wait_for 20 log_has "queues.later.durable: .*queues.db: database is locked; the queue is not created"
kill "$locker"
wait "$locker" 2>/dev/null || true
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/queues/later")" = 404 ] ||
	fail "a queue its database could not give was declared"
wait_for 20 log_has "publish 0: "
stop_master
[ "$STATUS" -eq 0 ] || fail "exit $STATUS after a queue was not created"
echo "ok"
