# Durable queues: after a SIGKILL of the master and a restart, every
# confirmed task not yet acked is delivered again with its attempt count,
# no acked one is, dead letters stay, ids go on where they were; and a
# state_dir that cannot be used stops the master at start with exit 2.
. "$(dirname "$0")/lib.sh"

DB=$T/state/queues.db
PORT=$(free_port)

# config PRODUCE CONSUMER-ARGS...: one durable queue, a producer that
# publishes PRODUCE tasks (none when 0) and one consumer.
config() {
	local n=$1 args
	shift
	args=$(printf ', %s' "$@")
	{
		cat <<YML
platform:
  state_dir: $T/state
  stop_timeout: 2s
  http: {enabled: true, listen: 127.0.0.1:$PORT}
queues:
  jobs: {capacity: 1000, max_attempts: 3, durable: true}
workers:
YML
		[ "$n" -gt 0 ] && cat <<YML
  producer:
    command: [$PW, produce, jobs, "$n"]
    ready: protocol
YML
		cat <<YML
  consumer:
    command: [$PW, consume$args]
    consumes: jobs
    prefetch: 4
YML
	} >"$T/plba.yml"
}

# kill_master: SIGKILL, and the workers die with it (PDEATHSIG).
kill_master() {
	local pids
	pids=$(pgrep -P "$MASTER" | tr '\n' ' ')
	stop_master KILL
	for p in $pids; do wait_for 10 dead "$p"; done
}

# 1. 30 tasks, all handled: 27 acked, 3 (n = 0, 10, 20) dead-lettered.
config 30 record "$T/rec1" dead-every 10
start_master
wait_for 30 log_has "produced 30"
wait_for 30 has_lines "$T/rec1" 27
wait_for 30 log_at_least "dead-lettered" 3
# Acks are committed in the loop iteration after the one that read them.
wait_for 30 rows_are "" 3
rows_are dead 3 || fail "dead letters not stored: $(rows dead)"
# It holds every payload: only its owner reads it, whatever the umask.
modes_600() {
	local f
	for f in "$DB" "$DB-wal" "$DB-shm"; do
		[ "$(stat -c %a "$f")" = 600 ] || fail "$f: mode $(stat -c %a "$f")"
	done
}
modes_600
kill_master
# Those an older master left readable are narrowed.
chmod 644 "$DB" "$DB-wal" "$DB-shm"

# 2. 30 more, to a consumer that hangs on its first task: it holds 4 in
#    flight, 26 stay ready.
config 30 hang
start_master
wait_for 30 log_has "queue jobs: 0 tasks back from $DB (0 of them in flight when the master stopped), 3 dead letters"
modes_600
wait_for 30 log_has "produced 30"
wait_for 30 rows_are held 4
wait_for 30 rows_are ready 26
rows_are dead 3 || fail "dead letters lost: $(rows dead)"
kill_master
# The hang consumer was killed with the master, not by a nack.
[ "$(rows held)" -eq 4 ] || fail "in flight at the kill: $(rows held)"

# 3. Restart with a recording consumer only: exactly those 30 come back,
#    the 4 that were in flight with attempt 2, the rest with attempt 1.
config 0 record "$T/rec3"
start_master
wait_for 30 log_has "queue jobs: 30 tasks back from $DB (4 of them in flight when the master stopped), 3 dead letters"
wait_for 30 has_lines "$T/rec3" 30
wait_for 30 rows_are "" 3
# Ids continue after those of run 1, never reused.
max1=$(cut -d' ' -f1 "$T/rec1" | sort -n | tail -1)
min3=$(cut -d' ' -f1 "$T/rec3" | sort -n | head -1)
[ "$min3" -gt "$max1" ] || fail "ids reused: run 1 up to $max1, run 3 from $min3"
[ "$(cut -d' ' -f1 "$T/rec3" | sort -u | wc -l)" -eq 30 ] || fail "duplicates: $(cat "$T/rec3")"
[ "$(cut -d' ' -f2 "$T/rec3" | sort -n | uniq | wc -l)" -eq 30 ] || fail "not every task back"
[ "$(awk '$3 == 2' "$T/rec3" | wc -l)" -eq 4 ] || fail "in-flight tasks without attempt 2: $(cat "$T/rec3")"
[ "$(awk '$3 == 1' "$T/rec3" | wc -l)" -eq 26 ] || fail "attempts: $(cat "$T/rec3")"
# The dead letters are listed with their last error.
wait_for 10 curl_ok "http://127.0.0.1:$PORT/livez"
dead=$(curl -s --max-time 5 "http://127.0.0.1:$PORT/queues/jobs/dead")
jq_check "$dead" 'len(d["tasks"]) == 3 and all("malformed" in t["error"] for t in d["tasks"])'
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
log_has "queue jobs: published 0, acked 30, .* dead 3, queued 0, in flight 0" ||
	fail "counts: $(grep 'queue jobs:' "$LOG")"

# 4. Past max_attempts, a task lost in flight goes to the dead letters.
rm -rf "$T/state"
config 5 hang
sed -i 's/max_attempts: 3/max_attempts: 1/' "$T/plba.yml"
start_master
wait_for 30 rows_are held 4
kill_master
config 0 record "$T/rec4"
sed -i 's/max_attempts: 3/max_attempts: 1/' "$T/plba.yml"
start_master
wait_for 30 has_lines "$T/rec4" 1
wait_for 30 log_has "queue jobs: 1 tasks back .* 4 dead letters, some of them lost in flight"
wait_for 10 curl_ok "http://127.0.0.1:$PORT/livez"
dead=$(curl -s --max-time 5 "http://127.0.0.1:$PORT/queues/jobs/dead")
jq_check "$dead" 'len(d["tasks"]) == 4 and all("died while the task was in flight" in t["error"] for t in d["tasks"])'
stop_master

# 5. A publish over HTTP is answered 202 only once stored; a second
#    master on the same state_dir is refused.
rm -rf "$T/state"
config 0 hang
start_master
wait_for 30 log_has "consumer.0: ready"
wait_for 10 curl_ok "http://127.0.0.1:$PORT/livez"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
	-d '{"name":"item","payload":{"n":7}}' "http://127.0.0.1:$PORT/queues/jobs/tasks")
[ "$code" = 202 ] || fail "HTTP publish: $code"
[ "$(rows)" -eq 1 ] || fail "answered 202 before the task was stored"
first=$MASTER
: >"$T/second.log"
status=0
"$PLBA_MASTER" -c "$T/plba.yml" >"$T/second.log" 2>&1 || status=$?
[ $status -eq 2 ] || fail "second master exited $status: $(cat "$T/second.log")"
grep -q "queues.lock: in use by another plba-master" "$T/second.log" ||
	fail "no clear error: $(cat "$T/second.log")"
MASTER=$first
# A graceful stop that has to kill the hung consumer keeps its task,
# put back as after any lost consumer.
stop_master
rows_are ready 1 || fail "backlog lost at a graceful stop: $(rows ready) ready, $(rows held) held"

# 6. A durable queue that a reload declares is stored from then on.
rm -rf "$T/state"
config 0 hang
start_master
wait_for 30 log_has "consumer.0: ready"
wait_for 10 curl_ok "http://127.0.0.1:$PORT/livez"
sed -i 's/^  jobs: \(.*\)$/  jobs: \1\n  more: {durable: true}/' "$T/plba.yml"
kill -HUP "$MASTER"
# 404 until the reload has created the queue.
publish_more() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{"name":"x"}' \
		"http://127.0.0.1:$PORT/queues/more/tasks")" = 202 ]
}
wait_for 30 publish_more
[ "$(rows ready more)" -eq 1 ] || fail "the reloaded durable queue is not stored"
# Queued tasks an operator deletes leave the store too.
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
	"http://127.0.0.1:$PORT/queues/more/tasks/purge")
[ "$code" = 200 ] || fail "purge: $code"
wait_for 10 rows_are "" 0 more
stop_master

# 7. A state_dir that cannot be created: a clear error, exit 2.
: >"$T/file"
sed -i "s|state_dir: .*|state_dir: $T/file/state|" "$T/plba.yml"
status=0
"$PLBA_MASTER" -c "$T/plba.yml" >"$T/bad.log" 2>&1 || status=$?
[ $status -eq 2 ] || fail "unusable state_dir exited $status: $(cat "$T/bad.log")"
grep -q "queues.jobs.durable: $T/file/state: Not a directory" "$T/bad.log" ||
	fail "no clear error: $(cat "$T/bad.log")"
exit 0
