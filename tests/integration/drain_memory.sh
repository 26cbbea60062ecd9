# The memory of a burst of tasks goes back to the system once the queue
# has drained, even though something allocated after the burst (here a
# task in another queue) sits above it in the heap.
. "$(dirname "$0")/lib.sh"

need_protoworker
# ASan's allocator keeps freed memory in its quarantine: RSS says nothing.
[ -z "${PLBA_TEST_CFLAGS:-}" ] || { echo "skip: not under sanitizers"; exit 77; }

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$MASTER/status"; }
rss_at_most() { [ "$(rss_kb)" -le "$1" ]; }

touch "$T/hold"
cat >"$T/plba.yml" <<YML
queues:
  burst: {capacity: 1000000}
  pin: {}
workers:
  producer:
    command: [$PW, produce, burst, "500000", async]
    restart: never
  sink:
    command: [$PW, consume, hang-while, $T/hold]
    consumes: burst
YML
start_master
wait_for 20 log_has "sink.0: ready"
idle=$(rss_kb)
wait_for 120 log_has "producer.0\] produced 500000"
peak=$(rss_kb)
[ $((peak - idle)) -ge 40000 ] || fail "500 000 tasks took only $((peak - idle)) kB"

# One task published after the burst: allocated above it.
cat >>"$T/plba.yml" <<YML
  pinner:
    command: [$PW, produce, pin, "1"]
    restart: never
YML
kill -HUP "$MASTER"
wait_for 20 log_has "pinner.0\] produced 1"
rm "$T/hold"
wait_for 60 rss_at_most $((idle + (peak - idle) / 4))
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
