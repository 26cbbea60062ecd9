#include "config.h"

#include <sys/epoll.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel.h"
#include "log.h"
#include "proto.h"
#include "queue.h"
#include "runtime.h"
#include "store.h"
#include "trace_export.h"
#include "traces.h"
#include "tracectx.h"
#include "worker.h"

/* Frames handled per turn of the loop for one channel, so that a chatty
 * child cannot monopolise it; the rest wait for the next turn. */
#define FRAMES_PER_TURN	1024
/* Publishes one instance may have waiting for room, and the size of
 * their tasks, before the master stops reading from it: its socket
 * buffer then holds the rest. */
#define PARKED_MAX		256
#define PARKED_BYTES		(4u << 20)
/* Bytes waiting to be written to a child over which the master reads no
 * more from it, since what it sends is answered, and under which it reads
 * again.  A child that does not read its channel must not make the
 * master hold its answers without bound. */
#define BACKED_UP_BYTES		(1u << 20)
#define UNBLOCKED_BYTES		(256u << 10)
/* How long a child that closed its channel has to be reaped before it
 * is taken for one that lives on without it. */
#define HANGUP_GRACE_MS		500
/* The reason a stopping instance's publish that would wait is refused. */
#define STOPPING_REFUSAL	PROTO_REJECT_STOPPING ": asked to stop, " \
				"and the queue has no room and no worker to drain it"

struct parked {
	struct instance	*in;
	bool		 track;
	char		*ref;
	char		*task;
	size_t		 len;
	size_t		 held;		/* len and the ref's: what it costs */
	struct qtrace	 trace;		/* read when parked, if tracing */
	struct parked	*next;
};

static void	on_channel(struct loop *, struct io *, uint32_t);
static void	on_drain(struct loop *, struct timer *);
static void	on_hangup(struct loop *, struct timer *);
static void	reject(struct instance *, const char *ref, const char *why);

static struct runtime *
rt_of(struct instance *in)
{
	return in->worker->rt;
}

static void
want_flush(struct instance *in)
{
	struct runtime *rt = rt_of(in);
	struct channel *ch = &in->ch;
	struct channel **p;
	size_t cap;

	if (ch->queued || ch->io.fd == -1)
		return;
	if (rt->nflush == rt->capflush) {
		cap = rt->capflush ? rt->capflush * 2 : 64;
		if ((p = realloc(rt->flush, cap * sizeof(*p))) == NULL)
			return;		/* flushed on its next event instead */
		rt->flush = p;
		rt->capflush = cap;
	}
	rt->flush[rt->nflush++] = ch;
	ch->queued = true;
}

static bool
parked_full(const struct channel *ch)
{
	return ch->parked >= PARKED_MAX || ch->parked_bytes >= PARKED_BYTES;
}

static bool
reads_paused(const struct channel *ch)
{
	return !ch->reading || ch->backed_up;
}

static void
set_events(struct instance *in)
{
	struct channel *ch = &in->ch;
	uint32_t ev = 0;

	if (ch->io.fd == -1 || ch->unwatched)
		return;
	/* Nothing more is read while frames read before wait: a child
	 * that sends faster than the master handles fills its own
	 * socket, not the master's memory. */
	if (!reads_paused(ch) && !ch->backlog)
		ev |= EPOLLIN;
	if (frame_queued(&ch->wr) > 0)
		ev |= EPOLLOUT;
	io_mod(rt_of(in)->loop, &ch->io, ev);
}

/* The rest of what was read is handled on the loop's next turn, whether
 * or not more bytes come: the child may be waiting for an answer. */
static void
want_drain(struct instance *in)
{
	struct channel *ch = &in->ch;

	ch->backlog = true;
	timer_at(rt_of(in)->loop, &ch->drain, mono_ms());
	set_events(in);
}

/* Reading again after a pause: what was read before it comes first. */
static void
resume_reading(struct instance *in)
{
	struct channel *ch = &in->ch;

	ch->reading = true;
	if (frame_pending(&ch->rd) > 0)
		want_drain(in);
	else
		set_events(in);
}

void
channel_open(struct instance *in, int fd)
{
	struct channel *ch = &in->ch;
	const struct worker_def *def = in->worker->def;
	struct settings *s = rt_of(in)->settings;

	memset(ch, 0, sizeof(*ch));
	timer_init(&ch->drain, on_drain, in);
	timer_init(&ch->hangup, on_hangup, in);
	frame_reader_init(&ch->rd, s->ipc.max_frame);
	frame_writer_init(&ch->wr);
	ch->reading = true;
	ch->health = HEALTH_OK;
	ch->last_seen = mono_ms();
	if (def->consumes != NULL || def->ready == READY_PROTOCOL)
		ch->hello_by = ch->last_seen + s->ipc.heartbeat_timeout_ms;
	io_add(rt_of(in)->loop, &ch->io, fd, EPOLLIN, on_channel, in);
}

/* The child broke the protocol: it goes, and its policy decides the rest. */
static void
protocol_error(struct instance *in, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
protocol_error(struct instance *in, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_error("%s.%u: protocol error: %s; killing pid %ld",
	    in->worker->name, in->index, why, (long)in->pid);
	in->ch.health = HEALTH_UNHEALTHY;
	snprintf(in->ch.detail, sizeof(in->ch.detail), "protocol error: %.200s", why);
	in->ch.kill_reason = "protocol error";
	instance_kill(in);
	/* Nothing more is read from it. */
	in->ch.reading = false;
	set_events(in);
}

/*
 * The master has no memory for what this child sends.  That is the
 * master's trouble, not the child's: it is not read until the next scan
 * (channel_scan), its writes wait in the socket and slow it down, and the
 * wait is not held against its heartbeats.
 */
static void
hold_reads(struct instance *in)
{
	struct channel *ch = &in->ch;

	if (!ch->told_held)
		log_warn("%s.%u: out of memory for its channel's input; "
		    "not reading it for a moment", in->worker->name, in->index);
	ch->told_held = true;
	ch->held = true;
	ch->reading = false;
	set_events(in);
}

/* Nobody is left to confirm to; the tasks are stored all the same. */
static void
forget_held(struct runtime *rt, struct instance *in)
{
	size_t i;

	for (i = 0; i < rt->nheld; i++)
		if (rt->held[i].in == in)
			rt->held[i].in = NULL;
}

static void
parked_free(struct parked *p)
{
	free(p->ref);
	free(p->task);
	free(p);
}

static void
drop_parked(struct runtime *rt, struct instance *in)
{
	struct parked **pp, *p;
	size_t i;

	for (i = 0; i < rt->nqueues; i++) {
		struct rqueue *rq = &rt->queues[i];

		for (pp = &rq->head; (p = *pp) != NULL; ) {
			if (p->in != in) {
				pp = &p->next;
				continue;
			}
			*pp = p->next;
			if (rq->tail == p)
				rq->tail = NULL;
			parked_free(p);
			rq->nparked--;
		}
		if (rq->tail == NULL)
			for (p = rq->head; p != NULL; p = p->next)
				rq->tail = p;
	}
	in->ch.parked = 0;
	in->ch.parked_bytes = 0;
}

/*
 * A task's move to the dead-letter list: on its trace, and in the log
 * with the trace's id, so that the log line leads to the trace.
 */
void
channel_dead_lettered(struct runtime *rt, struct queue *q, const struct qtask *t,
    const char *why)
{
	struct qtrace trace = t->trace;

	traces_task_span(rt, &trace, t->body, "plba.dead_letter", queue_name(q),
	    t->id, t->attempt, t->last_error, true);
	if (traces_on(rt) && trace.state == QTRACE_SAMPLED) {
		log_warn("%s: task %" PRIu64 " dead-lettered: %s (trace %.32s)",
		    queue_name(q), t->id, why, trace.trace_id);
	} else
		log_warn("%s: task %" PRIu64 " dead-lettered: %s",
		    queue_name(q), t->id, why);
}

/* Names the newest dead letters; only after a loss, so walking the list
 * costs nothing on the hot path.  Those already dropped past dead_max
 * are in report_dead_dropped()'s count instead. */
static void
log_dead_tail(struct runtime *rt, struct queue *q, uint64_t newest)
{
	const struct qtask *t = NULL;
	struct queue_stats st;
	uint64_t i = 0;

	queue_stats(q, &st);
	if (newest > st.dead)
		newest = st.dead;
	while ((t = queue_dead_next(q, t)) != NULL)
		if (++i > st.dead - newest)
			channel_dead_lettered(rt, q, t,
			    t->last_error != NULL ? t->last_error : "?");
}

void
channel_close(struct instance *in, const char *how)
{
	struct runtime *rt = rt_of(in);
	struct channel *ch = &in->ch;
	char reason[256];
	struct queue *q = ch->cq;
	struct queue_stats before, after;
	uint64_t buried;
	size_t n;

	if (ch->consumer != NULL) {
		if (ch->kill_reason != NULL && strcmp(ch->kill_reason, "timeout") == 0)
			snprintf(reason, sizeof(reason), "timeout");
		else
			snprintf(reason, sizeof(reason), "consumer %s.%u %s%s%s",
			    in->worker->name, in->index, how,
			    ch->kill_reason ? " after " : "",
			    ch->kill_reason ? ch->kill_reason : "");
		queue_stats(q, &before);
		n = queue_detach(q, ch->consumer, reason);
		queue_stats(q, &after);
		/* Counted with those dropped: a full list does not grow. */
		buried = after.dead + after.dead_dropped - before.dead -
		    before.dead_dropped;
		/* Those with deliveries left; the others are dead letters,
		 * each with a line of its own. */
		if (n > buried)
			log_warn("%s.%u: %zu task%s in flight put back on %s",
			    in->worker->name, in->index, n - (size_t)buried,
			    n - buried == 1 ? "" : "s", queue_name(q));
		if (buried > 0)
			log_dead_tail(rt, q, buried);
		ch->consumer = NULL;
		ch->cq = NULL;
	}
	if (ch->parked > 0)
		drop_parked(rt, in);
	if (rt->nheld > 0)
		forget_held(rt, in);
	if (ch->queued) {
		size_t i;

		for (i = 0; i < rt->nflush; i++)
			if (rt->flush[i] == ch) {
				rt->flush[i] = rt->flush[--rt->nflush];
				break;
			}
		ch->queued = false;
	}
	timer_cancel(rt->loop, &ch->drain);
	timer_cancel(rt->loop, &ch->hangup);
	ch->unwatched = false;
	ch->backlog = false;
	if (ch->io.fd != -1) {
		int fd = ch->io.fd;

		io_del(rt->loop, &ch->io);
		close(fd);
	}
	frame_reader_free(&ch->rd);
	frame_writer_free(&ch->wr);
	if (q != NULL)
		channel_pump(rt, q);
}

/* The channel is gone while the process may live on: its tasks go back
 * to the queue now rather than when it exits. */
static void
hang_up(struct instance *in, const char *how)
{
	if (in->ch.hello && in->pid > 0 && in->sup.state != INST_STOPPING)
		log_debug("%s.%u: %s", in->worker->name, in->index, how);
	channel_close(in, how);
}

static void
on_hangup(struct loop *l, struct timer *t)
{
	(void)l;
	hang_up(t->arg, "closed its channel");
}

/*
 * The child closed its end.  Mostly it is dying: the kernel closes a
 * process's files before it reports the exit, and the reap a moment
 * later says how it died ("killed by signal 9"), which is what its tasks
 * in flight should go back with, and what an operator needs.  One that
 * lives on without its channel is hung up on after HANGUP_GRACE_MS.
 */
static void
hang_up_soon(struct instance *in)
{
	struct channel *ch = &in->ch;

	if (in->pid <= 0 || ch->reaped) {
		hang_up(in, "closed its channel");
		return;
	}
	if (ch->unwatched)
		return;
	io_unwatch(rt_of(in)->loop, &ch->io);
	ch->unwatched = true;
	timer_at(rt_of(in)->loop, &ch->hangup, mono_ms() + HANGUP_GRACE_MS);
}

/*
 * A publish waiting for room holds its publisher, and so the stop, until
 * a consumer takes a task: never, if none runs.  So an instance asked to
 * stop has its publishes waiting on a queue that no worker drains
 * refused, and it exits; the task was never accepted, and the publisher
 * is told so.  Those on a drained queue wait on: a pipeline stage asked
 * to stop (a rolling restart, a reload) finishes its task that way.
 */
static void
refuse_parked_of(struct runtime *rt, struct instance *in)
{
	struct parked **pp, *p;
	bool was_full = parked_full(&in->ch);
	size_t i;

	for (i = 0; i < rt->nqueues && in->ch.parked > 0; i++) {
		struct rqueue *rq = &rt->queues[i];

		if (runtime_queue_drains(rt, queue_name(rq->q)))
			continue;
		for (pp = &rq->head; (p = *pp) != NULL; ) {
			if (p->in != in) {
				pp = &p->next;
				continue;
			}
			*pp = p->next;
			rq->nparked--;
			in->ch.parked--;
			in->ch.parked_bytes -= p->held;
			reject(in, p->ref, STOPPING_REFUSAL);
			parked_free(p);
		}
		rq->tail = NULL;
		for (p = rq->head; p != NULL; p = p->next)
			rq->tail = p;
	}
	if (was_full && !parked_full(&in->ch)) {
		in->ch.last_seen = mono_ms();
		resume_reading(in);
	}
}

bool
channel_send_stop(struct instance *in, bool force)
{
	bool sent = false;

	if (!in->ch.hello || in->ch.io.fd == -1)
		return false;
	in->ch.stopping = true;
	if (in->ch.parked > 0)
		refuse_parked_of(rt_of(in), in);
	if (proto_put_stop(&in->ch.wr, force) == 0) {
		want_flush(in);
		sent = true;
	}
	if (in->ch.consumer != NULL)
		queue_consumer_pause(in->ch.consumer, true);
	return sent;
}

void
channel_send_tracing(struct runtime *rt)
{
	size_t i;
	unsigned j;

	for (i = 0; i < rt->nworkers; i++)
		for (j = 0; j < rt->workers[i]->ninst; j++) {
			struct instance *in = rt->workers[i]->inst[j];

			if (!in->ch.tracing_updates || in->ch.io.fd == -1)
				continue;
			if (proto_put_tracing(&in->ch.wr, traces_on(rt),
			    traces_sample(rt)) == 0)
				want_flush(in);
		}
}

static void
flush_one(struct instance *in)
{
	struct channel *ch = &in->ch;
	size_t left;

	if (ch->io.fd == -1)
		return;
	if (frame_flush(&ch->wr, ch->io.fd) == -1 && errno != EPIPE &&
	    errno != ECONNRESET)
		log_warn("%s.%u: channel: %s", in->worker->name, in->index,
		    strerror(errno));
	left = frame_queued(&ch->wr);
	if (!ch->backed_up && left > BACKED_UP_BYTES) {
		ch->backed_up = true;
		ch->backed_up_since = mono_ms();
	} else if (ch->backed_up && left <= UNBLOCKED_BYTES) {
		ch->backed_up = false;
		/* Its heartbeats waited in the socket too. */
		ch->last_seen = mono_ms();
		if (ch->reading && frame_pending(&ch->rd) > 0) {
			want_drain(in);
			return;
		}
	}
	set_events(in);
}

/*
 * Trace frames are checked on the exporter thread (traces_frame()): one
 * that was not JSON is this child's protocol error, found a moment after
 * it came.  Its process may be gone by then, and its slot taken by
 * another: only the process that sent it is killed.
 */
static void
kill_trace_offenders(struct runtime *rt)
{
	struct trace_offender off;
	struct instance *in;
	size_t i;
	bool found;

	while (traces_offender(rt, &off)) {
		found = false;
		for (i = 0; i < rt->nworkers && !found; i++) {
			if (strcmp(rt->workers[i]->name, off.worker) != 0 ||
			    off.instance < 0 ||
			    (unsigned)off.instance >= rt->workers[i]->ninst)
				continue;
			in = rt->workers[i]->inst[off.instance];
			if ((found = in->pid == off.pid) && in->ch.reading)
				protocol_error(in, "%s", off.why);
		}
		if (!found)
			log_warn("%s.%d: pid %d, gone since, sent a trace frame "
			    "that was not JSON: %s", off.worker, off.instance,
			    off.pid, off.why);
	}
}

void
channel_flush_all(struct runtime *rt)
{
	size_t i;

	for (i = 0; i < rt->nflush; i++) {
		struct channel *ch = rt->flush[i];
		struct instance *in = (struct instance *)((char *)ch -
		    offsetof(struct instance, ch));

		ch->queued = false;
		flush_one(in);
	}
	rt->nflush = 0;
	traces_flush(rt);	/* once an iteration, like the channels */
	kill_trace_offenders(rt);
}

/* --- queues --------------------------------------------------------------- */

static struct rqueue *
rqueue_of(struct runtime *rt, struct queue *q)
{
	size_t i;

	for (i = 0; i < rt->nqueues; i++)
		if (rt->queues[i].q == q)
			return &rt->queues[i];
	return NULL;
}

static void
confirm_now(struct instance *in, const char *ref, uint64_t id)
{
	if (in->ch.io.fd == -1)
		return;
	if (proto_put_published(&in->ch.wr, ref, id) == 0)
		want_flush(in);
}

static void
reject(struct instance *in, const char *ref, const char *why)
{
	if (in->ch.io.fd == -1)
		return;
	if (proto_put_rejected(&in->ch.wr, ref, why) == 0)
		want_flush(in);
}

/* A durable queue's publish is confirmed by channel_stored(), after the
 * transaction that stores it. */
static void
confirm(struct instance *in, struct queue *q, const char *ref, uint64_t id)
{
	struct runtime *rt = rt_of(in);
	struct held_confirm *h;
	size_t cap;

	if (!queue_journaled(q)) {
		confirm_now(in, ref, id);
		return;
	}
	if (rt->nheld == rt->capheld) {
		cap = rt->capheld ? rt->capheld * 2 : 64;
		if ((h = realloc(rt->held, cap * sizeof(*h))) == NULL)
			goto nomem;
		rt->held = h;
		rt->capheld = cap;
	}
	h = &rt->held[rt->nheld];
	if ((h->ref = strdup(ref)) == NULL)
		goto nomem;
	h->in = in;
	h->id = id;
	h->batch = store_batch(rt->store);
	rt->nheld++;
	return;
nomem:
	/* Stored, maybe, but not confirmed: at least once still holds. */
	reject(in, ref, "out of memory");
}

void
channel_stored(struct runtime *rt, uint64_t batch, bool stored)
{
	struct held_confirm *h;
	size_t i;

	/* Held in the order taken, so batch numbers never go down. */
	for (i = 0; i < rt->nheld && rt->held[i].batch <= batch; i++) {
		h = &rt->held[i];
		if (h->in != NULL && stored)
			confirm_now(h->in, h->ref, h->id);
		else if (h->in != NULL)
			reject(h->in, h->ref, "not stored: the durable queue's "
			    "database write failed");
		free(h->ref);
	}
	if (i == 0)
		return;
	rt->nheld -= i;
	memmove(rt->held, rt->held + i, rt->nheld * sizeof(*rt->held));
}

bool
channel_takes(struct runtime *rt, struct rqueue *rq)
{
	return !rq->loading && !queue_full(rq->q) &&
	    !(rq->durable && store_behind(rt->store));
}

/*
 * "worker.index", the instance as the logs name it, for the dispatch span;
 * by hand, not snprintf, which cost 900 instructions a traced task.
 */
static void
instance_label(const struct instance *in, char *buf, size_t size)
{
	char digits[20];
	const char *d;
	size_t nlen, dlen;

	d = trace_u64(in->index, digits, &dlen);
	nlen = strnlen(in->worker->name, size - dlen - 2);
	memcpy(buf, in->worker->name, nlen);
	buf[nlen] = '.';
	memcpy(buf + nlen + 1, d, dlen);
	buf[nlen + 1 + dlen] = '\0';
}

/*
 * Takes the oldest parked publish off the queue, for the caller to answer
 * and free; its publisher, if the parked limit had stopped it, is read
 * again.
 */
static struct parked *
unpark(struct rqueue *rq)
{
	struct parked *p = rq->head;
	struct instance *in = p->in;
	bool was_full = parked_full(&in->ch);

	if ((rq->head = p->next) == NULL)
		rq->tail = NULL;
	rq->nparked--;
	in->ch.parked--;
	in->ch.parked_bytes -= p->held;
	if (was_full && !parked_full(&in->ch) && in->ch.io.fd != -1) {
		/* Its heartbeats waited in the socket too. */
		in->ch.last_seen = mono_ms();
		resume_reading(in);
	}
	return p;
}

void
channel_refuse_parked(struct rqueue *rq, const char *why)
{
	struct parked *p;

	while (rq->head != NULL) {
		p = unpark(rq);
		reject(p->in, p->ref, why);
		parked_free(p);
	}
}

void
channel_pump(struct runtime *rt, struct queue *q)
{
	struct rqueue *rq = rqueue_of(rt, q);
	struct qconsumer *c;
	struct qtask *t;
	struct parked *p;
	struct instance *in;
	uint64_t now = mono_ms(), id;
	bool dispatched;

again:
	/* Room again: parked publishers go in, oldest first. */
	while (rq != NULL && rq->head != NULL && channel_takes(rt, rq)) {
		p = unpark(rq);
		in = p->in;
		if ((id = queue_publish_traced(q, p->task, p->len, now,
		    p->track ? in->spawn_id : 0, &p->trace)) != 0) {
			confirm(in, q, p->ref, id);
			if (traces_on(rt))
				traces_task_span(rt, &p->trace, p->task,
				    "plba.enqueue", queue_name(q), id, 1,
				    "after waiting for room", false);
		}
		parked_free(p);
	}
	dispatched = false;
	while ((t = queue_dispatch(q, &c, now)) != NULL) {
		in = queue_consumer_owner(c);
		if (traces_on(rt)) {
			char to[96];

			if (t->attempt > 1)
				traces_task_span(rt, &t->trace, t->body,
				    "plba.redeliver", queue_name(q), t->id,
				    t->attempt, t->last_error, false);
			instance_label(in, to, sizeof(to));
			traces_task_span(rt, &t->trace, t->body, "plba.dispatch",
			    queue_name(q), t->id, t->attempt, to, false);
		}
		if (proto_put_task(&in->ch.wr, t->id, queue_name(q), t->attempt,
		    t->body, t->len) == 0)
			want_flush(in);
		dispatched = true;
	}
	/* Capacity counts waiting tasks only: each one dispatched made room
	 * for a publisher still waiting. */
	if (dispatched && rq != NULL && rq->head != NULL && channel_takes(rt, rq))
		goto again;
	/* A stop waits for the queues to drain: look again. */
	if (rt->state == RT_STOPPING)
		runtime_touch(rt);
}

/*
 * The publisher is found by the spawn id of its process, not its pid,
 * which a later process may have again: an instance restarted since gets
 * nothing, which is right, since it knows nothing of the task.  Its
 * successor finds the unfinished work again by itself.
 */
void
channel_task_done(void *arg, struct queue *q, const struct qtask *t,
    bool acked)
{
	struct instance *in = runtime_find_spawn(arg, t->origin);

	if (in == NULL || in->ch.io.fd == -1)
		return;
	if (proto_put_done(&in->ch.wr, t->id, queue_name(q), acked,
	    acked ? NULL : t->last_error != NULL ? t->last_error : "") == 0)
		want_flush(in);
}

static void
handle_publish(struct instance *in, struct msg *m)
{
	struct runtime *rt = rt_of(in);
	struct rqueue *rq = runtime_find_queue(rt, m->queue);
	struct parked *p;
	struct qtrace trace = { .state = QTRACE_UNKNOWN };
	char *task, why[128];
	const char *deep;
	size_t len;
	uint64_t id;

	if (rq == NULL || rq->removed) {
		reject(in, m->ref, rq == NULL ? "no such queue" :
		    "no such queue: it was removed from the configuration");
		return;
	}
	/* Valid JSON, so no reason to kill the child: refused, because a
	 * task this deep would hide every listing it is in from plbactl. */
	if ((deep = proto_task_too_deep(m->task)) != NULL) {
		snprintf(why, sizeof(why), "%s is nested more than %d deep",
		    strcmp(deep, "payload") == 0 ? "payload" :
		    "a member of the task", PROTO_TASK_DEPTH);
		reject(in, m->ref, why);
		return;
	}
	if (m->task_raw != NULL)
		task = strndup(m->task_raw, m->task_raw_len);
	else
		task = cJSON_PrintUnformatted(m->task);
	if (task == NULL)
		goto nomem;
	len = strlen(task);
	/* Read once, kept with the task: its spans need not read it again. */
	if (traces_on(rt))
		traces_task_context_msg(m, &trace);
	if (channel_takes(rt, rq) && rq->head == NULL) {
		id = queue_publish_traced(rq->q, task, len, mono_ms(),
		    m->track ? in->spawn_id : 0, &trace);
		if (id != 0 && traces_on(rt))
			traces_task_span(rt, &trace, task, "plba.enqueue",
			    m->queue, id, 1, NULL, false);
		free(task);
		if (id == 0)
			goto nomem;
		confirm(in, rq->q, m->ref, id);
		channel_pump(rt, rq->q);
		return;
	}
	/* Full, or the store behind: the publisher waits for its
	 * confirmation (back-pressure), unless it was asked to stop and
	 * nothing will make room. */
	if (in->ch.stopping && !runtime_queue_drains(rt, m->queue)) {
		free(task);
		reject(in, m->ref, STOPPING_REFUSAL);
		return;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->ref = strdup(m->ref)) == NULL) {
		free(p);
		free(task);
		goto nomem;
	}
	p->in = in;
	p->track = m->track;
	p->task = task;
	p->len = len;
	/* A ref is the child's to choose, up to max_frame: it counts. */
	p->held = len + strlen(p->ref);
	p->trace = trace;
	if (rq->tail != NULL)
		rq->tail->next = p;
	else
		rq->head = p;
	rq->tail = p;
	rq->nparked++;
	in->ch.parked++;
	in->ch.parked_bytes += p->held;
	if (parked_full(&in->ch)) {
		in->ch.reading = false;
		set_events(in);
	}
	return;
nomem:
	if (proto_put_rejected(&in->ch.wr, m->ref, "out of memory") == 0)
		want_flush(in);
}

static void
handle_ack(struct instance *in, struct msg *m, bool ack)
{
	struct channel *ch = &in->ch;
	uint64_t id = queue_id_parse(m->id), held;
	int rc;

	if (ch->consumer == NULL || id == 0) {
		protocol_error(in, "%s of task \"%.32s\", which it does not hold",
		    msg_type_name(m->type), m->id);
		return;
	}
	if (ack) {
		rc = queue_ack(ch->cq, ch->consumer, id, mono_ms(), &held);
		if (rc == 0)
			histogram_add(&rqueue_of(rt_of(in), ch->cq)->hist, held);
	}
	else
		rc = queue_nack(ch->cq, ch->consumer, id, m->retry,
		    m->error != NULL ? m->error : "nacked");
	if (rc == -1) {
		protocol_error(in, "%s of task \"%.32s\", which it does not hold",
		    msg_type_name(m->type), m->id);
		return;
	}
	if (!ack && rc == 1) {
		const struct qtask *t = queue_dead_last(ch->cq);
		const char *why = m->error != NULL ? m->error : "nacked";

		/* NULL only for an empty list, which this is not. */
		if (t != NULL)
			channel_dead_lettered(rt_of(in), ch->cq, t, why);
		else
			log_warn("%s: task %s dead-lettered: %s",
			    queue_name(ch->cq), m->id, why);
	}
	channel_pump(rt_of(in), ch->cq);
}

static void
attach_consumer(struct instance *in)
{
	struct runtime *rt = rt_of(in);
	const struct worker_def *def = in->worker->def;
	struct rqueue *rq;

	if (def == NULL || def->consumes == NULL || in->ch.consumer != NULL)
		return;
	if ((rq = runtime_find_queue(rt, def->consumes)) == NULL)
		return;
	if ((in->ch.consumer = queue_attach(rq->q, in, def->prefetch)) == NULL) {
		log_error("%s.%u: out of memory attaching to %s",
		    in->worker->name, in->index, def->consumes);
		return;
	}
	in->ch.cq = rq->q;
	channel_pump(rt, rq->q);
}

static void
handle(struct instance *in, struct msg *m)
{
	struct channel *ch = &in->ch;
	struct worker *w = in->worker;

	if (!ch->hello && m->type != MSG_HELLO) {
		protocol_error(in, "\"%s\" before \"hello\"", msg_type_name(m->type));
		return;
	}
	switch (m->type) {
	case MSG_HELLO:
		if (ch->hello) {
			protocol_error(in, "a second \"hello\"");
			return;
		}
		ch->hello = true;
		ch->hello_by = 0;
		ch->tracing_updates = m->tracing_updates;
		instance_hello(in);
		if (proto_put_welcome(&ch->wr, w->name, in->index,
		    w->config_json, rt_of(in)->settings->ipc.heartbeat_interval_ms,
		    traces_on(rt_of(in)), traces_sample(rt_of(in))) == 0)
			want_flush(in);
		break;
	case MSG_READY:
		instance_ready(in);
		/* Tasks sent to a dead consumer would come back counted as
		 * an attempt that never was. */
		if (!ch->reaped && !ch->closed_by_child)
			attach_consumer(in);
		break;
	case MSG_STATUS:
		ch->has_status = status_parse(m->status, &ch->status) == 0;
		break;
	case MSG_HEALTH:
		if (health_parse(m->health, &ch->health) == -1)
			ch->health = HEALTH_UNHEALTHY;
		snprintf(ch->detail, sizeof(ch->detail), "%s",
		    m->detail != NULL ? m->detail : "");
		break;
	case MSG_HEARTBEAT:
		return;		/* nothing anyone can see changed */
	case MSG_PUBLISH:
		handle_publish(in, m);
		break;
	case MSG_ACK:
	case MSG_NACK:
		handle_ack(in, m, m->type == MSG_ACK);
		break;
	case MSG_TRACE:
		/* With transport none nothing is built, not even this. */
		if (traces_on(rt_of(in))) {
			char *rec = NULL;

			if (m->task_raw != NULL)
				traces_record(rt_of(in), m->task_raw, m->task_raw_len,
				    w->name, (int)in->index);
			else if ((rec = cJSON_PrintUnformatted(m->record)) != NULL)
				traces_record(rt_of(in), rec, strlen(rec), w->name,
				    (int)in->index);
			free(rec);
		}
		break;
	default:
		protocol_error(in, "unexpected \"%s\"", msg_type_name(m->type));
		break;
	}
	rt_of(in)->snap_dirty = true;
}

/*
 * Handles the frames read so far, up to FRAMES_PER_TURN; when that many
 * were handled, the rest wait for the loop's next turn (want_drain).
 */
static void
handle_frames(struct instance *in)
{
	struct channel *ch = &in->ch;
	char err[256];
	const char *data;
	struct msg m;
	size_t len;
	int frames = 0, rc;

	while (!reads_paused(ch) && frames++ < FRAMES_PER_TURN) {
		rc = frame_next(&ch->rd, &data, &len);
		if (rc == 0)
			break;
		if (rc == -2) {
			hold_reads(in);
			break;
		}
		if (rc == -1) {
			protocol_error(in, "frame length over platform.ipc.max_frame "
			    "(%zu bytes) or zero", (size_t)ch->rd.max_frame);
			return;
		}
		/* Spans, most of the traffic with tracing on, skip the
		 * parser when their text allows. */
		if (ch->hello && traces_frame(rt_of(in), data, len,
		    in->worker->name, (int)in->index, (int)in->pid))
			continue;
		if (msg_decode(&m, data, len, true, err, sizeof(err)) == -1) {
			protocol_error(in, "%s", err);
			return;
		}
		handle(in, &m);
		msg_clear(&m);
	}
	if (!reads_paused(ch) && frames > FRAMES_PER_TURN)
		want_drain(in);
	else if (ch->backlog) {
		ch->backlog = false;
		set_events(in);
	}
	frame_reader_trim(&ch->rd);
}

static void
on_drain(struct loop *l, struct timer *t)
{
	struct instance *in = t->arg;
	struct channel *ch = &in->ch;

	(void)l;
	if (ch->io.fd == -1 || !ch->backlog)
		return;
	if (reads_paused(ch)) {
		/* Paused since; whatever unpaused it comes back to it. */
		ch->backlog = false;
		set_events(in);
		return;
	}
	handle_frames(in);
}

static void
on_channel(struct loop *l, struct io *io, uint32_t events)
{
	struct instance *in = io->arg;
	struct channel *ch = &in->ch;
	ssize_t n;

	(void)l;
	/*
	 * A child that closed its end can take no task, whatever it said
	 * before: a ready read with the hang-up, or a free prefetch slot,
	 * would send one that comes back counted as an attempt.  SIGCHLD
	 * may come later than the frames, or never, for one that lives on.
	 */
	if ((events & (EPOLLHUP | EPOLLERR)) && !ch->closed_by_child) {
		ch->closed_by_child = true;
		if (ch->consumer != NULL)
			queue_consumer_pause(ch->consumer, true);
	}
	if (events & EPOLLOUT)
		flush_one(in);
	if (reads_paused(ch)) {
		/* epoll reports a hang-up whatever it was asked: stop
		 * watching, or the loop spins until the child is reaped. */
		if (events & (EPOLLHUP | EPOLLERR))
			hang_up_soon(in);
		return;
	}
	/* A hang-up with frames still to handle: they come first. */
	if (ch->backlog || !(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	n = frame_read(&ch->rd, io->fd);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == -1 && errno == ENOMEM) {
		hold_reads(in);
		return;
	}
	if (n <= 0) {
		/* A second death notice, or a child that closed fd 3. */
		if (frame_pending(&ch->rd) > 0 && in->pid > 0)
			protocol_error(in, "channel closed inside a frame");
		hang_up_soon(in);
		return;
	}
	ch->last_seen = mono_ms();
	ch->told_held = false;
	handle_frames(in);
}

/* Reads of a reaped child's channel, at most: a grandchild that kept its
 * end open could otherwise keep the loop here. */
#define LAST_READS	64

/*
 * The child has been reaped: what it sent before it went, read or not, is
 * handled now, all at once since nothing more is coming, so that its last
 * acks and publishes count.  A frame it broke off is not an error: it died.
 */
void
channel_last_words(struct instance *in)
{
	struct channel *ch = &in->ch;
	int reads = 0;

	/* Nothing sent to it will be read now, and nothing more is sent:
	 * an ack among its last words frees room that is not its own. */
	ch->backed_up = false;
	ch->reaped = true;
	if (ch->consumer != NULL)
		queue_consumer_pause(ch->consumer, true);
	while (ch->io.fd != -1 && ch->reading) {
		if (frame_pending(&ch->rd) > 0) {
			handle_frames(in);
			if (ch->backlog)
				continue;
		}
		if (reads++ == LAST_READS || frame_read(&ch->rd, ch->io.fd) <= 0)
			break;
	}
}

/* --- deadlines ------------------------------------------------------------ */

/* Kills an instance that did not answer in time; why shows in its health. */
static void
give_up_on(struct instance *in, const char *why)
{
	in->ch.health = HEALTH_UNHEALTHY;
	snprintf(in->ch.detail, sizeof(in->ch.detail), "%s", why);
	in->ch.kill_reason = why;
	instance_kill(in);
}

/* The liveness deadlines: hello, heartbeats, reading its channel.
 * True when the instance was given up on. */
static bool
gave_up(struct runtime *rt, struct instance *in, uint64_t now)
{
	struct channel *ch = &in->ch;
	uint64_t timeout = rt->settings->ipc.heartbeat_timeout_ms;

	if (ch->hello_by != 0 && now >= ch->hello_by) {
		protocol_error(in, "no \"hello\" within "
		    "platform.ipc.heartbeat_timeout");
		return true;
	}
	if (ch->backed_up) {
		/* Its heartbeats wait unread behind what it does not read:
		 * this deadline stands in for theirs. */
		if (now - ch->backed_up_since < timeout)
			return false;
		log_error("%s.%u: has not read its channel for %llums (%zu "
		    "bytes waiting for it); killing pid %ld", in->worker->name,
		    in->index, (unsigned long long)(now - ch->backed_up_since),
		    frame_queued(&ch->wr), (long)in->pid);
		give_up_on(in, "not reading its channel");
		return true;
	}
	/* Not while the master itself holds back its reads, for the
	 * publishes it parked. */
	if (!ch->hello || parked_full(ch) || now - ch->last_seen < timeout)
		return false;
	log_error("%s.%u: no heartbeat for %llums: hung; killing pid %ld",
	    in->worker->name, in->index,
	    (unsigned long long)(now - ch->last_seen), (long)in->pid);
	give_up_on(in, "missed heartbeats");
	return true;
}

void
channel_scan(struct runtime *rt, uint64_t now, bool judge)
{
	size_t i;
	unsigned j;

	for (i = 0; i < rt->nworkers; i++) {
		struct worker *w = rt->workers[i];
		const struct worker_def *def = w->def;

		for (j = 0; j < w->ninst; j++) {
			struct instance *in = w->inst[j];
			struct channel *ch = &in->ch;
			struct qtask *t;

			if (in->pid <= 0 || ch->kill_reason != NULL ||
			    in->sup.state == INST_STOPPING)
				continue;
			if (ch->held) {
				/* Its hello and heartbeats waited in the socket
				 * too: its deadlines start again. */
				ch->held = false;
				ch->last_seen = now;
				if (ch->hello_by != 0)
					ch->hello_by = now +
					    rt->settings->ipc.heartbeat_timeout_ms;
				if (!parked_full(ch) && ch->io.fd != -1)
					resume_reading(in);
			}
			if (judge && gave_up(rt, in, now))
				continue;
			if (def != NULL && def->task_timeout_ms > 0 &&
			    ch->consumer != NULL &&
			    (t = queue_oldest_held(ch->consumer)) != NULL &&
			    now - t->dispatched_at >= def->task_timeout_ms) {
				log_error("%s.%u: task %" PRIu64 " held over "
				    "task_timeout; killing pid %ld", w->name, j,
				    t->id, (long)in->pid);
				traces_task_span(rt, &t->trace, t->body,
				    "plba.task_timeout", queue_name(ch->cq), t->id,
				    t->attempt, "task_timeout: instance killed",
				    true);
				ch->kill_reason = "timeout";
				instance_kill(in);
			}
		}
	}
}
