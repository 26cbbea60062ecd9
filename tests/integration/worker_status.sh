# plba_worker_set_status() refuses a value that is not a status with
# PLBA_EINVAL, and sends nothing: the instance stays busy rather than
# being reported idle.
. "$(dirname "$0")/lib.sh"
need_protoworker

http_port
cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
workers:
  w:
    command: [$PW, badstatus]
YML
start_master
wait_for 10 log_has "set_status 7: "
log_has "set_status busy: success" || fail "busy: $(grep set_status "$LOG")"
log_has "set_status 7: invalid argument" ||
	fail "status 7 not refused: $(grep set_status "$LOG")"
wait_for 10 curl_ok "$URL/workers/w"
# Frames are handled in order: once the health sent after both statuses
# shows, the master has seen whatever the bad one sent.
degraded() { curl_has "$URL/workers/w" 'statuses sent'; }
wait_for 10 degraded
j=$(curl -sf "$URL/workers/w")
jq_check "$j" 'd["instances"][0]["status"] == "busy"'
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
