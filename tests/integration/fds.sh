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
    restart_max_delay: 100ms
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

# The master raises its descriptor limit to the hard one for itself; its
# workers get the limit it was started with.
cat >"$T/plba.yml" <<YML
workers:
  limits:
    command: [sh, -c, 'echo \$\$(ulimit -Sn) \$\$(ulimit -Hn) >$T/limits.tmp && mv $T/limits.tmp $T/limits && exec sleep 1000']
YML
: >"$LOG"
(ulimit -Sn 1000 && ulimit -Hn 4096 && exec "$PLBA_MASTER" -c "$T/plba.yml") >>"$LOG" 2>&1 &
MASTER=$!
wait_for 10 test -s "$T/limits"
[ "$(cat "$T/limits")" = "1000 4096" ] || fail "the worker's limits: $(cat "$T/limits")"
grep -q "^Max open files *4096 *4096 " "/proc/$MASTER/limits" ||
	fail "the master's limit: $(grep "open files" "/proc/$MASTER/limits")"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
