# The imap-poller with mailboxes whose names are not ASCII, against a real
# IMAP server (Dovecot).  The configuration gives them in UTF-8; the server
# knows them only in IMAP's modified UTF-7 (RFC 3501 5.1.3), which this
# test writes by hand: polling "Eingänge", acked mails moved to "Erledigt &
# Archiv", a dead-lettered one to "Zurückgewiesen".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dovecot.sh"

dovecot_test

# mailboxes.py PORT create | count NAME...: the names as the server has them.
cat >"$T/mailboxes.py" <<'PY'
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login("bot", "secret")
if sys.argv[2] == "create":
    for box in ('"Eing&AOQ-nge"', '"Erledigt &- Archiv"', '"Zur&APw-ckgewiesen"'):
        typ, data = m.create(box)
        assert typ == "OK", (box, data)
    for i in range(6):
        lines = ["From: c%d@example.org" % i, "Subject: order %d" % i,
                 "Message-ID: <umlaut-%d@shop.test>" % i, "",
                 "order: TEA-01 x %d" % (i + 1) if i != 5 else "no order here"]
        typ, data = m.append('"Eing&AOQ-nge"', None, None,
                             "\r\n".join(lines).encode() + b"\r\n")
        assert typ == "OK", data
else:
    counts = []
    for box in sys.argv[3:]:
        typ, data = m.status('"%s"' % box, "(MESSAGES)")
        assert typ == "OK", (box, data)
        counts.append(data[0].decode().rsplit("MESSAGES ", 1)[1].rstrip(")"))
    print(" ".join(counts))
PY
python3 "$T/mailboxes.py" "$IMAP_PORT" create || fail "could not make the mailboxes"
counts() { python3 "$T/mailboxes.py" "$IMAP_PORT" count 'Eing&AOQ-nge' \
	'Erledigt &- Archiv' 'Zur&APw-ckgewiesen'; }

echo secret >"$T/imap.pw"
imap_config "capacity: 100, max_attempts: 1" "  mail-poller:
    type: imap-poller
    config:
      url: imap://127.0.0.1:$IMAP_PORT/Eing%C3%A4nge
      user: bot
      password_file: $T/imap.pw
      queue: emails
      interval: 200ms
      move_to: \"Erledigt & Archiv\"
      dead_move_to: \"Zurückgewiesen\"" >"$T/plba.yml"
start_master
wait_for 30 has_lines "$T/orders.jsonl" 5
counts_are() { [ "$(counts)" = "$1" ]; }
wait_for 30 counts_are "0 5 1"
# The payload names the mailbox as the configuration does, in UTF-8.
curl -sf "$URL/queues/emails/dead" | python3 -c '
import json, sys
tasks = json.load(sys.stdin)["tasks"]
assert len(tasks) == 1, tasks
assert tasks[0]["task"]["payload"]["mailbox"] == "Eing\u00e4nge", tasks[0]
' || fail "the dead letter does not name the mailbox"
log_has "imap-poller.*SELECT" && fail "a SELECT failed: $(grep SELECT "$LOG")"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
