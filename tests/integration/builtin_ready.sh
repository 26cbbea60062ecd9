# A built-in worker checks its config before it is reported ready: with
# a bad one its instance exits 2 without ever being ready, so a worker
# that depends on it does not start and the runtime is never up.
. "$(dirname "$0")/lib.sh"

bad_dependency() {
	local type=$1 config=$2
	cat >"$T/plba.yml" <<YML
queues:
  q: {}
workers:
  a:
    type: $type
    restart_delay: 10ms
    config: $config
  b:
    command: [sleep, "100"]
    depends_on: [a]
YML
	start_master
	wait_for 20 log_at_least "a.0: exited with status 2" 2
	! log_has "a.0: ready" || fail "$type: a bad config was ready"
	! log_has "b.0: started" || fail "$type: b started on a bad a"
	! log_has "all workers started" || fail "$type: the runtime was up"
	stop_master
	[ "$STATUS" -eq 0 ] || fail "$type: stop exited $STATUS"
}

bad_dependency timer "{queue: q, interval: bogus}"
bad_dependency http-probe "{url: http://127.0.0.1:1/, timeout: bogus}"
bad_dependency imap-poller "{url: imap://127.0.0.1:1/INBOX, bogus: 1}"
echo "ok"
