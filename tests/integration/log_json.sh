# What children write need not be UTF-8, yet the log stays one valid JSON
# object per line: bytes that are no character become U+FFFD, and a long
# line is cut into pieces between characters, never inside one.  The text
# format does the same.
. "$(dirname "$0")/lib.sh"

cat >"$T/plba.yml" <<YML
log:
  format: json
  output: $T/plba.log
workers:
  bad:
    command: [sh, -c, "printf 'ok \\\\377\\\\376 bad\\\\n\\\\342\\\\202 cut\\\\nnul\\\\000here\\\\n\\\\303\\\\251 \\\\342\\\\202\\\\254 \\\\360\\\\237\\\\230\\\\200\\\\n'; printf 'err \\\\377\\\\n' >&2; printf 'tail \\\\303'"]
    restart: never
  euros:
    command: [sh, -c, "printf '\\\\342\\\\202\\\\254%.0s' \$(seq 20000); printf '\\\\ndone\\\\n'"]
    restart: never
  faces:
    command: [sh, -c, "printf x; printf '\\\\360\\\\237\\\\230\\\\200%.0s' \$(seq 5000); printf '\\\\ndone\\\\n'"]
    restart: never
YML
start_master
wait_for 20 grep -qs '"worker":"bad","instance":0,"stream":"stdout","msg":"tail' "$T/plba.log"
wait_for 20 grep -qs '"worker":"bad","instance":0,"stream":"stderr","msg":"err' "$T/plba.log"
wait_for 20 grep -qs '"worker":"euros","instance":0,"stream":"stdout","msg":"done"' "$T/plba.log"
wait_for 20 grep -qs '"worker":"faces","instance":0,"stream":"stdout","msg":"done"' "$T/plba.log"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"

python3 - "$T/plba.log" <<'PY' || fail "the JSON log is not as it should be"
import json, sys
R = "\ufffd"
got = {}
with open(sys.argv[1], "rb") as f:
    for n, raw in enumerate(f, 1):
        try:
            o = json.loads(raw.decode("utf-8"))
        except ValueError as e:
            sys.exit("line %d: %s: %r" % (n, e, raw[:120]))
        if "worker" in o:
            got.setdefault((o["worker"], o["stream"]), []).append(o)

def msgs(key):
    return [o["msg"] for o in got.get(key, [])]

want = ["ok " + R + R + " bad", R + R + " cut", "nul\0here",
        "\u00e9 \u20ac \U0001f600", "tail " + R]
assert msgs(("bad", "stdout")) == want, msgs(("bad", "stdout"))
assert msgs(("bad", "stderr")) == ["err " + R], msgs(("bad", "stderr"))

for worker, line in (("euros", "\u20ac" * 20000),
                     ("faces", "x" + "\U0001f600" * 5000)):
    objs = got[(worker, "stdout")]
    assert objs[-1]["msg"] == "done" and "truncated" not in objs[-1], objs[-1]
    pieces = objs[:-1]
    assert len(pieces) > 1, worker
    for o in pieces[:-1]:
        assert o.get("truncated") is True, o
        assert len(o["msg"].encode("utf-8")) <= 8192, worker
    assert "truncated" not in pieces[-1], pieces[-1]
    assert R not in "".join(o["msg"] for o in pieces), worker
    assert "".join(o["msg"] for o in pieces) == line, worker
PY

# The text format: the same replacement, and control characters as '?'.
cat >"$T/plba.yml" <<YML
log:
  output: $T/plba.txt
workers:
  bad:
    command: [sh, -c, "printf 'ok \\\\377\\\\376 bad\\\\tTAB\\\\033[m\\\\n\\\\303\\\\251 \\\\342\\\\202\\\\254\\\\ndone\\\\n'"]
    restart: never
YML
start_master
wait_for 20 grep -qs '\[bad\.0\] done$' "$T/plba.txt"
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
python3 - "$T/plba.txt" <<'PY' || fail "the text log is not as it should be"
import sys
text = open(sys.argv[1], "rb").read().decode("utf-8")
for want in ("[bad.0] ok \ufffd\ufffd bad\tTAB?[m\n", "[bad.0] \u00e9 \u20ac\n"):
    assert want in text, (want, text)
PY
echo "ok"
