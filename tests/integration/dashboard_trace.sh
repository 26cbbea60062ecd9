# The dashboard links a task to its trace: a queue's dead count opens its
# dead letters, each with a link to its trace, and the link shows that
# mail's journey as a tree with a timeline; a trace the master does not
# hold, and tracing turned off, are said so.  Dead letters are retried and
# purged from the list.  In headless Chromium.
. "$(dirname "$0")/lib.sh"

export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1
: "${PLBA_BUILDDIR:?run through make check}"
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
. "$(dirname "$0")/browser.sh"

# JS: the text of the trace table's rows, "depth:name:status" each.
ROWS='Array.from(document.querySelectorAll("#trace tbody tr:not(.event)")).map(function (r) {
  return r.dataset.depth + ":" + r.querySelector("td.span").textContent + ":" +
    r.querySelector(".tag").textContent; }).join(" ")'

mob_dead_config "transport: file, file: $T/traces.jsonl"
start_master
wait_for 30 mob_dead_two
start_browser "$URL/"

# 1. The dead count is a button; it opens the list, with trace links.
wait_for 20 page_has '!!document.querySelector("#queues tr[data-queue=emails] button.dead")'
cdp 'document.querySelector("#queues tr[data-queue=emails] button.dead").click(), true' >/dev/null
wait_for 10 page_has 'document.querySelectorAll("#dead a.trace").length === 2'
page_has '!document.getElementById("deadbox").hidden' || fail "dead letters hidden"
page_has 'document.querySelector("#dead tbody tr").textContent.indexOf("no order lines") >= 0' ||
	fail "no error in the dead letters: $(cdp 'document.getElementById("dead").textContent')"
tid=$(cdp 'document.querySelector("#dead a.trace").textContent')
[[ $tid =~ ^[0-9a-f]{32}$ ]] || fail "not a trace id: $tid"
curl_has "$URL/queues/emails/dead" "00-$tid-" ||
	fail "the link is not the task's trace: $tid"

# 2. The link opens the trace: the poller's span at the top, the master's
# and the consumer's under it, the business step under the consumer's.
wait_for 10 grep -q "\"trace_id\":\"$tid\".*\"name\":\"plba.dead_letter\"" "$T/traces.jsonl"
cdp 'document.querySelector("#dead a.trace").click(), true' >/dev/null
wait_for 10 page_has "location.hash === '#trace=$tid' && !document.getElementById('tracebox').hidden"
wait_for 10 page_has 'document.querySelectorAll("#trace tbody tr").length === 6'
rows=$(cdp "$ROWS")
for want in "0:mail discovered:unset" "1:plba.enqueue:ok" "1:plba.dispatch:ok" \
    "1:process emails:error" "2:mail parsed:error" "1:plba.dead_letter:error"; do
	[[ " $rows " == *" $want "* ]] || fail "no \"$want\" in: $rows"
done
[[ $rows == "0:mail discovered:unset "* ]] || fail "not the poller's span first: $rows"
page_has 'document.querySelectorAll("#trace .bar").length === 6' ||
	fail "no timeline: $(cdp 'document.getElementById("trace").innerHTML.slice(0, 300)')"
page_has 'document.getElementById("tracemsg").textContent.indexOf("6 spans") === 0' ||
	fail "trace summary: $(cdp 'document.getElementById("tracemsg").textContent')"
page_has '[].some.call(document.querySelectorAll("#trace tbody tr"), function (r) {
  return r.title.indexOf("plba.task.outcome = \"nack-dead\"") >= 0; })' ||
	fail "no attributes in the tooltips"

# 3. Close goes back to the page without a trace.
cdp 'document.getElementById("traceclose").click(), true' >/dev/null
wait_for 10 page_has 'document.getElementById("tracebox").hidden && location.hash === ""'

# 4. A good mail's trace: its trace message, an event, under its span.
good=$(grep -m1 '"name":"order created"' "$T/traces.jsonl" |
	python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["trace_id"])')
cdp "location.hash = '#trace=$good', true" >/dev/null
wait_for 10 page_has 'document.querySelectorAll("#trace tbody tr.event").length === 1'
page_has '(function () {
  var ev = document.querySelector("#trace tbody tr.event"), span = ev.previousSibling;
  return /^recorded, [0-9]+ lines?$/.test(ev.querySelector("td.detail").textContent) &&
    span.querySelector("td.span").textContent === "order created" &&
    parseInt(ev.querySelector("td.span").style.paddingLeft) >
      parseInt(span.querySelector("td.span").style.paddingLeft) &&
    !!ev.querySelector(".bar.tick"); })()' ||
	fail "no event under order created: $(cdp 'document.querySelector("#trace tbody").textContent')"

# 5. A link to a trace the master does not hold says so.
cdp 'location.hash = "#trace=00000000000000000000000000000001", true' >/dev/null
wait_for 10 page_has 'document.getElementById("tracemsg").textContent.indexOf("404") >= 0 &&
  document.getElementById("tracemsg").textContent.indexOf("no spans held") >= 0'

# 6. From the list a dead letter goes back on its queue, and its trace
# shows the retry; Purge all empties the list.
cdp 'location.hash = "", true' >/dev/null
rtid=$(cdp 'document.querySelector("#dead tbody tr[data-id] a.trace").textContent')
cdp 'document.querySelector("#dead tbody tr[data-id] button.retry-one").click(), true' >/dev/null
wait_for 10 page_has '/^retry of task [0-9]+ of emails: accepted$/.test(document.getElementById("msg").textContent)'
# A malformed mail fails again: a third dead-lettering.
wait_for 20 log_at_least "dead-lettered: no order lines" 3
wait_for 10 curl_has "$URL/traces/$rtid" '"name":"plba.retry"'
wait_for 10 queue_field_is emails dead 2
cdp 'document.getElementById("deadretry").click(), true' >/dev/null
wait_for 10 page_has 'document.getElementById("msg").textContent === "retry of every dead letter of emails: accepted"'
wait_for 20 log_at_least "dead-lettered: no order lines" 5
cdp 'window.confirm = function () { return true; };
  document.getElementById("deadpurge").click(), true' >/dev/null
wait_for 10 queue_field_is emails dead 0
wait_for 10 page_has 'document.querySelector("#dead tbody").textContent === "no dead letters"'
stop_master
[ "$STATUS" -eq 0 ] || fail "master exited $STATUS"

# 7. With tracing off the dead letters carry no trace, and no link.
mob_dead_config "transport: none"
start_master
wait_for 30 mob_dead_two
cdp 'location.hash = "", location.reload(), true' >/dev/null
wait_for 20 page_has '!!document.querySelector("#queues tr[data-queue=emails] button.dead")'
cdp 'document.querySelector("#queues tr[data-queue=emails] button.dead").click(), true' >/dev/null
wait_for 10 page_has 'document.querySelectorAll("#dead tbody tr[data-id]").length === 2'
page_has 'document.querySelectorAll("#dead a.trace").length === 0' ||
	fail "trace links with tracing off"
stop_master
[ "$STATUS" -eq 0 ] || fail "master exited $STATUS"
echo "ok: dead letters link to their traces, shown as a tree"
