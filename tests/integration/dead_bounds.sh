# A nack's error is the consumer's text, up to a frame long: the master
# keeps 4 KiB of it, cut at a character and marked "...", and counts it in
# dead_bytes, where dead_max_bytes sees it.  GET /queues/NAME/dead carries
# at most 8 MiB of dead letters, the newest, and its count tells a client
# that it got only part.  Before, a consumer failing every task with a
# megabyte of error grew the master without a limit that saw it, and the
# listing built an answer of hundreds of megabytes on the event loop.
. "$(dirname "$0")/lib.sh"

http_port

# A raw child that nacks every task, without retry, with a megabyte of
# two-byte characters after a prefix of varying length.
cat >"$T/nacker.py" <<'PY'
import json, os, select, socket, struct, sys, time

s = socket.socket(fileno=int(os.environ["PLBA_FD"]))

def send(**m):
    b = json.dumps(m, ensure_ascii=False, separators=(",", ":")).encode()
    s.sendall(struct.pack("!I", len(b)) + b)

def recv():
    h = s.recv(4, socket.MSG_WAITALL)
    if len(h) < 4:
        sys.exit(0)
    return json.loads(s.recv(struct.unpack("!I", h)[0], socket.MSG_WAITALL))

send(type="hello", protocol=1, pid=os.getpid())
beat = recv()["heartbeat_ms"] / 1000
send(type="ready")
last = time.monotonic()
while True:
    if select.select([s], [], [], beat)[0]:
        m = recv()
        if m["type"] == "stop":
            sys.exit(0)
        if m["type"] == "task":
            send(type="nack", id=m["id"], retry=False,
                 error="task %s: %s" % (m["id"], "\u00e9" * (1 << 19)))
    if time.monotonic() - last >= beat:
        send(type="heartbeat")
        last = time.monotonic()
PY

cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
  ipc: {heartbeat_interval: 200ms}
queues:
  jobs: {max_attempts: 1}
workers:
  nacker:
    command: [python3, $T/nacker.py]
    consumes: jobs
    ready: protocol
YML

# publish FILE: the task in FILE, over HTTP.
publish() {
	curl -sf -o /dev/null --max-time 10 -X POST --data-binary "@$1" \
		"$URL/queues/jobs/tasks" || fail "publish $1"
}

# check_dead PYTHON: the expression holds over d, the parsed answer of
# GET /queues/jobs/dead, with n its size in bytes and q /queues/jobs.
check_dead() {
	curl -sf --max-time 10 -o "$T/dead" "$URL/queues/jobs/dead" ||
		fail "GET /queues/jobs/dead"
	curl -sf --max-time 5 -o "$T/queue" "$URL/queues/jobs" ||
		fail "GET /queues/jobs"
	python3 - "$T/dead" "$T/queue" "$1" <<'PY' || fail "dead letters: $1"
import json, os, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
q = json.load(open(sys.argv[2]))
n = os.path.getsize(sys.argv[1])
def size(t):
    return len(json.dumps(t["task"], ensure_ascii=False,
                          separators=(",", ":")).encode()) + \
        len(t["error"].encode())
if not eval(sys.argv[3]):
    print("answer of %d bytes, dead %d, listed %d, dead_bytes %d" %
          (n, d["dead"], len(d["tasks"]), q["dead_bytes"]), file=sys.stderr)
    sys.exit(1)
PY
}

start_master
wait_for 20 log_has "nacker.0: ready"

# 1. One small task: its error is kept cut, valid UTF-8 (the answer
#    parses), and counted in dead_bytes with the body.
echo '{"name":"small","payload":{"n":1}}' >"$T/small"
publish "$T/small"
wait_for 20 queue_field_is jobs dead 1
check_dead 'len(d["tasks"]) == 1'
check_dead 'd["tasks"][0]["error"].startswith("task 1: \u00e9")'
check_dead 'd["tasks"][0]["error"].endswith("\u00e9...")'
check_dead '4000 < len(d["tasks"][0]["error"].encode()) <= 4096'
check_dead 'q["dead_bytes"] == size(d["tasks"][0])'

# 2. Twelve tasks of 900 kB each: 11 MB of dead letters, of which the
#    listing carries the newest that fit in 8 MiB, and says it is cut.
python3 -c 'import json; print(json.dumps({"name": "big",
    "payload": {"pad": "x" * 900000}}, separators=(",", ":")))' >"$T/big"
for i in $(seq 12); do
	publish "$T/big"
done
wait_for 30 queue_field_is jobs dead 13
check_dead 'q["dead_bytes"] > 12 * (900000 + 4000)'
check_dead 'n <= 8 * 2**20 + 64 * 1024'
check_dead 'd["dead"] == 13 and 0 < len(d["tasks"]) < 13'
check_dead 'sum(size(t) for t in d["tasks"]) <= 8 * 2**20'
# The newest, in order.
check_dead '([int(t["id"]) for t in d["tasks"]] ==
    list(range(14 - len(d["tasks"]), 14)))'
check_dead 'all(len(t["error"].encode()) <= 4096 for t in d["tasks"])'

stop_master
[ "$STATUS" -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
