# A crash loop ends in "failed"; with exit_on_failure a critical one ends the master.
. "$(dirname "$0")/lib.sh"

cat >"$T/plba.yml" <<YML
workers:
  crashy:
    command: [$TW, --record, $T, --exit-after, 0, 1]
    restart_delay: 5ms
    restart_max_delay: 20ms
    max_restarts: 3
    restart_window: 1h
  steady:
    command: [$TW, --record, $T]
YML
start_master
wait_for 20 log_has "crashy: failed"
# The first start and three restarts, then no more.
[ "$(lines "$T/crashy.0")" -eq 4 ] || fail "expected 4 starts, got $(lines "$T/crashy.0")"
alive "$(last_pid "$T/steady.0")" || fail "a neighbour suffered"
alive "$MASTER" || fail "master died"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"

cat >"$T/plba.yml" <<YML
platform:
  exit_on_failure: true
workers:
  crashy:
    command: [$TW, --exit-after, 0, 1]
    restart_delay: 0
    max_restarts: 2
    critical: true
  steady:
    command: [$TW]
YML
start_master
wait_for 20 dead "$MASTER"
wait_master
[ $STATUS -eq 1 ] || fail "exit_on_failure exited $STATUS"
log_has "critical worker crashy failed" || fail "no reason logged"
echo "ok"
