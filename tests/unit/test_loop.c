/* The event loop's timer heap and fd dispatch. */
#include "config.h"

#include <sys/epoll.h>

#include "unit.h"
#include <stdlib.h>
#include <unistd.h>

#include "loop.h"

static int order[16];
static int norder;

static void
record(struct loop *l, struct timer *t)
{
	order[norder++] = (int)(long)t->arg;
}

START_TEST(timers_fire_in_deadline_order)
{
	struct loop *l = loop_new();
	struct timer t[5];
	uint64_t now = mono_ms();
	int deadlines[5] = { 30, 10, 50, 20, 40 }, i;

	norder = 0;
	for (i = 0; i < 5; i++) {
		timer_init(&t[i], record, (void *)(long)deadlines[i]);
		timer_at(l, &t[i], now + (uint64_t)deadlines[i]);
	}
	while (norder < 5)
		ck_assert_int_eq(loop_run_once(l), 0);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(order[i], (i + 1) * 10);
	loop_free(l);
}
END_TEST

START_TEST(cancel_and_rearm)
{
	struct loop *l = loop_new();
	struct timer a, b, c;
	uint64_t now = mono_ms();

	norder = 0;
	timer_init(&a, record, (void *)1L);
	timer_init(&b, record, (void *)2L);
	timer_init(&c, record, (void *)3L);
	timer_at(l, &a, now + 5);
	timer_at(l, &b, now + 10);
	timer_at(l, &c, now + 15);
	timer_cancel(l, &a);
	ck_assert(!timer_armed(&a));
	timer_at(l, &b, now + 20);	/* re-arm moves it behind c */
	while (norder < 2)
		loop_run_once(l);
	ck_assert_int_eq(order[0], 3);
	ck_assert_int_eq(order[1], 2);
	ck_assert(!timer_armed(&b));
	loop_free(l);
}
END_TEST

static int reads;

static void
on_read(struct loop *l, struct io *io, uint32_t events)
{
	char c;

	ck_assert(events & EPOLLIN);
	ck_assert_int_eq(read(io->fd, &c, 1), 1);
	reads++;
	io_del(l, io);
}

START_TEST(fd_dispatch_and_delete_inside_callback)
{
	struct loop *l = loop_new();
	struct io io;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	reads = 0;
	ck_assert_int_eq(io_add(l, &io, p[0], EPOLLIN, on_read, NULL), 0);
	ck_assert_int_eq(write(p[1], "xy", 2), 2);
	loop_run_once(l);
	ck_assert_int_eq(reads, 1);
	ck_assert_int_eq(io.fd, -1);
	close(p[0]);
	close(p[1]);
	loop_free(l);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("loop");
	TCase *tc = tcase_create("loop");

	tcase_add_test(tc, timers_fire_in_deadline_order);
	tcase_add_test(tc, cancel_and_rearm);
	tcase_add_test(tc, fd_dispatch_and_delete_inside_callback);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
