# The built-in http-probe worker (type: http-probe) against a small
# upstream on loopback: its health follows the answers (ok, 503, slow,
# ok again), a critical probe turns GET /health to 503, and a bad
# configuration names its key.
. "$(dirname "$0")/lib.sh"

: "${PLBA_SRCDIR:?run through make check}"
python3 "$PLBA_SRCDIR/tests/integration/http_server.py" "$T/port" "$T/requests" &
UPSTREAM=$!
trap 'st=$?; set +e; kill $UPSTREAM 2>/dev/null; wait $UPSTREAM 2>/dev/null; (exit $st); cleanup' EXIT
wait_for 20 test -s "$T/port"
UP=$(cat "$T/port")
PORT=$(free_port)
DEAD_PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
cat >"$T/plba.yml" <<YML
platform:
  name: probes
  http: {enabled: true, listen: 127.0.0.1:$PORT}
workers:
  upstream:
    type: http-probe
    critical: true
    config:
      url: http://127.0.0.1:$UP/probe
      interval: 200ms
      timeout: 3s
      degraded_after: 300ms
      unhealthy_after: 2
  head:
    type: http-probe
    critical: false
    config:
      url: http://127.0.0.1:$UP/probe
      method: HEAD
      interval: 1s
      expect: [200, "300-302"]
      headers: {X-Probe: from-plba}
  refused:
    type: http-probe
    critical: false
    config: {url: "http://127.0.0.1:$DEAD_PORT/", interval: 200ms, unhealthy_after: 1}
YML
"$PLBA_MASTER" -t -c "$T/plba.yml" >/dev/null || fail "--check rejected type: http-probe"
start_master

worker() { curl -s --max-time 5 "$BASE/workers/$1"; }
# worker_is NAME HEALTH TEXT: the worker's health and its instance's
# (the worker's own detail is empty while it is ok), and TEXT in the
# instance's detail.
worker_is() {
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); i=d["instances"][0]; sys.exit(0 if d["health"] == i["health"] == sys.argv[2] and sys.argv[3] in i["detail"] else 1)' \
		"$(worker "$1")" "$2" "$3" 2>/dev/null
}
health_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$BASE/health"; }
health_is() { [ "$(health_code)" = "$1" ]; }

wait_for 20 worker_is upstream ok "HTTP 200 from http://127.0.0.1:$UP/probe in "
wait_for 20 health_is 200
curl_ok "http://127.0.0.1:$UP/mode/fail"
wait_for 20 worker_is upstream unhealthy "HTTP 503 from http://127.0.0.1:$UP/probe in "
wait_for 20 health_is 503
# The HEAD probe expects only 200 and 300-302, so 503 fails it too: by
# default degraded for two failed checks, unhealthy from the third.
head_unhealthy() {
	worker head >>"$T/head.seen"
	echo >>"$T/head.seen"
	worker_is head unhealthy "HTTP 503 from"
}
wait_for 20 head_unhealthy
grep -q '"health":"degraded","detail":"HTTP 503 from [^"]* (failure [12] of 3)"' "$T/head.seen" ||
	fail "head was not degraded before unhealthy: $(sort -u "$T/head.seen")"
curl_ok "http://127.0.0.1:$UP/mode/slow"
wait_for 20 worker_is upstream degraded "(slower than 300ms)"
wait_for 20 health_is 200
curl_ok "http://127.0.0.1:$UP/mode/redirect"
# 302 is in the default 200-399 and is not followed.
wait_for 20 worker_is upstream ok "HTTP 302 from"
curl_ok "http://127.0.0.1:$UP/mode/big"
# A 1 MiB body is cut off at the cap, and the answer still counts.
wait_for 20 worker_is upstream ok "HTTP 200 from"
curl_ok "http://127.0.0.1:$UP/mode/ok"
wait_for 20 worker_is upstream ok "HTTP 200 from"
wait_for 20 worker_is head ok "HTTP 200"
grep -q '^HEAD from-plba$' "$T/requests" || fail "no HEAD with the header: $(sort -u "$T/requests")"
grep -q '^GET -$' "$T/requests" || fail "no plain GET: $(sort -u "$T/requests")"
grep -q "elsewhere" "$T/requests" && fail "a redirect was followed"
# Nobody listens: the failure itself is the detail.
wait_for 20 worker_is refused unhealthy "http://127.0.0.1:$DEAD_PORT/: "
worker refused | grep -q "Connection refused" || fail "detail: $(worker refused)"
# Stopped on purpose, it is ok, and what it said while it ran is gone.
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{}' "$BASE/actions/stop")" = 202 ] ||
	fail "stop action refused"
inst_stopped_clean() {
	python3 -c 'import json,sys; i=json.loads(sys.argv[1])["instances"][0]; sys.exit(0 if i["status"] == "stopped" and i["health"] == "ok" and i["detail"] == "" else 1)' \
		"$(worker refused)" 2>/dev/null
}
wait_for 20 inst_stopped_clean
t0=$SECONDS
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
[ $((SECONDS - t0)) -lt 5 ] || fail "stop took $((SECONDS - t0))s"

# Configuration errors: each names its key, and the instance exits 2.
check_bad() { builtin_config_error http-probe "$@"; }
check_bad nourl '{interval: 1s}' \
	"workers.nourl.config.url: required: an http:// or https:// URL"
check_bad fileurl '{url: "file:///etc/passwd"}' \
	"bad.yml:[0-9]*:[0-9]*: workers.fileurl.config.url: expected an http:// or https:// URL"
check_bad badexpect '{url: "http://127.0.0.1/", expect: "200-99"}' \
	'workers.badexpect.config.expect: "200-99" is not a status code'
check_bad badlist '{url: "http://127.0.0.1/", expect: [200, "600", "x"]}' \
	'workers.badlist.config.expect\[1\]: "600" is not a status code'
log_has 'workers.badlist.config.expect\[2\]: "x" is not a status code' ||
	fail "badlist: the second bad entry is not reported"
check_bad badheaders '{url: "http://127.0.0.1/", headers: {"A b": x, Ok: y, "C:d": z}}' \
	'workers.badheaders.config.headers: "A b": expected a header name'
log_has 'workers.badheaders.config.headers: "C:d": expected a header name' ||
	fail "badheaders: the second bad header is not reported"
check_bad badmethod '{url: "http://127.0.0.1/", method: POST}' \
	"workers.badmethod.config.method: expected GET or HEAD"
check_bad badafter '{url: "http://127.0.0.1/", unhealthy_after: 0}' \
	"workers.badafter.config.unhealthy_after: expected a number"
echo "ok"
