# The log cannot be written: a full disk (a 64k tmpfs, then /dev/full)
# and a standard error whose reader went away (EPIPE).  Each time the
# master loses those lines, never its job: a killed instance is still
# replaced, nothing spins, and the stop is clean.  Once room is made on
# the disk, logging resumes by itself.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "needs root to mount a tmpfs"; exit 77; }
FULL=$T/full
mkdir "$FULL"
mount -t tmpfs -o size=64k,mode=0755 plba-test "$FULL" ||
	{ echo "cannot mount a tmpfs here"; exit 77; }
trap 'rc=$?; umount -l "$FULL" 2>/dev/null || true; cleanup $rc' EXIT

# Clock ticks of CPU the process used so far (utime + stime).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# kill_and_replaced WORKER.INSTANCE: SIGKILL the last recorded pid and
# wait for a new one to be recorded and running.
kill_and_replaced() {
	local f=$T/$1 n old
	n=$(lines "$f")
	old=$(last_pid "$f")
	kill -KILL "$old"
	wait_for 10 has_lines "$f" $((n + 1))
	[ "$(last_pid "$f")" != "$old" ] || fail "$1 not replaced"
	wait_for 5 alive "$(last_pid "$f")"
}

# --- 1. A log file on a full disk ------------------------------------------
FLOG=$FULL/plba.log
cat >"$T/plba.yml" <<YML
log: {output: $FLOG}
workers:
  steady:
    command: [$TW, --record, $T]
    restart_delay: 0
    max_restarts: 0
  chatty:
    command: [$TW, --print, "a line from chatty", --exit-after, 100, 1]
    restart_delay: 100ms
    restart_max_delay: 100ms
    max_restarts: 0
YML
start_master
flog_has() { grep -q -- "$1" "$FLOG"; }
wait_for 10 has_lines "$T/steady.0" 1
wait_for 10 flog_has "steady.0: ready"
# Fill what is left of the disk.
dd if=/dev/zero of="$FULL/filler" bs=1k 2>/dev/null || true
before=$(stat -c %s "$FLOG")
t0=$(cpu_ticks "$MASTER")
kill_and_replaced steady.0
kill_and_replaced steady.0
# chatty goes on crashing and printing into the full log meanwhile.
sleep_deadline=$((SECONDS + 2))
while [ $SECONDS -lt $sleep_deadline ]; do
	alive "$MASTER" || fail "master died with its disk full"
	sleep 0.1
done
t1=$(cpu_ticks "$MASTER")
[ $((t1 - t0)) -lt 200 ] || fail "master used $((t1 - t0)) ticks of CPU in ~2s with the disk full"
[ "$(stat -c %s "$FLOG")" -le $((before + 4096)) ] || fail "the log grew on a full disk?"
# Room again: the very next lines are written, without a reopen.
rm -f "$FULL/filler"
kill_and_replaced steady.0
wait_for 10 flog_has "steady.0: killed by signal 9"
wait_for 10 flog_has "a line from chatty"
stop_master
[ $STATUS -eq 0 ] || fail "stop with a full disk exited $STATUS"
flog_has "exiting" || fail "the final lines were not logged once there was room"

# --- 2. /dev/full: every write fails with ENOSPC ----------------------------
rm -f "$T"/steady.* "$T"/chatty.*
sed -i "s|output: $FLOG|output: /dev/full|" "$T/plba.yml"
grep -q 'output: /dev/full' "$T/plba.yml" || fail "config not rewritten"
start_master
wait_for 10 has_lines "$T/steady.0" 1
t0=$(cpu_ticks "$MASTER")
kill_and_replaced steady.0
kill_and_replaced steady.0
t1=$(cpu_ticks "$MASTER")
[ $((t1 - t0)) -lt 200 ] || fail "master used $((t1 - t0)) ticks of CPU with /dev/full"
stop_master
[ $STATUS -eq 0 ] || fail "stop with /dev/full exited $STATUS"

# --- 3. stderr is a pipe whose reader is gone (EPIPE, no SIGPIPE death) -----
rm -f "$T"/steady.* "$T"/chatty.*
sed -i "s|output: /dev/full|output: stderr|" "$T/plba.yml"
mkfifo "$T/fifo"
# The reader takes the first line and leaves.
head -n 1 <"$T/fifo" >"$T/head.out" &
HEAD=$!
"$PLBA_MASTER" -c "$T/plba.yml" >"$T/fifo" 2>&1 &
MASTER=$!
wait "$HEAD" || true
[ -s "$T/head.out" ] || fail "nothing logged to stderr at all"
wait_for 10 has_lines "$T/steady.0" 1
kill_and_replaced steady.0
kill_and_replaced steady.0
alive "$MASTER" || fail "master died writing to a broken pipe"
stop_master
[ $STATUS -eq 0 ] || fail "stop with a broken stderr exited $STATUS"
echo "ok"
