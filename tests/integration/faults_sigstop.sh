# A protocol worker frozen with SIGSTOP stops sending heartbeats: the
# master calls it hung, kills it (SIGKILL reaches a stopped process) and
# starts a new one; its neighbour is left alone.
. "$(dirname "$0")/lib.sh"
[ -n "$PW" ] || { echo "no protocol worker"; exit 77; }

cat >"$T/plba.yml" <<YML
platform:
  # 2s rather than 1s: no false alarm for the neighbour on a busy host.
  ipc: {heartbeat_interval: 200ms, heartbeat_timeout: 2s}
workers:
  frozen:
    command: [$PW, idle]
    ready: protocol
    concurrency: 2
    restart_delay: 0
YML
start_master
pid_of() { grep -o "$1: started, pid [0-9]*" "$LOG" | tail -n 1 | awk '{print $NF}'; }
wait_for 10 log_has "frozen.0: ready"
wait_for 10 log_has "frozen.1: ready"
victim=$(pid_of frozen.0)
other=$(pid_of frozen.1)
[ -n "$victim" ] && alive "$victim" || fail "no frozen.0 pid"

# Healthy protocol workers are not taken for hung in the meantime.
! log_has "no heartbeat" || fail "a live worker was taken for hung"

kill -STOP "$victim"
stopped() { grep -q '^State:[[:space:]]*T' "/proc/$1/status"; }
wait_for 5 stopped "$victim"
wait_for 10 log_has "frozen.0: no heartbeat for [0-9]*ms: hung; killing pid $victim"
wait_for 10 dead "$victim"
wait_for 10 log_at_least "frozen.0: started, pid" 2
wait_for 10 log_at_least "frozen.0: ready" 2
new=$(pid_of frozen.0)
[ "$new" != "$victim" ] || fail "frozen.0 not replaced"
alive "$new" || fail "replacement $new not running"
log_has "frozen.0: killed by signal 9" || fail "the kill of the hung instance was not logged"
# Detection took about heartbeat_timeout, not much more.
ms=$(grep -o "frozen.0: no heartbeat for [0-9]*ms" "$LOG" | head -n 1 | grep -o '[0-9]*ms' | tr -d ms)
[ "$ms" -ge 2000 ] && [ "$ms" -lt 6000 ] || fail "hang detected after ${ms}ms"
[ "$(pid_of frozen.1)" = "$other" ] || fail "the neighbour was restarted"
alive "$other" || fail "the neighbour died"
! log_has "frozen.1: no heartbeat" || fail "the neighbour was taken for hung"
wait_for 5 no_zombies "$MASTER"

# The master itself stopped for longer than heartbeat_timeout (a stall):
# the workers' heartbeats wait unread in its sockets meanwhile, and must
# not be taken for missing when it goes on.  The 3 s are the fault
# injected, not a wait for a condition.
kill -STOP "$MASTER"
sleep 3
kill -CONT "$MASTER"
wait_for 10 log_has "the master was held up for [0-9]*ms; heartbeats are not judged this time"
! log_has "frozen.1: no heartbeat" || fail "a live worker was taken for hung after the master's stall"

stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
dead "$new" || fail "replacement outlived the master"
echo "ok"
