# A worker's config section is its own, of any kind: libplba takes a
# list or a scalar as well as a map (plba_worker_config() gives it as it
# is).  A message from the master that libplba cannot read is said on
# stderr, and the instance exits 1, so that it counts as a crash.
. "$(dirname "$0")/lib.sh"

need_protoworker
cat >"$T/plba.yml" <<YML
workers:
  listed:
    command: [$PW, idle]
    ready: protocol
    config: [1, 2]
  scalar:
    command: [$PW, idle]
    ready: protocol
    config: 5
  mapped:
    command: [$PW, idle]
    ready: protocol
    config: {a: 1}
YML
start_master
for w in listed scalar mapped; do wait_for 20 log_has "$w.0: ready"; done
log_has "exited" && fail "a worker exited: $(grep exited "$LOG")"
stop_master
[ "$STATUS" -eq 0 ] || fail "exit $STATUS"

# A master that sends what libplba cannot read, on the socketpair a fake
# master holds: a welcome without its instance, and after a good welcome
# an unknown message.  After the second the worker's calls say the
# channel is closed, though fd 3 is still open.
python3 - "$PW" >"$T/fake.out" 2>&1 <<'PY' || fail "$(cat "$T/fake.out")"
import json, os, socket, struct, subprocess, sys

def frame(sock):
    n = struct.unpack("!I", sock.recv(4, socket.MSG_WAITALL))[0]
    return json.loads(sock.recv(n, socket.MSG_WAITALL))

def send(sock, f):
    b = json.dumps(f).encode()
    sock.sendall(struct.pack("!I", len(b)) + b)

# Sends the frames, each (but the first) once the worker said "ready".
def run(mode, frames, want_out=b""):
    ours, theirs = socket.socketpair()
    env = dict(os.environ, PLBA_FD="3", PLBA_WORKER="w", PLBA_INSTANCE="0",
               PLBA_PROTOCOL="1")
    p = subprocess.Popen([sys.argv[1], mode], env=env, close_fds=False,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         preexec_fn=lambda: os.dup2(theirs.fileno(), 3))
    theirs.close()
    ours.settimeout(20)
    hello = frame(ours)
    assert hello["type"] == "hello", hello
    send(ours, frames[0])
    if len(frames) > 1:
        while frame(ours)["type"] != "ready":
            pass
        for f in frames[1:]:
            send(ours, f)
    out, err = p.communicate(timeout=20)
    assert p.returncode == 1, "%s: exit %d" % (mode, p.returncode)
    assert b"bad message from the master" in err, err
    assert want_out in out, out

run("idle", [{"type": "welcome", "worker": "w"}])
run("after-close", [{"type": "welcome", "worker": "w", "instance": 0},
                    {"type": "launch_missiles"}],
    b"after close: status: channel to the master is closed; publish: "
    b"channel to the master is closed: the channel to the master is closed")
PY
echo "ok"
