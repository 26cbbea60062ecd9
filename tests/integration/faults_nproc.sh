# fork() failing with EAGAIN (RLIMIT_NPROC).  Root is exempt from the
# limit, so the master runs as nobody with a limit of a few processes:
# the instances past it cannot start, which is logged and retried with
# back-off (not spun on); a slot that frees up is taken again, and the
# master stops cleanly.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "needs root to switch to nobody"; exit 77; }
command -v setpriv >/dev/null || { echo "no setpriv (util-linux)"; exit 77; }
id nobody >/dev/null 2>&1 || { echo "no user nobody"; exit 77; }
NOGROUP=$(id -gn nobody)
AS_NOBODY="setpriv --reuid=nobody --regid=$NOGROUP --clear-groups"
# nobody must reach the binaries (a build tree, or an installed copy).
$AS_NOBODY "$PLBA_MASTER" --version >/dev/null 2>&1 &&
	$AS_NOBODY test -x "$TW" ||
	{ echo "nobody cannot run $PLBA_MASTER or $TW here"; exit 77; }

chmod 755 "$T"
REC=$T/rec
mkdir "$REC"
chown nobody "$REC"

# Processes nobody already has count against its limit too.
others=$( (ps -L -o lwp= -u nobody || true) | wc -l)
SLOTS=3
# The master (one thread without HTTP) plus $SLOTS instances.
LIMIT=$((others + 1 + SLOTS))
N=8
cat >"$T/plba.yml" <<YML
workers:
  w:
    command: [$TW, --record, $REC]
    concurrency: $N
    restart_delay: 100ms
    restart_max_delay: 1s
    max_restarts: 0
YML
: >"$LOG"
prlimit --nproc=$LIMIT:$LIMIT -- $AS_NOBODY "$PLBA_MASTER" -c "$T/plba.yml" >>"$LOG" 2>&1 &
MASTER=$!
ERRS=
problem() { echo "PROBLEM: $*" >&2; ERRS="$ERRS
  $*"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
running() {
	local n=0 f
	for f in "$REC"/w.*; do
		[ -f "$f" ] && alive "$(last_pid "$f")" && n=$((n + 1))
	done
	echo $n
}

wait_for 10 log_has "w.[0-9]*: cannot start: Resource temporarily unavailable"
[ "$(awk '/^Uid:/ { print $2 }' "/proc/$MASTER/status")" = "$(id -u nobody)" ] ||
	fail "master is not running as nobody"
grep -q "^Max processes *$LIMIT *$LIMIT" "/proc/$MASTER/limits" ||
	fail "limit not applied: $(grep 'Max processes' "/proc/$MASTER/limits")"
# Let the back-off reach restart_max_delay (100+200+400+800ms).
sleep_until=$((SECONDS + 2))
while [ $SECONDS -lt $sleep_until ]; do sleep 0.1; done
up=$(running)
echo "running: $up of $N under a limit of $LIMIT processes ($others others)"
[ "$up" -ge 1 ] || fail "no instance running"
[ "$up" -lt $N ] || fail "all $N instances started: the limit did not bite"
failing=$((N - up))

# No spin: about one attempt a second per instance that cannot start.
c0=$(log_count "cannot start: Resource temporarily unavailable")
t0=$(cpu_ticks "$MASTER")
window_end=$((SECONDS + 3))
while [ $SECONDS -lt $window_end ]; do sleep 0.1; done
c1=$(log_count "cannot start: Resource temporarily unavailable")
t1=$(cpu_ticks "$MASTER")
attempts=$((c1 - c0))
echo "fork attempts in 3s: $attempts ($failing failing), CPU ticks: $((t1 - t0))"
[ $attempts -ge 1 ] || problem "failed forks are no longer retried"
[ $attempts -le $((failing * 5)) ] || problem "$attempts failed forks in 3s for $failing instances: no back-off"
[ $((t1 - t0)) -le 30 ] || problem "master used $((t1 - t0)) CPU ticks in 3s while forks fail"
spacing=$(grep "cannot start: Resource temporarily unavailable" "$LOG" | python3 -c '
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

# A slot frees up: one of the waiting instances (or the killed one) takes it.
victim=""
for f in "$REC"/w.*; do
	p=$(last_pid "$f")
	if alive "$p"; then victim=$p; break; fi
done
starts=$(log_count "w.[0-9]*: started, pid")
kill -KILL "$victim"
wait_for 10 dead "$victim"
wait_for 10 log_at_least "w.[0-9]*: started, pid" $((starts + 1))
back() { [ "$(running)" -ge "$up" ]; }
wait_for 10 back
wait_for 5 no_zombies "$MASTER"
alive "$MASTER" || fail "master died"

stop_master
[ $STATUS -eq 0 ] || problem "stop exited $STATUS"
for f in "$REC"/w.*; do
	dead "$(last_pid "$f")" || problem "$f: instance outlived the master"
done
[ -z "$ERRS" ] || fail "master misbehaved with fork failing:$ERRS"
echo "ok"
