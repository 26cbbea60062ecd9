# A worker changed by a reload restarts once its old version is down.
# Meanwhile /status shows the old process stopping, with its pid, in the
# place of the new instance, which has none yet; /metrics shows it once.
. "$(dirname "$0")/lib.sh"

http_port
config() { # MARK: changes the command
	cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
workers:
  w:
    command: [sh, -c, "trap '' TERM; while :; do sleep 0.2; done", $1]
    stop_timeout: 6s
YML
}
# instance_is STATUS [PID]: /workers/w has one instance, in STATUS, and
# with PID (any live one when not given).
instance_is() {
	python3 -c '
import json, sys
d = json.loads(sys.argv[1]); i = d["instances"]
ok = len(i) == 1 and i[0]["status"] == sys.argv[2] and i[0]["pid"] is not None
ok = ok and (sys.argv[3] == "" or i[0]["pid"] == int(sys.argv[3]))
sys.exit(0 if ok else 1)' "$(curl -s --max-time 5 "$URL/workers/w")" "$1" "${2:-}" \
		2>/dev/null
}

config one
start_master
wait_for 20 instance_is idle
old=$(curl -s --max-time 5 "$URL/workers/w" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["instances"][0]["pid"])')

config two
kill -HUP "$MASTER"
wait_for 20 log_has "w: changed; restarting it"
wait_for 20 log_has "w.0: stopping pid $old"
# It ignores SIGTERM, so it stays for stop_timeout: long enough to look.
s=$(curl -s --max-time 5 "$URL/status")
alive "$old" || fail "the old process is gone already"
jq_check "$s" '[(i["status"], i["pid"]) for i in d["instances"]] == [("stopping", '"$old"')]'
jq_check "$s" '[(i["status"], i["pid"]) for i in d["workers"]["w"]["instances"]] == [("stopping", '"$old"')]'
# Stopping on purpose is not unhealthy in itself, as for a scale-down;
# a critical worker with no instance up keeps the runtime unhealthy.
jq_check "$s" 'd["workers"]["w"]["health"] == "ok" and d["health"] == "unhealthy"'
m=$(curl -s --max-time 5 "$URL/metrics")
[ "$(grep -c '^plba_instance_up{worker="w",instance="0"} 1$' <<<"$m")" -eq 1 ] ||
	fail "metrics: $(grep '^plba_instance_up' <<<"$m")"

# Killed at stop_timeout; then the new version starts.
wait_for 20 dead "$old"
wait_for 20 instance_is idle
new=$(curl -s --max-time 5 "$URL/workers/w" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["instances"][0]["pid"])')
[ "$new" != "$old" ] || fail "the same pid after the restart"
wait_for 20 curl_ok "$URL/readyz"
stop_master
