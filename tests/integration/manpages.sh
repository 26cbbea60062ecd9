# The manual pages: every page passes mandoc -Tlint at warning level, every
# alias page (.so) points at a page that exists, every page of ours that
# a page cross-references (.Xr) exists, and every page is installed.
. "$(dirname "$0")/lib.sh"

command -v mandoc >/dev/null || { echo "SKIP: mandoc is missing"; exit 77; }
cd "${PLBA_SRCDIR:?run through make check}/man"
P=$T/problems
: >"$P"
for f in *.[1-8]; do
	grep -q "man/$f\b" "$PLBA_SRCDIR/Makefile.am" || echo "$f is not in Makefile.am" >>"$P"
	if head -1 "$f" | grep -q '^\.so '; then
		target=$(head -1 "$f" | sed 's|^\.so man[1-8]/||')
		[ -f "$target" ] || echo "$f: .so names $target, which is not here" >>"$P"
		continue
	fi
	mandoc -Tlint -W warning "$f" 2>&1 | grep -v 'outdated mandoc.db' >>"$P" || true
	# Cross-references to pages of ours, wherever they are on a line.
	grep -o 'Xr \(plba\|libplba\|PLBA\)[A-Za-z0-9_.-]* [1-8]' "$f" |
	while read -r _ name section; do
		[ -f "$name.$section" ] || echo "$f: .Xr $name $section: no such page"
	done >>"$P"
done
if [ -s "$P" ]; then
	sed 's/^/PROBLEM: /' "$P" >&2
	fail "$(wc -l <"$P") problems in the manual pages"
fi
echo "ok"
