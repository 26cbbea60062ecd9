# Headless Chromium for the dashboard's tests, driven over the DevTools
# protocol (dashboard.py).  Source it after lib.sh; needs URL.
#   start_browser PAGE    opens PAGE on its own profile and home
#   cdp EXPRESSION        its value in the page whose URL starts with $URL/
#   page_has EXPRESSION   the expression is true there
[ -x /usr/bin/chromium ] || { echo "SKIP: /usr/bin/chromium is missing"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 is missing"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl is missing"; exit 77; }

DRIVER=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/dashboard.py
CHROME=
DEVPORT=

finish_browser() {
	local rc=$?
	set +e
	if [ -n "$CHROME" ]; then
		# Its own process group (setsid): the renderers go with it.
		kill -KILL -- -"$CHROME" 2>/dev/null || true
		wait "$CHROME" 2>/dev/null || true
	fi
	(exit $rc)	# cleanup reads the status from $?
	cleanup
}
trap finish_browser EXIT

start_browser() {
	mkdir -p "$T/home" "$T/profile"
	HOME=$T/home XDG_CONFIG_HOME=$T/home/.config XDG_CACHE_HOME=$T/home/.cache \
		setsid /usr/bin/chromium --headless --no-sandbox --disable-gpu \
		--disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync --disable-extensions \
		--user-data-dir="$T/profile" --remote-debugging-address=127.0.0.1 \
		--remote-debugging-port=0 "$1" >"$T/chromium.log" 2>&1 &
	CHROME=$!
	wait_for 30 test -s "$T/profile/DevToolsActivePort"
	DEVPORT=$(head -n 1 "$T/profile/DevToolsActivePort")
}

cdp() { python3 "$DRIVER" "$DEVPORT" "$URL/" "$1"; }
page_has() { [ "$(cdp "$1" 2>/dev/null)" = true ]; }
