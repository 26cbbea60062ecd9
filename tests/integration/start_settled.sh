# The start ends once every critical worker is ready or settled: failed
# in a crash loop, or ended and by its restart policy not started again.
# The state then says idle, not "starting" for ever; a failed critical
# worker keeps the health unhealthy, while one that ended by its policy
# is stopped on purpose: ok, not "not running".
. "$(dirname "$0")/lib.sh"

http_port
CTL=${PLBACTL:-${PLBA_BUILDDIR:?run through make check}/plbactl}
unset PLBA_TOKEN_FILE
export PLBA_URL=$URL
status() { curl -s --max-time 5 "$URL/status"; }
state_is() { # STATE HEALTH
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if (d["state"], d["health"]) == (sys.argv[2], sys.argv[3]) else 1)' \
		"$(status)" "$1" "$2" 2>/dev/null
}
readyz() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL/readyz"; }

# What the master tells its own service manager.
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

# A critical worker that fails while the runtime starts.
cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
workers:
  crashy:
    command: [$TW, --exit-after, 0, 1]
    restart_delay: 5ms
    restart_max_delay: 20ms
    max_restarts: 2
    restart_window: 1h
  steady:
    command: [$TW]
YML
NOTIFY_SOCKET=$sock start_master
wait_for 20 log_has "crashy: failed"
wait_for 10 state_is idle unhealthy
s=$(status)
jq_check "$s" '[(i["status"], i["health"], i["detail"]) for i in d["workers"]["crashy"]["instances"]] == [("failed", "unhealthy", "failed: too many restarts")]'
[ "$(readyz)" = 503 ] || fail "ready with a failed critical worker"
log_has "workers started, but critical worker crashy is not up" ||
	fail "the end of the start not logged"
wait_for 10 grep -q "READY=1 STATUS=running, 2 workers, critical crashy not up" "$T/notify.out"
"$CTL" status >"$T/ctl.out" 2>&1 || true
grep -q "idle" "$T/ctl.out" || fail "plbactl status: $(cat "$T/ctl.out")"
! grep -q "starting" "$T/ctl.out" || fail "plbactl status: $(cat "$T/ctl.out")"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
wait "$listener" || fail "listener saw no STOPPING=1"

# Instances that exit 0 and, by their policy, are not restarted: under
# on-failure (the default) and under never, a job done; and one that
# crashes under never, which is not running and counts as down.
cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
workers:
  once:
    command: [$TW, --exit-after, 0, 0]
  never:
    command: [$TW, --exit-after, 0, 0]
    restart: never
  broken:
    command: [$TW, --exit-after, 0, 3]
    restart: never
  steady:
    command: [$TW]
YML
start_master
wait_for 20 log_has "once.0: exited with status 0"
wait_for 20 log_has "never.0: exited with status 0"
wait_for 20 log_has "broken.0: exited with status 3"
wait_for 10 state_is idle unhealthy
s=$(status)
for w in once never; do
	jq_check "$s" '[(i["status"], i["health"], i["detail"], i["pid"]) for i in d["workers"]["'$w'"]["instances"]] == [("stopped", "ok", "", None)]'
	jq_check "$s" 'd["workers"]["'$w'"]["health"] == "ok"'
done
jq_check "$s" '[(i["status"], i["health"], i["detail"]) for i in d["workers"]["broken"]["instances"]] == [("stopped", "unhealthy", "not running")]'
jq_check "$s" 'd["workers"]["broken"]["instances"][0]["last_exit"] == {"code": 3}'
[ "$(readyz)" = 503 ] || fail "ready with a critical worker crashed"
"$CTL" status >"$T/ctl.out" 2>&1
! grep -q "starting" "$T/ctl.out" || fail "plbactl status: $(cat "$T/ctl.out")"
# None is started again.
[ "$(log_count "once.0: started")" -eq 1 ] || fail "once restarted"
[ "$(log_count "never.0: started")" -eq 1 ] || fail "never restarted"
[ "$(log_count "broken.0: started")" -eq 1 ] || fail "broken restarted"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
