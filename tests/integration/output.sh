# Child output is logged line by line with worker and instance; a 1 MiB
# line and a flood neither stall the master nor grow it without bound.
. "$(dirname "$0")/lib.sh"

cat >"$T/plba.yml" <<YML
workers:
  talker:
    command: [$TW, --print, "hello from stdout", --stderr, "hello from stderr", --record, $T]
    concurrency: 2
  bigline:
    command: [$TW, --line, 1048576, --print, after-the-big-line]
  flood:
    command: [$TW, --flood, 67108864, --print, flood-done]
YML
start_master
wait_for 10 log_has "\[talker.1\] hello from stdout"
wait_for 10 log_has "\[talker.0\] hello from stderr"
wait_for 30 log_has "\[bigline.0\] after-the-big-line"
# A 1 MiB line arrives in bounded pieces, marked as cut.
[ "$(log_count "\[bigline.0\] xxxx.*\[\.\.\.\]")" -ge 100 ] || fail "big line not split"
wait_for 60 log_has "\[flood.0\] flood-done"
rss=$(awk '/VmRSS/ {print $2}' "/proc/$MASTER/status")
[ "$rss" -lt "${PLBA_RSS_LIMIT_KB:-65536}" ] || fail "master RSS $rss kB after a flood"
# The master still supervises: kill a talker, it comes back.
kill -KILL "$(last_pid "$T/talker.0")"
wait_for 10 has_lines "$T/talker.0" 2
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
