# 200 restarts leave no zombie and no extra descriptor in the master.
. "$(dirname "$0")/lib.sh"

cat >"$T/plba.yml" <<YML
workers:
  steady:
    command: [$TW, --record, $T]
YML
start_master
wait_for 10 has_lines "$T/steady.0" 1
wait_for 10 log_has "steady.0: ready"
base=$(fd_count "$MASTER")
stop_master

cat >"$T/plba.yml" <<YML
workers:
  steady:
    command: [$TW, --record, $T]
  crashy:
    command: [$TW, --record, $T, --grandchild, 100, --exit-after, 0, 1]
    restart_delay: 0
    max_restarts: 200
    restart_window: 1h
YML
start_master
wait_for 120 log_has "crashy: failed"
[ "$(lines "$T/crashy.0")" -eq 201 ] || fail "expected 201 starts, got $(lines "$T/crashy.0")"
now=$(fd_count "$MASTER")
[ "$now" -eq "$base" ] || { ls -l "/proc/$MASTER/fd"; fail "fds: $base before, $now after"; }
# Grandchildren orphaned by every crash come to the master and are reaped.
wait_for 20 no_zombies "$MASTER"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
