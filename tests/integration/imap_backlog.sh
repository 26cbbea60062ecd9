# A backlog, more unseen mail than a poll takes (batch): each poll looks
# only above the highest UID it has taken, as plba-workers(7) says, not
# through the whole mailbox again; and every mail still becomes an order.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dovecot.sh"

dovecot_test
deliver "$D" 40 --expect "$T/expect" || fail "delivery failed"
echo secret >"$T/imap.pw"
imap_config "capacity: 100" "  mail-poller:
    type: imap-poller
    config: {url: \"imap://127.0.0.1:$IMAP_PORT/INBOX\", user: bot,
             password_file: $T/imap.pw, queue: emails, interval: 100ms,
             batch: 5, verbose: true}" >"$T/plba.yml"
start_master
wait_for 60 has_lines "$T/orders.jsonl" 40
# verbose: every poll's IMAP commands are in the log.
full=$(log_count 'UID SEARCH UNSEEN UNDELETED')
[ "$full" -eq 1 ] ||
	fail "$full searches of the whole mailbox for 40 mails taken 5 a poll, want the first poll's only"
log_at_least 'UID SEARCH UID [0-9]*:\* UNSEEN UNDELETED' 7 ||
	fail "fewer than 7 polls searched above the last UID taken"
python3 - "$T/orders.jsonl" <<'PY' || fail "an order twice"
import json, sys
ids = [json.loads(l)["message_id"] for l in open(sys.argv[1])]
assert len(ids) == len(set(ids)) == 40, len(ids)
PY
