/* The timer's schedule (workers/schedule.c): grids, times of day, jumps. */
#include "config.h"

#include "unit.h"
#include <stdlib.h>
#include <time.h>

#include "schedule.h"

/* A POSIX zone rule, so the tests need no tzdata: Central European
 * time, summer time from the last Sunday of March to that of October. */
#define CET	"CET-1CEST,M3.5.0,M10.5.0/3"

static time_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
	    .tm_hour = h, .tm_min = mi, .tm_sec = s };

	return timegm(&tm);
}

static void
zone(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

START_TEST(parse_times_of_day)
{
	static const char *bad[] = { "24:00", "12:60", "1:5", "12:345", "",
	    "ab:cd", "12-30", " 12:30", "12:30 ", "123:00", ":30", "12:" };
	struct sched_tod t;
	size_t i;

	ck_assert_int_eq(sched_parse_tod("00:00", &t), 0);
	ck_assert_int_eq(t.hour, 0);
	ck_assert_int_eq(t.min, 0);
	ck_assert_int_eq(sched_parse_tod("9:05", &t), 0);
	ck_assert_int_eq(t.hour, 9);
	ck_assert_int_eq(t.min, 5);
	ck_assert_int_eq(sched_parse_tod("23:59", &t), 0);
	ck_assert_int_eq(t.hour, 23);
	ck_assert_int_eq(t.min, 59);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(sched_parse_tod(bad[i], &t) == -1,
		    "\"%s\" accepted", bad[i]);
	ck_assert_int_eq(sched_parse_tod(NULL, &t), -1);
}
END_TEST

START_TEST(interval_on_time)
{
	/* A firing that took 7 ms does not push the next one back. */
	ck_assert_uint_eq(sched_next_interval(1000, 200, 1007), 1200);
	ck_assert_uint_eq(sched_next_interval(1000, 200, 1000), 1200);
	/* Done exactly at the next point: that point, at once. */
	ck_assert_uint_eq(sched_next_interval(1000, 200, 1200), 1200);
}
END_TEST

START_TEST(interval_no_drift)
{
	uint64_t due = 0;
	int i;

	/* 1000 firings that each take 7 ms stay on the 200 ms grid. */
	for (i = 0; i < 1000; i++)
		due = sched_next_interval(due, 200, due + 7);
	ck_assert_uint_eq(due, 200000);
}
END_TEST

START_TEST(interval_skips_missed)
{
	/* Blocked for 3.5 periods: the next is the grid point after now,
	 * once, not three firings in a row. */
	ck_assert_uint_eq(sched_next_interval(1000, 200, 1700), 1800);
	ck_assert_uint_eq(sched_next_interval(1000, 200, 1799), 1800);
	ck_assert_uint_eq(sched_next_interval(1000, 200, 1801), 2000);
	ck_assert_uint_eq(sched_next_interval(0, 1000, 3600000 + 1), 3601000);
}
END_TEST

START_TEST(at_today_or_tomorrow)
{
	struct sched_tod t[2];
	time_t now = utc(2026, 1, 15, 10, 0, 0);

	zone("UTC0");
	sched_parse_tod("09:00", &t[0]);
	sched_parse_tod("12:30", &t[1]);
	ck_assert_int_eq(sched_next_at(t, 2, now), utc(2026, 1, 15, 12, 30, 0));
	ck_assert_int_eq(sched_next_at(t, 1, now), utc(2026, 1, 16, 9, 0, 0));
	/* Strictly after: at the due second itself, the next one. */
	ck_assert_int_eq(sched_next_at(&t[1], 1, utc(2026, 1, 15, 12, 30, 0)),
	    utc(2026, 1, 16, 12, 30, 0));
	ck_assert_int_eq(sched_next_at(t, 0, now), (time_t)-1);
	/* Across the end of a month and of a year. */
	ck_assert_int_eq(sched_next_at(t, 1, utc(2026, 12, 31, 23, 0, 0)),
	    utc(2027, 1, 1, 9, 0, 0));
}
END_TEST

START_TEST(at_local_time)
{
	struct sched_tod t;

	/* 09:00 in Berlin is 08:00 UTC in winter, 07:00 UTC in summer. */
	zone(CET);
	sched_parse_tod("09:00", &t);
	ck_assert_int_eq(sched_next_at(&t, 1, utc(2026, 1, 15, 0, 0, 0)),
	    utc(2026, 1, 15, 8, 0, 0));
	ck_assert_int_eq(sched_next_at(&t, 1, utc(2026, 7, 15, 0, 0, 0)),
	    utc(2026, 7, 15, 7, 0, 0));
	/* Over the spring change (29 March 2026): the next day's 09:00 is
	 * 23 hours later, not 24. */
	ck_assert_int_eq(sched_next_at(&t, 1, utc(2026, 3, 28, 8, 0, 0)),
	    utc(2026, 3, 29, 7, 0, 0));
}
END_TEST

START_TEST(at_skipped_hour)
{
	struct sched_tod t;
	time_t now = utc(2026, 3, 29, 0, 0, 0), next;	/* 01:00 CET */

	/* 02:30 does not exist that night; it fires once, in the hour
	 * around the change, and not again the same day. */
	zone(CET);
	sched_parse_tod("02:30", &t);
	next = sched_next_at(&t, 1, now);
	ck_assert(next > now);
	ck_assert(next <= now + 3 * 3600);
	ck_assert(sched_next_at(&t, 1, next) >= utc(2026, 3, 30, 0, 0, 0));
}
END_TEST

START_TEST(at_jump_forward_fires_once)
{
	struct sched_tod t[2];
	struct sched_at s;
	time_t now = utc(2026, 1, 15, 10, 0, 0), later;
	int fired = 0, i;

	zone("UTC0");
	sched_parse_tod("11:00", &t[0]);
	sched_parse_tod("23:00", &t[1]);
	sched_at_init(&s, t, 2, now);
	ck_assert_int_eq(s.due, utc(2026, 1, 15, 11, 0, 0));
	ck_assert(!sched_at_step(&s, now + 1));
	/* The clock is set three days ahead: six due times passed. */
	later = now + 3 * 86400;
	for (i = 0; i < 10; i++)
		fired += sched_at_step(&s, later + i);
	ck_assert_int_eq(fired, 1);
	ck_assert_int_eq(s.due, utc(2026, 1, 18, 11, 0, 0));
}
END_TEST

START_TEST(at_jump_back_recomputes)
{
	struct sched_tod t;
	struct sched_at s;
	time_t now = utc(2026, 1, 15, 10, 0, 0);

	zone("UTC0");
	sched_parse_tod("09:30", &t);
	sched_at_init(&s, &t, 1, now);
	ck_assert_int_eq(s.due, utc(2026, 1, 16, 9, 30, 0));
	/* Set back to 09:00: today's 09:30 is ahead again, and due. */
	ck_assert(!sched_at_step(&s, utc(2026, 1, 15, 9, 0, 0)));
	ck_assert_int_eq(s.due, utc(2026, 1, 15, 9, 30, 0));
	ck_assert(!sched_at_step(&s, utc(2026, 1, 15, 9, 29, 59)));
	ck_assert(sched_at_step(&s, utc(2026, 1, 15, 9, 30, 0)));
	ck_assert(!sched_at_step(&s, utc(2026, 1, 15, 9, 30, 1)));
	ck_assert_int_eq(s.due, utc(2026, 1, 16, 9, 30, 0));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("schedule");
	TCase *tc = tcase_create("schedule");

	tcase_add_test(tc, parse_times_of_day);
	tcase_add_test(tc, interval_on_time);
	tcase_add_test(tc, interval_no_drift);
	tcase_add_test(tc, interval_skips_missed);
	tcase_add_test(tc, at_today_or_tomorrow);
	tcase_add_test(tc, at_local_time);
	tcase_add_test(tc, at_skipped_hour);
	tcase_add_test(tc, at_jump_forward_fires_once);
	tcase_add_test(tc, at_jump_back_recomputes);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
