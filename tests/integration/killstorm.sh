# Consumers SIGKILLed every few tens of milliseconds (each restart waits
# 100 ms, the crash-loop floor): no task is lost, and a task
# is handled twice only when it was in flight at a kill.
. "$(dirname "$0")/lib.sh"

N=6000
cat >"$T/plba.yml" <<YML
queues:
  items: {capacity: 2000, max_attempts: 1000}
workers:
  producer:
    command: [$PW, produce, items, "$N", async]
    ready: protocol
  consumer:
    command: [$PW, consume, record, $T/rec, sleep, 1]
    concurrency: 3
    consumes: items
    prefetch: 4
    restart_delay: 0
    restart_max_delay: 100ms
    max_restarts: 0
YML
start_master
wait_for 20 has_lines "$T/rec" 1
kills=0
deadline=$((SECONDS + 120))
while [ "$(cut -d' ' -f2 "$T/rec" | sort -un | wc -l)" -lt $N ]; do
	[ $SECONDS -lt $deadline ] || fail "tasks missing after 120s"
	pid=$(pgrep -P "$MASTER" -f "consume record" | shuf -n1 || true)
	if [ -n "$pid" ]; then
		kill -KILL "$pid" 2>/dev/null && kills=$((kills + 1))
	fi
	sleep 0.04
done
echo "kills: $kills"
[ $kills -ge 10 ] || fail "only $kills kills landed"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
# Duplicates: every task recorded twice has a record from a redelivery.
cut -d' ' -f2 "$T/rec" | sort -n | uniq -d >"$T/dups"
while read -r n; do
	awk -v n="$n" '$2 == n && $3 > 1 { found = 1 } END { exit !found }' "$T/rec" ||
		fail "task $n handled twice without a redelivery"
done <"$T/dups"
echo "duplicates: $(wc -l <"$T/dups")"
log_has "published $N, acked $N" || fail "counts: $(grep 'queue items' "$LOG")"
echo "ok"
