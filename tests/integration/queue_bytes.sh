# max_bytes: a queue whose waiting tasks' bodies reach it is full, as at
# capacity: HTTP publishes get 503, a worker's publishes wait, and nothing
# is lost once a consumer makes room.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
URL=http://127.0.0.1:$PORT

# config MAX_BYTES [producer] [consumer]: a producer of 5 tasks, a
# consumer.
config() {
	cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
queues:
  jobs: {max_bytes: $1}
workers:
YML
	shift
	case " $* " in *" producer "*) cat >>"$T/plba.yml" <<YML
  producer:
    command: [$PW, produce, jobs, "5"]
    ready: protocol
    restart: never
YML
	esac
	case " $* " in *" consumer "*) cat >>"$T/plba.yml" <<YML
  consumer:
    command: [$PW, consume, record, $T/rec]
    consumes: jobs
YML
	esac
	return 0
}

publish() { curl -s -o "$T/answer" -w '%{http_code}' --max-time 5 -X POST \
	-d "{\"name\":\"big\",\"payload\":{\"pad\":\"$(printf '%0400d' "$1")\"}}" \
	"$URL/queues/jobs/tasks"; }

# Nobody consumes yet: three publishes over HTTP fill the queue.
config 1KiB
start_master
wait_for 10 curl_ok "$URL/livez"
queue_field_is jobs max_bytes 1024 || fail "max_bytes: $(queue_field jobs max_bytes)"
for i in 1 2 3; do
	code=$(publish "$i")
	[ "$code" = 200 ] || [ "$code" = 201 ] || [ "$code" = 202 ] ||
		fail "publish $i: $code $(cat "$T/answer")"
done
# Each body is a little over 400 bytes: past 1 KiB after the third.
bytes=$(queue_field jobs bytes)
[ "$bytes" -gt 1024 ] && [ "$bytes" -lt 1500 ] || fail "bytes: $bytes"
queue_field_is jobs depth 3 || fail "depth: $(queue_field jobs depth)"
code=$(publish 4)
[ "$code" = 503 ] || fail "publish into a full queue: $code"
grep -Eq 'queue \\"jobs\\" is full: its waiting tasks take [0-9]+ bytes, its max_bytes 1024"' "$T/answer" ||
	fail "answer: $(cat "$T/answer")"
# A worker's publish waits.
config 1KiB producer
kill -HUP "$MASTER"
wait_for 10 queue_field_is jobs waiting_publishers 1
queue_field_is jobs depth 3 || fail "a worker's publish went past max_bytes: $(queue_field jobs depth)"

# A reload that raises the limit lets it in at once, and the rest after.
config 4KiB producer
kill -HUP "$MASTER"
wait_for 10 log_has "produced 5"
queue_field_is jobs depth 8 || fail "depth after raising max_bytes: $(queue_field jobs depth)"
queue_field_is jobs waiting_publishers 0 || fail "still waiting: $(queue_field jobs waiting_publishers)"

# A consumer makes room: the three and the producer's five all arrive.
config 1KiB producer consumer
kill -HUP "$MASTER"
wait_for 30 has_lines "$T/rec" 8
wait_for 10 queue_field_is jobs bytes 0
code=$(publish 5)
[ "$code" = 200 ] || [ "$code" = 201 ] || [ "$code" = 202 ] ||
	fail "publish after the drain: $code $(cat "$T/answer")"
wait_for 10 has_lines "$T/rec" 9
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
echo "ok"
