# A child's trace frame that is not JSON is found on the master's
# exporter thread, a moment after it came: by then the process that sent
# it may have exited and another taken its slot.  Only the sender may be
# killed for it.  The trace file is a FIFO of one page that the test
# reads only when told, so the exporter is held in a write while the
# first process sends its bad frame and exits, and the next one starts.
. "$(dirname "$0")/lib.sh"
need_protoworker

FIFO=$T/traces.fifo
mkfifo "$FIFO"
python3 - "$FIFO" "$T" <<'PY' &
import fcntl, os, sys, time
fifo, t = sys.argv[1], sys.argv[2]
fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
fcntl.fcntl(fd, 1031, 4096)     # F_SETPIPE_SZ: the pipe holds one page
open(os.path.join(t, "reader-ready"), "w").close()
deadline = time.monotonic() + 120
while not os.path.exists(os.path.join(t, "release")):
    if not os.path.isdir(t) or time.monotonic() > deadline:
        sys.exit(0)             # the test is over
    time.sleep(0.02)
fcntl.fcntl(fd, fcntl.F_SETFL, 0)
while os.read(fd, 65536):
    pass
PY
READER=$!
wait_for 10 test -e "$T/reader-ready"

cat >"$T/plba.yml" <<YML
platform:
  name: og
  trace: {transport: file, file: $FIFO}
workers:
  spans:
    command: [$PW, spans, 1000000, 10]
  badtrace:
    command: [$PW, badtrace-once, $T/go, $T/marker]
    restart: always
    restart_delay: 50ms
    restart_max_delay: 50ms
YML
start_master

# A thread of the master in a system call on the FIFO: the exporter,
# writing to a full pipe.
exporter_held() {
	local f fd= th nr arg
	for f in /proc/"$MASTER"/fd/*; do
		[ "$(readlink "$f" 2>/dev/null)" = "$FIFO" ] && fd=${f##*/}
	done
	[ -n "$fd" ] || return 1
	for th in /proc/"$MASTER"/task/*; do
		read -r nr arg _ <"$th/syscall" 2>/dev/null || continue
		[ "$nr" != running ] && [ "$arg" = "$(printf '0x%x' "$fd")" ] &&
			return 0
	done
	return 1
}
wait_for 20 exporter_held
wait_for 20 log_has "badtrace.0: ready"
pid1=$(sed -n 's/.*badtrace\.0: started, pid \([0-9]*\).*/\1/p' "$LOG" | head -1)
touch "$T/go"
wait_for 20 log_at_least "badtrace.0: ready" 2
exporter_held || fail "the exporter went on before the next process started"
touch "$T/release"
wait_for 20 log_has "badtrace.0: pid $pid1, gone since, sent a trace frame that was not JSON: invalid JSON"
log_has "badtrace.0: protocol error" && fail "the next process was killed"
[ "$(log_count "badtrace.0: started")" -eq 2 ] || fail "badtrace restarted again"
log_has "spans.0: protocol error" && fail "the spans worker was killed"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
wait "$READER" 2>/dev/null || true
echo "ok"
