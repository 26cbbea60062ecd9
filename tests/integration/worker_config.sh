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

# A master that sends what libplba cannot read: here a welcome without
# its instance, on the socketpair a fake master holds.
python3 - "$PW" >"$T/fake.out" 2>&1 <<'PY' || fail "$(cat "$T/fake.out")"
import json, os, socket, struct, subprocess, sys
ours, theirs = socket.socketpair()
env = dict(os.environ, PLBA_FD="3", PLBA_WORKER="w", PLBA_INSTANCE="0",
           PLBA_PROTOCOL="1")
p = subprocess.Popen([sys.argv[1], "idle"], env=env,
                     close_fds=False, stderr=subprocess.PIPE,
                     preexec_fn=lambda: os.dup2(theirs.fileno(), 3))
theirs.close()
ours.settimeout(20)
n = struct.unpack("!I", ours.recv(4, socket.MSG_WAITALL))[0]
hello = json.loads(ours.recv(n, socket.MSG_WAITALL))
assert hello["type"] == "hello", hello
bad = json.dumps({"type": "welcome", "worker": "w"}).encode()
ours.sendall(struct.pack("!I", len(bad)) + bad)
_, err = p.communicate(timeout=20)
assert p.returncode == 1, "exit %d" % p.returncode
assert b"bad message from the master" in err, err
PY
echo "ok"
