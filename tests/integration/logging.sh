# The log section: JSON lines to a file, reopened on SIGUSR1; and what a
# child inherits (environment, fd 3, clean signal state, own group, cwd).
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/work"
cat >"$T/plba.yml" <<YML
log:
  format: json
  output: $T/plba.log
  level: info
workers:
  w:
    command: [$TW, --inherit, --record, $T]
    concurrency: 2
    environment: {TZ: Europe/Paris}
    working_directory: $T/work
YML
# An fd the master inherits (here 9) must not reach the workers.
exec 9<"$T/plba.yml"
start_master
exec 9<&-
wait_for 10 has_lines "$T/w.1" 1
wait_for 10 grep -q '"instance":1' "$T/plba.log"
# Every line is one JSON object with the documented members.
python3 - "$T/plba.log" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert {"time", "level", "msg"} <= o.keys(), o
    if "worker" in o:
        assert o["worker"] == "w" and o["instance"] in (0, 1), o
        assert o["stream"] in ("stdout", "stderr"), o
    n += 1
assert n >= 4, n
PY
line=$(grep '"instance":0' "$T/plba.log" | grep inherit: | head -n1)
for want in "worker=w" "instance=0" "fd=3" "protocol=1" "blocked=0" \
    "ignored=0" "fd3=open" "extra_fds=0" "pgrp=own" "env_TZ=Europe/Paris" "cwd=$T/work"; do
	grep -q -- "$want" <<<"$line" || fail "child inherited wrong: want $want in $line"
done

# As root, user: switches the instance to that account.
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	cat >"$T/user.yml" <<YML
workers:
  u:
    command: [$TW, --inherit]
    user: nobody
YML
	"$PLBA_MASTER" -c "$T/user.yml" >"$T/user.log" 2>&1 &
	um=$!
	wait_for 10 grep -q "inherit:" "$T/user.log"
	kill -TERM $um
	wait $um || fail "user master exited $?"
	grep -q "uid=$(id -u nobody) " "$T/user.log" || fail "not switched to nobody: $(grep inherit: "$T/user.log")"
fi

# logrotate: move the file away, SIGUSR1, new lines go to a new file.
mv "$T/plba.log" "$T/plba.log.1"
kill -USR1 "$MASTER"
wait_for 10 test -f "$T/plba.log"
kill -KILL "$(last_pid "$T/w.0")"
wait_for 10 grep -q "killed by signal 9" "$T/plba.log"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"

# An unwritable log file is a configuration error at start.
cat >"$T/plba.yml" <<YML
log:
  output: /nonexistent/dir/plba.log
workers: {}
YML
st=0
"$PLBA_MASTER" -c "$T/plba.yml" >"$T/out" 2>&1 || st=$?
[ $st -eq 2 ] || fail "unwritable log exited $st"
grep -q "log.output" "$T/out" || fail "no key in: $(cat "$T/out")"
echo "ok"
