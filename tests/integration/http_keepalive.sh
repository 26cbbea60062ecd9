# Clients that poll over keep-alive connections, more of them than the
# server has threads, do not shut anyone out: each answer closes its
# connection, so /livez and plbactl get through.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
URL=http://127.0.0.1:$PORT
cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
workers:
  steady:
    command: [$TW, --record, $T]
YML
start_master
wait_for 10 curl_ok "$URL/readyz"

# Twelve pollers, each on one keep-alive connection as a browser keeps
# it, asking every second: with connections kept, eight of them would
# hold all eight threads as long as they poll.
python3 - "$PORT" "$T/pollers.done" "$T/answers" >"$T/pollers.out" 2>&1 <<'PY' &
import http.client, os, sys, threading, time
port, done, count = int(sys.argv[1]), sys.argv[2], sys.argv[3]
answers, errors = [0], []
lock = threading.Lock()
# Bounded, and gone with the test's directory, should the test fail.
end = time.monotonic() + 120
def poll():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while (not os.path.exists(done) and os.path.isdir(os.path.dirname(done))
           and time.monotonic() < end):
        try:
            c.request("GET", "/status", headers={"Connection": "keep-alive"})
            r = c.getresponse()
            r.read()
            with lock:
                answers[0] += 1
                with open(count, "w") as f:
                    f.write("%d\n" % answers[0])
        except Exception as e:
            with lock:
                errors.append(repr(e))
            c.close()
        time.sleep(1)
    c.close()
ts = [threading.Thread(target=poll) for _ in range(12)]
for t in ts: t.start()
for t in ts: t.join()
print("answers", answers[0], "errors", len(errors), errors[:3])
PY
POLLERS=$!
# The pollers are in and coming back on their connections: 36 answers
# take three rounds of twelve, or four and a half of eight.
answered() {
	local n
	n=$(cat "$T/answers" 2>/dev/null) || true
	[ "${n:-0}" -ge 36 ]
}
wait_for 30 answered
for i in 1 2 3 4 5; do
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$URL/livez")  || true
	[ "$code" = 200 ] || fail "/livez while 12 clients poll: $code (try $i)"
	PLBA_URL=$URL "$PLBA_BUILDDIR/plbactl" --timeout 3 status >/dev/null ||
		fail "plbactl status while 12 clients poll (try $i)"
done
: >"$T/pollers.done"
wait "$POLLERS" || fail "pollers: $(cat "$T/pollers.out")"
grep -q "errors 0 " "$T/pollers.out" || fail "pollers: $(cat "$T/pollers.out")"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
