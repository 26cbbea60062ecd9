# restart_delay: 0 with no restart limit does not make a crash loop spin:
# the first restart is immediate, the next ones wait 100 ms at least,
# even with restart_max_delay: 0.
. "$(dirname "$0")/lib.sh"

cat >"$T/plba.yml" <<YML
workers:
  crash:
    command: [/bin/sh, -c, 'date +%s%N >>$T/starts; exit 1']
    restart_delay: 0
    restart_max_delay: 0
    max_restarts: 0
YML
start_master
wait_for 20 has_lines "$T/starts" 6
first=$(sed -n 1p "$T/starts")
sixth=$(sed -n 6p "$T/starts")
ms=$(( (sixth - first) / 1000000 ))
# 0 + 4 x 100 ms; a spin does six starts in a few milliseconds.
[ $ms -ge 300 ] || fail "six starts in ${ms}ms: the crash loop spins"
log_has "crash.0: restarting in 0ms" || fail "the first restart waited"
log_has "crash.0: restarting in 100ms" || fail "no 100ms back-off"
stop_master
