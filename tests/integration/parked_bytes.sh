# Publishes waiting for room in a full queue are held by the master up to
# 256 of them or 4 MiB of tasks and refs for one child, whichever comes first;
# past that it reads nothing more from the child, whose own socket holds
# it back, heartbeats included: the child sends none for over 2 s, its
# heartbeat_timeout, and is not taken for hung.  Once there is room, the
# rest comes through.
. "$(dirname "$0")/lib.sh"

need_protoworker

http_port
cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: "127.0.0.1:$PORT"}
  ipc: {heartbeat_interval: 200ms, heartbeat_timeout: 2s}
queues:
  q: {capacity: 1}
workers:
  big:
    command: [$PW, burst, bigpublish, q, "1000000", "12"]
    restart: never
YML
start_master

# One task of 1 MB in the queue, five waiting (5 MB, over 4 MiB), maybe
# a part of the next in the socket: the child is held back after 6.
wait_for 30 log_has "bigpublish: held back after"
sent=$(sed -n 's/.*bigpublish: held back after \([0-9]*\) sent.*/\1/p' "$LOG")
[ "$sent" -le 7 ] || fail "held back only after $sent publishes of 1 MB"
waiting=$(queue_field q waiting_publishers)
[ "$waiting" -le 6 ] || fail "$waiting publishes of 1 MB held by the master"

cat >>"$T/plba.yml" <<YML
  sink:
    command: [$PW, consume, record, $T/rec]
    consumes: q
YML
kill -HUP "$MASTER"
wait_for 30 log_has "bigpublish: 12 sent"
wait_for 30 has_lines "$T/rec" 12
log_has "big.0: no heartbeat" && fail "held back, and taken for hung"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"

# The ref is the child's to choose, up to max_frame: a waiting publish
# costs its ref as well as its task.  Refs of 1 MB, tasks of nothing.
sed -i 's/burst, bigpublish,/burst, bigref,/' "$T/plba.yml"
sed -i '/^  sink:/,$d' "$T/plba.yml"
start_master
wait_for 30 log_has "bigpublish: held back after"
waiting=$(queue_field q waiting_publishers)
[ "$waiting" -le 6 ] || fail "$waiting publishes with refs of 1 MB held by the master"
stop_master
echo "ok"
