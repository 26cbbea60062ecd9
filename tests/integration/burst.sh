# Bursts of small frames, far more than the master handles in one turn of
# its loop: it gets to the end of them without waiting for more bytes;
# what a child sent right before it exited is handled, not dropped nor
# taken for a broken frame; and a child that never stops sending, or
# never reads what the master answers, costs the master no memory.
. "$(dirname "$0")/lib.sh"

need_protoworker

# write_config: the platform section every phase shares, then standard
# input, as $T/plba.yml.
write_config() {
	{
		printf 'platform:\n  stop_timeout: 2s\n'
		printf '  ipc: {heartbeat_interval: 10s, heartbeat_timeout: 60s}\n'
		cat
	} >"$T/plba.yml"
}
stop_clean() {
	stop_master
	[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
}

write_config <<YML
queues:
  q: {capacity: 10}
workers:
  answer:
    command: [$PW, burst, answer, q, "20000"]
    restart: never
  leaver:
    command: [$PW, burst, exit, q, "20000"]
    restart: never
  sink:
    command: [$PW, consume, payloads, $T/got]
    consumes: q
YML
start_master

# Nothing more comes after the publish until it is confirmed.
wait_for 20 log_has "burst: confirmed after 20000 heartbeats"

# The leaver's publish was still unread when it was reaped.
wait_for 20 log_has "leaver.0: .*exited with status 0"
log_has "leaver.0: protocol error" && fail "a burst then exit taken for a protocol error"
wait_for 20 grep -q "^exit " "$T/got"
wait_for 20 grep -q "^answer " "$T/got"

stop_clean

# last_words MODE N: a consumer, late, in protoworker burst MODE, writes
# its last frames and exits while the master is stopped, so that on waking
# the master reads 1024 of its frames, reaps it, and finds the rest as its
# last words.  A sink added then must get N tasks, each on its first
# attempt: none may have gone to the reaped consumer.
zombie() { [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
last_words() {
	local late
	rm -f "$T/go" "$T/rec"
	write_config <<YML
queues:
  work: {capacity: 100}
workers:
  producer:
    command: [$PW, produce, work, "5"]
  late:
    command: [$PW, burst, $1, $T/go]
    consumes: work
    prefetch: 1
    restart: never
YML
	start_master
	wait_for 20 log_has "\[producer.0\] produced 5"
	wait_for 20 pgrep -f "burst $1" -P "$MASTER"
	late=$(pgrep -f "burst $1" -P "$MASTER")
	[ "$1" != late-ack ] || wait_for 20 log_has "\[late.0\] holding a task"
	kill -STOP "$MASTER"
	touch "$T/go"
	wait_for 20 zombie "$late"
	kill -CONT "$MASTER"
	wait_for 20 log_has "late.0: .*exited with status 0"
	cat >>"$T/plba.yml" <<YML
  sink:
    command: [$PW, consume, record, $T/rec]
    consumes: work
YML
	kill -HUP "$MASTER"
	wait_for 20 has_lines "$T/rec" "$2"
	awk '$3 != 1 { exit 1 }' "$T/rec" ||
		fail "$1: tasks came back as attempts: $(cat "$T/rec")"
	stop_clean
}

# A consumer whose "ready" is among its last words is given no task: it
# could not take one, and the task would come back counted as an attempt.
last_words late-ready 5
# Nor is one whose last ack is among them: the ack frees room, but the
# next task must not go to a consumer already reaped.
last_words late-ack 4

write_config <<YML
workers:
  flood:
    command: [$PW, burst, flood]
    restart: never
YML
# AddressSanitizer keeps freed memory aside for a while (256 MiB by
# default), which would look like growth here; no effect without it.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0
start_master
rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$MASTER/status"; }
wait_for 60 log_has "flood: 8 MiB sent"
before=$(rss_kib)
wait_for 120 log_has "flood: 40 MiB sent"
after=$(rss_kib)
echo "master RSS: $before KiB at 8 MiB flooded, $after KiB at 40 MiB"
[ $((after - before)) -lt 8192 ] ||
	fail "the master grew by $((after - before)) KiB reading a flood of heartbeats"

stop_clean

# A child that publishes without end and never reads the answers: the
# master stops reading it once a MiB of answers waits, and kills it when
# that lasts heartbeat_timeout.
cat >"$T/plba.yml" <<YML
platform:
  stop_timeout: 2s
  ipc: {heartbeat_interval: 200ms, heartbeat_timeout: 2s}
workers:
  deaf:
    command: [$PW, burst, deaf, nowhere]
    restart: never
YML
start_master
wait_for 60 log_has "deaf.0: has not read its channel for [0-9]*ms ([0-9]* bytes waiting for it); killing"
wait_for 20 log_has "deaf.0: killed by signal 9"
peak=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$MASTER/status")
echo "master peak RSS with a deaf child: $peak KiB"
[ "$peak" -lt 65536 ] || fail "the master grew to $peak KiB answering a deaf child"
stop_clean
echo "ok"
