# A worker with user: gets HOME, USER, LOGNAME and SHELL from that user's
# passwd entry, as under systemd's User=, and its own environment: wins.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "skip: needs root to change user"; exit 77; }
pw=$(getent passwd nobody) || { echo "skip: no user nobody"; exit 77; }
IFS=: read -r name _ _ _ _ home shell <<<"$pw"
[ -n "$shell" ] || shell=/bin/sh

# Each instance prints its environment once; the master logs its stdout.
cat >"$T/plba.yml" <<YML
workers:
  plain:
    command: [/bin/sh, -c, 'echo "env HOME=\$HOME USER=\$USER LOGNAME=\$LOGNAME SHELL=\$SHELL end"; exec sleep 1000']
    user: nobody
  own:
    command: [/bin/sh, -c, 'echo "env HOME=\$HOME USER=\$USER LOGNAME=\$LOGNAME SHELL=\$SHELL end"; exec sleep 1000']
    user: nobody
    environment: {HOME: /x}
YML
start_master
wait_for 10 log_has "\[plain.0\] env "
wait_for 10 log_has "\[own.0\] env "
stop_master
[ "$STATUS" -eq 0 ] || fail "exit $STATUS"

want="HOME=$home USER=$name LOGNAME=$name SHELL=$shell end"
log_has "\[plain.0\] env $want" ||
	fail "want $want, got $(grep '\[plain.0\] env' "$LOG")"
want="HOME=/x USER=$name LOGNAME=$name SHELL=$shell end"
log_has "\[own.0\] env $want" ||
	fail "want $want, got $(grep '\[own.0\] env' "$LOG")"
echo "ok"
