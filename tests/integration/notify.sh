# plba-master speaks sd_notify to its own supervisor: READY=1 once every
# worker is ready, STOPPING=1 when it stops.
. "$(dirname "$0")/lib.sh"

sock=$T/notify.sock
python3 - "$sock" "$T/notify.out" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        msg = s.recv(4096).decode()
        out.write(msg.replace("\n", " ") + "\n")
        if "STOPPING=1" in msg:
            break
PY
listener=$!
wait_for 10 test -S "$sock"

cat >"$T/plba.yml" <<YML
workers:
  w:
    command: [$TW, --record, $T]
    ready: 300ms
YML
NOTIFY_SOCKET=$sock start_master
wait_for 10 grep -q "READY=1" "$T/notify.out"
# Ready only after the worker's ready delay passed.
log_has "w.0: ready" || fail "READY=1 sent before the worker was ready"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
wait "$listener" || fail "listener saw no STOPPING=1"
grep -q "STOPPING=1" "$T/notify.out" || fail "no STOPPING=1"
echo "ok"
