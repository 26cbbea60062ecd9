# A log destination that cannot keep up (here a pipe read slowly) slows
# the log and the chatty child that fills it, never the master: a
# protocol worker with a short heartbeat_timeout is not taken for hung, a
# killed instance is replaced, the child loses no line (it waits, as on a
# slow pipe), and the stop is clean with the log's last lines written.
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
    command: [sh, -c, "while :; do seq 1 2000; done"]
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

got_at_least() { [ "$(stat -c %s "$T/got" 2>/dev/null || echo 0)" -ge "$1" ]; }
wait_for 20 has_lines "$T/steady.0" 1
beating=$(pgrep -f "plba-protoworker idle" -P "$MASTER")

# Some 5 s of the reader's pace, with the buffer long full: chatty
# writes far faster than that.
wait_for 60 got_at_least 409600

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
# chatty's numbers run 1 to 2000 and again, with none missing, until the
# stop (what its pipe still holds when it is reaped is read whatever the
# log's room).
sed '/plba-master: stopping$/q' "$T/got" | grep -o '\[chatty.0\] [0-9]*$' | awk '
	{ n = $2 }
	NR > 1 && n != prev % 2000 + 1 { print "after " prev ": " n; bad = 1; exit }
	{ prev = n }
	END { exit bad }' || fail "chatty lost lines"
[ "$(grep -c '\[chatty.0\]' "$T/got")" -gt 10000 ] || fail "too few of chatty's lines to tell"
grep -q "beating.0: no heartbeat" "$T/got" &&
	fail "beating was taken for hung while the log could not keep up"
grep -q "plba-master: beating.0: stopped, exited with status 0" "$T/got" ||
	fail "the stop's lines were not written"
grep -q "plba-master: exiting" "$T/got" || fail "the last line was not written"
echo "ok"
