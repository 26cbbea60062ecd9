# The dashboard at GET / in a real browser: headless Chromium driven over the
# DevTools protocol (dashboard.py). The page shows every instance of the
# running master with its pid, its Restart button restarts a worker (refused
# with the server's error without the token), Stop and Start work, a
# banner says so when the master cannot be reached, Reload shows a broken
# file's errors, and a stop that takes long can be forced with Stop now.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
URL=http://127.0.0.1:$PORT
. "$(dirname "$0")/browser.sh"
TOKEN=dash-$$-token
echo "$TOKEN" >"$T/token"
cat >"$T/plba.yml" <<YML
platform:
  name: dash_test
  http: {enabled: true, listen: 127.0.0.1:$PORT, token_file: $T/token}
queues:
  jobs: {capacity: 50}
workers:
  web:
    command: [$TW, --record, $T/web]
    concurrency: 2
    restart_delay: 0
  producer:
    command: [$PW, produce, jobs, "20"]
    ready: protocol
    restart: never
  consumer:
    command: [$PW, consume]
    consumes: jobs
YML

start_master
wait_for 10 curl_ok "$URL/livez"

# "worker.instance=pid ..." sorted, from /status and from the page's table.
status_pids() {
	curl -sf --max-time 5 "$URL/status" | python3 -c 'import json, sys
s = json.load(sys.stdin)
print(" ".join(sorted("%s.%d=%s" % (i["name"], i["instance"],
    "-" if i["pid"] is None else i["pid"]) for i in s["instances"])))'
}
dom_pids() {
	cdp 'Array.from(document.querySelectorAll("tbody.w tr[data-instance]")).map(function (r) {
	  return r.parentNode.dataset.worker + "." + r.dataset.instance + "=" + r.querySelector("td.pid").textContent;
	}).sort().join(" ")'
}
all_running() { status_pids | grep -q . && ! status_pids | grep -q -- '=-'; }
# The page shows what /status says (both read anew on every try).
page_shows_status() {
	local want got
	want=$(status_pids) && got=$(dom_pids 2>/dev/null) && [ -n "$want" ] &&
		[ "$want" = "$got" ]
}
web_pids() { status_pids | tr ' ' '\n' | grep '^web\.' | tr '\n' ' '; }
# Every web pid of $1 replaced by a running one.
web_restarted() {
	local now p
	now=$(web_pids)
	case $now in *=-*) return 1 ;; esac
	for p in $1; do
		case " $now " in *" $p "*) return 1 ;; esac
	done
}

wait_for 20 all_running
wait_for 20 curl_ok "$URL/readyz"
wait_for 20 curl_has "$URL/health" '"health":"ok"'
wait_for 20 curl_has "$URL/queues/jobs" '"acked":20'

start_browser "$URL/"

# 1. Every instance with its pid, the queue, the header.
wait_for 20 page_shows_status
page_has 'document.getElementById("name").textContent === "dash_test"' ||
	fail "runtime name not shown"
wait_for 10 page_has 'document.getElementById("health").textContent === "ok"'
page_has 'document.querySelector("#queues tr[data-queue=jobs]").textContent.indexOf("20") >= 0' ||
	fail "queue row: $(cdp 'document.querySelector("#queues tbody").textContent')"
page_has 'document.getElementById("banner").style.display === "none"' ||
	fail "banner shown while the master is up"
[ "$(cdp 'document.querySelectorAll("button.restart").length')" = 3 ] ||
	fail "not one Restart button per worker"

# 2. Restart without the token: the server's 401 error is shown, nothing restarts.
before=$(web_pids)
cdp 'document.querySelector("button.restart[data-worker=web]").click(), true' >/dev/null
wait_for 10 page_has 'document.getElementById("msg").textContent.indexOf("401") >= 0'
page_has 'document.getElementById("msg").textContent.indexOf("a valid bearer token is required") >= 0' ||
	fail "401 error not shown: $(cdp 'document.getElementById("msg").textContent')"
[ "$(web_pids)" = "$before" ] || fail "restarted without the token"

# 3. With the token typed in: accepted, both web instances get new pids, and
# the page follows.
cdp "(function () { var t = document.getElementById('token'); t.value = '$TOKEN';
  t.dispatchEvent(new Event('input'));
  document.querySelector('button.restart[data-worker=web]').click(); return true; })()" >/dev/null
wait_for 10 page_has 'document.getElementById("msg").textContent.indexOf("accepted") >= 0'
wait_for 20 web_restarted "$before"
wait_for 20 page_shows_status
[ "$(cdp 'sessionStorage.getItem("plba-token")')" = "$TOKEN" ] ||
	fail "token not kept in sessionStorage"

# 4. Stop (confirmed) and Start.
cdp 'window.confirm = function () { return true; }; document.getElementById("stop").click(), true' >/dev/null
wait_for 20 curl_has "$URL/status" '"state":"stopped"'
wait_for 10 page_has 'document.getElementById("state").textContent === "stopped"'
cdp 'document.getElementById("start").click(), true' >/dev/null
wait_for 20 all_running
wait_for 20 page_shows_status

# 5. The master gone: a banner says so.
stop_master
[ "$STATUS" -eq 0 ] || fail "master exited $STATUS"
wait_for 15 page_has 'document.getElementById("banner").style.display === "block" &&
  document.getElementById("banner").textContent.indexOf("Cannot reach the master") === 0'

# 6. A master again on the same port, with a worker whose graceful stop
#    takes ten minutes: the page finds it, Stop leaves it stopping, and
#    the button, now Stop now, forces the stop.
cat >"$T/plba.yml" <<YML
platform:
  name: dash_test
  http: {enabled: true, listen: 127.0.0.1:$PORT, token_file: $T/token}
  stop_timeout: 5m
workers:
  careful:
    command: [$PW, stoppable, 600000]
    stop_timeout: 5m
YML
start_master
wait_for 20 log_has "careful.0: ready"
wait_for 15 page_has 'document.getElementById("banner").style.display === "none" &&
  document.getElementById("state").textContent === "idle"'
page_has 'document.getElementById("stop").textContent === "Stop"' ||
	fail "stop button: $(cdp 'document.getElementById("stop").textContent')"
# Reload: a broken file's errors are shown, with file, line and column;
# a sound one is accepted and applied.
cp "$T/plba.yml" "$T/good.yml"
printf '    concurrency: none\n' >>"$T/plba.yml"
line=$(grep -n 'concurrency: none' "$T/plba.yml" | cut -d: -f1)
cdp 'document.getElementById("reload").click(), true' >/dev/null
wait_for 10 page_has 'document.getElementById("msg").textContent.indexOf("reload failed (HTTP 422): configuration rejected") === 0'
page_has "document.getElementById('msg').textContent.indexOf('$T/plba.yml:$line:18: workers.careful.concurrency: ') > 0" ||
	fail "errors not shown: $(cdp 'document.getElementById("msg").textContent')"
! log_has "reloading configuration" || fail "a broken file was applied"
cp "$T/good.yml" "$T/plba.yml"
cdp 'document.getElementById("reload").click(), true' >/dev/null
wait_for 10 page_has 'document.getElementById("msg").textContent === "reload: accepted"'
wait_for 10 log_has "reloading configuration"
cdp 'window.confirm = function () { return true; }; document.getElementById("stop").click(), true' >/dev/null
wait_for 10 log_has "stop force=0"
wait_for 10 page_has 'document.getElementById("state").textContent === "stopping" &&
  document.getElementById("stop").textContent === "Stop now"'
cdp 'document.getElementById("stop").click(), true' >/dev/null
wait_for 10 page_has 'document.getElementById("msg").textContent.indexOf("forced stop: accepted") === 0'
wait_for 20 page_has 'document.getElementById("state").textContent === "stopped" &&
  document.getElementById("stop").textContent === "Stop"'
log_has "stop force=1" || fail "careful.0 was not told to stop at once"
log_has "careful.0: stopped, exited with status 0" || fail "careful.0: $(grep careful.0 "$LOG")"
# The signal that ends the master then stops nothing: a clean exit.
stop_master
[ "$STATUS" -eq 0 ] || fail "a signal after a forced stop action: exit $STATUS, not 0"
echo "ok: dashboard shows, restarts, stops, starts, reports the master gone, reloads, and forces a long stop"
