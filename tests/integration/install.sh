# make install DESTDIR=...: programs, library, headers, plba.pc, manual
# pages and the example configuration land where they should, and a
# worker builds against what was installed.
. "$(dirname "$0")/lib.sh"

: "${PLBA_BUILDDIR:?run through make check}"
root=$T/root
# The configured prefix (/usr/local, or distcheck's own): overriding it
# at install time would break libtool's relinking of the built-in
# worker modules, which link against the not yet installed libplba.
prefix=$(sed -n 's/^prefix = //p' "$PLBA_BUILDDIR/Makefile")
[ -n "$prefix" ] || fail "no prefix in $PLBA_BUILDDIR/Makefile"
make -s -C "$PLBA_BUILDDIR" install DESTDIR="$root" >"$T/install.log" 2>&1 ||
	{ cat "$T/install.log"; fail "make install failed"; }
for f in sbin/plba-master bin/plbactl libexec/plba/plba-worker \
    include/plba/plba.h include/plba/trace.h lib/pkgconfig/plba.pc \
    share/man/man8/plba-master.8 share/man/man5/plba.yml.5 \
    share/man/man7/plba-protocol.7 share/man/man7/plba-http.7 \
    share/man/man1/plbactl.1 share/man/man3/libplba.3 \
    share/man/man3/plba_publish.3 etc/plba/plba.yml \
    lib/systemd/system/plba-master.service etc/logrotate.d/plba.logrotate \
    lib/plba/workers/timer.so lib/plba/workers/http-probe.so \
    lib/plba/workers/imap-poller.so \
    share/man/man7/plba-workers.7; do
	[ -e "$root$prefix/$f" ] || fail "not installed: $f"
done
ls "$root$prefix"/lib/libplba.so.* >/dev/null || fail "no shared library"
# Only the plba_ prefix is exported.
if nm -D --defined-only "$root$prefix"/lib/libplba.so.0 | awk '$2 == "T" {print $3}' |
    grep -v '^plba_' | grep -q .; then
	fail "symbols without the plba_ prefix exported"
fi
# The built-in workers export their module and nothing else, and the
# installed master finds them in the installed directory.
for so in timer http-probe imap-poller; do
	syms=$(nm -D --defined-only "$root$prefix/lib/plba/workers/$so.so" |
	    awk '$2 ~ /^[TDRB]$/ {print $3}' | sort -u | tr '\n' ' ')
	[ "$syms" = "plba_module " ] || fail "$so.so exports: $syms"
done
cat >"$T/builtin.yml" <<YML
workers:
  t: {type: timer, config: {queue: q, interval: 1s}}
  p: {type: http-probe, config: {url: "http://127.0.0.1:1/"}}
YML
LD_LIBRARY_PATH=$root$prefix/lib PLBA_WORKERS_DIR=$root$prefix/lib/plba/workers \
    "$root$prefix/sbin/plba-master" -t -c "$T/builtin.yml" >/dev/null ||
	fail "the installed master does not find the installed built-in workers"
# A third party's worker, built with pkg-config against the install.
cat >"$T/w.c" <<'C'
#include <plba/plba.h>
#include <stdio.h>
static enum plba_task_result h(plba_worker *w, plba_task *t, void *a)
{ (void)w; (void)t; (void)a; return PLBA_TASK_OK; }
plba_task_handler handler = h;
int main(void) { printf("%s\n", plba_version()); return 0; }
C
export PKG_CONFIG_PATH=$root$prefix/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$root
# A library built with sanitizers needs a program built with them too.
cc -Wall -Werror ${PLBA_TEST_CFLAGS:-} -o "$T/w" "$T/w.c" $(pkg-config --cflags --libs plba) ||
	fail "a worker does not build against the installed headers"
LD_LIBRARY_PATH=$root$prefix/lib "$T/w" | grep -qx "0.1.0" || fail "installed library not usable"
# A module written in C++: the headers say they can be, and the master
# must find its plba_module under that name.
cat >"$T/m.cc" <<'CXX'
#include <plba/plba.h>
static int start(plba_worker *w, void *) { while (!plba_worker_sleep(w, 1000)); return 0; }
static const struct plba_worker_ops ops = { start, nullptr, nullptr };
static int init(plba_registry *r) { return plba_register_worker(r, "cxx", &ops, nullptr); }
PLBA_MODULE("cxx", init);
CXX
${CXX:-g++} -Wall -Wextra -Werror -pedantic -shared -fPIC ${PLBA_TEST_CFLAGS:-} \
    -o "$T/m.so" "$T/m.cc" $(pkg-config --cflags --libs plba) ||
	fail "a C++ module does not build against the installed headers"
printf 'platform: {modules: ["%s"]}\nworkers:\n  x: {module: cxx}\n' "$T/m.so" >"$T/cxx.yml"
LD_LIBRARY_PATH=$root$prefix/lib "$root$prefix/sbin/plba-master" -t -c "$T/cxx.yml" >/dev/null ||
	fail "the master does not load a C++ module"
man -l "$root$prefix/share/man/man8/plba-master.8" >/dev/null 2>&1 || fail "man page unreadable"

# The example application, built out of tree against the install with
# its own Makefile, run by the installed plba-master with the installed
# built-in workers.  Outside a real root the installed binaries look in
# $prefix: the variables point them into the DESTDIR tree instead.
mkdir "$T/mob"
make -s -C "$T/mob" -f "$PLBA_SRCDIR/examples/mail_order_bot/Makefile" \
    CFLAGS="-O2 -Werror ${PLBA_TEST_CFLAGS:-}" LDFLAGS="${PLBA_TEST_CFLAGS:-}" \
    >"$T/mob/build.log" 2>&1 ||
	{ cat "$T/mob/build.log"; fail "mail_order_bot does not build out of tree"; }
export LD_LIBRARY_PATH=$root$prefix/lib
export PLBA_WORKER_HOST=$root$prefix/libexec/plba/plba-worker
export PLBA_WORKERS_DIR=$root$prefix/lib/plba/workers
cat >"$T/plba.yml" <<YML
platform:
  modules: ["$T/mob/mail_order_bot.so"]
queues:
  emails: {capacity: 100}
workers:
  mail-poller:
    module: mail-faker
    config: {poll_interval: 100ms, batch: 7, limit: 21}
  email-processor:
    module: email-processor
    concurrency: 2
    consumes: emails
  imap:
    type: imap-poller
    config: {url: "imap://127.0.0.1:1/INBOX", user: u, password: p, queue: emails}
mail_order_bot:
  orders_file: $T/orders.jsonl
YML
"$root$prefix/sbin/plba-master" --check -c "$T/plba.yml" >"$T/check.out" 2>&1 ||
	{ cat "$T/check.out"; fail "the installed master rejects the example"; }
sed -i '/^  imap:/,/^    config: {url/d' "$T/plba.yml"
PLBA_MASTER=$root$prefix/sbin/plba-master
start_master
# 21 made-up mails, every 7th malformed: 18 orders.
wait_for 30 has_lines "$T/orders.jsonl" 18
stop_master
[ $STATUS -eq 0 ] || fail "stop exited $STATUS"
# The unit names the installed paths and is a notify service.
unit=$root$prefix/lib/systemd/system/plba-master.service
grep -qx "ExecStart=$prefix/sbin/plba-master -c $prefix/etc/plba/plba.yml" "$unit" ||
	fail "unit does not name the installed paths: $(grep ExecStart= "$unit")"
grep -qx "Type=notify" "$unit" || fail "unit is not Type=notify"
grep -q "@" "$unit" && fail "unsubstituted @...@ in the unit"
if command -v systemd-analyze >/dev/null 2>&1; then
	# Outside the root, the binary and the man pages are elsewhere: only
	# complaints about the unit itself count.
	systemd-analyze verify "$unit" >"$T/verify" 2>&1 || true
	if grep -v -e "is not executable" -e "Command 'man " "$T/verify" | grep -q .; then
		cat "$T/verify"
		fail "systemd-analyze verify complains about the unit"
	fi
fi

# An edited configuration survives make install and make uninstall; the
# shipped one, unchanged, is removed, as distcheck wants.
conf=$root$prefix/etc/plba/plba.yml
cmp -s "$PLBA_SRCDIR/etc/plba.yml" "$conf" || fail "the installed plba.yml is not the shipped one"
echo "# edited here" >>"$conf"
make -s -C "$PLBA_BUILDDIR" install DESTDIR="$root" >"$T/install2.log" 2>&1 ||
	{ cat "$T/install2.log"; fail "make install again failed"; }
grep -qx "# edited here" "$conf" || fail "make install replaced an edited plba.yml"
make -s -C "$PLBA_BUILDDIR" uninstall DESTDIR="$root" >"$T/uninstall.log" 2>&1 ||
	{ cat "$T/uninstall.log"; fail "make uninstall failed"; }
[ -e "$root$prefix/sbin/plba-master" ] && fail "make uninstall left plba-master"
grep -qx "# edited here" "$conf" || fail "make uninstall removed an edited plba.yml"
cp "$PLBA_SRCDIR/etc/plba.yml" "$conf"
make -s -C "$PLBA_BUILDDIR" uninstall DESTDIR="$root" >"$T/uninstall.log" 2>&1 ||
	{ cat "$T/uninstall.log"; fail "make uninstall failed"; }
[ -e "$conf" ] && fail "make uninstall left the shipped plba.yml"
echo "ok"
