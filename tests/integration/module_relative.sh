# A module given by a relative path, from the directory the master was
# started in, loads in instances that have a working_directory of their
# own: they are given the path made absolute.
. "$(dirname "$0")/lib.sh"

: "${PLBA_BUILDDIR:?run through make check}"
REL=examples/mail_order_bot/.libs/mail_order_bot.so
[ -f "$PLBA_BUILDDIR/$REL" ] || fail "no $PLBA_BUILDDIR/$REL"
mkdir "$T/elsewhere"
cat >"$T/plba.yml" <<YML
queues:
  emails: {capacity: 50}
platform:
  modules: [$REL]
workers:
  mail-poller:
    module: mail-faker
    config: {poll_interval: 50ms, batch: 5, limit: 20}
    working_directory: $T/elsewhere
    max_restarts: 1
  email-processor:
    module: email-processor
    consumes: emails
    working_directory: /tmp
    max_restarts: 1
mail_order_bot:
  orders_file: $T/orders.jsonl
YML
cd "$PLBA_BUILDDIR"
"$PLBA_MASTER" -t -c "$T/plba.yml" >/dev/null || fail "--check rejected the config"
start_master
# Mails are made and turned into orders: both instances run the module.
wait_for 30 has_lines "$T/orders.jsonl" 10
log_has "cannot open shared object" && fail "an instance could not load the module"
log_has "mail-poller: failed\|email-processor: failed" && fail "a worker failed"
for p in $(pgrep -P "$MASTER"); do
	env=$(tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null) || continue
	grep -qx "PLBA_MODULE_PATH=$PLBA_BUILDDIR/$REL" <<<"$env" ||
		fail "pid $p was given $(grep PLBA_MODULE_PATH <<<"$env")"
done
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
