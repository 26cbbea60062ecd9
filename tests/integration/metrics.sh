# GET /metrics: valid Prometheus text (promtool check metrics), and values
# that agree with what happened: tasks published, acked and dead, the task
# duration histogram, every instance up, restarts, HTTP requests by code,
# and the durable queues' commits.
[ -x /usr/bin/promtool ] || { echo "SKIP: /usr/bin/promtool is missing (Debian package prometheus)"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl is missing"; exit 77; }
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
URL=http://127.0.0.1:$PORT
N=500		# tasks published
DEAD=10		# every 50th is dead-lettered by the consumer
cat >"$T/plba.yml" <<YML
platform:
  name: metrics_test
  state_dir: $T/state
  http: {enabled: true, listen: 127.0.0.1:$PORT}
queues:
  q: {capacity: 100, max_attempts: 2}
  kept: {durable: true}
workers:
  w:
    command: [$TW, --record, $T/w]
    concurrency: 2
  crashy:
    command: [$TW, --exit-after, "50", "3"]
    critical: false
    restart_delay: 10ms
    max_restarts: 1000
  producer:
    command: [$PW, produce, q, "$N", async]
    ready: protocol
  consumer:
    command: [$PW, consume, dead-every, "50"]
    consumes: q
    concurrency: 2
YML
start_master
wait_for 10 curl_ok "$URL/livez"
wait_for 30 curl_has "$URL/queues/q" "\"acked\":$((N - DEAD))"
wait_for 30 curl_has "$URL/queues/q" "\"dead\":$DEAD"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{"name":"t"}' \
    "$URL/queues/kept/tasks")" = 202 ] || fail "a publish to the durable queue"

# Requests with known answers.
for _ in 1 2 3 4 5; do curl -sf -o /dev/null "$URL/status"; done
curl -s -o /dev/null "$URL/no/such/thing"
curl -s -o /dev/null "$URL/nope"
curl -s -o /dev/null -X POST "$URL/status"

# The scrape, once the counts have reached it: the queue's may lag /queues a
# moment, and a request is counted just after its answer is sent.
scrape() { curl -sf --max-time 5 -D "$T/headers" -o "$T/metrics" "$URL/metrics"; }
# metric SERIES: the value of that exact series in the last scrape.
metric() { awk -v k="$1" '$1 == k { print $2 }' "$T/metrics"; }
# at_least SERIES N: that series is there and at least N.
at_least() { local v; v=$(metric "$1"); [ -n "$v" ] && [ "$v" -ge "$2" ]; }
scraped() {
	scrape &&
		[ "$(metric 'plba_queue_acked_total{queue="q"}')" = $((N - DEAD)) ] &&
		[ "$(metric 'plba_queue_dead{queue="q"}')" = $DEAD ] &&
		at_least 'plba_instance_restarts_total{worker="crashy",instance="0"}' 2 &&
		at_least 'plba_http_requests_total{code="404"}' 2 &&
		at_least 'plba_http_requests_total{code="405"}' 1 &&
		at_least plba_durable_commits_total 1 &&
		at_least plba_durable_commit_seconds_count 1
}
wait_for 20 scraped
grep -qi '^Content-Type: text/plain; version=0.0.4' "$T/headers" ||
	fail "content type: $(grep -i '^Content-Type' "$T/headers")"

# Valid for Prometheus, lint included.
out=$(promtool check metrics <"$T/metrics" 2>&1) || fail "promtool: $out"
[ -z "$out" ] || fail "promtool: $out"

# expect SERIES VALUE
expect() {
	local got
	got=$(metric "$1")
	[ "$got" = "$2" ] || fail "$1 is '${got}', expected $2"
}
expect 'plba_queue_published_total{queue="q"}' $N
expect 'plba_queue_acked_total{queue="q"}' $((N - DEAD))
expect 'plba_queue_dead{queue="q"}' $DEAD
expect 'plba_queue_depth{queue="q"}' 0
expect 'plba_queue_in_flight{queue="q"}' 0
expect 'plba_queue_capacity{queue="q"}' 100

# The histogram: cumulative buckets ending in +Inf = _count = acked.
expect 'plba_queue_task_duration_seconds_bucket{queue="q",le="+Inf"}' $((N - DEAD))
expect 'plba_queue_task_duration_seconds_count{queue="q"}' $((N - DEAD))
[ -n "$(metric 'plba_queue_task_duration_seconds_sum{queue="q"}')" ] || fail "no _sum"
grep '^plba_queue_task_duration_seconds_bucket{queue="q"' "$T/metrics" |
	awk '{ if ($2 < prev) exit 1; prev = $2 }' || fail "buckets not cumulative"

# The durable queue's database: commits, none failed, none running.
expect plba_durable_commit_failures_total 0
expect 'plba_durable_commit_seconds_bucket{le="+Inf"}' "$(metric plba_durable_commit_seconds_count)"
expect plba_durable_writing_seconds 0

# One plba_instance_up per instance in /status, 1 for the steady ones.
curl -sf "$URL/status" | python3 -c 'import json, sys
for i in json.load(sys.stdin)["instances"]:
    print(i["name"], i["instance"])' >"$T/instances"
[ "$(wc -l <"$T/instances")" -eq 6 ] || fail "instances: $(cat "$T/instances")"
[ "$(grep -c '^plba_instance_up{' "$T/metrics")" -eq 6 ] || fail "not 6 plba_instance_up lines"
while read -r name inst; do
	up=$(metric "plba_instance_up{worker=\"$name\",instance=\"$inst\"}")
	case $name:$up in
	crashy:[01]) ;;
	*:1) ;;
	*) fail "plba_instance_up for $name.$inst is '$up'" ;;
	esac
	[ "$(grep -c "^plba_instance_health{worker=\"$name\",instance=\"$inst\",health=\"[a-z]*\"} 1\$" "$T/metrics")" -eq 1 ] ||
		fail "not one current health for $name.$inst"
done <"$T/instances"
expect 'plba_instance_restarts_total{worker="w",instance="0"}' 0
expect 'plba_worker_failed{worker="crashy"}' 0

# HTTP requests by code, counted before this scrape.
expect 'plba_http_requests_total{code="404"}' 2
expect 'plba_http_requests_total{code="405"}' 1
at_least 'plba_http_requests_total{code="200"}' 5 ||
	fail "200s: $(metric 'plba_http_requests_total{code="200"}')"
at_least process_open_fds 1 || fail "process_open_fds: $(metric process_open_fds)"

stop_master
[ "$STATUS" -eq 0 ] || fail "master exited $STATUS"
echo "ok: /metrics is valid and agrees with the queue, instances and requests"
