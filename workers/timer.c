/*
 * timer: the built-in worker that publishes a task on a fixed interval or
 * at times of day (plba-workers(7)).  A module on the public API like any
 * user's: plba-master loads it for `type: timer`.
 *
 * Intervals run on CLOCK_MONOTONIC, so setting the clock moves nothing;
 * times of day run on the wall clock in the instance's TZ, looked at
 * again at least once a second so a clock change is noticed.
 */
/* A module built like a third party's: no config.h, so ask for POSIX. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <plba/plba.h>

#include "schedule.h"
#include "wconf.h"

/* The longest wait between two looks at the wall clock. */
#define AT_LOOK_MS	1000

struct timer_conf {
	const char	*queue;
	const char	*task;
	char		*payload;	/* JSON text; NULL is null */
	uint64_t	 interval_ms;	/* 0: times of day */
	struct sched_tod *tods;
	size_t		 ntods;
	bool		 immediately;
};

static const char *const timer_keys[] = {
	"queue", "task", "payload", "interval", "at", "immediately", NULL
};

/* --- configuration ------------------------------------------------------- */

/*
 * The payload as JSON.  The configuration API reads every scalar as text
 * and cannot tell 42 from "42", so scalars become JSON strings; only an
 * unquoted null, ~ or empty value becomes JSON null.
 */
static cJSON *
node_json(const plba_node *n)
{
	cJSON *o, *v;
	const char *s;
	size_t i;

	switch (plba_node_kind(n)) {
	case PLBA_NODE_MAP:
		if ((o = cJSON_CreateObject()) == NULL)
			return NULL;
		for (i = 0; i < plba_node_count(n); i++) {
			if ((v = node_json(plba_node_at(n, i))) == NULL) {
				cJSON_Delete(o);
				return NULL;
			}
			cJSON_AddItemToObject(o, plba_node_key_at(n, i), v);
		}
		return o;
	case PLBA_NODE_SEQ:
		if ((o = cJSON_CreateArray()) == NULL)
			return NULL;
		for (i = 0; i < plba_node_count(n); i++) {
			if ((v = node_json(plba_node_at(n, i))) == NULL) {
				cJSON_Delete(o);
				return NULL;
			}
			cJSON_AddItemToArray(o, v);
		}
		return o;
	case PLBA_NODE_SCALAR:
		break;
	}
	if (plba_node_string(n, NULL, NULL, &s) != PLBA_OK || s == NULL)
		return cJSON_CreateNull();
	return cJSON_CreateString(s);
}

static int
read_payload(plba_worker *w, const plba_node *cfg, struct timer_conf *c)
{
	const plba_node *p = plba_node_get(cfg, "payload");
	cJSON *j;

	c->payload = NULL;
	if (p == NULL)
		return 0;
	if ((j = node_json(p)) == NULL ||
	    (c->payload = cJSON_PrintUnformatted(j)) == NULL) {
		cJSON_Delete(j);
		wconf_error(w, "payload", "out of memory");
		return -1;
	}
	cJSON_Delete(j);
	return 0;
}

/* `at`: one "HH:MM" or a list of them. */
static int
read_at(plba_worker *w, const plba_node *at, struct timer_conf *c)
{
	bool seq = plba_node_kind(at) == PLBA_NODE_SEQ;
	const plba_node *item;
	const char *s;
	size_t i, n;
	int bad = 0;

	n = seq ? plba_node_count(at) : 1;
	if (plba_node_kind(at) == PLBA_NODE_MAP || n == 0) {
		wconf_error(w, "at", "expected a time of day \"HH:MM\" or a "
		    "list of them");
		return -1;
	}
	if ((c->tods = calloc(n, sizeof(*c->tods))) == NULL) {
		wconf_error(w, "at", "out of memory");
		return -1;
	}
	/* Every bad entry is said, not only the first. */
	for (i = 0; i < n; i++) {
		item = seq ? plba_node_at(at, i) : at;
		s = NULL;
		if (plba_node_string(item, NULL, NULL, &s) == PLBA_OK &&
		    s != NULL && sched_parse_tod(s, &c->tods[i]) == 0)
			continue;
		wconf_item_error(w, "at", seq ? (long)i : -1, item, "\"%s\" is "
		    "not a time of day \"HH:MM\" (00:00 to 23:59)",
		    s != NULL ? s : "");
		bad++;
	}
	c->ntods = n;
	return bad > 0 ? -1 : 0;
}

/* Either `interval` or `at`, never both. */
static int
read_schedule(plba_worker *w, const plba_node *cfg, struct timer_conf *c)
{
	const plba_node *at = plba_node_get(cfg, "at");
	bool has_interval = plba_node_get(cfg, "interval") != NULL;

	if (has_interval && at != NULL) {
		wconf_error(w, "at", "set either interval or at, not both");
		return -1;
	}
	if (at != NULL)
		return read_at(w, at, c);
	if (!has_interval) {
		wconf_error(w, "interval", "required (or at)");
		return -1;
	}
	if (plba_node_duration(cfg, "interval", 0, &c->interval_ms) !=
	    PLBA_OK) {
		wconf_type_error(w, "interval",
		    "a duration such as 500ms, 30s, 5m or 1h");
		return -1;
	}
	if (c->interval_ms == 0) {
		wconf_error(w, "interval", "must be more than 0");
		return -1;
	}
	return 0;
}

static int
read_config(plba_worker *w, struct timer_conf *c)
{
	const plba_node *cfg = plba_worker_config(w);
	int bad;

	memset(c, 0, sizeof(*c));
	if (cfg != NULL && plba_node_kind(cfg) != PLBA_NODE_MAP) {
		wconf_error(w, NULL, "expected a map");
		return -1;
	}
	bad = wconf_unknown_keys(w, timer_keys);
	if (plba_node_string(cfg, "queue", NULL, &c->queue) != PLBA_OK) {
		wconf_type_error(w, "queue", "a queue name");
		bad++;
	} else if (c->queue == NULL || *c->queue == '\0') {
		wconf_error(w, "queue", "required: the queue to publish to");
		bad++;
	}
	if (plba_node_string(cfg, "task", "tick", &c->task) != PLBA_OK) {
		wconf_type_error(w, "task", "a task name");
		bad++;
	}
	if (plba_node_bool(cfg, "immediately", false, &c->immediately) !=
	    PLBA_OK) {
		wconf_type_error(w, "immediately", "true or false");
		bad++;
	}
	if (read_schedule(w, cfg, c) == -1)
		bad++;
	if (read_payload(w, cfg, c) == -1)
		bad++;
	return bad > 0 ? -1 : 0;
}

/* --- running ------------------------------------------------------------- */

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Publishes one task.  Blocks while the queue is full (back-pressure).
 * Returns 0 to go on, 1 when the instance must end: the master is gone
 * or a forced stop came.  Other failures make the instance unhealthy
 * until a publish works again, logged once per change.
 */
static int
fire(plba_worker *w, const struct timer_conf *c, bool *failing)
{
	char detail[256];
	plba_span *span;
	int rc;

	plba_worker_set_status(w, PLBA_STATUS_BUSY);
	/* Each tick begins a trace, so what it sets off can be followed:
	 * the task carries it to its consumer. */
	span = plba_trace_start(w, "timer tick");
	plba_span_set_str(span, "plba.queue", c->queue);
	plba_span_set_str(span, "plba.task.name", c->task);
	rc = plba_publish(w, c->queue, c->task, c->payload, NULL, 0);
	if (rc == PLBA_OK)
		plba_span_ok(span);
	else
		plba_span_error(span, "%s", plba_strerror(rc));
	plba_span_end(span);
	plba_worker_set_status(w, PLBA_STATUS_IDLE);
	if (rc == PLBA_ECLOSED || rc == PLBA_ESTATE)
		return 1;
	if (rc != PLBA_OK) {
		snprintf(detail, sizeof(detail), "publish to queue \"%s\": %s",
		    c->queue, plba_strerror(rc));
		if (!*failing)
			fprintf(stderr, "timer: %s\n", detail);
		plba_worker_set_health(w, PLBA_HEALTH_UNHEALTHY, detail);
		*failing = true;
	} else if (*failing) {
		plba_worker_set_health(w, PLBA_HEALTH_OK, NULL);
		*failing = false;
	}
	return 0;
}

static int
run_interval(plba_worker *w, const struct timer_conf *c)
{
	uint64_t due = mono_ms(), now;
	bool failing = false;

	if (!c->immediately)
		due += c->interval_ms;
	for (;;) {
		now = mono_ms();
		if (now < due && plba_worker_sleep(w, due - now))
			return 0;
		if (plba_worker_stopping(w))
			return 0;
		if (fire(w, c, &failing) != 0)
			return plba_worker_stopping(w) ? 0 : 1;
		due = sched_next_interval(due, c->interval_ms, mono_ms());
	}
}

static int
run_at(plba_worker *w, const struct timer_conf *c)
{
	struct sched_at s;
	uint64_t now, wait;
	bool failing = false;

	sched_at_init(&s, c->tods, c->ntods, (time_t)(wall_ms() / 1000));
	if (c->immediately && fire(w, c, &failing) != 0)
		return plba_worker_stopping(w) ? 0 : 1;
	for (;;) {
		now = wall_ms();
		if (sched_at_step(&s, (time_t)(now / 1000))) {
			if (fire(w, c, &failing) != 0)
				return plba_worker_stopping(w) ? 0 : 1;
			continue;
		}
		wait = AT_LOOK_MS;
		if (s.due != (time_t)-1 && (uint64_t)s.due * 1000 > now &&
		    (uint64_t)s.due * 1000 - now < wait)
			wait = (uint64_t)s.due * 1000 - now;
		if (plba_worker_sleep(w, wait))
			return 0;
	}
}

/* What timer_check read, for timer_start: one worker per process. */
static struct timer_conf conf;

static int
timer_check(plba_worker *w, void *arg)
{
	(void)arg;
	/* TZ may come from the worker's `environment:`. */
	tzset();
	return read_config(w, &conf);
}

static int
timer_start(plba_worker *w, void *arg)
{
	int rc;

	(void)arg;
	plba_worker_set_health(w, PLBA_HEALTH_OK, NULL);
	rc = conf.interval_ms > 0 ? run_interval(w, &conf) : run_at(w, &conf);
	free(conf.tods);
	cJSON_free(conf.payload);
	return rc;
}

static const struct plba_worker_ops timer_ops = { .start = timer_start };

static int
timer_init(plba_registry *reg)
{
	int rc;

	if ((rc = plba_register_worker(reg, "timer", &timer_ops, NULL)) != 0)
		return rc;
	return plba_register_check(reg, "timer", timer_check);
}

PLBA_MODULE("timer", timer_init);
