# A module application (the mail_order_bot example): the master loads the
# module to learn its workers, each instance runs in the worker host, and
# a processing worker killed in the middle loses no mail.
. "$(dirname "$0")/lib.sh"

: "${PLBA_BUILDDIR:?run through make check}"
SO=$PLBA_BUILDDIR/examples/mail_order_bot/.libs/mail_order_bot.so
N=300
cat >"$T/plba.yml" <<YML
platform:
  name: mob
  modules: [$SO]
queues:
  emails: {capacity: 50}
workers:
  mail-poller:
    module: mail-faker
    config: {poll_interval: 50ms, batch: 20, limit: $N}
  email-processor:
    module: email-processor
    concurrency: 3
    consumes: emails
    restart_delay: 0
mail_order_bot:
  orders_file: $T/orders.jsonl
YML
"$PLBA_MASTER" -t -c "$T/plba.yml" >/dev/null || fail "--check rejected the module config"
# A queue only the module declares is counted by the check as it is made.
grep -v '^queues:\|^  emails:' "$T/plba.yml" >"$T/modonly.yml"
out=$("$PLBA_MASTER" -t -c "$T/modonly.yml") || fail "--check rejected $out"
grep -q -- "configuration ok: 2 workers (4 instances), 1 queue$" <<<"$out" ||
	fail "module queue not counted: $out"
start_master
wait_for 20 has_lines "$T/orders.jsonl" 20
victim=
for p in $(pgrep -P "$MASTER"); do
	if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx 'PLBA_WORKER=email-processor'; then
		victim=$p
		break
	fi
done
[ -n "$victim" ] || fail "no processing instance found"
kill -KILL "$victim"
# Every well-formed mail becomes exactly one order; every 7th is malformed.
dead=$((N / 7))
wait_for 60 has_lines "$T/orders.jsonl" $((N - dead))
wait_for 20 log_has "emails: task .* dead-lettered: no order lines"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
[ "$(wc -l <"$T/orders.jsonl")" -eq $((N - dead)) ] || fail "$(wc -l <"$T/orders.jsonl") orders for $((N - dead)) good mails"
[ "$(cut -d'"' -f4 "$T/orders.jsonl" | sort -u | wc -l)" -eq $((N - dead)) ] || fail "an order recorded twice"
grep -q "queue emails: published $N, acked $((N - dead)), .* dead $dead," "$LOG" ||
	fail "counts: $(grep 'queue emails' "$LOG")"
log_has "killed by signal 9" || fail "the kill did not land"

# 100 000 mails: every one handled exactly once, as the master counts it.
N=100000
PORT=$(free_port)
cat >"$T/big.yml" <<YML
platform:
  modules: [$SO]
  http: {enabled: true, listen: 127.0.0.1:$PORT}
log: {level: error}
queues:
  emails: {capacity: 5000}
workers:
  mail-poller:
    module: mail-faker
    config: {poll_interval: 1ms, batch: 1000, limit: $N}
  email-processor:
    module: email-processor
    concurrency: 3
    consumes: emails
    prefetch: 16
mail_order_bot:
  orders_file: $T/big.jsonl
YML
: >"$LOG"
"$PLBA_MASTER" -c "$T/big.yml" >>"$LOG" 2>&1 &
MASTER=$!
dead=$((N / 7))	# more than dead_max's default keeps: the oldest go
wait_for 120 has_lines "$T/big.jsonl" $((N - dead))
wait_for 20 curl_has "http://127.0.0.1:$PORT/queues/emails" "\"acked\":$((N - dead)),"
jq_check "$(curl -sf "http://127.0.0.1:$PORT/queues/emails")" \
	"d['published'] == $N and d['redelivered'] == 0 and d['in_flight'] == 0 and d['dead'] == min($dead, 10000) and d['dead'] + d['dead_dropped'] == $dead"
[ "$(cut -d'"' -f4 "$T/big.jsonl" | sort -u | wc -l)" -eq $((N - dead)) ] || fail "an order recorded twice"
[ "$(wc -l <"$T/big.jsonl")" -eq $((N - dead)) ] || fail "more orders than mails"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"

# A worker name no module registers, and a module for another ABI.
sed -i 's/module: mail-faker/module: no-such-worker/' "$T/plba.yml"
st=0
out=$("$PLBA_MASTER" -t -c "$T/plba.yml" 2>&1) || st=$?
[ $st -eq 2 ] || fail "unknown module worker exited $st"
grep -q -- 'workers.mail-poller.module: no module in platform.modules registers a worker named "no-such-worker"' <<<"$out" ||
	fail "no clear error: $out"
cat >"$T/abi.yml" <<YML
platform:
  modules: [$PLBA_BUILDDIR/tests/workers/.libs/badabi.so]
workers: {}
YML
st=0
out=$("$PLBA_MASTER" -c "$T/abi.yml" 2>&1) || st=$?
[ $st -eq 2 ] || fail "bad ABI exited $st"
grep -q -- "built for PLBA ABI 2, this is ABI 1: rebuild it" <<<"$out" || fail "no ABI error: $out"
echo "ok"
