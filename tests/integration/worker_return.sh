# A worker whose start function returned is left alone: libplba stops
# asking it for health or heartbeats before plba_worker_main() returns,
# so a program may go on (or unwind its stack) and exit cleanly.
. "$(dirname "$0")/lib.sh"

cat >"$T/plba.yml" <<YML
platform:
  ipc: {heartbeat_interval: 10ms}
workers:
  lingering:
    command: [$PW, linger, "600"]
    ready: protocol
    restart: never
YML
start_master
wait_for 20 log_has "lingering.0: exited with status 0\|lingering.0: .*signal"
log_has "\[lingering.0\] lingered 600 ms" || fail "the program did not go on after the worker returned"
log_has "lingering.0: exited with status 0" || fail "the program did not exit cleanly"
! log_has "health asked after the worker returned" || fail "health asked after the worker returned"
stop_master
echo "ok"
