# depends_on: started after the dependency is ready, stopped before it.
. "$(dirname "$0")/lib.sh"

cat >"$T/plba.yml" <<YML
workers:
  app:
    command: [$TW, --record, $T]
    depends_on: [db, cache]
    ready: 0
  db:
    command: [$TW, --record, $T, --notify-after, 300]
    ready: notify
  cache:
    command: [$TW, --record, $T]
    ready: 200ms
YML
start_master
wait_for 10 has_lines "$T/app.0" 1
db_ready=$(grep -n "db.0: ready" "$LOG" | head -n1 | cut -d: -f1)
cache_ready=$(grep -n "cache.0: ready" "$LOG" | head -n1 | cut -d: -f1)
app_start=$(grep -n "app.0: started" "$LOG" | head -n1 | cut -d: -f1)
[ -n "$db_ready" ] && [ -n "$cache_ready" ] || fail "dependencies never ready"
[ "$app_start" -gt "$db_ready" ] || fail "app started before db was ready"
[ "$app_start" -gt "$cache_ready" ] || fail "app started before cache was ready"
wait_for 10 log_has "all workers started, critical ones ready"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
app_stop=$(grep -n "app.0: stopped" "$LOG" | cut -d: -f1)
db_stop=$(grep -n "db.0: stopping" "$LOG" | cut -d: -f1)
[ "$app_stop" -lt "$db_stop" ] || fail "db stopped before app"

# A dependency that has failed keeps its dependents from starting, and
# that is said; a worker that is not critical held up so does not keep
# the runtime from being up.
rm -f "$T"/app.* "$T"/db.*
cat >"$T/plba.yml" <<YML
workers:
  bad:
    command: [$TW, --exit-after, 0]
    restart: always
    restart_delay: 10ms
    max_restarts: 1
    critical: false
  app:
    command: [$TW, --record, $T]
    depends_on: [bad]
    critical: false
YML
start_master
wait_for 20 log_has "bad: failed: more than 1 restart within"
wait_for 20 log_has "app: not started: it depends on bad, which has failed"
wait_for 20 log_has "all workers started, critical ones ready"
[ "$(log_count "app: not started")" -eq 1 ] || fail "said more than once"
has_lines "$T/app.0" 1 && fail "app started without its dependency"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"

# A cycle is a configuration error.
cat >"$T/cycle.yml" <<YML
workers:
  a: {command: [$TW], depends_on: [b]}
  b: {command: [$TW], depends_on: [a]}
YML
st=0
out=$("$PLBA_MASTER" -t -c "$T/cycle.yml" 2>&1) || st=$?
[ $st -eq 2 ] || fail "cycle accepted"
grep -q -- "cycle" <<<"$out" || fail "cycle not named: $out"
# A one-shot job that exits 0 before it counts as ready (ready: 5s) is
# done: what depends on it starts, and the start ends.
cat >"$T/plba.yml" <<YML
workers:
  migrate:
    command: [$TW, --exit-after, 0, 0]
    ready: 5s
  api:
    command: [$TW, --record, $T]
    depends_on: [migrate]
YML
rm -f "$T"/api.*
start_master
wait_for 10 log_has "migrate.0: exited with status 0"
wait_for 10 has_lines "$T/api.0" 1
wait_for 10 log_has "all workers started, critical ones ready"
log_has "migrate.0: ready" && fail "migrate was ready, so the test shows nothing"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
