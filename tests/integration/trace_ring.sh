# The spans kept for GET /traces/{id} are bounded in bytes as well as in
# number: a child whose spans carry large attributes (100 KB each, 3000
# of them here) leaves the master holding the latest 32 MiB of them, not
# all 300 MB; and looking that trace up takes one answer's worth more.
. "$(dirname "$0")/lib.sh"

need_protoworker

http_port
cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: "127.0.0.1:$PORT"}
  trace: {transport: otlp, endpoint: "http://127.0.0.1:1/v1/traces"}
workers:
  big:
    command: [$PW, burst, bigspans, "100000", "3000"]
    restart: never
YML
# AddressSanitizer keeps freed memory aside for a while (256 MiB by
# default), which would look like growth here; no effect without it.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0
start_master
wait_for 120 log_has "bigspans: 3000 sent"
# Before any GET /traces, whose answer takes memory of its own.
peak=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$MASTER/status")
echo "master peak RSS: $peak KiB"
[ "$peak" -lt 131072 ] || fail "the master grew to $peak KiB keeping spans"

# All sent, and the last few hundred kept: the master read what the
# socket still held once it answers with that many.
kept() {
	curl -s --max-time 30 -o "$T/trace.json" \
	    "$URL/traces/0af7651916cd43dd8448eb211c80319c" || return 1
	python3 - "$T/trace.json" <<'PY'
import json, sys
spans = json.load(open(sys.argv[1]))["spans"]
# 32 MiB of 100 KB records, give or take the slots' rounding.
sys.exit(0 if 250 <= len(spans) <= 340 and
         all(s["name"] == "big" for s in spans) else 1)
PY
}
wait_for 60 kept
# The answer takes about as much again as the spans it holds, once: it
# is built as text in one buffer, not as a cJSON tree (which took twice
# as much again).
after=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$MASTER/status")
echo "master peak RSS after the lookup: $after KiB"
[ $((after - peak)) -lt 49152 ] ||
	fail "a lookup of some 32 MiB of spans took $((after - peak)) KiB more"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
