# The master short of memory for what a child sends: the channel's read
# buffer cannot be allocated.  That is the master's trouble, not the
# child's: the master stops reading that child for a moment (its writes
# wait in the socket, so it slows down) and says so once, instead of
# cutting it off as if it had hung up; it is not held to its heartbeats
# meanwhile.  Once memory is back the child goes on where it was.  The
# shortage is made by tests/workers/masterfaults.c, preloaded into the
# master, while the file $T/nomem exists.
. "$(dirname "$0")/lib.sh"

# AddressSanitizer must be the first library loaded; a preload cannot be.
[ -z "${PLBA_TEST_CFLAGS:-}" ] || { echo "not under sanitizers (LD_PRELOAD)"; exit 77; }
[ -n "$PW" ] || { echo "no protocol worker"; exit 77; }
SHIM=$PLBA_BUILDDIR/tests/workers/.libs/masterfaults.so
[ -f "$SHIM" ] || { echo "no $SHIM"; exit 77; }

N=20000
cat >"$T/plba.yml" <<YML
platform:
  ipc: {heartbeat_interval: 200ms, heartbeat_timeout: 1s}
queues:
  q: {capacity: 100000}
workers:
  producer:
    command: [$PW, produce, q, "$N", async]
    ready: protocol
  idle:
    command: [$PW, idle]
YML
# The children stop making progress while the master cannot read them.
touch "$T/nomem"
LD_PRELOAD=$SHIM PLBA_FAILALLOC=$T/nomem start_master
wait_for 20 log_has "producer.0: out of memory for its channel's input"
wait_for 20 log_has "idle.0: out of memory for its channel's input"
# Three heartbeat timeouts without a read: nobody is cut off or killed.
deadline=$((SECONDS + 3))
while [ $SECONDS -lt $deadline ]; do
	alive "$MASTER" || fail "the master died"
	sleep 0.1
done
log_has "produced $N" && fail "the producer got through without being read"
rm -f "$T/nomem"
wait_for 30 log_has "produced $N"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
[ "$(log_count "producer.0: started")" -eq 1 ] || fail "the producer was restarted"
[ "$(log_count "idle.0: started")" -eq 1 ] || fail "the idle worker was restarted"
[ "$(log_count "out of memory for its channel's input")" -eq 2 ] ||
	fail "the shortage was not said once a child"
log_has "no heartbeat" && fail "a child was killed as hung"
log_has "protocol error" && fail "a child was blamed"
echo "ok"
