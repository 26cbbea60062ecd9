# plbactl against a server that answers 200 with JSON that is not what
# plba-master sends: an object where a list of workers, queues, tasks or
# spans should be, or items of the wrong kind.  Each is "not plba-master",
# exit 2, with --json or without, and nothing printed as if it were.
. "$(dirname "$0")/lib.sh"

CTL=${PLBACTL:-${PLBA_BUILDDIR:?run through make check}/plbactl}
[ -x "$CTL" ] || fail "no plbactl at $CTL"
unset PLBA_URL PLBA_TOKEN_FILE
TRACE=0123456789abcdef0123456789abcdef

cat >"$T/fake.py" <<'PY'
import http.server, json, sys
answers = {
    "/workers": {"error": "x"},
    "/workers/w": {"instances": [1, 2]},
    "/queues": {"error": "x"},
    "/queues/jobs": {"depth": "many"},
    "/status": {"state": "idle", "health": "ok", "instances": [],
                "queues": {"jobs": {"error": "x"}}},
    "/health": {"health": "ok", "workers": [1]},
    "/queues/jobs/tasks": {"tasks": [{"error": "x"}]},
    "/queues/jobs/dead": {"tasks": "none"},
    "/traces/" + sys.argv[2]: {"spans": [1]},
    "/actions/reload": {"ok": True, "workers": {"added": [1]}},
}
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass
    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        body = json.dumps(answers.get(self.path.split("?")[0],
            {"error": "no such path"})).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = answer
s = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.server_address[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.serve_forever()
PY
python3 "$T/fake.py" "$T/fake.port" "$TRACE" &
FAKE=$!
trap 'rc=$?; kill "$FAKE" 2>/dev/null || true; cleanup $rc' EXIT
wait_for 10 test -s "$T/fake.port"
fake=http://127.0.0.1:$(cat "$T/fake.port")

# not_plba WHAT ARGS...: exit 2, stderr says WHAT, stdout empty.
not_plba() {
	local what=$1 rc=0
	shift
	"$CTL" -u "$fake" "$@" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -eq 2 ] || fail "plbactl $*: exit $rc, expected 2: $(cat "$T/out" "$T/err")"
	grep -qF -- "$what" "$T/err" || fail "plbactl $*: stderr lacks \"$what\": $(cat "$T/err")"
	grep -qF "(is this plba-master?)" "$T/err" || fail "plbactl $*: $(cat "$T/err")"
	[ ! -s "$T/out" ] || fail "plbactl $* printed: $(cat "$T/out")"
}
for json in "" --json; do
	not_plba "$fake/workers: the answer has an unexpected \"error\"" $json workers
	not_plba "$fake/workers/w: the answer has no valid \"instances\"" $json workers w
	not_plba "$fake/queues: the answer has an unexpected \"error\"" $json queues
	not_plba "$fake/queues/jobs: the answer has no valid \"depth\"" $json queues jobs
	not_plba "$fake/status: the answer has no valid \"queues\"" $json status
	not_plba "$fake/health: the answer has no valid \"workers\"" $json health
	not_plba "$fake/queues/jobs/tasks: the answer has no valid \"tasks\"" $json tasks jobs
	not_plba "$fake/queues/jobs/dead: the answer has no valid \"tasks\"" $json dead jobs
	not_plba "$fake/traces/$TRACE: the answer has no valid \"spans\"" $json trace "$TRACE"
	not_plba "$fake/actions/reload: the answer has no valid \"workers\"" $json reload
done
echo "ok"
