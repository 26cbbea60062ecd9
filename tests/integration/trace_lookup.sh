# GET /traces/{id} gives each span as the trace file has it, with the
# worker and instance that sent it as its last members: a record in
# libplba's own form goes out as its text (spliced, never re-parsed), and
# one in another form as the file's slow way prints it.  Here `lone`
# sends the first kind, and `big` the second: an integer past int range,
# which cJSON would print as a double, is left by the master's scan to
# the parser, which keeps its digits.
. "$(dirname "$0")/lib.sh"

need_protoworker
http_port
cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: 127.0.0.1:$PORT}
  trace: {transport: file, file: $T/traces.jsonl}
workers:
  lone:
    command: [$PW, spans, "3", "0"]
  big:
    command: [$PW, spans, "3", "0", big]
YML
start_master
wait_for 20 has_lines "$T/traces.jsonl" 6
for tid in $(python3 -c 'import json,sys
for line in open(sys.argv[1]): print(json.loads(line)["trace_id"])' "$T/traces.jsonl"); do
	curl -sf --max-time 5 -o "$T/answer" "$URL/traces/$tid" || fail "no answer for trace $tid"
	python3 - "$T/traces.jsonl" "$tid" "$T/answer" <<'PY' || fail "trace $tid: $(cat "$T/answer")"
import json, sys
path, tid, answer = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
assert answer["trace_id"] == tid, answer
filed = []
for line in open(path):
    rec = json.loads(line)
    if rec["trace_id"] != tid:
        continue
    res = rec.pop("resource")
    rec["worker"], rec["instance"] = res["worker"], res["instance"]
    filed.append(rec)
assert filed and answer["spans"] == filed, (answer["spans"], filed)
assert list(answer["spans"][0])[-2:] == ["worker", "instance"], answer
PY
done
# Every digit of an integer past 2^53, in the file and so in the lookups
# (a double would have made the first one ...992).
for n in 9007199254740993 9007199254740994 9007199254740995; do
	grep -q "\"lone.big\":$n[,}]" "$T/traces.jsonl" || fail "no lone.big $n in the file"
done
stop_master
[ "$STATUS" -eq 0 ] || fail "exit $STATUS"
echo "ok"
