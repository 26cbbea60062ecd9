# A file with no configuration in it (empty, comments only, a null
# document) is an error, at --check, at start and at a reload: the last
# is what an editor leaves mid-save, and taken as empty it would stop
# every worker and the HTTP server.  {} is an empty configuration.
. "$(dirname "$0")/lib.sh"

want='the file holds no configuration (it is empty, comments only or null); write {} for an empty one on purpose'
i=0
for text in '' '\n\n' '# all commented out\n' 'null\n' '~\n' '---\n...\n'; do
	i=$((i + 1))
	printf -- "$text" >"$T/empty$i.yml"
	st=0
	out=$("$PLBA_MASTER" -t -c "$T/empty$i.yml" 2>&1) || st=$?
	[ $st -eq 2 ] || fail "--check on '$text' exited $st: $out"
	grep -qF -- "$T/empty$i.yml:1:1: $want" <<<"$out" ||
		fail "--check on '$text' said: $out"
done

# Also as a later -c file, and at start.
printf 'workers: {}\n' >"$T/base.yml"
st=0
out=$("$PLBA_MASTER" -t -c "$T/base.yml" -c "$T/empty1.yml" 2>&1) || st=$?
[ $st -eq 2 ] || fail "--check of an empty second file exited $st: $out"
grep -qF -- "$T/empty1.yml:1:1: $want" <<<"$out" || fail "second file: $out"
st=0
"$PLBA_MASTER" -c "$T/empty3.yml" >"$T/out" 2>&1 || st=$?
[ $st -eq 2 ] || fail "start with an empty file exited $st"
grep -qF -- "$want" "$T/out" || fail "start: $(cat "$T/out")"

# {} on purpose is fine.
printf '# nothing yet\n{}\n' >"$T/none.yml"
out=$("$PLBA_MASTER" -t -c "$T/none.yml") || fail "{} rejected: $out"
grep -q -- "configuration ok: 0 workers" <<<"$out" || fail "{}: $out"

# A reload of an emptied file keeps the workers and the HTTP server.
http_port
cat >"$T/plba.yml" <<YML
platform:
  http: {enabled: true, listen: [127.0.0.1:$PORT]}
workers:
  a:
    command: [$TW, --record, $T]
YML
start_master
wait_for 10 has_lines "$T/a.0" 1
wait_for 10 curl_ok "$URL/health"
a=$(last_pid "$T/a.0")
: >"$T/plba.yml"
kill -HUP "$MASTER"
wait_for 10 log_has "configuration rejected"
log_has "plba.yml:1:1: the file holds no configuration" ||
	fail "the reload error does not say why"
alive "$a" || fail "the worker stopped on a reload of an empty file"
curl_ok "$URL/health" || fail "HTTP stopped on a reload of an empty file"
log_has "a: removed from the configuration" && fail "a was removed"
stop_master
[ $STATUS -eq 0 ] || fail "master exited $STATUS"
