# Graceful stop: 0 when clean; 1 when stop_timeout needed SIGKILL, or when
# a second SIGTERM forced it.
. "$(dirname "$0")/lib.sh"

cat >"$T/plba.yml" <<YML
workers:
  polite:
    command: [$TW, --record, $T, --term-delay, 100]
    concurrency: 3
YML
start_master
for i in 0 1 2; do wait_for 10 has_lines "$T/polite.$i" 1; done
stop_master TERM
[ $STATUS -eq 0 ] || fail "clean stop exited $STATUS"
log_has "polite.0: stopped, exited with status 0" || fail "no clean stop logged"
for i in 0 1 2; do dead "$(last_pid "$T/polite.$i")" || fail "polite.$i survived"; done

# A child that ignores SIGTERM is killed at its stop_timeout.
cat >"$T/plba.yml" <<YML
workers:
  stubborn:
    command: [$TW, --record, $T, --ignore-term]
    stop_timeout: 300ms
YML
rm -f "$T"/stubborn.*
start_master
wait_for 10 has_lines "$T/stubborn.0" 1
t0=$SECONDS
stop_master TERM
[ $STATUS -eq 1 ] || fail "stop with a SIGKILL exited $STATUS"
log_has "stubborn.0: killing pid" || fail "no kill logged"
dead "$(last_pid "$T/stubborn.0")" || fail "stubborn survived"

# A second SIGTERM forces at once, well before a long stop_timeout.
cat >"$T/plba.yml" <<YML
platform:
  stop_timeout: 5m
workers:
  slow:
    command: [$TW, --record, $T, --term-delay, 60000]
    stop_timeout: 5m
YML
start_master
wait_for 10 has_lines "$T/slow.0" 1
kill -TERM "$MASTER"
wait_for 10 log_has "slow.0: stopping pid"
t0=$SECONDS
stop_master INT
[ $STATUS -eq 1 ] || fail "forced stop exited $STATUS"
[ $((SECONDS - t0)) -lt 30 ] || fail "forced stop took too long"
log_has "second" || fail "second signal not logged"

# SIGINT alone is a graceful stop too.
cat >"$T/plba.yml" <<YML
workers:
  w:
    command: [$TW, --record, $T]
YML
rm -f "$T"/w.*
start_master
wait_for 10 has_lines "$T/w.0" 1
stop_master INT
[ $STATUS -eq 0 ] || fail "SIGINT stop exited $STATUS"

# And SIGQUIT, as supervisord and nginx take it: the workers stopped, the
# pid file removed, exit 0.
rm -f "$T"/w.*
start_master --pid-file "$T/pid"
wait_for 10 has_lines "$T/w.0" 1
wait_for 10 test -s "$T/pid"
# (A shell starts background jobs with SIGQUIT ignored: the master must
# take it all the same.)
kill -QUIT "$MASTER"
wait_for 20 dead "$MASTER"
wait_master
[ $STATUS -eq 0 ] || fail "SIGQUIT stop exited $STATUS"
log_has "w.0: stopped, exited with status 0" || fail "SIGQUIT did not stop w gracefully"
[ ! -e "$T/pid" ] || fail "the pid file is left after SIGQUIT"
echo "ok"
