# 500 instances SIGKILLed by one kill(1) call: the SIGCHLDs coalesce, yet
# every child is reaped, every restart is scheduled and every instance
# comes back, each exactly once.
. "$(dirname "$0")/lib.sh"

N=500
# 500 workers plus their replacements, beside whatever else runs here.
ulimit -u "$(ulimit -Hu)" 2>/dev/null || true
[ "$(ulimit -u)" = unlimited ] || [ "$(ulimit -u)" -ge $((N * 3)) ] ||
	{ echo "ulimit -u $(ulimit -u) is too low for $N instances"; exit 77; }

PORT=$(free_port)
cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
workers:
  burst:
    command: [$TW, --record, $T]
    concurrency: $N
    restart_delay: 200ms
    max_restarts: 0
    ready: 200ms
YML
start_master
all_recorded() {
	local n
	n=$(cat "$T"/burst.* 2>/dev/null | wc -l)
	[ "$n" -ge "$1" ]
}
wait_for 30 all_recorded $N
wait_for 30 log_at_least "burst.[0-9]*: ready" $N
cat "$T"/burst.* >"$T/first"
[ "$(sort -u "$T/first" | wc -l)" -eq $N ] || fail "expected $N distinct pids"

# One kill(2) per pid, from one process, as fast as it goes.
# shellcheck disable=SC2046
kill -KILL $(cat "$T/first")
wait_for 20 log_at_least "burst.[0-9]*: killed by signal 9" $N
wait_for 20 log_at_least "burst.[0-9]*: restarting in" $N
wait_for 30 all_recorded $((2 * N))
[ "$(ls "$T"/burst.* | wc -l)" -eq $N ] || fail "not every instance recorded itself"
wrong=$(wc -l "$T"/burst.* | awk '$2 != "total" && $1 != 2 { print $2 ": " $1 " starts" }' | head -n 5)
[ -z "$wrong" ] || fail "instances not started exactly twice: $wrong"
tail -q -n 1 "$T"/burst.* >"$T/second"
[ "$(sort -u "$T/second" | wc -l)" -eq $N ] || fail "replacement pids are not distinct"
! grep -qxFf "$T/first" "$T/second" || fail "a replacement reused a killed pid?"
every_one_alive() {
	local p
	while read -r p; do alive "$p" || return 1; done <"$T/second"
}
wait_for 10 every_one_alive
wait_for 20 log_at_least "burst.[0-9]*: ready" $((2 * N))
wait_for 10 no_zombies "$MASTER"
# No instance is waiting for a restart that was never scheduled.
restarts_ok() {
	local s
	s=$(curl -s --max-time 5 "http://127.0.0.1:$PORT/workers/burst") || return 1
	python3 -c '
import json, sys
d = json.loads(sys.argv[1])
insts = d.get("instances") or d.get("burst", {}).get("instances") or []
ok = len(insts) == int(sys.argv[2]) and all(
    i.get("restarts") == 1 and i.get("status") == "idle" for i in insts)
sys.exit(0 if ok else 1)' "$s" $N
}
wait_for 10 restarts_ok
# No pid is reported twice: nothing was restarted beside the one time.
[ "$(log_count "burst.[0-9]*: started, pid")" -eq $((2 * N)) ] ||
	fail "$(log_count "burst.[0-9]*: started, pid") starts for $N instances killed once"

stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
