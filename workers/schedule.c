/*
 * The timer's schedule: interval grids on the monotonic clock and times
 * of day on the wall clock.  No I/O, so tests/unit/test_schedule.c drives
 * it with made-up clocks.
 */
/* A module built like a third party's: no config.h, so ask for POSIX. */
#define _POSIX_C_SOURCE 200809L

#include "schedule.h"

#include <string.h>

static bool
two_digits(const char *s)
{
	return s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9';
}

int
sched_parse_tod(const char *s, struct sched_tod *out)
{
	const char *colon;
	int h;

	if (s == NULL || (colon = strchr(s, ':')) == NULL)
		return -1;
	if (colon - s == 1 && s[0] >= '0' && s[0] <= '9')
		h = s[0] - '0';
	else if (colon - s == 2 && two_digits(s))
		h = (s[0] - '0') * 10 + (s[1] - '0');
	else
		return -1;
	if (!two_digits(colon + 1) || colon[3] != '\0')
		return -1;
	out->hour = h;
	out->min = (colon[1] - '0') * 10 + (colon[2] - '0');
	return out->hour < 24 && out->min < 60 ? 0 : -1;
}

uint64_t
sched_next_interval(uint64_t due, uint64_t interval, uint64_t now)
{
	uint64_t k;

	if (interval == 0)
		interval = 1;
	if (now <= due)
		return due + interval;
	/* The first grid point at or after now: late by whole periods, the
	 * ones missed are dropped. */
	k = (now - due + interval - 1) / interval;
	return due + k * interval;
}

/* The instant of tod on the day `day_offset` days after now's local date. */
static time_t
tod_on_day(const struct sched_tod *tod, const struct tm *today, int day_offset)
{
	struct tm tm = *today;

	tm.tm_mday += day_offset;
	tm.tm_hour = tod->hour;
	tm.tm_min = tod->min;
	tm.tm_sec = 0;
	tm.tm_isdst = -1;	/* let the zone's rules decide */
	return mktime(&tm);
}

time_t
sched_next_at(const struct sched_tod *tods, size_t n, time_t now)
{
	struct tm today;
	time_t best = (time_t)-1, t;
	size_t i;
	int day;

	if (n == 0 || localtime_r(&now, &today) == NULL)
		return (time_t)-1;
	for (i = 0; i < n; i++) {
		/* Today, else tomorrow; the day after only across a DST
		 * change that makes tomorrow's instant come out early. */
		for (day = 0; day < 3; day++) {
			t = tod_on_day(&tods[i], &today, day);
			if (t != (time_t)-1 && t > now)
				break;
		}
		if (day < 3 && (best == (time_t)-1 || t < best))
			best = t;
	}
	return best;
}

void
sched_at_init(struct sched_at *s, const struct sched_tod *tods, size_t n,
    time_t now)
{
	s->tods = tods;
	s->n = n;
	s->seen = now;
	s->due = sched_next_at(tods, n, now);
}

bool
sched_at_step(struct sched_at *s, time_t now)
{
	bool fire = false;

	if (now < s->seen)
		s->due = sched_next_at(s->tods, s->n, now);
	else if (s->due != (time_t)-1 && now >= s->due) {
		fire = true;
		s->due = sched_next_at(s->tods, s->n, now);
	}
	s->seen = now;
	return fire;
}
