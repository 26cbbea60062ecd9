# A killed instance is replaced; restart policies decide about clean exits.
. "$(dirname "$0")/lib.sh"

cat >"$T/plba.yml" <<YML
workers:
  a:
    command: [$TW, --record, $T]
    concurrency: 2
    restart_delay: 0
  once:
    command: [$TW, --record, $T, --exit-after, 50, 0]
    restart: on-failure
  never:
    command: [$TW, --record, $T, --exit-after, 50, 3]
    restart: never
  always:
    command: [$TW, --record, $T, --exit-after, 50, 0]
    restart: always
    restart_delay: 10ms
    max_restarts: 0
YML
start_master
wait_for 10 has_lines "$T/a.0" 1
wait_for 10 has_lines "$T/a.1" 1
victim=$(last_pid "$T/a.0")
other=$(last_pid "$T/a.1")
kill -KILL "$victim"
wait_for 10 has_lines "$T/a.0" 2
[ "$(last_pid "$T/a.0")" != "$victim" ] || fail "same pid after restart"
alive "$(last_pid "$T/a.0")" || fail "replacement not running"
[ "$(last_pid "$T/a.1")" = "$other" ] || fail "neighbour was restarted"
wait_for 10 log_has "a.0: killed by signal 9"

# always restarts a clean exit; on-failure and never do not.
wait_for 10 has_lines "$T/always.0" 3
wait_for 10 log_has "once.0: exited with status 0"
wait_for 10 log_has "never.0: exited with status 3"
[ "$(lines "$T/once.0")" -eq 1 ] || fail "on-failure restarted a clean exit"
[ "$(lines "$T/never.0")" -eq 1 ] || fail "never restarted"
# A clean exit left stopped is a job done, logged at info; a crash, a
# signal or a clean exit that is restarted is a warning.
log_has " info plba-master: once.0: exited with status 0" ||
	fail "clean exit not at info: $(grep 'once.0: exited' "$LOG")"
log_has " warning plba-master: never.0: exited with status 3" ||
	fail "failed exit not a warning: $(grep 'never.0: exited' "$LOG")"
log_has " warning plba-master: a.0: killed by signal 9" ||
	fail "kill not a warning: $(grep 'a.0: killed' "$LOG")"
log_has " warning plba-master: always.0: exited with status 0" ||
	fail "restarted clean exit not a warning: $(grep 'always.0: exited' "$LOG")"

stop_master
[ $STATUS -eq 0 ] || fail "clean stop exited $STATUS"
dead "$(last_pid "$T/a.0")" || fail "instance survived the master's stop"
echo "ok"
