/* The supervision state machine, driven by hand: no processes, no clock. */
#include "config.h"

#include "unit.h"
#include <stdlib.h>

#include "supervise.h"

static struct sup_policy pol;
static struct sup_history hist;
static struct sup_inst in;

static void
setup(void)
{
	pol = (struct sup_policy){
		.restart = RESTART_ON_FAILURE,
		.restart_delay_ms = 100,
		.restart_max_delay_ms = 1000,
		.max_restarts = 3,
		.restart_window_ms = 10000,
		.stop_timeout_ms = 500,
		.ready_on_timer = true,
		.ready_delay_ms = 50,
	};
	ck_assert_int_eq(sup_history_init(&hist, pol.max_restarts), 0);
	in = (struct sup_inst){ 0 };
}

static void
teardown(void)
{
	sup_history_free(&hist);
}

static enum sup_action
step(enum sup_event_kind kind, uint64_t now)
{
	struct sup_event ev = { .kind = kind };

	return sup_step(&in, &hist, &pol, &ev, now);
}

static enum sup_action
exit_with(bool clean, uint64_t now)
{
	struct sup_event ev = { .kind = EV_EXIT, .clean = clean };

	return sup_step(&in, &hist, &pol, &ev, now);
}

START_TEST(start_then_ready_on_timer)
{
	ck_assert_int_eq(step(EV_START, 1000), ACT_SPAWN);
	ck_assert_int_eq(in.state, INST_STARTING);
	ck_assert_uint_eq(in.deadline, 1050);
	ck_assert_int_eq(step(EV_DEADLINE, 1049), ACT_NONE);
	ck_assert_int_eq(in.state, INST_STARTING);
	ck_assert_int_eq(step(EV_DEADLINE, 1050), ACT_NONE);
	ck_assert_int_eq(in.state, INST_RUNNING);
	ck_assert_str_eq(sup_state_name(&in, &hist), "idle");
}
END_TEST

START_TEST(ready_by_notification)
{
	pol.ready_on_timer = false;
	step(EV_START, 0);
	ck_assert_uint_eq(in.deadline, 0);
	step(EV_READY, 5);
	ck_assert_int_eq(in.state, INST_RUNNING);
}
END_TEST

START_TEST(crash_backs_off_exponentially)
{
	uint64_t now = 0;

	pol.max_restarts = 0;	/* unlimited */
	step(EV_START, now);
	exit_with(false, now += 10);
	ck_assert_int_eq(in.state, INST_BACKOFF);
	ck_assert_uint_eq(in.deadline, now + 100);
	ck_assert_int_eq(step(EV_DEADLINE, now += 100), ACT_SPAWN);
	exit_with(false, now += 10);
	ck_assert_uint_eq(in.deadline, now + 200);
	step(EV_DEADLINE, now += 200);
	exit_with(false, now += 10);
	ck_assert_uint_eq(in.deadline, now + 400);
	step(EV_DEADLINE, now += 400);
	exit_with(false, now += 10);
	ck_assert_uint_eq(in.deadline, now + 800);
	step(EV_DEADLINE, now += 800);
	exit_with(false, now += 10);
	ck_assert_uint_eq(in.deadline, now + 1000);	/* capped */
}
END_TEST

START_TEST(backoff_resets_after_stable_run)
{
	uint64_t now = 0;

	pol.max_restarts = 0;
	step(EV_START, now);
	exit_with(false, now += 10);
	step(EV_DEADLINE, now += 100);
	exit_with(false, now += 10);
	ck_assert_uint_eq(in.deadline, now + 200);
	step(EV_DEADLINE, now += 200);
	/* Stable: up for restart_max_delay (1 s, below SUP_STABLE_MS). */
	exit_with(false, now += 1000);
	ck_assert_uint_eq(in.deadline, now + 100);
}
END_TEST

START_TEST(backoff_arithmetic)
{
	ck_assert_uint_eq(sup_backoff(&pol, 0), 100);
	ck_assert_uint_eq(sup_backoff(&pol, 1), 200);
	ck_assert_uint_eq(sup_backoff(&pol, 3), 800);
	ck_assert_uint_eq(sup_backoff(&pol, 4), 1000);
	ck_assert_uint_eq(sup_backoff(&pol, 400), 1000);
}
END_TEST

START_TEST(backoff_floor)
{
	/* restart_delay: 0 restarts once at once, then from the floor up. */
	pol.restart_delay_ms = 0;
	ck_assert_uint_eq(sup_backoff(&pol, 0), 0);
	ck_assert_uint_eq(sup_backoff(&pol, 1), SUP_BACKOFF_FLOOR_MS);
	ck_assert_uint_eq(sup_backoff(&pol, 2), 200);
	ck_assert_uint_eq(sup_backoff(&pol, 3), 400);
	ck_assert_uint_eq(sup_backoff(&pol, 5), 1000);
	ck_assert_uint_eq(sup_backoff(&pol, 4000), 1000);
	/* A delay under the floor grows from the floor. */
	pol.restart_delay_ms = 10;
	ck_assert_uint_eq(sup_backoff(&pol, 0), 10);
	ck_assert_uint_eq(sup_backoff(&pol, 1), SUP_BACKOFF_FLOOR_MS);
	ck_assert_uint_eq(sup_backoff(&pol, 2), 200);
	/* The floor wins over a restart_max_delay below it. */
	pol.restart_delay_ms = 0;
	pol.restart_max_delay_ms = 0;
	ck_assert_uint_eq(sup_backoff(&pol, 0), 0);
	ck_assert_uint_eq(sup_backoff(&pol, 1), SUP_BACKOFF_FLOOR_MS);
	ck_assert_uint_eq(sup_backoff(&pol, 100), SUP_BACKOFF_FLOOR_MS);
}
END_TEST

START_TEST(zero_delay_crash_loop_does_not_spin)
{
	uint64_t now = 0;
	unsigned spawns = 1;

	/* restart_delay: 0, restart_max_delay: 0, max_restarts: 0: a child
	 * that dies 1 ms after each start, for 2 s of the clock. */
	pol.restart_delay_ms = 0;
	pol.restart_max_delay_ms = 0;
	pol.max_restarts = 0;
	step(EV_START, now);
	while (now < 2000) {
		exit_with(false, now += 1);
		ck_assert_int_eq(in.state, INST_BACKOFF);
		if (spawns > 1)
			ck_assert_uint_ge(in.deadline - now,
			    SUP_BACKOFF_FLOOR_MS);
		now = in.deadline;
		ck_assert_int_eq(step(EV_DEADLINE, now), ACT_SPAWN);
		spawns++;
	}
	/* One at once, then one per 101 ms at most: about 21. */
	ck_assert_uint_le(spawns, 2 + 2000 / SUP_BACKOFF_FLOOR_MS);
}
END_TEST

START_TEST(restart_window_marks_failed)
{
	uint64_t now = 0;
	int i;

	step(EV_START, now);
	for (i = 0; i < 3; i++) {
		exit_with(false, now += 10);
		ck_assert_int_eq(in.state, INST_BACKOFF);
		ck_assert_int_eq(step(EV_DEADLINE, in.deadline), ACT_SPAWN);
		now = in.started_at;
	}
	/* The fourth crash within 10 s is one too many. */
	exit_with(false, now += 10);
	ck_assert_int_eq(in.state, INST_STOPPED);
	ck_assert(hist.failed);
	ck_assert_str_eq(sup_state_name(&in, &hist), "failed");
}
END_TEST

START_TEST(restart_window_slides)
{
	uint64_t now = 0;
	int i;

	step(EV_START, now);
	/* Three crashes, each 4 s apart: never 4 within any 10 s. */
	for (i = 0; i < 10; i++) {
		exit_with(false, now += 4000);
		ck_assert_msg(!hist.failed, "failed at crash %d", i);
		step(EV_DEADLINE, in.deadline);
		now = in.started_at;
	}
}
END_TEST

START_TEST(policy_on_failure_keeps_clean_exit_down)
{
	step(EV_START, 0);
	exit_with(true, 5);
	ck_assert_int_eq(in.state, INST_STOPPED);
	ck_assert(!hist.failed);
	ck_assert_str_eq(sup_state_name(&in, &hist), "stopped");
	ck_assert(in.done);
	/* Started again, it is no longer over. */
	step(EV_START, 10);
	ck_assert(!in.done);
}
END_TEST

START_TEST(policy_always_restarts_clean_exit)
{
	pol.restart = RESTART_ALWAYS;
	step(EV_START, 0);
	exit_with(true, 5);
	ck_assert_int_eq(in.state, INST_BACKOFF);
}
END_TEST

START_TEST(policy_never)
{
	pol.restart = RESTART_NEVER;
	step(EV_START, 0);
	exit_with(false, 5);
	ck_assert_int_eq(in.state, INST_STOPPED);
	/* Down after a crash: not a job done. */
	ck_assert(!in.done);
	step(EV_START, 10);
	exit_with(true, 15);
	ck_assert_int_eq(in.state, INST_STOPPED);
	ck_assert(in.done);
}
END_TEST

START_TEST(crash_loop_is_not_done)
{
	int i;

	step(EV_START, 0);
	for (i = 0; i < 3; i++) {
		exit_with(false, in.started_at + 5);
		ck_assert(!in.done);
		step(EV_DEADLINE, in.deadline);
	}
	exit_with(false, in.started_at + 5);
	ck_assert(hist.failed);
	ck_assert_int_eq(in.state, INST_STOPPED);
	ck_assert(!in.done);
}
END_TEST

START_TEST(graceful_stop_escalates)
{
	step(EV_START, 0);
	step(EV_DEADLINE, 50);
	ck_assert_int_eq(step(EV_STOP, 100), ACT_TERM);
	ck_assert_int_eq(in.state, INST_STOPPING);
	ck_assert_uint_eq(in.deadline, 600);
	ck_assert_int_eq(step(EV_DEADLINE, 599), ACT_NONE);
	ck_assert_int_eq(step(EV_DEADLINE, 600), ACT_KILL);
	ck_assert(in.killed);
	ck_assert_int_eq(exit_with(false, 610), ACT_NONE);
	ck_assert_int_eq(in.state, INST_STOPPED);
	/* A requested stop is not a crash. */
	ck_assert_uint_eq(hist.n, 0);
}
END_TEST

static enum sup_action
force(uint64_t now)
{
	struct sup_event ev = { .kind = EV_STOP, .force = true };

	return sup_step(&in, &hist, &pol, &ev, now);
}

/* A plain program cannot be told stop {force: true}: it is killed. */
START_TEST(forced_stop_kills_a_plain_program)
{
	step(EV_START, 0);
	ck_assert_int_eq(force(1), ACT_KILL);
	ck_assert_int_eq(in.state, INST_STOPPING);
	ck_assert(in.killed);
	ck_assert_uint_eq(in.deadline, 0);
	ck_assert_int_eq(force(2), ACT_NONE);
}
END_TEST

/* One that speaks the protocol is told, then killed after the grace. */
START_TEST(forced_stop_tells_then_kills)
{
	pol.stop_timeout_ms = 30000;
	step(EV_START, 0);
	step(EV_HELLO, 10);
	step(EV_READY, 20);
	ck_assert_int_eq(force(100), ACT_FORCE);
	ck_assert_int_eq(in.state, INST_STOPPING);
	ck_assert(in.forced && !in.killed);
	ck_assert_uint_eq(in.deadline, 100 + SUP_FORCE_GRACE_MS);
	ck_assert_int_eq(force(200), ACT_NONE);
	ck_assert_int_eq(step(EV_DEADLINE, 100 + SUP_FORCE_GRACE_MS - 1),
	    ACT_NONE);
	ck_assert_int_eq(step(EV_DEADLINE, 100 + SUP_FORCE_GRACE_MS),
	    ACT_KILL);
	ck_assert(in.killed);
	ck_assert_int_eq(exit_with(false, 1200), ACT_NONE);
	ck_assert_int_eq(in.state, INST_STOPPED);
	ck_assert_uint_eq(hist.n, 0);
	/* The next process has not said hello yet. */
	ck_assert_int_eq(step(EV_START, 2000), ACT_SPAWN);
	ck_assert(!in.speaks && !in.forced);
	ck_assert_int_eq(force(2001), ACT_KILL);
}
END_TEST

/* A forced stop never waits longer than a graceful one would. */
START_TEST(forced_grace_within_stop_timeout)
{
	step(EV_START, 0);
	step(EV_HELLO, 10);
	ck_assert_int_eq(force(100), ACT_FORCE);
	ck_assert_uint_eq(in.deadline, 100 + pol.stop_timeout_ms);
	/* ready_on_timer's deadline is gone with the stop. */
	ck_assert_int_eq(step(EV_DEADLINE, 150), ACT_NONE);
	ck_assert(!in.killed);
}
END_TEST

START_TEST(second_stop_forces)
{
	step(EV_START, 0);
	step(EV_HELLO, 0);
	ck_assert_int_eq(step(EV_STOP, 1), ACT_TERM);
	ck_assert_uint_eq(in.deadline, 501);
	ck_assert_int_eq(force(2), ACT_FORCE);
	/* The earlier of the two deadlines stands. */
	ck_assert_uint_eq(in.deadline, 501);
	ck_assert_int_eq(force(3), ACT_NONE);
	ck_assert_int_eq(step(EV_DEADLINE, 501), ACT_KILL);
	ck_assert_int_eq(force(502), ACT_NONE);
}
END_TEST

/* platform.stop_timeout: whatever is left goes at once, told or not. */
START_TEST(kill_leaves_nothing_running)
{
	step(EV_START, 0);
	step(EV_HELLO, 0);
	ck_assert_int_eq(force(1), ACT_FORCE);
	ck_assert_int_eq(step(EV_KILL, 2), ACT_KILL);
	ck_assert(in.killed);
	ck_assert_uint_eq(in.deadline, 0);
	ck_assert_int_eq(step(EV_KILL, 3), ACT_NONE);
	ck_assert_int_eq(exit_with(false, 4), ACT_NONE);
	ck_assert_int_eq(in.state, INST_STOPPED);
	/* A restart in waiting is called off. */
	step(EV_START, 10);
	exit_with(false, 20);
	ck_assert_int_eq(in.state, INST_BACKOFF);
	ck_assert_int_eq(step(EV_KILL, 21), ACT_NONE);
	ck_assert_int_eq(in.state, INST_STOPPED);
	ck_assert_int_eq(step(EV_DEADLINE, 5000), ACT_NONE);
}
END_TEST

START_TEST(stop_during_backoff_cancels_restart)
{
	step(EV_START, 0);
	exit_with(false, 5);
	ck_assert_int_eq(in.state, INST_BACKOFF);
	ck_assert_int_eq(step(EV_STOP, 6), ACT_NONE);
	ck_assert_int_eq(in.state, INST_STOPPED);
	ck_assert_uint_eq(in.deadline, 0);
}
END_TEST

START_TEST(restart_is_stop_then_start)
{
	step(EV_START, 0);
	step(EV_DEADLINE, 50);
	ck_assert_int_eq(step(EV_RESTART, 100), ACT_TERM);
	ck_assert_int_eq(exit_with(true, 120), ACT_SPAWN);
	ck_assert_int_eq(in.state, INST_STARTING);
	ck_assert_uint_eq(hist.n, 0);
}
END_TEST

/* A restart for the instance's own fault (max_memory) counts as a crash
 * does: one too many within the window stops it for good. */
START_TEST(fault_restarts_count)
{
	struct sup_event fault = { .kind = EV_RESTART, .fault = true };
	uint64_t now = 0;
	int i;

	step(EV_START, now);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(sup_step(&in, &hist, &pol, &fault, now += 10),
		    ACT_TERM);
		ck_assert_int_eq(exit_with(true, now += 10), ACT_SPAWN);
	}
	ck_assert_uint_eq(hist.n, 3);
	ck_assert_int_eq(sup_step(&in, &hist, &pol, &fault, now += 10), ACT_TERM);
	ck_assert(hist.failed);
	ck_assert_int_eq(exit_with(true, now += 10), ACT_NONE);
	ck_assert_str_eq(sup_state_name(&in, &hist), "failed");
}
END_TEST

START_TEST(spawn_failure_counts_as_crash)
{
	step(EV_START, 0);
	ck_assert_int_eq(step(EV_SPAWN_FAILED, 0), ACT_NONE);
	ck_assert_int_eq(in.state, INST_BACKOFF);
	ck_assert_uint_eq(hist.n, 1);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("supervise");
	TCase *tc = tcase_create("state machine");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, start_then_ready_on_timer);
	tcase_add_test(tc, fault_restarts_count);
	tcase_add_test(tc, ready_by_notification);
	tcase_add_test(tc, crash_backs_off_exponentially);
	tcase_add_test(tc, backoff_resets_after_stable_run);
	tcase_add_test(tc, backoff_arithmetic);
	tcase_add_test(tc, backoff_floor);
	tcase_add_test(tc, zero_delay_crash_loop_does_not_spin);
	tcase_add_test(tc, restart_window_marks_failed);
	tcase_add_test(tc, restart_window_slides);
	tcase_add_test(tc, policy_on_failure_keeps_clean_exit_down);
	tcase_add_test(tc, policy_always_restarts_clean_exit);
	tcase_add_test(tc, crash_loop_is_not_done);
	tcase_add_test(tc, policy_never);
	tcase_add_test(tc, graceful_stop_escalates);
	tcase_add_test(tc, forced_stop_kills_a_plain_program);
	tcase_add_test(tc, forced_stop_tells_then_kills);
	tcase_add_test(tc, forced_grace_within_stop_timeout);
	tcase_add_test(tc, second_stop_forces);
	tcase_add_test(tc, kill_leaves_nothing_running);
	tcase_add_test(tc, stop_during_backoff_cancels_restart);
	tcase_add_test(tc, restart_is_stop_then_start);
	tcase_add_test(tc, spawn_failure_counts_as_crash);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
