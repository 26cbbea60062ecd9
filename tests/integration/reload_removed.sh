# A worker a reload removes stays in /status, /workers and /metrics,
# marked removed, while its process stops; it is gone once that is down.
. "$(dirname "$0")/lib.sh"

http_port
config() { # WORKERS...: the workers the file declares, of w and keep
	{
		cat <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
workers:
  keep:
    command: [sh, -c, "while :; do sleep 1; done"]
YML
		if [ "${1:-}" = with-w ]; then
			cat <<YML
  w:
    command: [sh, -c, "trap '' TERM; while :; do sleep 0.2; done"]
    stop_timeout: 6s
    critical: true
YML
		fi
	} >"$T/plba.yml"
}
w_is_up() {
	python3 -c '
import json, sys
i = json.loads(sys.argv[1])["instances"]
sys.exit(0 if len(i) == 1 and i[0]["status"] == "idle" and i[0]["pid"] else 1)' \
		"$(curl -s --max-time 5 "$URL/workers/w")" 2>/dev/null
}

config with-w
start_master
wait_for 20 w_is_up
old=$(curl -s --max-time 5 "$URL/workers/w" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["instances"][0]["pid"])')

config
kill -HUP "$MASTER"
wait_for 20 log_has "w: removed from the configuration"
wait_for 20 log_has "w.0: stopping pid $old"
# It ignores SIGTERM, so it stays for stop_timeout: long enough to look.
s=$(curl -s --max-time 5 "$URL/status")
alive "$old" || fail "the old process is gone already"
jq_check "$s" 'd["workers"]["w"]["removed"] is True and "removed" not in d["workers"]["keep"]'
jq_check "$s" '[(i["status"], i["pid"]) for i in d["workers"]["w"]["instances"]] == [("stopping", '"$old"')]'
jq_check "$s" '("w", "stopping", '"$old"') in [(i["name"], i["status"], i["pid"]) for i in d["instances"]]'
jq_check "$s" 'd["workers"]["w"]["concurrency"] == 0 and d["workers"]["w"]["critical"] is False'
jq_check "$s" 'd["workers"]["w"]["detail"] == "removed from the configuration; stopping"'
# No longer wanted, so no longer critical: the runtime does not wait on it.
jq_check "$s" 'd["health"] == "ok"'
curl_ok "$URL/workers/w" || fail "/workers/w: not found while it stops"
m=$(curl -s --max-time 5 "$URL/metrics")
[ "$(grep -c '^plba_instance_up{worker="w",instance="0"} 1$' <<<"$m")" -eq 1 ] ||
	fail "metrics: $(grep '^plba_instance_up' <<<"$m")"

# Killed at stop_timeout; then it is gone from every view.
wait_for 20 dead "$old"
gone() {
	[ "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$URL/workers/w")" = 404 ]
}
wait_for 20 gone
s=$(curl -s --max-time 5 "$URL/status")
jq_check "$s" '"w" not in d["workers"] and all(i["name"] != "w" for i in d["instances"])'
grep -q 'worker="w"' <<<"$(curl -s --max-time 5 "$URL/metrics")" &&
	fail "metrics still name w"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
