# The master near RLIMIT_NOFILE: 40 instances under a limit of 128 open
# files.  Spawns stop short of the limit, keeping descriptors for the
# HTTP server: the ones that do not fit fail with EMFILE, are logged and
# retried with back-off, never spun on; /livez still answers.  Then idle
# HTTP connections pile up: the reserve holds, so civetweb's accept()
# never meets EMFILE (it spins on it: seen before the reserve), and HTTP
# serves again once they are gone.
. "$(dirname "$0")/lib.sh"

LIMIT=128
N=40
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
workers:
  w:
    command: [$TW, --record, $T]
    concurrency: $N
    restart_delay: 100ms
    restart_max_delay: 1s
    max_restarts: 0
YML
# Soft and hard limit both: the master raises its soft limit to the hard one.
: >"$LOG"
if command -v prlimit >/dev/null; then
	prlimit --nofile=$LIMIT:$LIMIT -- "$PLBA_MASTER" -c "$T/plba.yml" >>"$LOG" 2>&1 &
else
	(ulimit -n $LIMIT && exec "$PLBA_MASTER" -c "$T/plba.yml") >>"$LOG" 2>&1 &
fi
MASTER=$!
wait_for 10 log_has "w.[0-9]*: cannot start: Too many open files"
grep -q "^Max open files *$LIMIT *$LIMIT" "/proc/$MASTER/limits" ||
	fail "limit not applied: $(grep 'open files' "/proc/$MASTER/limits")"

# Problems are collected, so that one run reports every one of them.
ERRS=
problem() { echo "PROBLEM: $*" >&2; ERRS="$ERRS
  $*"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
running() {
	local n=0 f
	for f in "$T"/w.*; do
		[ -f "$f" ] && alive "$(last_pid "$f")" && n=$((n + 1))
	done
	echo $n
}

# --- 1. spawns fail for want of descriptors ----------------------------------
# Let the back-off reach restart_max_delay (100+200+400+800ms).
wait_for 10 log_at_least "w.[0-9]*: cannot start: Too many open files" $((N * 5 / 4))
sleep_until=$((SECONDS + 2))
while [ $SECONDS -lt $sleep_until ]; do sleep 0.1; done
up=$(running)
echo "running: $up of $N, open: $(fd_count "$MASTER") of $LIMIT"
[ "$up" -ge 5 ] || fail "only $up instances running"
[ "$up" -lt $N ] || fail "all $N instances started: the limit did not bite"
failing=$((N - up))

# No spin: over 3 seconds, about one attempt a second per failing instance.
c0=$(log_count "cannot start: Too many open files")
t0=$(cpu_ticks "$MASTER")
window_end=$((SECONDS + 3))
while [ $SECONDS -lt $window_end ]; do sleep 0.1; done
c1=$(log_count "cannot start: Too many open files")
t1=$(cpu_ticks "$MASTER")
attempts=$((c1 - c0))
echo "spawn attempts in 3s: $attempts ($failing failing), CPU ticks: $((t1 - t0))"
[ $attempts -ge 1 ] || problem "failed spawns are no longer retried"
[ $attempts -le $((failing * 5)) ] || problem "$attempts failed spawns in 3s for $failing instances: no back-off"
[ $((t1 - t0)) -le 30 ] || problem "master used $((t1 - t0)) CPU ticks in 3s while spawns fail"

# Each instance's failed attempts are spaced as restart_delay doubling up
# to restart_max_delay: 100, 200, 400, 800, 1000, 1000ms...
spacing=$(grep "cannot start: Too many open files" "$LOG" | python3 -c '
import sys, datetime, collections, re
seen = collections.defaultdict(list)
for line in sys.stdin:
    m = re.match(r"(\S+)Z \S+ plba-master: (w\.\d+): cannot start", line)
    if m:
        t = datetime.datetime.fromisoformat(m.group(1)).timestamp() * 1000
        seen[m.group(2)].append(t)
bad = []
for inst, ts in seen.items():
    for k in range(1, len(ts)):
        want = min(100 * 2 ** (k - 1), 1000)
        if ts[k] - ts[k - 1] < want - 5:
            bad.append("%s attempt %d after %dms (want %dms)" % (inst, k, ts[k] - ts[k - 1], want))
print("; ".join(bad[:5]))')
[ -z "$spacing" ] || problem "back-off not respected: $spacing"

curl_ok "$URL/livez" || problem "/livez does not answer while spawns fail"
curl_has "$URL/livez" ok || problem "/livez does not say ok"
curl_ok "$URL/status" || problem "/status does not answer while spawns fail"
alive "$MASTER" || fail "master died"

# --- 2. idle connections pile up: the reserve holds -------------------------
before=$(fd_count "$MASTER")
python3 -c '
import socket, sys, time
held = []
for i in range(60):
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
        held.append(s)
    except OSError:
        pass
open(sys.argv[2], "w").write("%d\n" % len(held))
time.sleep(60)' "$PORT" "$T/held" &
FLOOD=$!
trap 'rc=$?; kill "$FLOOD" 2>/dev/null || true; cleanup $rc' EXIT
wait_for 15 test -s "$T/held"
# civetweb takes as many as its threads and queue hold; the rest wait in
# the kernel's backlog, costing the master nothing.
busy() { [ "$(fd_count "$MASTER")" -ge $((before + 20)) ]; }
wait_for 5 busy
[ "$(fd_count "$MASTER")" -lt "$LIMIT" ] || problem "the descriptor table filled up"
t0=$(cpu_ticks "$MASTER")
window_end=$((SECONDS + 3))
while [ $SECONDS -lt $window_end ]; do sleep 0.1; done
t1=$(cpu_ticks "$MASTER")
echo "CPU ticks in ~3s with 60 idle connections: $((t1 - t0))"
[ $((t1 - t0)) -le 15 ] || problem "master used $((t1 - t0)) CPU ticks in ~3s with idle connections"
if command -v strace >/dev/null; then
	# Precise: how many accept() calls in 2 seconds.
	timeout 2 strace -f -c -e trace=accept,accept4 -p "$MASTER" -o "$T/strace" 2>/dev/null || true
	calls=$(awk '$NF ~ /^accept/ { n += $4 } END { print n + 0 }' "$T/strace" 2>/dev/null || echo 0)
	echo "accept calls in 2s with idle connections: $calls"
	[ "$calls" -le 40 ] || problem "accept() spun: $calls calls in 2s"
fi
alive "$MASTER" || fail "master died with idle connections"

# --- 3. the connections go: HTTP serves again -------------------------------
kill "$FLOOD"
wait "$FLOOD" 2>/dev/null || true
wait_for 15 curl_ok "$URL/livez"
curl_has "$URL/livez" ok || problem "/livez does not say ok after the flood"
wait_for 15 fds_at_most "$MASTER" "$before"
# Spawns are still being retried afterwards.
c0=$(log_count "cannot start: Too many open files")
wait_for 5 log_at_least "cannot start: Too many open files" $((c0 + 1))
[ "$(running)" -ge "$up" ] || problem "instances lost: $(running) running, $up before"

stop_master
[ $STATUS -eq 0 ] || problem "stop exited $STATUS"
[ -z "$ERRS" ] || fail "master misbehaved near RLIMIT_NOFILE:$ERRS"
echo "ok"
