# A worker's detail explains its health: that of its worst instance, not
# of the first that is not ok.
. "$(dirname "$0")/lib.sh"

need_protoworker
http_port
cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
workers:
  mixed:
    command: [sh, -c, 'if [ "\$PLBA_INSTANCE" = 0 ]; then exec $PW idle; else exit 3; fi']
    concurrency: 2
    critical: false
    restart_delay: 5s
YML
start_master
wait_for 10 curl_ok "$URL/readyz"
worker_is() { # HEALTH DETAIL
	python3 -c 'import json,sys; w=json.loads(sys.argv[1])["workers"]["mixed"]; sys.exit(0 if (w["health"], w["detail"]) == (sys.argv[2], sys.argv[3]) else 1)' \
		"$(curl -s --max-time 5 "$URL/status")" "$1" "$2"
}
wait_for 20 log_has "mixed.1: exited with status 3"
wait_for 10 worker_is unhealthy restarting ||
	fail "worker: $(curl -s "$URL/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["workers"]["mixed"])')"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
