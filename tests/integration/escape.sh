# An instance that leaves its process group is still stopped, and killed
# at its deadline: the master signals the instance itself as well as its
# group, since a zombie left behind in the group makes the group's kill
# succeed without reaching it.
. "$(dirname "$0")/lib.sh"

cat >"$T/escape.py" <<'PY'
import os, sys, time
# h stays in the instance's group; the group's SIGTERM ends it, and as
# nobody waits for it, a zombie keeps the group from being empty.
if os.fork() == 0:
    time.sleep(60)
    os._exit(0)
g = os.fork()
if g == 0:
    os.setpgid(0, 0)
    time.sleep(60)
    os._exit(0)
with open(sys.argv[1], "w") as f:
    f.write("%d\n" % g)
time.sleep(0.2)
os.setpgid(0, g)
print("moved", flush=True)
time.sleep(60)
PY
cat >"$T/plba.yml" <<YML
platform:
  stop_timeout: 2s
workers:
  escape:
    command: [python3, $T/escape.py, $T/g.pid]
YML
start_master
wait_for 20 log_has "\[escape.0\] moved"
kill -TERM "$MASTER"
exited() { [ ! -e "/proc/$MASTER" ] || [ "$(awk '{print $3}' "/proc/$MASTER/stat" 2>/dev/null)" = Z ]; }
( wait_for 20 exited ) || { kill -KILL "$(cat "$T/g.pid")" 2>/dev/null; fail "the stop did not reach the instance"; }
wait_master
kill -KILL "$(cat "$T/g.pid")" 2>/dev/null || true
[ "$STATUS" -eq 0 ] || fail "exit $STATUS"
log_has "escape.0: stopped" || fail "the instance was not stopped"
echo "ok"
