#include "config.h"

#include <stdlib.h>

#include "supervise.h"

void
sup_policy_from_def(struct sup_policy *p, const struct worker_def *w)
{
	p->restart = w->restart;
	p->restart_delay_ms = w->restart_delay_ms;
	p->restart_max_delay_ms = w->restart_max_delay_ms;
	p->max_restarts = w->max_restarts;
	p->restart_window_ms = w->restart_window_ms;
	p->stop_timeout_ms = w->stop_timeout_ms;
	p->ready_on_timer = w->ready == READY_DELAY;
	p->ready_delay_ms = w->ready_delay_ms;
}

int
sup_history_init(struct sup_history *h, unsigned max_restarts)
{
	h->head = h->n = 0;
	h->failed = false;
	h->cap = max_restarts;
	h->times = NULL;
	if (max_restarts > 0 &&
	    (h->times = calloc(max_restarts, sizeof(*h->times))) == NULL)
		return -1;
	return 0;
}

void
sup_history_free(struct sup_history *h)
{
	free(h->times);
	h->times = NULL;
	h->cap = h->n = h->head = 0;
}

/*
 * restart_delay for the first restart of a streak, which may be 0; then
 * doubled, never below SUP_BACKOFF_FLOOR_MS, up to restart_max_delay or
 * the floor if that is longer.  Without the floor a delay of 0 doubles to
 * 0 and a crash loop restarts as fast as fork allows.
 */
uint64_t
sup_backoff(const struct sup_policy *p, unsigned streak)
{
	uint64_t d = p->restart_delay_ms, max;

	max = p->restart_max_delay_ms > SUP_BACKOFF_FLOOR_MS ?
	    p->restart_max_delay_ms : SUP_BACKOFF_FLOOR_MS;
	if (streak == 0)
		return d < max ? d : max;
	while (streak-- > 0 && d < max)
		d = d * 2 > SUP_BACKOFF_FLOOR_MS ? d * 2 : SUP_BACKOFF_FLOOR_MS;
	return d < max ? d : max;
}

/*
 * Records a restart and says whether the worker may still restart: at most
 * max_restarts within any restart_window.  The ring holds exactly
 * max_restarts times, so the oldest one tells whether the window is full.
 */
static bool
history_allow(struct sup_history *h, const struct sup_policy *p, uint64_t now)
{
	uint64_t oldest;

	if (p->max_restarts == 0 || h->cap == 0)
		return true;
	if (h->n == h->cap) {
		oldest = h->times[h->head];
		if (now - oldest < p->restart_window_ms)
			return false;
		h->head = (h->head + 1) % h->cap;
		h->n--;
	}
	h->times[(h->head + h->n) % h->cap] = now;
	h->n++;
	return true;
}

static enum sup_action
spawn(struct sup_inst *in, const struct sup_policy *p, uint64_t now)
{
	in->state = INST_STARTING;
	in->started_at = now;
	in->killed = false;
	in->speaks = false;
	in->forced = false;
	in->restart_after_stop = false;
	in->done = false;
	in->deadline = p->ready_on_timer ? now + p->ready_delay_ms : 0;
	return ACT_SPAWN;
}

static enum sup_action
kill_now(struct sup_inst *in)
{
	in->state = INST_STOPPING;
	in->killed = true;
	in->deadline = 0;
	return ACT_KILL;
}

/* The process is gone without being asked to: restart it or give up. */
static enum sup_action
crashed(struct sup_inst *in, struct sup_history *h, const struct sup_policy *p,
    bool clean, uint64_t now)
{
	uint64_t stable = p->restart_max_delay_ms < SUP_STABLE_MS ?
	    p->restart_max_delay_ms : SUP_STABLE_MS;

	/* A run shorter than the floor is part of the loop even when
	 * restart_max_delay is 0: otherwise every restart is a first one. */
	if (stable < SUP_BACKOFF_FLOOR_MS)
		stable = SUP_BACKOFF_FLOOR_MS;

	in->state = INST_STOPPED;
	in->deadline = 0;
	if (p->restart == RESTART_NEVER ||
	    (p->restart == RESTART_ON_FAILURE && clean) || h->failed)
		return ACT_NONE;
	if (!history_allow(h, p, now)) {
		h->failed = true;
		return ACT_NONE;
	}
	if (now - in->started_at >= stable)
		in->streak = 0;
	in->state = INST_BACKOFF;
	in->deadline = now + sup_backoff(p, in->streak);
	in->streak++;
	return ACT_NONE;
}

/*
 * A forced stop.  A child that speaks the protocol is told to drop its
 * work and exit at once, and killed if it has not within the grace; one
 * that cannot be told is killed now.
 */
static enum sup_action
force(struct sup_inst *in, const struct sup_policy *p, uint64_t now)
{
	uint64_t grace = p->stop_timeout_ms < SUP_FORCE_GRACE_MS ?
	    p->stop_timeout_ms : SUP_FORCE_GRACE_MS;

	if (!in->speaks)
		return kill_now(in);
	in->forced = true;
	if (in->deadline == 0 || now + grace < in->deadline)
		in->deadline = now + grace;
	return ACT_FORCE;
}

enum sup_action
sup_step(struct sup_inst *in, struct sup_history *h,
    const struct sup_policy *p, const struct sup_event *ev, uint64_t now)
{
	enum sup_action act;

	switch (ev->kind) {
	case EV_START:
		if (in->state == INST_STOPPED || in->state == INST_BACKOFF) {
			in->streak = 0;
			return spawn(in, p, now);
		}
		if (in->state == INST_STOPPING)
			in->restart_after_stop = true;
		return ACT_NONE;

	case EV_SPAWN_FAILED:
		if (in->state == INST_STARTING)
			return crashed(in, h, p, false, now);
		return ACT_NONE;

	case EV_READY:
		if (in->state == INST_STARTING) {
			in->state = INST_RUNNING;
			in->deadline = 0;
		}
		return ACT_NONE;

	case EV_HELLO:
		if (in->state == INST_STARTING)
			in->deadline = 0;
		in->speaks = true;
		return ACT_NONE;

	case EV_EXIT:
		switch (in->state) {
		case INST_STOPPING:
			in->state = INST_STOPPED;
			in->deadline = 0;
			if (in->restart_after_stop) {
				in->streak = 0;
				return spawn(in, p, now);
			}
			return ACT_NONE;
		case INST_STARTING:
		case INST_RUNNING:
			act = crashed(in, h, p, ev->clean, now);
			/* Down for good by its own policy after a clean exit:
			 * stopped on purpose, as a one-shot job that is over.
			 * A crash that restart: never leaves down is not. */
			in->done = in->state == INST_STOPPED && !h->failed &&
			    ev->clean;
			return act;
		default:
			return ACT_NONE;
		}

	case EV_DEADLINE:
		if (in->deadline == 0 || now < in->deadline)
			return ACT_NONE;
		switch (in->state) {
		case INST_STARTING:
			in->state = INST_RUNNING;
			in->deadline = 0;
			return ACT_NONE;
		case INST_BACKOFF:
			return spawn(in, p, now);
		case INST_STOPPING:
			in->deadline = 0;
			if (in->killed)
				return ACT_NONE;
			in->killed = true;
			return ACT_KILL;
		default:
			in->deadline = 0;
			return ACT_NONE;
		}

	case EV_STOP:
	case EV_RESTART:
		switch (in->state) {
		case INST_STARTING:
		case INST_RUNNING:
			in->state = INST_STOPPING;
			in->restart_after_stop = ev->kind == EV_RESTART;
			/* One more than a crash loop allows: it stops for good. */
			if (ev->fault && !history_allow(h, p, now)) {
				h->failed = true;
				in->restart_after_stop = false;
			}
			in->deadline = 0;
			if (ev->force)
				return force(in, p, now);
			in->deadline = now + p->stop_timeout_ms;
			return ACT_TERM;
		case INST_STOPPING:
			in->restart_after_stop = ev->kind == EV_RESTART;
			if (ev->force && !in->forced && !in->killed)
				return force(in, p, now);
			return ACT_NONE;
		case INST_BACKOFF:
			in->deadline = 0;
			if (ev->kind == EV_RESTART)
				return spawn(in, p, now);
			in->state = INST_STOPPED;
			return ACT_NONE;
		case INST_STOPPED:
			if (ev->kind == EV_RESTART && !h->failed)
				return spawn(in, p, now);
			return ACT_NONE;
		}
		return ACT_NONE;

	case EV_KILL:
		switch (in->state) {
		case INST_STARTING:
		case INST_RUNNING:
		case INST_STOPPING:
			in->restart_after_stop = false;
			if (in->killed)
				return ACT_NONE;
			return kill_now(in);
		case INST_BACKOFF:
			in->state = INST_STOPPED;
			in->deadline = 0;
			return ACT_NONE;
		case INST_STOPPED:
			return ACT_NONE;
		}
		return ACT_NONE;
	}
	return ACT_NONE;
}

const char *
sup_state_name(const struct sup_inst *in, const struct sup_history *h)
{
	switch (in->state) {
	case INST_STARTING:
	case INST_BACKOFF:
		return "starting";
	case INST_RUNNING:
		return "idle";
	case INST_STOPPING:
		return "stopping";
	case INST_STOPPED:
		return h->failed ? "failed" : "stopped";
	}
	return "stopped";
}
