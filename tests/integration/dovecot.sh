# A throwaway Dovecot IMAP server on loopback, for imap.sh and bench/imap:
# one plain-text user "bot" (password "secret") with a maildir.
#   dovecot_start DIR PORT [TLSPORT]
#                            start it; DIR holds everything it writes;
#                            with TLSPORT, imaps there and STARTTLS on
#                            PORT, with a certificate for 127.0.0.1 made
#                            on the spot (DIR/cert.pem)
#   dovecot_stop DIR
#   deliver DIR SPEC...      write mails into bot's maildir (mails.py)
# It needs root (Dovecot drops to its own users) and dovecot-imapd.

dovecot_usable() {
	[ "$(id -u)" -eq 0 ] && [ -x /usr/sbin/dovecot ] &&
		id dovecot >/dev/null 2>&1 && id dovenull >/dev/null 2>&1
}

dovecot_start() { # DIR PORT [TLSPORT]
	local d=$1 port=$2 tlsport=${3:-0} ssl=no
	mkdir -p "$d/run" "$d/state" "$d/mail/bot/new" "$d/mail/bot/cur" \
		"$d/mail/bot/tmp" "$d/home"
	echo "bot:{PLAIN}secret" >"$d/passwd"
	if [ "$tlsport" -ne 0 ]; then
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
		    -addext subjectAltName=IP:127.0.0.1 -keyout "$d/key.pem" \
		    -out "$d/cert.pem" >/dev/null 2>&1 || return 1
		ssl=yes
	fi
	cat >"$d/dovecot.conf" <<CONF
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = $ssl
$( [ "$ssl" = yes ] && printf 'ssl_cert = <%s\nssl_key = <%s\n' "$d/cert.pem" "$d/key.pem")
disable_plaintext_auth = no
auth_mechanisms = plain login
# Mail is owned by nobody: Dovecot refuses to give a user uid 0.
first_valid_uid = 1
mail_location = maildir:$d/mail/%u
mail_fsync = never
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $d/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$d/home/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $tlsport
  }
}
CONF
	chown -R nobody:nogroup "$d/mail" "$d/home"
	# Dovecot's own users read the password file and the mail.
	chmod 755 "$d" "$(dirname "$d")"
	/usr/sbin/dovecot -c "$d/dovecot.conf" || return 1
	local i
	for i in $(seq 100); do
		python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$port" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "dovecot did not listen on $port" >&2
	cat "$d/dovecot.log" >&2
	return 1
}

dovecot_stop() { # DIR
	local pid
	pid=$(cat "$1/run/master.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || return 0
	local i
	# Left behind, the pid file stops a later dovecot_start in DIR once
	# another process has the pid ("Dovecot is already running").
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || { rm -f "$1/run/master.pid"; return 0; }
		sleep 0.05
	done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$1/run/master.pid"
}

# imap_config QUEUE WORKERS: mail_order_bot's plba.yml, on stdout, for a
# test's Dovecot: queue "emails" with the options QUEUE ("capacity: 100"),
# the workers WORKERS (YAML, indented two spaces: the pollers) and one
# email-processor writing $T/orders.jsonl; HTTP on $PORT.
imap_config() {
	cat <<YML
platform:
  modules: ["$SO"]
  http: {enabled: true, listen: 127.0.0.1:$PORT}
queues:
  emails: {$1}
workers:
$2
  email-processor:
    module: email-processor
    consumes: emails
mail_order_bot:
  orders_file: $T/orders.jsonl
YML
}

deliver() { # DIR ARGS... (see mails.py)
	local d=$1
	shift
	python3 "$(dirname "${BASH_SOURCE[0]}")/mails.py" "$d/mail/bot" "$@"
}

# dovecot_test [tls]: an integration test's server (lib.sh first).  Skips
# the test without Dovecot (or, with tls, openssl); starts one in
# D=$T/dovecot on IMAP_PORT (and IMAPS_PORT, with tls), stopped on exit;
# sets PORT and URL for the master's HTTP and SO for mail_order_bot.
dovecot_test() {
	dovecot_usable || { echo "SKIP: needs root and dovecot-imapd"; exit 77; }
	IMAPS_PORT=0
	if [ "${1:-}" = tls ]; then
		command -v openssl >/dev/null || { echo "SKIP: needs openssl"; exit 77; }
		IMAPS_PORT=$(free_port)
	fi
	SO=$PLBA_BUILDDIR/examples/mail_order_bot/.libs/mail_order_bot.so
	IMAP_PORT=$(free_port)
	PORT=$(free_port)
	URL=http://127.0.0.1:$PORT
	D=$T/dovecot
	dovecot_start "$D" "$IMAP_PORT" "$IMAPS_PORT" || fail "dovecot did not start"
	trap 'rc=$?; dovecot_stop "$D"; cleanup $rc' EXIT
}
