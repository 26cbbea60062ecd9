# A program that cannot be started says why, by key, and counts as a
# crash for its restart policy; the master and its neighbours go on.
. "$(dirname "$0")/lib.sh"

http_port
cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
workers:
  missing:
    command: [$T/no-such-program, --flag]
    max_restarts: 2
    restart_delay: 10ms
  unresolved:
    command: [no-such-program-in-path]
    max_restarts: 1
    restart_delay: 10ms
  nodir:
    command: [$TW]
    working_directory: $T/no-such-dir
    max_restarts: 1
    restart_delay: 10ms
  fine:
    command: [$TW, --record, $T]
YML
start_master
wait_for 10 log_has "workers.missing.command: $T/no-such-program: executing: No such file or directory"
wait_for 10 log_has "workers.unresolved.command: no-such-program-in-path: No such file or directory"
wait_for 10 log_has "workers.nodir.command: $TW: changing to the working directory: No such file or directory"
wait_for 10 log_has "missing: failed"
wait_for 10 log_has "nodir: failed"
# A spawn that failed before any process was there counts as a restart
# too, and the wait before the next is said.
wait_for 10 log_has "unresolved: failed"
log_has "unresolved.0: restarting in [0-9]*ms" || fail "no back-off line"
jq_check "$(curl -sf --max-time 5 "$URL/workers/unresolved")" \
	'd["instances"][0]["restarts"] == 1'
alive "$(last_pid "$T/fine.0")" || fail "a neighbour suffered"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
