# An instance over max_memory is restarted gracefully.
. "$(dirname "$0")/lib.sh"

cat >"$T/plba.yml" <<YML
workers:
  hog:
    command: [$TW, --record, $T, --alloc, 67108864]
    max_memory: 16MiB
    restart_delay: 0
YML
start_master
wait_for 10 has_lines "$T/hog.0" 1
first=$(last_pid "$T/hog.0")
wait_for 20 log_has "hog.0: resident memory .* is over max_memory"
wait_for 20 has_lines "$T/hog.0" 2
wait_for 10 dead "$first"
log_has "hog.0: stopped, exited with status 0" || fail "not stopped gracefully"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
