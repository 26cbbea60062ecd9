# Wall-clock jumps do not touch the master's timers (CLOCK_MONOTONIC).
# `date -s` would move the clock of the whole shared machine, so the
# master runs under libfaketime instead, with CLOCK_MONOTONIC left alone
# (DONT_FAKE_MONOTONIC) and the wall clock moved hours back and forth
# through a timestamp file.  The workers run unfaked.  A 3s ready timer and
# a 3s restart_delay still take about 3s, heartbeats are not
# missed, and uptime stays small.
. "$(dirname "$0")/lib.sh"

FAKELIB=
for d in /usr/lib/x86_64-linux-gnu/faketime /usr/lib/*/faketime /usr/lib/faketime \
    /usr/local/lib/faketime /usr/lib64/faketime; do
	for f in "$d/libfaketimeMT.so.1" "$d/libfaketime.so.1"; do
		if [ -z "$FAKELIB" ] && [ -f "$f" ]; then FAKELIB=$f; fi
	done
done
[ -n "$FAKELIB" ] || { echo "libfaketime not installed (Debian: faketime)"; exit 77; }
# AddressSanitizer must be the first library loaded; a preload cannot be.
[ -z "${PLBA_TEST_CFLAGS:-}" ] || { echo "not under sanitizers (LD_PRELOAD)"; exit 77; }
[ -n "$PW" ] || { echo "no protocol worker"; exit 77; }

OFF=$T/faketime
# The wall clock as the master sees it: real time plus this offset.
set_offset() {
	echo "$1" >"$OFF.new"
	mv "$OFF.new" "$OFF"
}
set_offset "+0"
# Real elapsed time, in ms, from the test's side (not faked).
now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }

PORT=$(free_port)
cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
  ipc: {heartbeat_interval: 200ms, heartbeat_timeout: 5s}
workers:
  late:
    command: [$TW, --record, $T]
    ready: 3s
    environment: {LD_PRELOAD: ""}
  crashy:
    # Each start is stamped with the real (boot) clock, not the faked one.
    command: [/bin/sh, -c, 'cut -d" " -f1 /proc/uptime >>$T/starts; exec "\$0" "\$@"',
              $TW, --record, $T, --exit-after, 100, 1]
    restart_delay: 3s
    restart_max_delay: 3s
    max_restarts: 0
    environment: {LD_PRELOAD: ""}
  hb:
    command: [$PW, idle]
    ready: protocol
    environment: {LD_PRELOAD: ""}
YML
: >"$LOG"
# The file is re-read every second (FAKETIME_NO_CACHE, a read on every
# clock call, stalls the process enough to miss heartbeats on a busy host).
LD_PRELOAD=$FAKELIB FAKETIME_TIMESTAMP_FILE=$OFF FAKETIME_CACHE_DURATION=1 \
	DONT_FAKE_MONOTONIC=1 FAKETIME_DONT_FAKE_MONOTONIC=1 \
	"$PLBA_MASTER" -c "$T/plba.yml" >>"$LOG" 2>&1 &
MASTER=$!

# --- the ready timer: back 3 hours, then forward 5 -------------------------
wait_for 10 log_has "late.0: started, pid"
t0=$(now_ms)
set_offset "-3h"
while [ $(($(now_ms) - t0)) -lt 1000 ]; do sleep 0.05; done
set_offset "+5h"
wait_for 15 log_has "late.0: ready"
# Precisely, from the log: the offsets are whole hours, so the time between
# the two lines is their difference modulo an hour.
took=$(python3 -c '
import sys, datetime
def when(what):
    for l in open(sys.argv[1]):
        if what in l:
            return datetime.datetime.fromisoformat(l.split("Z ")[0]).timestamp()
print(int(((when("late.0: ready") - when("late.0: started")) % 3600) * 1000))' "$LOG")
echo "ready: 3s took ${took}ms"
[ "$took" -ge 2950 ] || fail "ready: 3s fired after ${took}ms: a wall-clock timer"
[ "$took" -le 6000 ] || fail "ready: 3s took ${took}ms"

# Did the fake take at all?  The log's own timestamps must show the jumps.
span=$(python3 -c '
import sys, re, datetime
ts = [datetime.datetime.fromisoformat(m.group(1)).timestamp()
      for m in (re.match(r"(\d{4}-\S+?)Z ", l) for l in open(sys.argv[1])) if m]
print(int(max(ts) - min(ts)))' "$LOG")
if [ "$span" -lt 3600 ]; then
	echo "libfaketime did not move the master's wall clock (log spans ${span}s)"
	exit 77
fi

# --- restart_delay 3s across a jump forward by 5 hours (to +10h) ---------
restart_across() {
	local n k gap jumped
	n=$(log_count "crashy.0: restarting in")
	wait_for 10 log_at_least "crashy.0: restarting in" $((n + 1))
	# Down now, for 3s: its next start is the next line.
	k=$(lines "$T/starts")
	set_offset "$1"
	wait_for 15 has_lines "$T/starts" $((k + 1))
	# From the start before the crash (which ran 100ms) to the next one.
	gap=$(tail -n 2 "$T/starts" | awk 'NR == 1 { a = $1 } NR == 2 { printf "%d\n", ($1 - a) * 1000 }')
	echo "100ms run + restart_delay 3s across a jump to $1: ${gap}ms"
	[ "$gap" -ge 3050 ] || fail "restart_delay 3s: ${gap}ms from start to start across a jump to $1"
	[ "$gap" -le 8000 ] || fail "restart_delay 3s: ${gap}ms from start to start across a jump to $1"
	# The jump did land while the restart was pending: the master's wall
	# clock moved hours between "restarting in" and the next "started".
	jumped=$(grep -E "crashy.0: (restarting in|started, pid)" "$LOG" | python3 -c '
import sys, datetime
n = int(sys.argv[1])
ls = sys.stdin.read().splitlines()
i = [k for k, l in enumerate(ls) if "restarting in" in l][n]
t = [datetime.datetime.fromisoformat(l.split("Z ")[0]).timestamp() for l in ls[i:i + 2]]
print(int(abs(t[1] - t[0]) // 3600))' "$n")
	[ "$jumped" -ge 4 ] || fail "the clock did not jump during the restart delay (test too slow?)"
}
restart_across "+10h"
# --- and back by 20 hours (to -10h) ----------------------------------------
restart_across "-10h"

# Heartbeats were judged on the monotonic clock: hb was never hung.
! log_has "no heartbeat" || fail "a wall-clock jump made an instance look hung: $(grep 'no heartbeat' "$LOG")"
[ "$(log_count "hb.0: started, pid")" -eq 1 ] || fail "hb was restarted"
[ "$(log_count "late.0: started, pid")" -eq 1 ] || fail "late was restarted"
s=$(curl -s --max-time 5 "http://127.0.0.1:$PORT/status")
jq_check "$s" 'd["uptime"] < 120'
curl_has "http://127.0.0.1:$PORT/livez" ok || fail "/livez after the jumps"

stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
