# 200 concurrent clients while instances crash and restart: every answer
# is right or a 4xx, supervision goes on, and no descriptor leaks.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
URL=http://127.0.0.1:$PORT
cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
queues:
  q: {capacity: 100000}
workers:
  crashy:
    command: [$TW, --record, $T, --exit-after, 30, 1]
    concurrency: 4
    restart_delay: 0
    max_restarts: 0
    critical: false
  steady:
    command: [$TW, --record, $T]
YML
start_master
wait_for 10 curl_ok "$URL/readyz"
# Descriptors with every worker stopped, before and after the load.
curl -sf -X POST "$URL/actions/stop" >/dev/null
wait_for 20 curl_has "$URL/status" '"state":"stopped"'
base=$(fd_count "$MASTER")
curl -sf -X POST "$URL/actions/start" >/dev/null
wait_for 10 has_lines "$T/crashy.0" 3
before=$(lines "$T/crashy.0")

python3 - "$PORT" <<'PY'
import http.client, json, sys, threading
port = int(sys.argv[1])
bad = []
def client(k):
    reqs = [("GET", "/status", None), ("GET", "/health", None),
            ("GET", "/metrics", None), ("GET", "/workers/crashy", None),
            ("POST", "/queues/q/tasks", '{"name":"t","payload":%d}' % k),
            ("POST", "/queues/q/tasks", '{"broken'),
            ("GET", "/queues/q/tasks?limit=50", None),
            ("GET", "/nothing", None), ("DELETE", "/status", None)]
    for i in range(10):
        for m, p, body in reqs:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                c.request(m, p, body=body)
                r = c.getresponse()
                data = r.read()
                c.close()
            except Exception as e:
                bad.append("%s %s: %r" % (m, p, e))
                continue
            ok = {"/status": {200}, "/health": {200, 503}, "/metrics": {200},
                  "/workers/crashy": {200}, "/nothing": {404},
                  "/queues/q/tasks?limit=50": {200}}.get(p)
            if p == "/queues/q/tasks":
                ok = {202} if body.startswith('{"name"') else {400}
            if m == "DELETE":
                ok = {405}
            if r.status not in ok:
                bad.append("%s %s -> %d %s" % (m, p, r.status, data[:100]))
            elif r.status >= 400 or p != "/metrics":
                json.loads(data)
threads = [threading.Thread(target=client, args=(k,)) for k in range(200)]
for t in threads: t.start()
for t in threads: t.join()
if bad:
    print("\n".join(bad[:20]))
    sys.exit(1)
PY
# Supervision went on during the load.
[ "$(lines "$T/crashy.0")" -gt "$before" ] || fail "no restarts during the load"
jq_check "$(curl -sf "$URL/queues/q")" 'd["published"] == 2000'
curl -sf -X POST "$URL/actions/stop" >/dev/null
wait_for 20 curl_has "$URL/status" '"state":"stopped"'
wait_for 10 fds_at_most "$MASTER" "$base"
wait_for 10 no_zombies "$MASTER"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
