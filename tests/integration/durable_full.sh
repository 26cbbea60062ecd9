# A durable queue whose database cannot grow (the disk full, or a file
# size limit): publishes are answered 503 with the reason, and the error
# is logged; the master goes on, and once there is room again publishes
# are stored as before.  Every publish that was confirmed is in the
# database after the master is killed and started again.  The disk is
# "filled" with a file size limit put on the running master (prlimit),
# which needs no privilege and no mount.
. "$(dirname "$0")/lib.sh"

command -v prlimit >/dev/null || { echo "no prlimit (Debian: util-linux)"; exit 77; }

export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1
DB=$T/state/queues.db
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
cat >"$T/plba.yml" <<YML
platform:
  state_dir: $T/state
  http: {enabled: true, listen: 127.0.0.1:$PORT}
queues:
  jobs: {capacity: 100000, durable: true}
workers:
  idle:
    command: [$TW]
YML

# 8 KiB of payload a task: the write-ahead log grows fast, the log slowly.
PAYLOAD=$(python3 -c 'print("\"" + "x" * 8192 + "\"")')
# publish N: POSTs task N; prints the HTTP status, and the answer to $T/answer.
publish() {
	curl -s -o "$T/answer" -w '%{http_code}' --max-time 10 -X POST \
	    -H 'Content-Type: application/json' \
	    -d "{\"name\":\"t$1\",\"payload\":$PAYLOAD}" "$URL/queues/jobs/tasks"
}
# stored: the tasks in the database, by anyone reading it.
stored() {
	python3 - "$DB" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=5)
print(c.execute("select count(*) from tasks where queue = 'jobs'").fetchone()[0])
PY
}
size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }

start_master
wait_for 20 curl_ok "$URL/readyz"
[ "$(publish 0)" = 202 ] || fail "the first publish: $(cat "$T/answer")"
confirmed=1

# The limit: what the master's biggest file holds now, plus 256 KiB.
biggest=0
for f in "$DB" "$DB-wal" "$LOG"; do
	s=$(size_of "$f")
	[ "$s" -gt "$biggest" ] && biggest=$s
done
prlimit --pid "$MASTER" --fsize=$((biggest + 262144)):unlimited

# Publish until the store refuses; 256 KiB of room takes some 30 tasks.
code=202
for i in $(seq 1 400); do
	code=$(publish "$i")
	[ "$code" = 202 ] || break
	confirmed=$((confirmed + 1))
done
[ "$code" = 503 ] || fail "after $confirmed publishes: $code $(cat "$T/answer")"
grep -q "not stored" "$T/answer" || fail "503 without the reason: $(cat "$T/answer")"
alive "$MASTER" || fail "the master died"
wait_for 10 log_has "$DB: commit: "
# It stays refused while there is no room, and the master stays up.
[ "$(publish 1000)" = 503 ] || fail "a publish without room was confirmed"
curl_ok "$URL/health" || fail "/health does not answer"

# Room again: publishes are stored as before.
prlimit --pid "$MASTER" --fsize=unlimited:unlimited
[ "$(publish 2000)" = 202 ] || fail "no publish after room came back: $(cat "$T/answer")"
confirmed=$((confirmed + 1))

# Every confirmed task survives the master's death.
stop_master KILL
start_master
wait_for 20 curl_ok "$URL/readyz"
n=$(stored)
[ "$n" -ge "$confirmed" ] || fail "$confirmed tasks confirmed, $n stored"
jq_check "$(curl -sf "$URL/queues")" \
	'd["jobs"]["depth"] >= '"$confirmed"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
