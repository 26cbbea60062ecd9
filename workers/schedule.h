/*
 * When a timer fires: the pure arithmetic behind workers/timer.c, kept
 * apart so it is unit-tested without clocks or processes.
 */
#ifndef PLBA_WORKERS_SCHEDULE_H
#define PLBA_WORKERS_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* A time of day, local time. */
struct sched_tod {
	int	hour;	/* 0-23 */
	int	min;	/* 0-59 */
};

/*
 * Parses "HH:MM" (24-hour clock, one or two digits for the hour, two for
 * the minutes).  Returns 0, or -1 for anything else.
 */
int	 sched_parse_tod(const char *s, struct sched_tod *out);

/*
 * The next due time of an interval timer that was due at `due`, now that
 * the monotonic clock reads `now` (all in ms).  It stays on the grid
 * due + k * interval (k >= 1), so there is no drift, and it is the first
 * point of the grid at or after now, so firings missed while a publish
 * was blocked are skipped, not replayed in a burst.
 */
uint64_t sched_next_interval(uint64_t due, uint64_t interval, uint64_t now);

/*
 * The first of the times of day strictly after the wall-clock time now,
 * in the local time zone (TZ).  A time that does not exist on a day (the
 * hour skipped when daylight saving time begins) is the instant mktime(3)
 * normalises it to.  Returns (time_t)-1 when n is 0.
 */
time_t	 sched_next_at(const struct sched_tod *tods, size_t n, time_t now);

/*
 * The state of a times-of-day timer between looks at the wall clock.
 */
struct sched_at {
	const struct sched_tod *tods;
	size_t		 n;
	time_t		 due;	/* the next firing */
	time_t		 seen;	/* the wall clock at the last look */
};

/* Starts the schedule at the wall-clock time now. */
void	 sched_at_init(struct sched_at *, const struct sched_tod *tods,
	    size_t n, time_t now);
/*
 * One look at the wall clock.  Returns true when the timer fires now;
 * then, and whenever the clock went backwards since the last look, the
 * due time is computed afresh from now.  So a clock that jumps forward
 * over several due times fires once, and one that jumps back waits for
 * the next due time of the new time of day.
 */
bool	 sched_at_step(struct sched_at *, time_t now);

#endif
