/*
 * The HTTP watchdog (src/master/http_watchdog.c): a request held past its
 * limit has its socket replaced by one that is not connected; a lookup of
 * the socket that fails (out of descriptors, say) is tried again at the
 * next tick; a connection forgotten before its limit is left alone.
 * civetweb's request info and the socket lookup are stubbed: the
 * "connection" is one end of a socketpair.
 */
#include "config.h"

#include <sys/socket.h>

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <civetweb.h>

#include "civet_sockets.h"
#include "http_watchdog.h"
#include "unit.h"

/* --- stubs ------------------------------------------------------------------- */

/* A connection as the watchdog sees it: civetweb's request info, and the
 * socket a lookup by its addresses finds, one end of a socketpair. */
struct fake {
	struct mg_request_info ri;	/* first: the connection is its address */
	int		 pair[2];
	int		 lookups;
};

static struct fake conn[2];
static int lookups_to_fail;	/* the next ones fail */

int
civet_connection_fd(struct in_addr peer, uint16_t peer_port,
    uint16_t local_port)
{
	size_t i;

	(void)peer;
	ck_assert_uint_eq(local_port, 8080);
	for (i = 0; i < 2; i++)
		if (conn[i].ri.remote_port == peer_port)
			break;
	ck_assert_uint_lt(i, 2);
	__atomic_add_fetch(&conn[i].lookups, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&lookups_to_fail, __ATOMIC_SEQ_CST) > 0) {
		__atomic_sub_fetch(&lookups_to_fail, 1, __ATOMIC_SEQ_CST);
		return -1;
	}
	return conn[i].pair[0];
}

const struct mg_request_info *
mg_get_request_info(const struct mg_connection *c)
{
	return &((const struct fake *)(const void *)c)->ri;
}

#define CONN(i)	((const struct mg_connection *)(const void *)&conn[i])

/* --- helpers ----------------------------------------------------------------- */

static int
lookups(int i)
{
	return __atomic_load_n(&conn[i].lookups, __ATOMIC_SEQ_CST);
}

/* Whether connection i still has its socket (AF_UNIX), not the
 * watchdog's unconnected stand-in (AF_INET). */
static bool
still_ours(int i)
{
	int domain = 0;
	socklen_t len = sizeof(domain);

	ck_assert_int_eq(getsockopt(conn[i].pair[0], SOL_SOCKET, SO_DOMAIN,
	    &domain, &len), 0);
	return domain == AF_UNIX;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Polls until connection i is cut, for up to secs; whether it was. */
static bool
cut_within(int i, double secs)
{
	double until = now_s() + secs;

	while (still_ours(i)) {
		if (now_s() > until)
			return false;
		usleep(20000);
	}
	return true;
}

static void
setup(void)
{
	int i;

	memset(conn, 0, sizeof(conn));
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0,
		    conn[i].pair), 0);
		strcpy(conn[i].ri.remote_addr, "127.0.0.1");
		conn[i].ri.remote_port = 40000 + i;
		conn[i].ri.server_port = 8080;
	}
	lookups_to_fail = 0;
}

static void
teardown(void)
{
	int i;

	for (i = 0; i < 2; i++) {
		close(conn[i].pair[0]);
		close(conn[i].pair[1]);
	}
}

/* --- tests ------------------------------------------------------------------- */

START_TEST(held_past_its_limit_is_cut)
{
	struct watchdog *wd = watchdog_start(0);

	ck_assert_ptr_nonnull(wd);
	watchdog_watch(wd, CONN(0));
	ck_assert_msg(cut_within(0, 10), "not cut within 10 s");
	/* The peer sees the end of the stream: the socket was let go of. */
	ck_assert_int_eq(read(conn[0].pair[1], &(char){ 0 }, 1), 0);
	watchdog_stop(wd);
}
END_TEST

/* The watch thread ticks once a second: a lookup that fails (out of
 * descriptors, say) is tried again at the next tick, not given up. */
START_TEST(failed_lookup_is_tried_again)
{
	struct watchdog *wd;

	lookups_to_fail = 2;
	ck_assert_ptr_nonnull(wd = watchdog_start(0));
	watchdog_watch(wd, CONN(0));
	ck_assert_msg(cut_within(0, 15), "not cut within 15 s after %d "
	    "lookups", lookups(0));
	ck_assert_int_eq(lookups(0), 3);
	watchdog_stop(wd);
}
END_TEST

/*
 * A cut connection is not looked up again, and one forgotten before its
 * limit is never cut.  A second connection, watched after them with no
 * time to spare, tells when the ticks that would have done it are past.
 */
START_TEST(cut_once)
{
	struct watchdog *wd = watchdog_start(0);

	ck_assert_ptr_nonnull(wd);
	watchdog_watch(wd, CONN(0));
	ck_assert(cut_within(0, 10));
	watchdog_watch(wd, CONN(1));
	ck_assert(cut_within(1, 10));
	ck_assert_int_eq(lookups(0), 1);
	watchdog_stop(wd);
}
END_TEST

START_TEST(forgotten_in_time_is_left_alone)
{
	struct watchdog *wd = watchdog_start(0);

	ck_assert_ptr_nonnull(wd);
	watchdog_watch(wd, CONN(0));
	watchdog_forget(wd, CONN(0));
	watchdog_watch(wd, CONN(1));
	ck_assert(cut_within(1, 10));
	ck_assert(still_ours(0));
	ck_assert_int_eq(lookups(0), 0);
	watchdog_stop(wd);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("watchdog");
	TCase *tc = tcase_create("cut");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, held_past_its_limit_is_cut);
	tcase_add_test(tc, failed_lookup_is_tried_again);
	tcase_add_test(tc, cut_once);
	tcase_add_test(tc, forgotten_in_time_is_left_alone);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
