# plba-master as a container's PID 1 (unshare --pid --fork --mount-proc):
# it reaps every orphan of the namespace, takes SIGTERM and SIGINT as a
# graceful stop, and exits with the status of its contract: 0 after a
# clean stop, 1 after a forced one, so an orchestrator can act on it.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "needs root for a PID namespace"; exit 77; }
command -v unshare >/dev/null || { echo "no unshare (util-linux)"; exit 77; }
unshare --pid --fork --mount-proc true 2>/dev/null ||
	{ echo "cannot create a PID namespace here"; exit 77; }

UNS=
# start_pid1: runs the master as PID 1 of a new namespace; sets UNS (the
# unshare process, our child) and MASTER (the master, by its host pid).
start_pid1() {
	: >"$LOG"
	unshare --pid --fork --mount-proc "$PLBA_MASTER" -c "$T/plba.yml" >>"$LOG" 2>&1 &
	UNS=$!
	MASTER=
	wait_for 10 master_found
	# PID 1 inside, whatever it is outside.
	grep -q "^NSpid:[[:space:]]*${MASTER}[[:space:]]*1$" "/proc/$MASTER/status" ||
		fail "not PID 1 in its namespace: $(grep NSpid "/proc/$MASTER/status")"
}
master_found() {
	local p
	p=$(pgrep -P "$UNS" -x plba-master || pgrep -P "$UNS" -x lt-plba-master || true)
	[ -n "$p" ] || return 1
	MASTER=$p
}
# stop_pid1 SIGNAL: what an orchestrator does; STATUS is the exit status
# the container would report.
stop_pid1() {
	kill -"$1" "$MASTER"
	STATUS=0
	wait "$UNS" || STATUS=$?
	MASTER=
}
# Processes (all, or only zombies) in the PID namespace of $2: those
# whose ns/pid link is the same.  One pass in Python: a shell loop that
# forks per process is too slow on a busy host.
ns_procs() {
	python3 - "$1" "$2" <<'PY'
import os, sys
want_z, pid = sys.argv[1] == "zombies", sys.argv[2]
try:
    ns = os.readlink("/proc/%s/ns/pid" % pid) if not pid.startswith("pid:") else pid
except OSError:
    print(0); sys.exit()
n = 0
for p in os.listdir("/proc"):
    if not p.isdigit():
        continue
    try:
        if os.readlink("/proc/%s/ns/pid" % p) != ns:
            continue
        state = open("/proc/%s/stat" % p).read().rsplit(")", 1)[1].split()[0]
    except OSError:
        continue
    if not want_z or state == "Z":
        n += 1
print(n)
PY
}
ns_zombies() { ns_procs zombies "$1"; }
no_ns_zombies() { [ "$(ns_zombies "$1")" -eq 0 ]; }

# --- 1. orphans are reaped; SIGTERM is a clean stop, exit 0 -----------------
cat >"$T/plba.yml" <<YML
log: {level: debug}
workers:
  steady:
    command: [$TW, --record, $T]
  forker:
    # Double-forks a grandchild (setsid, 300ms) and crashes, 20 times.
    command: [$TW, --record, $T, --grandchild, 300, --exit-after, 50, 1]
    concurrency: 2
    restart_delay: 0
    restart_max_delay: 100ms
    max_restarts: 20
    restart_window: 1h
YML
start_pid1
wait_for 20 log_has "forker: failed"
wait_for 10 log_has "steady.0: ready"
# Once the last grandchildren have ended, nothing is left unreaped.
wait_for 10 no_ns_zombies "$MASTER"
starts=$(($(lines "$T/forker.0") + $(lines "$T/forker.1")))
orphans_reaped() { log_at_least "reaped orphan" "$starts"; }
wait_for 10 orphans_reaped
if command -v nsenter >/dev/null; then
	# Seen from inside the container.
	inside=$(nsenter --target "$MASTER" --pid --mount sh -c '
		echo "$(cat /proc/1/comm) $(grep -l "^State:.*Z" /proc/[0-9]*/status 2>/dev/null | wc -l)"')
	case $inside in
	"plba-master 0" | "lt-plba-master 0") ;;
	*) fail "inside the namespace: PID 1 and zombies: $inside" ;;
	esac
fi
NS=$(readlink "/proc/$MASTER/ns/pid")
stop_pid1 TERM
echo "SIGTERM: exit $STATUS"
[ $STATUS -eq 0 ] || fail "a clean stop on SIGTERM exited $STATUS"
log_has "stopping" || fail "SIGTERM did not start a stop"
log_has "steady.0: stopped, exited with status 0" || fail "steady was not stopped gracefully"
log_has "exiting" || fail "no orderly exit"
# The recorded pids are the namespace's own: look for the namespace instead.
[ "$(ns_procs all "$NS")" -eq 0 ] || fail "processes outlived PID 1"

# --- 2. SIGINT, a worker that ignores SIGTERM: forced at stop_timeout, 1 ----
rm -f "$T"/steady.* "$T"/forker.*
cat >"$T/plba.yml" <<YML
workers:
  steady:
    command: [$TW, --record, $T]
  stubborn:
    command: [$TW, --record, $T, --ignore-term]
    stop_timeout: 500ms
YML
start_pid1
wait_for 10 log_has "stubborn.0: ready"
wait_for 10 log_has "steady.0: ready"
stubborn=$(last_pid "$T/stubborn.0")
NS=$(readlink "/proc/$MASTER/ns/pid")
stop_pid1 INT
echo "SIGINT with a stubborn worker: exit $STATUS"
[ $STATUS -eq 1 ] || fail "a forced stop exited $STATUS, not 1"
log_has "stopping" || fail "SIGINT did not start a stop"
log_has "stubborn.0: killing pid $stubborn" || fail "stubborn was not killed at its stop_timeout"
log_has "steady.0: stopped, exited with status 0" || fail "steady was not stopped gracefully"
[ "$(ns_procs all "$NS")" -eq 0 ] || fail "processes outlived PID 1"
echo "ok"
