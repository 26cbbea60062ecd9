# What a client can do to the HTTP API without disturbing it: a body cut
# short is carried out in no part; a web page cannot post to a loopback
# master without a token, nor read it through a name of its own (DNS
# rebinding); civetweb's own refusals are JSON and echo nothing of the
# request; and clients that trickle a body, or the body of a refused
# request, are cut after 10 s instead of holding civetweb's threads.
. "$(dirname "$0")/lib.sh"

http_port
cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
queues:
  q: {capacity: 50}
workers:
  idle:
    command: [$TW]
YML
start_master
wait_for 10 curl_ok "$URL/readyz"

# raw REQUEST [close]: sends REQUEST's bytes (printf escapes), half-closes
# when asked, prints the answer.
raw() {
	python3 - "$PORT" "$@" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin1"))
if len(sys.argv) > 3:
    s.shutdown(socket.SHUT_WR)
s.settimeout(10)
out = b""
try:
    while True:
        d = s.recv(4096)
        if not d:
            break
        out += d
except (socket.timeout, ConnectionResetError):
    pass
sys.stdout.write(out.decode("latin1"))
PY
}

for i in 1 2 3; do
	curl -sf -o /dev/null -d "{\"name\":\"t$i\"}" "$URL/queues/q/tasks" ||
		fail "publish t$i"
done

# Cut short: the client half-closes before its Content-Length or its
# last chunk.  Nothing of it is carried out.
out=$(raw 'POST /queues/q/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 40\r\n\r\n{"name":"cut"}' close)
grep -q '"the body ended before it was complete"' <<<"$out" ||
	fail "a publish cut short: $out"
out=$(raw 'POST /queues/q/tasks/purge HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n{"ids":["1"]' close)
grep -q '" 200 \|purged' <<<"$out" && fail "a purge cut short was carried out: $out"
raw 'POST /actions/stop HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 30\r\n\r\n' close >/dev/null
queue_field_is q depth 3 || fail "depth $(queue_field q depth) after cut bodies, wanted 3"
curl -s "$URL/status" | grep -q '"state":"\(running\|idle\)"' ||
	fail "a stop cut short was carried out: $(curl -s "$URL/status" | head -c 200)"
# A whole chunked body is taken.
out=$(raw 'POST /queues/q/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nd\r\n{"name":"ch"}\r\n0\r\n\r\n')
grep -q ' 202 ' <<<"$out" || fail "a whole chunked publish: $out"
queue_field_is q depth 4 || fail "depth $(queue_field q depth), wanted 4"

# Browsers: another origin's POST, or a Host that is not the loopback.
code=$(curl -s -o "$T/body" -w '%{http_code}' -H "Origin: http://evil.example" \
	-d '{"name":"csrf"}' "$URL/queues/q/tasks")
[ "$code" = 403 ] || fail "a cross-origin publish got $code: $(cat "$T/body")"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Origin: null" -X POST "$URL/actions/stop")
[ "$code" = 403 ] || fail "a stop from an opaque origin got $code"
code=$(curl -s -o "$T/body" -w '%{http_code}' -H "Host: rebound.example:$PORT" "$URL/status")
[ "$code" = 403 ] || fail "a read through another name got $code"
grep -q "Host header must name the loopback" "$T/body" || fail "403 says: $(cat "$T/body")"
queue_field_is q depth 4 || fail "a refused publish was queued"
curl -s "$URL/status" | grep -q '"state":"\(running\|idle\)"' || fail "stopped by a refused stop"
# The dashboard's own origin, and names of the loopback, are served.
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Origin: http://127.0.0.1:$PORT" \
	-d '{"name":"same"}' "$URL/queues/q/tasks")
[ "$code" = 202 ] || fail "a same-origin publish got $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://localhost:$PORT/health")
[ "$code" = 200 ] || fail "Host localhost got $code"

# A typo in an action's body is refused, not taken for an empty body.
code=$(curl -s -o "$T/body" -w '%{http_code}' -d '{"forse":true}' "$URL/actions/stop")
[ "$code" = 400 ] && grep -q 'unknown member \\"forse\\"' "$T/body" ||
	fail "stop with a typo: $code $(cat "$T/body")"
curl -s "$URL/status" | grep -q '"state":"\(running\|idle\)"' || fail "stopped by a typo"
code=$(curl -s -o /dev/null -w '%{http_code}' -d '{"ids":["1"],"x":1}' "$URL/queues/q/tasks/purge")
[ "$code" = 400 ] || fail "a purge with an unknown member got $code"
queue_field_is q depth 5 || fail "depth $(queue_field q depth) after a refused purge"
code=$(curl -s -o "$T/body" -w '%{http_code}' -d '{"bogus":1}' "$URL/actions/reload")
[ "$code" = 400 ] && grep -q 'this action takes no body' "$T/body" ||
	fail "reload with a body: $code $(cat "$T/body")"
code=$(curl -s -o /dev/null -w '%{http_code}' -d '{}' "$URL/actions/reload")
[ "$code" = 202 ] || [ "$code" = 200 ] || fail "reload with {} got $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -d 'x' "$URL/workers/idle/restart")
[ "$code" = 400 ] || fail "restart with a body got $code"

# HTTP/1.1 without Host (RFC 9112); HTTP/1.0 needs none.
out=$(raw 'GET /health HTTP/1.1\r\n\r\n')
grep -q '^HTTP/1.1 400 .*' <<<"$out" && grep -q '"an HTTP/1.1 request needs a Host header"' <<<"$out" ||
	fail "HTTP/1.1 without Host: $out"
out=$(raw 'GET /health HTTP/1.0\r\n\r\n')
grep -q ' 200 ' <<<"$out" || fail "HTTP/1.0 without Host: $out"
# Two Host lines: which one counts is a guess (RFC 9112 3.2 says 400).
out=$(raw 'GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: rebound.example\r\n\r\n')
grep -q '^HTTP/1.1 400 .*' <<<"$out" && grep -q '"a request may have one Host header only"' <<<"$out" ||
	fail "two Host headers: $out"
# A target in absolute form is served as its path (RFC 9112 3.2.2), and
# its host, not the Host header, is the one checked.
out=$(raw "GET http://127.0.0.1:$PORT/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
grep -q '^HTTP/1.1 200 ' <<<"$out" && grep -q '"state":' <<<"$out" ||
	fail "absolute-form target: $out"
out=$(raw "GET http://rebound.example:$PORT/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
grep -q '^HTTP/1.1 403 ' <<<"$out" && grep -q '"the request target must name the loopback' <<<"$out" ||
	fail "absolute-form target of another host: $out"

# civetweb's own refusal: JSON, and the request line is not echoed.
out=$(raw 'GET / HTTP/1.1 x\r\nSet-Cookie: pwned=1\r\n\r\n')
head -1 <<<"$out" | grep -q '^HTTP/1.1 400 ' || fail "bad request line answered: $out"
grep -qi '^Set-Cookie' <<<"$out" && fail "the request was echoed: $out"
grep -q '{"error":"the request is not valid HTTP/1.1"}' <<<"$out" || fail "not JSON: $out"

# Tricklers, more than civetweb has threads: half send a body a byte a
# second, half the body of a request refused at once (413).  Each is cut
# after 10 s, and the API answers meanwhile.
python3 - "$PORT" "$T/trickle" <<'PY' &
import socket, sys, time, threading
port, out = int(sys.argv[1]), sys.argv[2]
res = []
def one(length):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST /queues/q/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              b"Content-Length: %d\r\n\r\n{" % length)
    s.setblocking(False)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 60:
        try:
            if s.recv(4096) == b"":
                break
        except BlockingIOError:
            pass
        except OSError:
            break
        try:
            s.send(b" ")
        except OSError:
            break
        time.sleep(0.5)
    res.append(time.monotonic() - t0)
ts = [threading.Thread(target=one, args=(n,)) for n in [100000, 20000000] * 6]
for t in ts: t.start()
for t in ts: t.join()
open(out, "w").write(" ".join("%.1f" % r for r in res) + "\n")
PY
tricklers=$!
wait_for 30 curl_ok "$URL/livez"
wait "$tricklers" || fail "the tricklers failed"
for t in $(cat "$T/trickle"); do
	awk -v t="$t" 'BEGIN { exit !(t < 40) }' || fail "a trickler held on for $t s: $(cat "$T/trickle")"
done

stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"

# With a token, reads need none: a loopback listener still serves only
# Hosts of the loopback (DNS rebinding).  A POST with the token is a
# client's, whatever its Origin.
echo "s3cret" >"$T/token"
cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT, token_file: $T/token}
queues:
  q: {}
workers:
  idle:
    command: [$TW]
YML
start_master
wait_for 10 curl_ok "$URL/readyz"
code=$(curl -s -o "$T/body" -w '%{http_code}' -H "Host: rebound.example:$PORT" "$URL/queues/q/tasks")
[ "$code" = 403 ] || fail "a read through another name, with a token set, got $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer s3cret" \
	-H "Origin: https://plba.example.com" -d '{"name":"proxied"}' "$URL/queues/q/tasks")
[ "$code" = 202 ] || fail "a POST with the token and another Origin got $code"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
