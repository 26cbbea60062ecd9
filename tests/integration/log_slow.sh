# A log destination that cannot keep up (here a pipe read slowly) slows
# the log, never the master: while a chatty child floods it, a protocol
# worker with a short heartbeat_timeout is not taken for hung, a killed
# instance is replaced, the lines lost are counted in /metrics and said
# in the log, and the stop is clean with the log's last lines written.
. "$(dirname "$0")/lib.sh"

need_protoworker

http_port
cat >"$T/plba.yml" <<YML
platform:
  stop_timeout: 5s
  http: {enabled: true, listen: "127.0.0.1:$PORT"}
  ipc: {heartbeat_interval: 200ms, heartbeat_timeout: 2s}
workers:
  chatty:
    command: [sh, -c, "while :; do seq 1 2000; sleep 0.01; done"]
  beating:
    command: [$PW, idle]
    ready: protocol
  steady:
    command: [$TW, --record, $T]
    restart_delay: 0
YML

# The reader takes 4 KiB every 50 ms, about 80 KiB/s, until $T/fast
# exists; then it reads as fast as it can, until the end.
mkfifo "$T/fifo"
python3 - "$T/fifo" "$T/got" "$T/fast" <<'PY' &
import os, sys, time
src = os.open(sys.argv[1], os.O_RDONLY)
with open(sys.argv[2], "wb") as out:
    while True:
        data = os.read(src, 4096 if not os.path.exists(sys.argv[3]) else 1 << 20)
        if not data:
            break
        out.write(data)
        out.flush()
        if not os.path.exists(sys.argv[3]):
            time.sleep(0.05)
PY
READER=$!
"$PLBA_MASTER" -c "$T/plba.yml" >"$T/fifo" 2>&1 &
MASTER=$!

metric() {
	curl -sf --max-time 5 "$URL/metrics" 2>/dev/null | awk -v m="$1" '$1 == m { print $2 }'
}
dropped_at_least() { [ "$(metric plba_log_lines_dropped_total)" -ge "$1" ] 2>/dev/null; }
wait_for 20 has_lines "$T/steady.0" 1
beating=$(pgrep -f "plba-protoworker idle" -P "$MASTER")

# Ten seconds' worth of the flood at the least, far more than the reader
# takes in that time.
wait_for 60 dropped_at_least 1000000

# beating's heartbeats were read all along.
[ "$(pgrep -f "plba-protoworker idle" -P "$MASTER")" = "$beating" ] ||
	fail "beating was restarted while the log could not keep up"
body=$(curl -sf --max-time 5 "$URL/workers/beating")
jq_check "$body" 'd["instances"][0]["restarts"] == 0'

first=$(last_pid "$T/steady.0")
kill -KILL "$first"
wait_for 10 has_lines "$T/steady.0" 2

touch "$T/fast"
kill -TERM "$MASTER"
STATUS=0
wait "$MASTER" || STATUS=$?
MASTER=
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
wait "$READER"
grep -q "plba-master: the log output could not keep up: [0-9]* lines dropped" "$T/got" ||
	fail "no line about the lost lines"
grep -q "plba-master: beating.0: stopped, exited with status 0" "$T/got" ||
	fail "the stop's lines were not written"
grep -q "plba-master: exiting" "$T/got" || fail "the last line was not written"
echo "ok"
