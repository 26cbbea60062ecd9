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
echo "$out" | grep -q "configuration ok: 1 worker (2 instances)" || fail "summary: $out"

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
echo "$out" | grep -q "bad.yml:3:3: platform.colour" || fail "no position for unknown key: $out"
echo "$out" | grep -q "bad.yml:7:18: workers.a.concurrency" || fail "no position for concurrency: $out"

# The same file refuses to start, and nothing is started.
st=0
"$PLBA_MASTER" -c "$T/bad.yml" >"$T/out" 2>&1 || st=$?
[ $st -eq 2 ] || fail "start with a bad file exited $st"

# Broken YAML names its position too.
printf 'workers:\n  a: [unclosed\n' >"$T/broken.yml"
st=0
out=$("$PLBA_MASTER" -t -c "$T/broken.yml" 2>&1) || st=$?
[ $st -eq 2 ] || fail "broken YAML exited $st"
echo "$out" | grep -q "broken.yml:[0-9]*:[0-9]*:" || fail "no position in: $out"

# Later files override earlier ones.
cat >"$T/override.yml" <<YML
workers:
  a:
    concurrency: 5
YML
out=$("$PLBA_MASTER" -t -c "$T/plba.yml" -c "$T/override.yml") || fail "merge rejected"
echo "$out" | grep -q "(5 instances)" || fail "merge not applied: $out"

# Usage errors are 2 as well.
st=0
"$PLBA_MASTER" --no-such-flag >/dev/null 2>&1 || st=$?
[ $st -eq 2 ] || fail "usage error exited $st"
# The shipped demo and the example configuration are valid.
PLBA_BUILD=$PLBA_BUILDDIR PLBA_SRC=$PLBA_SRCDIR "$PLBA_MASTER" -t -c "$PLBA_SRCDIR/etc/demo.yml" ||
	fail "etc/demo.yml is invalid"
"$PLBA_MASTER" -t -c "$PLBA_SRCDIR/etc/plba.yml" || fail "etc/plba.yml is invalid"
echo "ok"
