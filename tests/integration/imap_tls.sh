# The imap-poller over TLS: imaps://, and STARTTLS on imap:// with
# starttls: true, both checking Dovecot's certificate against ca_file; and
# the same server refused without ca_file (unknown issuer) and with the
# wrong password, as health with a reason.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dovecot.sh"

dovecot_test tls
deliver "$D" 10 --expect "$T/expect" || fail "delivery failed"
echo secret >"$T/good.pw"
echo wrong >"$T/bad.pw"

poller() { # NAME URL PASSWORD-FILE EXTRA
	cat <<YML
  $1:
    type: imap-poller
    critical: false
    config: {url: "$2", user: bot, password_file: $3, queue: emails,
             interval: 200ms$4}
YML
}
health_has() {
	local body
	body=$(curl -sf "$URL/workers/$1") || return 1
	grep -q "$2" <<<"$body"
}
S=imaps://127.0.0.1:$IMAPS_PORT/INBOX
P=imap://127.0.0.1:$IMAP_PORT/INBOX
CA=", ca_file: $D/cert.pem"

imap_config "capacity: 100" "$(poller imaps "$S" "$T/good.pw" "$CA"; poller untrusted "$S" "$T/good.pw" "";
    poller badpw "$S" "$T/bad.pw" "$CA")" >"$T/plba.yml"
start_master
wait_for 30 has_lines "$T/orders.jsonl" 10
wait_for 20 health_has untrusted '"health":"unhealthy"'
health_has untrusted 'certificate' ||
	fail "untrusted: no word of the certificate: $(curl -sf "$URL/workers/untrusted")"
wait_for 30 health_has badpw '"health":"unhealthy"'
health_has badpw 'Login denied' ||
	fail "badpw: no word of the login: $(curl -sf "$URL/workers/badpw")"
health_has imaps '"health":"ok"' || fail "imaps: not healthy"
stop_master

# STARTTLS on the plain port, with starttls: true.  Dovecot takes a plain
# login from loopback, so its log tells: every login of this run has TLS.
deliver "$D" 5 --first 100 || fail "delivery failed"
from=$(wc -l <"$D/dovecot.log")
imap_config "capacity: 100" "$(poller starttls "$P" "$T/good.pw" "$CA, starttls: true")" >"$T/plba.yml"
start_master
wait_for 30 has_lines "$T/orders.jsonl" 15
health_has starttls '"health":"ok"' || fail "starttls: not healthy"
logins=$(tail -n +"$from" "$D/dovecot.log" | grep "Login: user=<bot>") || fail "no login logged"
echo "$logins" | grep -v ", TLS," && fail "a login without TLS"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
