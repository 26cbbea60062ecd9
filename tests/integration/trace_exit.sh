# At exit, buffered spans get 2 s to go out, a batch in flight included:
# a collector that takes 30 s to answer does not hold the master up past
# that, and the log says how many spans were lost.
. "$(dirname "$0")/lib.sh"
need_protoworker

export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1
slow_receiver 30
cat >"$T/plba.yml" <<YML
platform:
  trace: {transport: otlp, endpoint: "$RECEIVER_URL"}
workers:
  w:
    command: [$PW, spans, "3", "0", say]
YML
start_master
wait_for 10 log_at_least "made lone 2 sampled" 1
# The batch leaves a second after its first span, and hangs.
wait_for 10 grep -q "answering in 30 s" "$T/receiver.log"
kill -TERM "$MASTER"
gone=$((SECONDS + 10))
while alive "$MASTER" && [ $SECONDS -lt $gone ]; do
	sleep 0.05
done
alive "$MASTER" && fail "the master is still there 10 s after TERM"
wait_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
log_has "tracing: 3 span records dropped at exit, 3 in all: .*no answer by the stop deadline" ||
	fail "lost spans not logged: $(grep tracing: "$LOG")"
echo "ok"
