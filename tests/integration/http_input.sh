# The HTTP API takes a body or a path exactly as sent, or not at all:
# trailing data, NULs, bytes that are not UTF-8, \u0000 and numbers cJSON
# cannot keep are answered 400, never cut short or passed on; every
# answer stays UTF-8 JSON.  Also the bearer scheme in any case, and the
# stop timeout's limit for strings.
. "$(dirname "$0")/lib.sh"

http_port
echo "s3cret-token" >"$T/token"
cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT, token_file: $T/token}
queues:
  q: {capacity: 50}
workers:
  c:
    command: [$TW]
YML
start_master
wait_for 10 curl_ok "$URL/readyz"
AUTH=(-H "Authorization: Bearer s3cret-token")

# expect CODE ERROR CURL-ARGS...: the answer has that code and is UTF-8
# JSON, with that error unless ERROR is empty.
expect() {
	local want=$1 err=$2 got
	shift 2
	got=$(curl -s -o "$T/body" -w '%{http_code}' "$@")
	[ "$got" = "$want" ] || fail "$* -> $got, wanted $want: $(cat "$T/body")"
	python3 - "$T/body" "$err" <<'PY' || fail "$* -> $(cat "$T/body"), wanted error: $err"
import json, sys
d = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
sys.exit(0 if not sys.argv[2] or d.get("error") == sys.argv[2] else 1)
PY
}
# publish CODE ERROR FILE: POSTs FILE's bytes as a task.
publish() {
	expect "$1" "$2" -X POST --data-binary @"$3" "$URL/queues/q/tasks" "${AUTH[@]}"
}
body() { printf "$1" >"$T/in"; }
NOTJSON='the body is not valid JSON'
NOTUTF8='the body is not valid UTF-8'
NUL='\u0000 is not supported in strings'
RANGE='a number in the body is out of range'
IDS='the body must be empty or {"ids": ["ID", ...]}, with 1 to 1000 task ids as strings'
STOP='the body must be a JSON object such as {"force": false, "timeout": "10s"}'
TIMEOUT='"timeout" must be seconds or a duration such as "10s"'
PATHERR='the path is not valid'

# Trailing data and NULs, raw or escaped, are not taken; white space
# after the value is.
body '{"name":"x"} trailing';	publish 400 "$NOTJSON" "$T/in"
body '{"name":"x"}{}';		publish 400 "$NOTJSON" "$T/in"
body '{"name":"x"}\0junk';	publish 400 "$NOTJSON" "$T/in"
body '{"name":"x"}\0';		publish 400 "$NOTJSON" "$T/in"
body '{"name":"a\0b"}';		publish 400 "$NOTJSON" "$T/in"
body '{"name":"n","payload":"a\\u0000b"}';	publish 400 "$NUL" "$T/in"
body '{"name":"n","metadata":{"k\\u0000":"v"}}';	publish 400 "$NUL" "$T/in"
body '{"name":"n","payload":1e999}';	publish 400 "$RANGE" "$T/in"
body '{"name":"n","payload":[-1e999]}';	publish 400 "$RANGE" "$T/in"
body '{"name":"ok"}\n';		publish 202 "" "$T/in"
# An escaped backslash before u0000 is text, kept as sent.
body '{"name":"bs","payload":"a\\\\u0000b"}';	publish 202 "" "$T/in"

# Bytes that are not UTF-8 (invalid, overlong, a surrogate, cut short),
# or a lone surrogate escape, would make later answers invalid JSON.
for b in '\xff\xfe' '\xc0\xaf' '\xed\xa0\x80' '\xe2\x82'; do
	body "{\"name\":\"$b\"}";	publish 400 "$NOTUTF8" "$T/in"
done
body '{"name":"\\ud800"}';		publish 400 "$NOTJSON" "$T/in"
body '{"name":"\xc3\xa9\xf0\x9f\x93\xa6"}';	publish 202 "" "$T/in"
python3 - "$URL" <<'PY' || fail "the task list is not what was published"
import json, sys, urllib.request
raw = urllib.request.urlopen(sys.argv[1] + "/queues/q/tasks").read()
d = json.loads(raw.decode("utf-8"))
names = [t["task"]["name"] for t in d["tasks"]]
assert names == ["ok", "bs", "\u00e9\U0001f4e6"], names
assert d["tasks"][1]["task"]["payload"] == "a\\u0000b"
PY

# The queue and stop bodies: trailing data, NULs and the rest refused
# with their own message; nothing is purged and nothing stops.
for p in dead/purge dead/retry tasks/purge; do
	expect 400 "$IDS" -X POST -d '{"ids":["1"]} garbage' "$URL/queues/q/$p" "${AUTH[@]}"
	body '{"ids":["1"]}\0 ';	expect 400 "$IDS" -X POST --data-binary @"$T/in" "$URL/queues/q/$p" "${AUTH[@]}"
	body ' \0{"ids":["1"]}';	expect 400 "$IDS" -X POST --data-binary @"$T/in" "$URL/queues/q/$p" "${AUTH[@]}"
	body '{"ids":["1\\u0000"]}';	expect 400 "$NUL" -X POST --data-binary @"$T/in" "$URL/queues/q/$p" "${AUTH[@]}"
	body '{"ids":["\xff"]}';	expect 400 "$NOTUTF8" -X POST --data-binary @"$T/in" "$URL/queues/q/$p" "${AUTH[@]}"
done
queue_field_is q depth 3 || fail "tasks purged by a refused body: $(queue_field q depth)"
expect 400 "$STOP" -X POST -d '{"force":true} x' "$URL/actions/stop" "${AUTH[@]}"
body '{"force":true}\0';	expect 400 "$STOP" -X POST --data-binary @"$T/in" "$URL/actions/stop" "${AUTH[@]}"
body '{"timeout":-1e999}';	expect 400 "$RANGE" -X POST --data-binary @"$T/in" "$URL/actions/stop" "${AUTH[@]}"
# Nested too deep for a civetweb thread's stack to parse (these bodies
# are parsed there), and a task as deep as a worker may publish (its
# members 256 levels).
deep=$(python3 -c 'print("[" * 999 + "]" * 999)')
expect 400 "$STOP" -X POST -d "$deep" "$URL/actions/stop" "${AUTH[@]}"
expect 400 "$IDS" -X POST -d "{\"ids\":$deep}" "$URL/queues/q/dead/purge" "${AUTH[@]}"
expect 202 "" -X POST -d "{\"name\":\"n\",\"p\":${deep:743:512}}" "$URL/queues/q/tasks" "${AUTH[@]}"

# A path segment decoding to a NUL or to bytes that are not UTF-8 names
# nothing; each segment is decoded on its own.
expect 200 "" "$URL/workers/c"
expect 400 "$PATHERR" "$URL/workers/c%00zzz"
expect 400 "$PATHERR" "$URL/queues/q%00zzz"
expect 400 "$PATHERR" "$URL/queues/q%00zzz/dead"
expect 400 "$PATHERR" "$URL/queues/q%00zzz/tasks"
expect 400 "$PATHERR" -X POST "$URL/workers/c%00zzz/restart" "${AUTH[@]}"
expect 400 "$PATHERR" "$URL/workers/x%FFy"
expect 400 "$PATHERR" "$URL/traces/%C0%AF"
expect 404 'no worker named "é"' "$URL/workers/%C3%A9"
expect 404 'no queue named "q/x"' "$URL/queues/q%2Fx"
expect 400 '"limit" must be a whole number from 1 to 1000' "$URL/queues/q/tasks?limit=1%00x"
expect 200 "" "$URL/queues/q/tasks?limit=1"

# The bearer scheme is case-insensitive (RFC 7235); the token is not.
expect 202 "" -X POST "$URL/actions/start" -H "Authorization: bearer s3cret-token"
expect 202 "" -X POST "$URL/actions/start" -H "Authorization: BEARER s3cret-token"
expect 401 "a valid bearer token is required" -X POST "$URL/actions/start" -H "Authorization: bearer S3CRET-TOKEN"
expect 401 "a valid bearer token is required" -X POST "$URL/actions/start" -H "Authorization: Basic s3cret-token"

# A stop's timeout is under a day, as a number or as a string.
for t in 86400 -1 '"100000"' '"25h"' '"86400s"' '"1440m"' '"86400000ms"'; do
	expect 400 "$TIMEOUT" -X POST -d "{\"timeout\":$t}" "$URL/actions/stop" "${AUTH[@]}"
done
curl_has "$URL/status" '"state":"\(idle\|busy\)"' || fail "a refused stop stopped"
expect 202 "" -X POST -d '{"timeout":"86399s"}' "$URL/actions/stop" "${AUTH[@]}"
wait_for 20 curl_has "$URL/status" '"state":"stopped"'
stop_master
[ $STATUS -eq 0 ] || fail "master exited $STATUS"
echo "ok"
