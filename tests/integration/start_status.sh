# While the master spawns hundreds of instances its loop answers no
# reader, and /status is served from the last snapshot: that one says the
# runtime is starting, not the stopped runtime of before the start.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
URL=http://127.0.0.1:$PORT
cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
workers:
  many:
    command: [sleep, "1000"]
    concurrency: 300
YML
# The poller is there before the port opens, and asks until it is up.
python3 - "$PORT" >"$T/seen" 2>&1 <<'PY' &
import json, sys, time, urllib.request
url = "http://127.0.0.1:%s/status" % sys.argv[1]
end = time.monotonic() + 60
while time.monotonic() < end:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            d = json.load(r)
    except OSError:
        time.sleep(0.005)
        continue
    print(d["state"], d["health"], flush=True)
    if d["state"] in ("idle", "busy"):
        break
    time.sleep(0.005)
PY
POLLER=$!
start_master
wait "$POLLER" || fail "poller: $(cat "$T/seen")"
grep -Eq "^(idle|busy) " "$T/seen" || fail "never up: $(sort "$T/seen" | uniq -c)"
grep -q "^starting unhealthy" "$T/seen" || fail "never starting: $(sort "$T/seen" | uniq -c)"
! grep -q "^stopped" "$T/seen" || fail "a starting runtime said stopped: $(sort "$T/seen" | uniq -c)"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
