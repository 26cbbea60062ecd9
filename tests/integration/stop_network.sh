# A graceful stop ends a check or a poll that waits on the network: an
# http-probe and an imap-poller whose server accepts the connection and
# never answers stop at once, well before stop_timeout, not when their
# own timeout runs out or the master kills them.
. "$(dirname "$0")/lib.sh"

# The silent server: accepts, counts the connections in $T/conns, and
# never sends a byte.
python3 - "$T/port" "$T/conns" <<'PY' &
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
tmp = sys.argv[1] + ".tmp"
with open(tmp, "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(tmp, sys.argv[1])
held = []
while True:
    c, _ = s.accept()
    held.append(c)
    with open(sys.argv[2], "a") as f:
        f.write("x\n")
PY
SILENT=$!
trap 'st=$?; set +e; kill $SILENT 2>/dev/null; wait $SILENT 2>/dev/null; (exit $st); cleanup' EXIT
wait_for 20 test -s "$T/port"
P=$(cat "$T/port")

stops_at_once() {
	local type=$1 config=$2 began
	rm -f "$T/conns"
	cat >"$T/plba.yml" <<YML
platform: {stop_timeout: 10s}
queues:
  q: {}
workers:
  w:
    type: $type
    config: $config
YML
	start_master
	wait_for 20 has_lines "$T/conns" 1
	wait_for 20 log_has "w.0: ready"
	began=$SECONDS
	stop_master
	[ "$STATUS" -eq 0 ] || fail "$type: stop exited $STATUS"
	! log_has "stop_timeout reached" || fail "$type: the stop was forced"
	[ $((SECONDS - began)) -lt 5 ] ||
		fail "$type: the stop took $((SECONDS - began))s"
}

stops_at_once http-probe "{url: \"http://127.0.0.1:$P/\", timeout: 20s}"
stops_at_once imap-poller "{url: \"imap://127.0.0.1:$P/INBOX\", user: u, \
password: p, queue: q, timeout: 20s}"
echo "ok"
