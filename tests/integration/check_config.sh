# plba-master --check and start-up with broken files: exit 2, file:line:col.
. "$(dirname "$0")/lib.sh"

cat >"$T/plba.yml" <<YML
platform:
  name: t
workers:
  a:
    command: [$TW]
    concurrency: 2
YML
out=$("$PLBA_MASTER" --check -c "$T/plba.yml") || fail "valid file rejected"
grep -q -- "configuration ok: 1 worker (2 instances)" <<<"$out" || fail "summary: $out"

cat >"$T/bad.yml" <<YML
platform:
  name: t
  colour: blue
workers:
  a:
    command: [$TW]
    concurrency: zero
YML
st=0
out=$("$PLBA_MASTER" -t -c "$T/bad.yml" 2>&1) || st=$?
[ $st -eq 2 ] || fail "--check on a bad file exited $st"
grep -q -- "bad.yml:3:3: platform.colour" <<<"$out" || fail "no position for unknown key: $out"
grep -q -- "bad.yml:7:18: workers.a.concurrency" <<<"$out" || fail "no position for concurrency: $out"

# A stop_timeout of 0 would SIGKILL every stop at once: refused, at its
# place, for the platform and for a worker.
cat >"$T/zero.yml" <<YML
platform:
  stop_timeout: 0
workers:
  a:
    command: [$TW]
    stop_timeout: 0s
YML
st=0
out=$("$PLBA_MASTER" -t -c "$T/zero.yml" 2>&1) || st=$?
[ $st -eq 2 ] || fail "--check with stop_timeout 0 exited $st"
grep -q -- "zero.yml:2:17: platform.stop_timeout: must be longer than 0" <<<"$out" ||
	fail "platform.stop_timeout 0 not refused: $out"
grep -q -- "zero.yml:6:19: workers.a.stop_timeout: must be longer than 0" <<<"$out" ||
	fail "workers.a.stop_timeout 0 not refused: $out"

# The same file refuses to start, and nothing is started.
st=0
"$PLBA_MASTER" -c "$T/bad.yml" >"$T/out" 2>&1 || st=$?
[ $st -eq 2 ] || fail "start with a bad file exited $st"

# Broken YAML names its position too.
printf 'workers:\n  a: [unclosed\n' >"$T/broken.yml"
st=0
out=$("$PLBA_MASTER" -t -c "$T/broken.yml" 2>&1) || st=$?
[ $st -eq 2 ] || fail "broken YAML exited $st"
grep -q -- "broken.yml:[0-9]*:[0-9]*:" <<<"$out" || fail "no position in: $out"

# Later files override earlier ones.
cat >"$T/override.yml" <<YML
workers:
  a:
    concurrency: 5
YML
out=$("$PLBA_MASTER" -t -c "$T/plba.yml" -c "$T/override.yml") || fail "merge rejected"
grep -q -- "(5 instances)" <<<"$out" || fail "merge not applied: $out"
grep -q -- "^$T/plba.yml, $T/override.yml: configuration ok" <<<"$out" ||
	fail "the summary does not name every file: $out"

# --check tries what the start would open, without creating anything:
# the token file, the log file, the trace file.
: >"$T/empty-token"
cat >"$T/files.yml" <<YML
platform:
  http: {enabled: true, token_file: $T/no-such-token}
  trace: {transport: file, file: $T/no-such-dir/traces.jsonl}
log:
  output: $T/no-such-dir/plba.log
workers:
  a: {command: [$TW]}
YML
st=0
out=$("$PLBA_MASTER" -t -c "$T/files.yml" 2>&1) || st=$?
[ $st -eq 2 ] || fail "--check passed files the start cannot open: $out"
grep -q -- "files.yml:2:[0-9]*: platform.http.token_file: $T/no-such-token: No such file or directory" <<<"$out" ||
	fail "token file: $out"
grep -q -- "files.yml:3:[0-9]*: platform.trace.file: $T/no-such-dir/traces.jsonl: No such file or directory" <<<"$out" ||
	fail "trace file: $out"
grep -q -- "files.yml:5:11: log.output: $T/no-such-dir/plba.log: No such file or directory" <<<"$out" ||
	fail "log file: $out"
[ ! -e "$T/no-such-dir" ] || fail "--check created something"
# What this build cannot run is said in the same list as the files.
printf '  b: {type: no-such-type}\n' >>"$T/files.yml"
st=0
out=$("$PLBA_MASTER" -t -c "$T/files.yml" 2>&1) || st=$?
[ $st -eq 2 ] || fail "--check passed an unknown type: $out"
grep -q -- "workers.b.type: " <<<"$out" || fail "unknown type: $out"
grep -q -- "log.output: $T/no-such-dir/plba.log" <<<"$out" ||
	fail "the files were not tried beside the unknown type: $out"
sed -i '$d' "$T/files.yml"
sed -i "s|$T/no-such-token|$T/empty-token|" "$T/files.yml"
out=$("$PLBA_MASTER" -t -c "$T/files.yml" 2>&1) || true
grep -q -- "platform.http.token_file: $T/empty-token: its first line, the token, is empty" <<<"$out" ||
	fail "empty token file: $out"
mkdir "$T/logs"
sed -i "s|$T/no-such-dir|$T/logs|" "$T/files.yml"
echo tok >"$T/empty-token"
out=$("$PLBA_MASTER" -t -c "$T/files.yml") || fail "files the start can open were refused: $out"
[ -z "$(ls "$T/logs")" ] || fail "--check created $(ls "$T/logs")"
# An OTLP endpoint the start refuses is refused here too.
cat >"$T/otlp.yml" <<YML
platform:
  trace: {transport: otlp, endpoint: "http:///v1/traces"}
workers:
  a: {command: [$TW]}
YML
st=0
out=$("$PLBA_MASTER" -t -c "$T/otlp.yml" 2>&1) || st=$?
[ $st -eq 2 ] || fail "--check passed an endpoint without a host: $out"
grep -q -- 'otlp.yml:2:[0-9]*: platform.trace.endpoint: http:///v1/traces: not an http:// or https:// URL with a host' <<<"$out" ||
	fail "endpoint: $out"

# Usage errors are 2 as well.
st=0
"$PLBA_MASTER" --no-such-flag >/dev/null 2>&1 || st=$?
[ $st -eq 2 ] || fail "usage error exited $st"
# The shipped demo and the example configuration are valid.
PLBA_BUILD=$PLBA_BUILDDIR PLBA_SRC=$PLBA_SRCDIR "$PLBA_MASTER" -t -c "$PLBA_SRCDIR/etc/demo.yml" ||
	fail "etc/demo.yml is invalid"
"$PLBA_MASTER" -t -c "$PLBA_SRCDIR/etc/plba.yml" || fail "etc/plba.yml is invalid"
echo "ok"
