/* Health and status rules of SPEC section 7, as tables. */
#include "config.h"

#include "unit.h"
#include <stdlib.h>
#include <string.h>

#include "health.h"

#define MAXW	4
#define MAXI	4

/* Instance views in a line: I(OK, IDLE) is an idle instance in good health. */
#define I(h, s)	{ HEALTH_##h, STATUS_##s }

static const struct hcase {
	const char	*name;
	size_t		 nw;
	struct {
		bool		 critical;
		size_t		 n;
		struct inst_view inst[MAXI];
	} w[MAXW];
	enum health	 want;
} hcases[] = {
	{ "no workers", 0, { { 0 } }, HEALTH_OK },
	{ "one critical, ok", 1, {
	    { true, 1, { I(OK, IDLE) } } }, HEALTH_OK },
	{ "all ok, idle and busy", 3, {
	    { true, 2, { I(OK, IDLE), I(OK, BUSY) } },
	    { false, 1, { I(OK, BUSY) } },
	    { true, 3, { I(OK, IDLE), I(OK, IDLE), I(OK, IDLE) } } }, HEALTH_OK },
	{ "ok instances starting and stopping beside healthy ones", 1, {
	    { true, 3, { I(OK, STARTING), I(OK, IDLE), I(OK, STOPPING) } } },
	    HEALTH_OK },
	{ "one degraded instance", 2, {
	    { true, 2, { I(OK, IDLE), I(DEGRADED, IDLE) } },
	    { false, 1, { I(OK, IDLE) } } }, HEALTH_DEGRADED },
	{ "critical worker's only instance degraded still counts", 1, {
	    { true, 1, { I(DEGRADED, BUSY) } } }, HEALTH_DEGRADED },
	{ "one unhealthy instance, a healthy one beside it", 1, {
	    { true, 2, { I(UNHEALTHY, IDLE), I(OK, BUSY) } } }, HEALTH_DEGRADED },
	{ "unhealthy failed instance beside a healthy one", 1, {
	    { true, 2, { I(OK, IDLE), I(UNHEALTHY, FAILED) } } },
	    HEALTH_DEGRADED },
	{ "degraded instance that is stopping", 1, {
	    { true, 2, { I(OK, IDLE), I(DEGRADED, STOPPING) } } },
	    HEALTH_DEGRADED },
	{ "critical, all unhealthy", 1, {
	    { true, 2, { I(UNHEALTHY, IDLE), I(UNHEALTHY, BUSY) } } },
	    HEALTH_UNHEALTHY },
	{ "critical, all stopped", 1, {
	    { true, 2, { I(OK, STOPPED), I(OK, STOPPED) } } }, HEALTH_UNHEALTHY },
	{ "critical, all starting", 1, {
	    { true, 2, { I(OK, STARTING), I(OK, STARTING) } } },
	    HEALTH_UNHEALTHY },
	{ "critical, all failed", 1, {
	    { true, 2, { I(UNHEALTHY, FAILED), I(UNHEALTHY, FAILED) } } },
	    HEALTH_UNHEALTHY },
	{ "critical, failed with health left ok", 1, {
	    { true, 1, { I(OK, FAILED) } } }, HEALTH_UNHEALTHY },
	{ "critical, stopping and starting only", 1, {
	    { true, 2, { I(OK, STOPPING), I(DEGRADED, STARTING) } } },
	    HEALTH_UNHEALTHY },
	{ "critical, no instances", 1, {
	    { true, 0, { { 0 } } } }, HEALTH_UNHEALTHY },
	{ "one critical worker down among healthy ones", 3, {
	    { true, 1, { I(OK, IDLE) } },
	    { false, 1, { I(DEGRADED, IDLE) } },
	    { true, 2, { I(UNHEALTHY, BUSY), I(OK, STARTING) } } },
	    HEALTH_UNHEALTHY },
	{ "critical down listed first", 2, {
	    { true, 1, { I(UNHEALTHY, IDLE) } },
	    { false, 1, { I(OK, IDLE) } } }, HEALTH_UNHEALTHY },
	{ "non-critical, all unhealthy", 2, {
	    { true, 1, { I(OK, IDLE) } },
	    { false, 2, { I(UNHEALTHY, IDLE), I(UNHEALTHY, BUSY) } } },
	    HEALTH_DEGRADED },
	{ "non-critical, all failed", 2, {
	    { true, 1, { I(OK, BUSY) } },
	    { false, 2, { I(UNHEALTHY, FAILED), I(UNHEALTHY, FAILED) } } },
	    HEALTH_DEGRADED },
	/* SPEC 7: a crash loop (failed) is unhealthy, whatever health the
	 * instance last reported. */
	{ "non-critical, failed with health left ok", 2, {
	    { true, 1, { I(OK, IDLE) } },
	    { false, 1, { I(OK, FAILED) } } }, HEALTH_DEGRADED },
	{ "only non-critical workers, none healthy", 2, {
	    { false, 1, { I(UNHEALTHY, IDLE) } },
	    { false, 1, { I(UNHEALTHY, FAILED) } } }, HEALTH_DEGRADED },
};

START_TEST(runtime_health_table)
{
	const struct hcase *c = &hcases[_i];
	struct worker_view ws[MAXW];
	size_t i;

	for (i = 0; i < c->nw; i++) {
		ws[i].critical = c->w[i].critical;
		ws[i].inst = c->w[i].inst;
		ws[i].ninst = c->w[i].n;
	}
	ck_assert_msg(runtime_health(c->nw > 0 ? ws : NULL, c->nw) == c->want,
	    "%s: got %s, want %s", c->name,
	    health_name(runtime_health(c->nw > 0 ? ws : NULL, c->nw)),
	    health_name(c->want));
}
END_TEST

START_TEST(inst_healthy_matrix)
{
	static const enum status all[] = { STATUS_STARTING, STATUS_IDLE,
		STATUS_BUSY, STATUS_STOPPING, STATUS_STOPPED, STATUS_FAILED };
	static const enum health hs[] = { HEALTH_OK, HEALTH_DEGRADED,
		HEALTH_UNHEALTHY };
	struct inst_view v;
	size_t i, j;
	bool want;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		for (j = 0; j < sizeof(hs) / sizeof(hs[0]); j++) {
			v.status = all[i];
			v.health = hs[j];
			want = (all[i] == STATUS_IDLE || all[i] == STATUS_BUSY) &&
			    hs[j] != HEALTH_UNHEALTHY;
			ck_assert_msg(inst_healthy(&v) == want, "%s/%s",
			    status_name(all[i]), health_name(hs[j]));
		}
}
END_TEST

START_TEST(worker_health_worst)
{
	static const struct inst_view ok2[] = { I(OK, IDLE), I(OK, BUSY) };
	static const struct inst_view deg[] = { I(OK, IDLE), I(DEGRADED, BUSY),
		I(OK, IDLE) };
	static const struct inst_view bad[] = { I(DEGRADED, IDLE),
		I(UNHEALTHY, IDLE), I(OK, BUSY) };
	static const struct inst_view last[] = { I(OK, IDLE), I(OK, IDLE),
		I(UNHEALTHY, STOPPED) };
	struct worker_view w = { true, ok2, 2 };

	ck_assert_int_eq(worker_health(&w), HEALTH_OK);
	w.inst = deg;
	w.ninst = 3;
	ck_assert_int_eq(worker_health(&w), HEALTH_DEGRADED);
	w.inst = bad;
	ck_assert_int_eq(worker_health(&w), HEALTH_UNHEALTHY);
	w.inst = last;
	w.critical = false;
	ck_assert_int_eq(worker_health(&w), HEALTH_UNHEALTHY);
	/* Only the first ninst count. */
	w.ninst = 2;
	ck_assert_int_eq(worker_health(&w), HEALTH_OK);
}
END_TEST

START_TEST(activity)
{
	static const struct inst_view idle[] = { I(OK, IDLE), I(OK, IDLE) };
	static const struct inst_view mixed[] = { I(OK, STARTING),
		I(OK, STOPPING), I(OK, STOPPED), I(UNHEALTHY, FAILED) };
	static const struct inst_view busy_last[] = { I(OK, IDLE),
		I(UNHEALTHY, BUSY) };
	struct worker_view ws[3] = {
		{ true, idle, 2 }, { false, mixed, 4 }, { false, idle, 2 },
	};

	ck_assert_int_eq(runtime_activity(NULL, 0), STATUS_IDLE);
	ck_assert_int_eq(runtime_activity(ws, 3), STATUS_IDLE);
	ws[2].inst = busy_last;
	ck_assert_int_eq(runtime_activity(ws, 3), STATUS_BUSY);
	/* Busy in a worker not counted is not seen. */
	ck_assert_int_eq(runtime_activity(ws, 2), STATUS_IDLE);
	ws[0].ninst = 0;
	ws[2].ninst = 1;
	ck_assert_int_eq(runtime_activity(ws, 3), STATUS_IDLE);
	ws[2].ninst = 2;
	ck_assert_int_eq(runtime_activity(ws, 3), STATUS_BUSY);
}
END_TEST

START_TEST(names_round_trip)
{
	static const struct {
		enum health	 h;
		const char	*name;
	} hn[] = {
		{ HEALTH_OK, "ok" }, { HEALTH_DEGRADED, "degraded" },
		{ HEALTH_UNHEALTHY, "unhealthy" },
	};
	static const struct {
		enum status	 s;
		const char	*name;
	} sn[] = {
		{ STATUS_STARTING, "starting" }, { STATUS_IDLE, "idle" },
		{ STATUS_BUSY, "busy" }, { STATUS_STOPPING, "stopping" },
		{ STATUS_STOPPED, "stopped" }, { STATUS_FAILED, "failed" },
	};
	enum health h;
	enum status s;
	size_t i;

	for (i = 0; i < sizeof(hn) / sizeof(hn[0]); i++) {
		ck_assert_str_eq(health_name(hn[i].h), hn[i].name);
		h = (enum health)-1;
		ck_assert_int_eq(health_parse(hn[i].name, &h), 0);
		ck_assert_int_eq(h, hn[i].h);
	}
	for (i = 0; i < sizeof(sn) / sizeof(sn[0]); i++) {
		ck_assert_str_eq(status_name(sn[i].s), sn[i].name);
		s = (enum status)-1;
		ck_assert_int_eq(status_parse(sn[i].name, &s), 0);
		ck_assert_int_eq(s, sn[i].s);
	}
}
END_TEST

START_TEST(parse_rejects)
{
	static const char *const bad_health[] = { "", "OK", "Ok", "healthy",
		"ok ", " ok", "degrade", "unhealthy\n", "idle", "failed" };
	static const char *const bad_status[] = { "", "IDLE", "running",
		"idle ", "stop", "starting\t", "ok", "dead" };
	enum health h;
	enum status s;
	size_t i;

	for (i = 0; i < sizeof(bad_health) / sizeof(bad_health[0]); i++) {
		h = HEALTH_DEGRADED;
		ck_assert_msg(health_parse(bad_health[i], &h) == -1, "'%s'",
		    bad_health[i]);
		/* Left alone on failure. */
		ck_assert_int_eq(h, HEALTH_DEGRADED);
	}
	for (i = 0; i < sizeof(bad_status) / sizeof(bad_status[0]); i++) {
		s = STATUS_STOPPING;
		ck_assert_msg(status_parse(bad_status[i], &s) == -1, "'%s'",
		    bad_status[i]);
		ck_assert_int_eq(s, STATUS_STOPPING);
	}
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("health");
	TCase *agg = tcase_create("aggregate");
	TCase *words = tcase_create("words");

	tcase_add_loop_test(agg, runtime_health_table, 0,
	    (int)(sizeof(hcases) / sizeof(hcases[0])));
	tcase_add_test(agg, inst_healthy_matrix);
	tcase_add_test(agg, worker_health_worst);
	tcase_add_test(agg, activity);
	suite_add_tcase(s, agg);

	tcase_add_test(words, names_round_trip);
	tcase_add_test(words, parse_rejects);
	suite_add_tcase(s, words);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
