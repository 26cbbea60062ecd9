# SIGHUP: changed workers restart, new ones start, removed ones stop,
# unchanged ones are untouched, and a broken file keeps the running set.
. "$(dirname "$0")/lib.sh"

cat >"$T/plba.yml" <<YML
workers:
  keep:
    command: [$TW, --record, $T]
  change:
    command: [$TW, --record, $T, --print, v1]
  remove:
    command: [$TW, --record, $T]
YML
start_master
for w in keep change remove; do wait_for 10 has_lines "$T/$w.0" 1; done
keep=$(last_pid "$T/keep.0")
change=$(last_pid "$T/change.0")
remove=$(last_pid "$T/remove.0")

cat >"$T/plba.yml" <<YML
workers:
  keep:
    command: [$TW, --record, $T]
  change:
    command: [$TW, --record, $T, --print, v2]
  add:
    command: [$TW, --record, $T]
YML
kill -HUP "$MASTER"
wait_for 10 has_lines "$T/add.0" 1
wait_for 10 has_lines "$T/change.0" 2
wait_for 10 dead "$remove"
wait_for 10 dead "$change"
wait_for 10 log_has "v2"
alive "$keep" || fail "unchanged worker was restarted"
[ "$(lines "$T/keep.0")" -eq 1 ] || fail "unchanged worker restarted"

# A broken file is rejected and nothing changes.
printf 'workers:\n  keep:\n    concurrency: -1\n' >"$T/plba.yml"
kill -HUP "$MASTER"
wait_for 10 log_has "configuration rejected"
log_has "plba.yml:3:18: workers.keep.concurrency" || fail "error has no position"
alive "$keep" || fail "keep died on a bad reload"
alive "$(last_pid "$T/add.0")" || fail "add died on a bad reload"
alive "$(last_pid "$T/change.0")" || fail "change died on a bad reload"

# A version still stopping when the next reload comes keeps its
# successor waiting, whether that reload changes the worker again or
# adds it back after removing it: two never run side by side.
slow() {
	cat >"$T/plba.yml" <<YML
workers:
  keep:
    command: [$TW, --record, $T]
YML
	[ "$1" = none ] || cat >>"$T/plba.yml" <<YML
  slow:
    command: [/bin/sh, -c, 'echo start $1 >>$T/runs; trap "sleep 1; echo end $1 >>$T/runs; exit 0" TERM; while :; do sleep 0.05; done']
YML
}
# Never two starts without an end between, and as many ends as starts
# but the one running.
one_at_a_time() {
	awk '$1 == "start" { if (up) bad = 1; up = 1 } $1 == "end" { up = 0 }
	    END { exit bad }' "$T/runs" || fail "two versions ran at once: $(cat "$T/runs")"
}
slow v1
kill -HUP "$MASTER"
wait_for 10 grep -qs "start v1" "$T/runs"
slow v2
kill -HUP "$MASTER"
wait_for 10 log_has "slow: changed; restarting it"
slow v3
kill -HUP "$MASTER"
wait_for 20 grep -qs "start v3" "$T/runs"
one_at_a_time
grep -q "v2" "$T/runs" && fail "a version replaced before it started was run"
slow none
kill -HUP "$MASTER"
wait_for 10 log_has "slow: removed from the configuration"
slow v4
kill -HUP "$MASTER"
wait_for 20 grep -qs "start v4" "$T/runs"
one_at_a_time
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
one_at_a_time
echo "ok"
