# mail_order_bot against a real IMAP server (Dovecot): 200 mails, some
# malformed, through the imap-poller and three email-processors, one of
# which is killed in the middle.  Every good mail becomes exactly one
# order, every malformed one a dead letter with a readable error, and
# every mail handled is marked in the mailbox, and only once handled.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dovecot.sh"

# Configuration errors need no server: every one is reported, each on
# its line, then the instance exits 2.
builtin_config_error imap-poller nouser '{url: "imap://x/", password: a}' \
	"bad.yml:[0-9]*:[0-9]*: workers.nouser.config.user: is required"
log_has "workers.nouser.config.queue: is required" || fail "only the first error"
builtin_config_error imap-poller many \
	'{url: "imap://x/", user: u, password: a, queue: q, batch: 0, max_in_flight: 0, bogus: 1, interval: x}' \
	"workers.many.config.bogus: unknown key"
for want in "interval: must be a positive duration" \
    "batch: must be an integer from 1 to 10000" \
    "max_in_flight: must be an integer from 1 to 1000000"; do
	log_has "workers.many.config.$want" || fail "no \"$want\" in the log"
done
[ "$(log_count 'workers.many.config')" -eq 4 ] || fail "not one line per error"
[ "$(log_count 'exited with status 2')" -eq 1 ] || fail "not one exit"

dovecot_test
deliver "$D" 200 --bad-every 10 --expect "$T/expect" || fail "delivery failed"
good=$(grep -c '^good' "$T/expect")
bad=$(grep -c '^bad' "$T/expect")
imap() { curl -s --max-time 10 -u bot:secret "imap://127.0.0.1:$IMAP_PORT/INBOX" -X "$1"; }
uids() { imap "UID SEARCH $1" | tr -d '\r' | sed -n 's/^\* SEARCH *//p' | wc -w; }

echo secret >"$T/imap.pw"
cat >"$T/plba.yml" <<YML
platform:
  modules: ["$SO"]
  http: {enabled: true, listen: 127.0.0.1:$PORT}
queues:
  emails: {capacity: 1000, max_attempts: 3}
workers:
  mail-poller:
    type: imap-poller
    config:
      url: imap://127.0.0.1:$IMAP_PORT/INBOX
      user: bot
      password_file: $T/imap.pw
      queue: emails
      interval: 200ms
      batch: 10
  email-processor:
    module: email-processor
    concurrency: 3
    consumes: emails
mail_order_bot:
  orders_file: $T/orders.jsonl
YML
start_master
wait_for 30 has_lines "$T/orders.jsonl" 40
# Kill a processing worker in the middle: what it held is delivered again.
victim=""
for p in $(pgrep -P "$MASTER"); do
	if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx 'PLBA_WORKER=email-processor'; then
		victim=$p
		break
	fi
done
[ -n "$victim" ] || fail "no email-processor to kill"
kill -9 "$victim"
# Mid-run, a mail is marked only once its task is finished: every seen
# mail already has its order, or is a dead letter.
python3 - "$IMAP_PORT" "$T/orders.jsonl" "$URL" <<'PY' || fail "a mail was marked before it was handled"
import imaplib, json, re, sys, urllib.request
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login("bot", "secret")
m.select("INBOX", readonly=True)
typ, data = m.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
seen = set()
for item in data:
    if isinstance(item, tuple) and b"\\Seen" in item[0]:
        mid = re.search(rb"<[^>]*>", item[1])
        seen.add(mid.group(0).decode() if mid else "uid:" + re.search(rb"UID (\d+)", item[0]).group(1).decode())
# Read the orders after the flags: an order can only have been added since.
done = {json.loads(l)["message_id"] for l in open(sys.argv[2])}
dead = json.load(urllib.request.urlopen(sys.argv[3] + "/queues/emails/dead"))
for t in dead["tasks"]:
    p = t["task"]["payload"]
    done.add(p.get("message_id", "uid:%d" % p["uid"]))
early = seen - done
print("mid-run: %d seen, %d handled" % (len(seen), len(done)))
assert not early, "seen but not handled: %s" % sorted(early)[:5]
PY
wait_for 60 has_lines "$T/orders.jsonl" "$good"
dead_count() { curl -sf "$URL/queues/emails" | python3 -c 'import json,sys; print(json.load(sys.stdin)["dead"])'; }
dead_is() { [ "$(dead_count)" = "$1" ]; }
wait_for 30 dead_is "$bad"
# Marking follows the done notices: wait until nothing is left unseen.
unseen_is() { [ "$(uids UNSEEN)" -eq "$1" ]; }
wait_for 30 unseen_is 0
log_has "email-processor\.[0-9]: killed by signal 9" || fail "the kill was not logged"

python3 - "$T/expect" "$T/orders.jsonl" "$URL" <<'PY' || fail "orders or dead letters wrong"
import json, sys, urllib.request
expect = [l.split() for l in open(sys.argv[1])]
good = {"<order-%s@shop.test>" % i for k, i, _ in expect if k == "good"}
orders = [json.loads(l) for l in open(sys.argv[2])]
ids = [o["message_id"] for o in orders]
assert len(ids) == len(set(ids)), "an order was recorded twice"
assert set(ids) == good, "orders differ: missing %s, extra %s" % (
    sorted(good - set(ids))[:5], sorted(set(ids) - good)[:5])
dead = json.load(urllib.request.urlopen(sys.argv[3] + "/queues/emails/dead"))
errors = [t["error"] for t in dead["tasks"]]
reasons = ("no order lines", "quantity must be 1 to 9999", "no Message-ID")
bad = [r for r in errors if not any(x in r for x in reasons)]
assert not bad, "unreadable dead-letter errors: %s" % bad[:3]
assert len(errors) == sum(1 for k, _, _ in expect if k == "bad"), errors
# Dead letters carry the mail, so a person can see which one it was.
assert all(t["task"]["payload"]["uid"] > 0 for t in dead["tasks"])
PY
# Good mails are seen; dead-lettered ones are seen and flagged.
[ "$(uids FLAGGED)" -eq "$bad" ] || fail "$(uids FLAGGED) flagged mails, want $bad"
[ "$(uids SEEN)" -eq 200 ] || fail "$(uids SEEN) seen mails, want 200"

# A mail delivered now, while everything runs, is picked up too.
deliver "$D" 1 --first 1000 || fail "second delivery failed"
wait_for 20 has_lines "$T/orders.jsonl" $((good + 1))
wait_for 20 unseen_is 0
# Polls that published say so, without the commands.
log_has 'imap-poller: INBOX: [0-9]* published, [0-9]* in flight, [0-9]* IMAP commands$' ||
	fail "no line for a poll that published"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"

# verbose: a line for every poll, and for marking between polls, with
# the commands sent; of the login, never the credentials.
sed -i 's/^      batch: 10$/      verbose: true/' "$T/plba.yml"
grep -q 'verbose: true' "$T/plba.yml" || fail "no verbose in the configuration"
start_master
wait_for 20 log_has 'IMAP commands: NOOP; UID SEARCH UID [0-9]*:\* UNSEEN UNDELETED$'
deliver "$D" 1 --first 2000 || fail "third delivery failed"
wait_for 20 log_has 'mail-poller.*: INBOX: 1 marked, [0-9]* IMAP commands: UID STORE'
stop_master
[ $STATUS -eq 0 ] || fail "verbose: stop exited $STATUS"
python3 - "$LOG" <<'PY' || fail "verbose lines wrong"
import re, sys
log = open(sys.argv[1]).read()
for secret in ("secret", "AGJvdABzZWNyZXQ=", "Ym90AGJvdABzZWNyZXQ=", "c2VjcmV0"):
    assert secret not in log, "the password is in the log: " + secret
lines = re.findall(r"imap-poller: INBOX: (.*), (\d+) IMAP commands: (.*)", log)
assert lines, "no verbose line"
for what, n, cmds in lines:
    assert int(n) == len(cmds.split("; ")), (n, cmds)
first = lines[0][2]
assert re.fullmatch(r'CAPABILITY; (AUTHENTICATE [A-Z0-9-]+ \*\*\*|LOGIN \*\*\*); '
    r'CAPABILITY; SELECT "INBOX"; NOOP; UID SEARCH UNSEEN UNDELETED', first), first
fetch = [c for w, n, c in lines if w.startswith("1 published")]
assert fetch and re.fullmatch(r"NOOP; UID SEARCH UID \d+:\* UNSEEN UNDELETED; "
    r"UID FETCH \d+ \(.*\)", fetch[0]), fetch
marked = [c for w, n, c in lines if w == "1 marked"]
assert marked and re.fullmatch(r"UID STORE \d+ \+FLAGS.SILENT \(\\Seen\)", marked[0]), marked
PY
echo "ok"
