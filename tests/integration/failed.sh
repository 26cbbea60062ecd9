# A crash loop ends in "failed"; with exit_on_failure a critical one ends the master.
. "$(dirname "$0")/lib.sh"

http_port
cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
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
# A restart clears the mark and starts it again, with max_restarts anew.
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST "$URL/workers/crashy/restart")
[ "$code" = 202 ] || fail "restart of a failed worker: $code"
wait_for 20 log_at_least "crashy: failed" 2
[ "$(lines "$T/crashy.0")" -eq 8 ] || fail "expected 8 starts, got $(lines "$T/crashy.0")"
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
