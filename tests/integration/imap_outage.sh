# An IMAP server that is down: the imap-poller says so in the log once,
# not once a poll, counts the failed polls in its health, and says when
# polls work again, after which its mails flow as before.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dovecot.sh"

dovecot_test
dovecot_stop "$D"
deliver "$D" 3 --expect "$T/expect" || fail "delivery failed"
echo secret >"$T/imap.pw"
imap_config "capacity: 100" "  mail-poller:
    type: imap-poller
    critical: false
    config: {url: \"imap://127.0.0.1:$IMAP_PORT/INBOX\", user: bot,
             password_file: $T/imap.pw, queue: emails, interval: 100ms}" \
	>"$T/plba.yml"
# polls_failed: the count the poller's health detail gives, or 0.
polls_failed() {
	curl -sf "$URL/workers/mail-poller" |
		sed -n 's/.*(\([0-9]*\) polls in a row).*/\1/p' | head -1 | grep . || echo 0
}
many_failed() { [ "$(polls_failed)" -ge 8 ]; }
start_master
wait_for 30 many_failed
[ "$(log_count 'imap-poller: connect:')" -eq 1 ] ||
	fail "a failed poll logged $(log_count 'imap-poller: connect:') times, want once"

dovecot_start "$D" "$IMAP_PORT" || fail "dovecot did not start again"
wait_for 30 has_lines "$T/orders.jsonl" 3
log_has "imap-poller: INBOX: polls work again, after [0-9]* failed in a row" ||
	fail "no word that polls work again"
curl -sf "$URL/workers/mail-poller" | grep -q '"health":"ok"' ||
	fail "not healthy again: $(curl -sf "$URL/workers/mail-poller")"
