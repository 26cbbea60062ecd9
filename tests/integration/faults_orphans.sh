# Workers that double-fork a grandchild (setsid, so it leaves the
# instance's process group and survives the group kill) and then crash:
# the master is a child subreaper, so every orphan is re-parented to it
# and reaped when it ends.  No zombie is left behind.
. "$(dirname "$0")/lib.sh"

cat >"$T/plba.yml" <<YML
log: {level: debug}
workers:
  forker:
    command: [$TW, --record, $T, --grandchild, 500, --exit-after, 50, 1]
    concurrency: 2
    restart_delay: 0
    restart_max_delay: 100ms
    max_restarts: 0
YML
start_master
# A few seconds of crash loop: dozens of orphans, each living 500ms.
wait_for 20 has_lines "$T/forker.0" 20
wait_for 20 has_lines "$T/forker.1" 20

# Orphans are re-parented to the master (not to init) while they live.
orphans_of() {
	local n=0 st pp pid
	for st in /proc/[0-9]*/stat; do
		{ read -r _ _ _ pp _ <"$st"; } 2>/dev/null || continue
		[ "$pp" = "$1" ] || continue
		pid=${st#/proc/}; pid=${pid%/stat}
		# An orphan is a child of the master in a session of its own.
		tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q -- --grandchild || continue
		[ "$(awk '{print $6}' "$st" 2>/dev/null)" = "$pid" ] && n=$((n + 1))
	done
	echo $n
}
has_orphans() { [ "$(orphans_of "$1")" -ge 1 ]; }
wait_for 10 has_orphans "$MASTER"
wait_for 10 log_has "reaped orphan"

# Stop the crash loop without stopping the master: a reload to a worker
# that does not fork, then wait out the last grandchildren.
cat >"$T/plba.yml" <<YML
log: {level: debug}
workers:
  calm:
    command: [$TW, --record, $T]
YML
kill -HUP "$MASTER"
wait_for 10 log_has "forker: removed from the configuration"
wait_for 10 has_lines "$T/calm.0" 1
wait_for 10 no_zombies "$MASTER"
none_left() { [ "$(orphans_of "$MASTER")" -eq 0 ] && no_zombies "$MASTER"; }
wait_for 10 none_left
# Every grandchild that left its instance's group (each says so; one whose
# instance the reload stopped before it forked never existed) was reaped
# by the master: none escaped to init.
grandchildren=$(($(lines "$T/forker.0.grandchild") + $(lines "$T/forker.1.grandchild")))
reaped=$(log_count "reaped orphan")
[ "$reaped" -ge "$grandchildren" ] ||
	fail "$grandchildren grandchildren, $reaped reaped by the master"
alive "$MASTER" || fail "master died"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok ($grandchildren grandchildren, $reaped orphans reaped)"
