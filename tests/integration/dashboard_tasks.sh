# The dashboard shows a queue's tasks: its depth and in-flight counts open
# the list of what the consumers hold and what waits, each task linked to
# its trace; the list follows the queue as it changes, and its queued
# tasks can be purged.  In headless Chromium.
. "$(dirname "$0")/lib.sh"

export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1
: "${PLBA_BUILDDIR:?run through make check}"
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
TRACE=4bf92f3577b34da6a3ce929d0e0e4736
. "$(dirname "$0")/browser.sh"

# JS: the task table's rows, "id:state:instance:task:trace" each.
ROWS='Array.from(document.querySelectorAll("#tasks tbody tr[data-id]")).map(function (r) {
  var c = r.querySelectorAll("td");
  return [c[0], c[1], c[3], c[6], c[8]].map(function (x) { return x.textContent; }).join(":");
}).join(" ")'

stuck_config
start_master
wait_for 20 curl_ok "$URL/readyz"
start_browser "$URL/"

# 1. An empty queue: plain counts, nothing to open.
wait_for 20 page_has '!!document.querySelector("#queues tr[data-queue=items]")'
page_has '!document.querySelector("#queues tr[data-queue=items] button.tasks")' ||
	fail "a tasks button on an empty queue"

# 2. Four tasks, one on a trace: two held by stuck.0, two waiting.
stuck_publish one
stuck_publish two "00-$TRACE-00f067aa0ba902b7-01"
stuck_publish three
stuck_publish four
wait_for 20 queue_field_is items in_flight 2
wait_for 20 page_has 'document.querySelectorAll("#queues tr[data-queue=items] button.tasks").length === 2'
cdp 'document.querySelector("#queues tr[data-queue=items] button.tasks").click(), true' >/dev/null
wait_for 10 page_has 'document.querySelectorAll("#tasks tbody tr[data-id]").length === 4'
page_has '!document.getElementById("taskbox").hidden' || fail "task list hidden"
rows=$(cdp "$ROWS")
want="1:in flight:stuck.0:one:- 2:in flight:stuck.0:two:$TRACE 3:queued::three:- 4:queued::four:-"
[ "$rows" = "$want" ] || fail "rows: $rows, want $want"
page_has 'document.getElementById("taskmsg").textContent === "2 in flight, 2 queued"' ||
	fail "summary: $(cdp 'document.getElementById("taskmsg").textContent')"

# 3. The trace link opens that task's trace: the master's enqueue and
#    dispatch under the publisher's span.
cdp 'document.querySelector("#tasks a.trace").click(), true' >/dev/null
wait_for 10 page_has "location.hash === '#trace=$TRACE' && !document.getElementById('tracebox').hidden"
wait_for 10 page_has 'document.querySelectorAll("#trace tbody tr").length === 2'
page_has '(function () {
  var n = Array.from(document.querySelectorAll("#trace td.span")).map(function (c) { return c.textContent; });
  return n.indexOf("plba.enqueue") >= 0 && n.indexOf("plba.dispatch") >= 0; })()' ||
	fail "trace: $(cdp 'document.querySelector("#trace tbody").textContent')"

# 4. The list follows the queue: a fifth task shows up without a click.
stuck_publish five
wait_for 10 page_has 'document.querySelectorAll("#tasks tbody tr[data-id]").length === 5'

# 5. Purge queued: the three waiting go, the two in flight stay.
cdp 'window.confirm = function () { return true; };
  document.getElementById("taskpurge").click(), true' >/dev/null
wait_for 10 page_has 'document.getElementById("msg").textContent === "purge of the queued tasks of items: accepted"'
wait_for 10 page_has 'document.querySelectorAll("#tasks tbody tr[data-id]").length === 2'
queue_field_is items depth 0 || fail "depth after the purge: $(queue_field items depth)"

# 6. Close hides it, and it stays closed through refreshes.
cdp 'document.getElementById("taskclose").click(), true' >/dev/null
wait_for 10 page_has 'document.getElementById("taskbox").hidden'
stamp=$(cdp 'document.body.dataset.updated')
wait_for 10 page_has "document.body.dataset.updated !== '$stamp'"
page_has 'document.getElementById("taskbox").hidden' || fail "reopened by a refresh"

# 7. A task name of 300 characters without a space wraps in its cell:
#    the page does not grow wider than the window.
stuck_publish "$(printf 'x%.0s' $(seq 300))"
cdp 'document.querySelector("#queues tr[data-queue=items] button.tasks").click(), true' >/dev/null
wait_for 10 page_has 'document.getElementById("taskmsg").textContent === "2 in flight, 1 queued"'
page_has 'document.documentElement.scrollWidth <= window.innerWidth' ||
	fail "page $(cdp 'document.documentElement.scrollWidth') wide in a window of $(cdp 'window.innerWidth')"

# 8. A list whose queue is gone (a reload removed it, or the master came
#    back without it) says so, and keeps no counts of before.
cdp 'window.fetch = function () {
    return Promise.resolve(new Response("{\"error\":\"no queue named \\\"items\\\"\"}",
      {status: 404, headers: {"Content-Type": "application/json"}})); },
  showTasks("items"), true' >/dev/null
wait_for 10 page_has 'document.querySelector("#tasks tbody").textContent.indexOf("no queue named") >= 0'
page_has 'document.getElementById("taskmsg").textContent === ""' ||
	fail "counts kept: $(cdp 'document.getElementById("taskmsg").textContent')"
stop_master
[ "$STATUS" -eq 1 ] || fail "master exited $STATUS, not 1 (a forced stop)"
echo "ok: a queue's tasks are listed, each linked to its trace"
