# A consumer whose channel is closed gets no task, whatever it said before
# it closed it: here it says ready and closes its end while the master is
# stopped, so that the master reads the ready and the hang-up together,
# and the process is still alive.  A task given to it could not be taken,
# and would come back counted as an attempt.
. "$(dirname "$0")/lib.sh"

need_protoworker
rm -f "$T/go" "$T/rec"
cat >"$T/plba.yml" <<YML
platform:
  ipc: {heartbeat_interval: 10s, heartbeat_timeout: 60s}
log: {level: debug}
queues:
  work: {capacity: 100}
workers:
  producer:
    command: [$PW, produce, work, "3"]
  closer:
    command: [$PW, burst, ready-close, $T/go]
    consumes: work
    restart: never
YML
start_master
wait_for 20 log_has "\[producer.0\] produced 3"
wait_for 20 pgrep -f "burst ready-close" -P "$MASTER"
closer=$(pgrep -f "burst ready-close" -P "$MASTER")
kill -STOP "$MASTER"
touch "$T/go"
# (Its output goes through the master, stopped: look at its descriptors.)
wait_for 20 test ! -e "/proc/$closer/fd/3"
kill -CONT "$MASTER"
# It lives on without its channel; the master hangs up on it.
wait_for 20 log_has "closer.0: closed its channel"
alive "$closer" || fail "the closer is gone"
log_has "closer.0: .*put back" && fail "a task went to a consumer whose channel was closed"
cat >>"$T/plba.yml" <<YML
  sink:
    command: [$PW, consume, record, $T/rec]
    consumes: work
YML
kill -HUP "$MASTER"
wait_for 20 has_lines "$T/rec" 3
awk '$3 != 1 { exit 1 }' "$T/rec" ||
	fail "tasks came back as attempts: $(cat "$T/rec")"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
