#include "config.h"

#include <sys/eventfd.h>
#include <sys/signalfd.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "plba/plba.h"
#include "child.h"
#include "json_exact.h"
#include "frame.h"
#include "proto.h"
#include "tracectx.h"

/* Unconfirmed asynchronous publishes allowed in flight. */
#define PUBLISH_WINDOW	128
#define CHANNEL_FD	3

struct plba_task {
	struct plba_task *next;
	cJSON		*root;
	const char	*id;
	const char	*queue;
	const char	*name;
	cJSON		*task;
	char		*meta;		/* plain metadata (proto.h) as key\0value\0 */
	size_t		 meta_pairs;	/*   pairs; NULL when in task */
	char		*payload;	/* printed on first ask */
	unsigned	 attempt;
	char		 error[512];
};

/* A synchronous publish waiting for its confirmation. */
struct waiter {
	struct waiter	*next;
	char		 ref[24];
	bool		 done;
	int		 rc;
	char		 id[32];
};

struct done_notice {
	struct done_notice	*next;
	struct plba_done	 d;
};

struct plba_worker {
	const struct reg_worker	  *reg;
	const struct plba_registry *module;
	pthread_mutex_t		   mu;		/* everything below */
	pthread_cond_t		   cv;
	pthread_mutex_t		   wmu;		/* writes to the fd */
	char			  *name;
	unsigned		   instance;
	bool			   welcomed;
	bool			   stopping;
	bool			   force;
	/* The master is gone: atomic, so that every write can look. */
	_Atomic bool		   closed;
	bool			   misunderstood; /* ... or said what we cannot read */
	bool			   leaving;	/* child_run is returning */
	/*
	 * What welcome, then any tracing message, said: the channel thread
	 * writes them, every thread reads them, without the lock.
	 */
	_Atomic bool		   tracing;	/* the master collects traces */
	_Atomic uint64_t	   trace_sample;	/* tracectx_sample()'s bound */
	uint64_t		   heartbeat_ms;
	enum plba_health	   health;	/* as reported */
	char			   detail[256];
	enum plba_health	   set_health;	/* plba_worker_set_health() */
	char			   set_detail[256];
	bool			   health_dirty;
	struct plba_task	  *thead, *ttail;
	struct waiter		  *waiters;
	struct done_notice	  *dhead, *dtail;	/* tracked tasks finished */
	uint64_t		   next_ref;
	uint64_t		   async_out;	/* sent, not yet confirmed */
	int			   async_rc;	/* first async failure */
	plba_config		  *cfg;
	char			   err[256];
	int			   sigfd;

	/*
	 * Trace frames wait here, under wmu, for the next frame written to
	 * go out with it: a span ends just before a publish or an ack
	 * follows, and one write instead of two halves the system calls
	 * tracing costs, here and in the master.  The channel thread sends
	 * what waited TRACE_HOLD_MS, polling that often while spans are
	 * being made (traces_last within TRACE_BUSY_MS); otherwise it
	 * sleeps (traces_asleep) and the first span wakes it through
	 * wakefd.
	 */
	struct frame_writer	   traces;
	uint64_t		   traces_since;	/* the oldest waiting */
	uint64_t		   traces_last;		/* the last one made */
	bool			   traces_asleep;
	int			   wakefd;
};

#define TRACE_HOLD_MS		20
#define TRACE_BUSY_MS		1000
#define TRACE_HOLD_BYTES	(64u << 10)

static uint64_t now_ms(void);

/* --- writing -------------------------------------------------------------- */

/* Writes all of fw, waiting for room.  Called with wmu held. */
static int
write_out(struct frame_writer *fw)
{
	struct pollfd pfd = { CHANNEL_FD, POLLOUT, 0 };
	int r;

	while ((r = frame_flush(fw, CHANNEL_FD)) != 0) {
		if (r == -1)
			return PLBA_ECLOSED;
		/* The master reads when it can; wait for room. */
		(void)poll(&pfd, 1, -1);
	}
	return PLBA_OK;
}

/* PLBA_ECLOSED, with words for plba_worker_error(). */
static int
closed_error(plba_worker *w)
{
	snprintf(w->err, sizeof(w->err), "the channel to the master is closed");
	return PLBA_ECLOSED;
}

/*
 * Sends fw, after the trace frames waiting and in the same write.  Once
 * the channel is closed nothing is sent, even when fd 3 is still open
 * (libplba gave up on a master it could not read).
 */
static int
send_frames(plba_worker *w, struct frame_writer *fw)
{
	int rc = PLBA_OK;

	if (w->closed) {
		frame_writer_free(fw);
		return closed_error(w);
	}
	pthread_mutex_lock(&w->wmu);
	if (frame_queued(&w->traces) > 0 &&
	    frame_writer_move(&w->traces, fw) == -1)
		rc = write_out(&w->traces);	/* no room to join them */
	if (rc == PLBA_OK)
		rc = write_out(frame_queued(&w->traces) > 0 ? &w->traces : fw);
	pthread_mutex_unlock(&w->wmu);
	frame_writer_free(fw);
	return rc == PLBA_ECLOSED ? closed_error(w) : rc;
}

/* Sends the trace frames waiting, if any. */
static int
send_traces(plba_worker *w)
{
	int rc;

	pthread_mutex_lock(&w->wmu);
	rc = write_out(&w->traces);
	pthread_mutex_unlock(&w->wmu);
	return rc;
}

/*
 * The channel thread's poll timeout (at most timeout), sending the trace
 * frames that waited long enough.
 */
static int
traces_timeout(plba_worker *w, uint64_t now, int timeout)
{
	uint64_t due;

	pthread_mutex_lock(&w->wmu);
	if (frame_queued(&w->traces) > 0 &&
	    now >= w->traces_since + TRACE_HOLD_MS)
		(void)write_out(&w->traces);
	w->traces_asleep = false;
	if (frame_queued(&w->traces) > 0) {
		due = w->traces_since + TRACE_HOLD_MS - now;
		if (due < (uint64_t)timeout)
			timeout = (int)due;
	} else if (w->traces_last != 0 &&
	    now < w->traces_last + TRACE_BUSY_MS) {
		if (timeout > TRACE_HOLD_MS)
			timeout = TRACE_HOLD_MS;
	} else
		w->traces_asleep = true;
	pthread_mutex_unlock(&w->wmu);
	return timeout;
}

static int
send_simple(plba_worker *w, const char *type)
{
	struct frame_writer fw;

	frame_writer_init(&fw);
	if (proto_put_simple(&fw, type) == -1) {
		frame_writer_free(&fw);
		return PLBA_ENOMEM;
	}
	return send_frames(w, &fw);
}

static void
send_health(plba_worker *w)
{
	static const char *const names[] = { "ok", "degraded", "unhealthy" };
	struct frame_writer fw;
	char detail[256];
	enum plba_health h;

	pthread_mutex_lock(&w->mu);
	h = w->health;
	snprintf(detail, sizeof(detail), "%s", w->detail);
	w->health_dirty = false;
	pthread_mutex_unlock(&w->mu);
	frame_writer_init(&fw);
	if (proto_put_health(&fw, names[h], detail) == 0)
		send_frames(w, &fw);
	else
		frame_writer_free(&fw);
}

/* Asks the worker's own health function and the module's contributors;
 * the worst answer wins and names itself. */
static void
poll_health(plba_worker *w)
{
	const struct reg_worker *r = w->reg;
	enum plba_health h, c;
	char detail[256], d[200];
	size_t i;

	pthread_mutex_lock(&w->mu);
	h = w->set_health;
	snprintf(detail, sizeof(detail), "%s", w->set_detail);
	pthread_mutex_unlock(&w->mu);
	if (r->ops != NULL && r->ops->health != NULL) {
		detail[0] = '\0';
		h = r->ops->health(w, detail, sizeof(detail), r->arg);
	}
	for (i = 0; w->module != NULL && i < w->module->nhealths; i++) {
		const struct reg_health *rh = &w->module->healths[i];

		d[0] = '\0';
		c = rh->fn(d, sizeof(d), rh->arg);
		if (c > h) {
			h = c;
			snprintf(detail, sizeof(detail), "%s: %s", rh->name, d);
		}
	}
	pthread_mutex_lock(&w->mu);
	if (h != w->health || strcmp(detail, w->detail) != 0) {
		w->health = h;
		snprintf(w->detail, sizeof(w->detail), "%s", detail);
		w->health_dirty = true;
	}
	pthread_mutex_unlock(&w->mu);
}

/* --- reading (channel thread) --------------------------------------------- */

static void
request_stop(plba_worker *w, bool force)
{
	const struct reg_worker *r = w->reg;
	bool first;

	pthread_mutex_lock(&w->mu);
	first = !w->stopping || (force && !w->force);
	w->stopping = true;
	w->force = w->force || force;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (first && r->ops != NULL && r->ops->stop != NULL)
		r->ops->stop(w, force, r->arg);
}

static void
confirm(plba_worker *w, struct msg *m, int rc)
{
	struct waiter *wt;

	pthread_mutex_lock(&w->mu);
	for (wt = w->waiters; wt != NULL; wt = wt->next)
		if (strcmp(wt->ref, m->ref) == 0)
			break;
	if (wt != NULL) {
		wt->done = true;
		wt->rc = rc;
		if (m->id != NULL)
			snprintf(wt->id, sizeof(wt->id), "%s", m->id);
	} else if (w->async_out > 0) {
		w->async_out--;
		if (rc != PLBA_OK && w->async_rc == PLBA_OK)
			w->async_rc = rc;
	}
	if (rc != PLBA_OK)
		snprintf(w->err, sizeof(w->err), "publish rejected: %s",
		    m->error != NULL ? m->error : "?");
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static void
take_task(plba_worker *w, struct msg *m)
{
	struct plba_task *t;
	const char *p, *k, *v;
	size_t klen, vlen;
	cJSON *name;
	char *o;

	/* The metadata's pairs fit in its text's length plus one. */
	if ((t = calloc(1, sizeof(*t) + (m->meta != NULL ?
	    m->meta_len + 1 : 0))) == NULL)
		return;		/* lost here; the master redelivers it */
	if (m->meta != NULL) {
		t->meta = o = (char *)(t + 1);
		for (p = m->meta; meta_text_next(&p, m->meta + m->meta_len,
		    &k, &klen, &v, &vlen) == 0; o += klen + vlen + 2) {
			memcpy(o, k, klen);
			o[klen] = '\0';
			memcpy(o + klen + 1, v, vlen);
			o[klen + 1 + vlen] = '\0';
			t->meta_pairs++;
		}
	}
	t->root = m->root;
	m->root = NULL;
	t->id = m->id;
	t->queue = m->queue;
	t->task = m->task;
	t->attempt = (unsigned)m->attempt;
	name = cJSON_GetObjectItemCaseSensitive(t->task, "name");
	t->name = name->valuestring;
	pthread_mutex_lock(&w->mu);
	if (w->ttail != NULL)
		w->ttail->next = t;
	else
		w->thead = t;
	w->ttail = t;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static void
take_done(plba_worker *w, const struct msg *m)
{
	struct done_notice *n;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return;		/* the publisher finds the work again later */
	snprintf(n->d.id, sizeof(n->d.id), "%s", m->id);
	snprintf(n->d.queue, sizeof(n->d.queue), "%s", m->queue);
	n->d.acked = m->acked;
	snprintf(n->d.error, sizeof(n->d.error), "%s",
	    m->error != NULL ? m->error : "");
	pthread_mutex_lock(&w->mu);
	if (w->dtail != NULL)
		w->dtail->next = n;
	else
		w->dhead = n;
	w->dtail = n;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* A master without sampling sends no ratio: every trace (proto.c). */
static void
set_tracing(plba_worker *w, const struct msg *m)
{
	w->trace_sample = tracectx_sample_bound(m->trace_sample);
	w->tracing = m->trace;
}

static int
handle(plba_worker *w, struct msg *m)
{
	switch (m->type) {
	case MSG_WELCOME: {
		cJSON *hb = cJSON_GetObjectItemCaseSensitive(m->root,
		    "heartbeat_ms");

		pthread_mutex_lock(&w->mu);
		w->welcomed = true;
		set_tracing(w, m);
		if (cJSON_IsNumber(hb) && hb->valuedouble >= 10)
			w->heartbeat_ms = (uint64_t)hb->valuedouble;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		return 0;
	}
	case MSG_PUBLISHED:
		confirm(w, m, PLBA_OK);
		return 0;
	case MSG_REJECTED:
		/* The master may say more after the words. */
		if (m->error != NULL && strncmp(m->error, "no such queue",
		    13) == 0)
			confirm(w, m, PLBA_ENOENT);
		else if (m->error != NULL && strncmp(m->error,
		    PROTO_REJECT_STOPPING, strlen(PROTO_REJECT_STOPPING)) == 0)
			confirm(w, m, PLBA_ESTATE);
		else
			confirm(w, m, PLBA_EINVAL);
		return 0;
	case MSG_TASK:
		take_task(w, m);
		return 0;
	case MSG_STOP:
		request_stop(w, m->force);
		return 0;
	case MSG_TRACING:
		set_tracing(w, m);
		return 0;
	case MSG_DONE:
		take_done(w, m);
		return 0;
	default:
		return -1;
	}
}

static void
mark_closed(plba_worker *w)
{
	pthread_mutex_lock(&w->mu);
	w->closed = true;
	w->stopping = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool
worker_leaving(plba_worker *w)
{
	bool leaving;

	pthread_mutex_lock(&w->mu);
	leaving = w->leaving;
	pthread_mutex_unlock(&w->mu);
	return leaving;
}

static void *
channel_thread(void *arg)
{
	plba_worker *w = arg;
	struct frame_reader rd;
	struct pollfd pfd[3];
	uint64_t next_beat = now_ms(), now;
	const char *data;
	struct msg m;
	char err[256];
	size_t len;
	ssize_t n;
	int rc, timeout;

	/* The master bounds frames; this side trusts it, within reason. */
	frame_reader_init(&rd, 1u << 30);
	pfd[0].fd = CHANNEL_FD;
	pfd[0].events = POLLIN;
	pfd[1].fd = w->sigfd;
	pfd[1].events = POLLIN;
	pfd[2].fd = w->wakefd;
	pfd[2].events = POLLIN;
	for (;;) {
		now = now_ms();
		if (now >= next_beat) {
			poll_health(w);
			if (w->health_dirty)
				send_health(w);
			if (send_simple(w, "heartbeat") != PLBA_OK)
				break;
			next_beat = now + w->heartbeat_ms;
		}
		/* w->tracing is this thread's to write. */
		timeout = w->tracing ? traces_timeout(w, now,
		    (int)(next_beat - now)) : (int)(next_beat - now);
		if (poll(pfd, 3, timeout) == -1 && errno != EINTR)
			break;
		if (pfd[2].revents & POLLIN) {
			eventfd_t v;

			(void)eventfd_read(w->wakefd, &v);
		}
		/* Asked each turn, not only when woken: without an eventfd
		 * the next heartbeat's timeout still brings us here. */
		if (worker_leaving(w))
			break;
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(w->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				request_stop(w, false);
		}
		if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = frame_read(&rd, CHANNEL_FD);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			break;
		while ((rc = frame_next(&rd, &data, &len)) == 1) {
			if (msg_decode(&m, data, len, false, err, sizeof(err)) == -1)
				goto bad;
			/* The payload goes to the handler as published. */
			if (m.type == MSG_TASK &&
			    json_exact_numbers(m.root, data, len) == -1) {
				snprintf(err, sizeof(err), "out of memory");
				msg_clear(&m);
				goto bad;
			}
			if (handle(w, &m) == -1) {
				snprintf(err, sizeof(err), "unexpected \"%s\"",
				    msg_type_name(m.type));
				msg_clear(&m);
				goto bad;
			}
			msg_clear(&m);
		}
		if (rc < 0)
			break;
		/* The welcome may have shortened the interval the first
		 * beat was planned with. */
		if (next_beat > now_ms() + w->heartbeat_ms)
			next_beat = now_ms() + w->heartbeat_ms;
	}
	goto out;
bad:
	/* A master of another version, most likely: say so where the
	 * master logs it, and exit non-zero so that it counts as a crash. */
	snprintf(w->err, sizeof(w->err), "bad message from the master: %.200s", err);
	fprintf(stderr, "plba: %s\n", w->err);
	pthread_mutex_lock(&w->mu);
	w->misunderstood = true;
	pthread_mutex_unlock(&w->mu);
out:
	frame_reader_free(&rd);
	mark_closed(w);
	return NULL;
}

/* --- public worker API ---------------------------------------------------- */

const char *
plba_worker_name(const plba_worker *w)
{
	return w->name;
}

unsigned
plba_worker_instance(const plba_worker *w)
{
	return w->instance;
}

const plba_node *
plba_worker_section(const plba_worker *w, const char *name)
{
	if (w->cfg == NULL)
		return NULL;
	return plba_node_get(plba_config_root(w->cfg), name);
}

const plba_node *
plba_worker_config(const plba_worker *w)
{
	const plba_node *ws = plba_worker_section(w, "workers");
	size_t i, n = plba_node_count(ws);

	/* By key, not by dotted path: worker names may contain dots. */
	for (i = 0; i < n; i++)
		if (strcmp(plba_node_key_at(ws, i), w->name) == 0)
			return plba_node_get(plba_node_at(ws, i), "config");
	return NULL;
}

bool
plba_worker_stopping(const plba_worker *w)
{
	bool s;

	pthread_mutex_lock((pthread_mutex_t *)&w->mu);
	s = w->stopping;
	pthread_mutex_unlock((pthread_mutex_t *)&w->mu);
	return s;
}

/* The condition variable runs on CLOCK_MONOTONIC. */
static void
deadline_in(uint64_t ms, struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

bool
plba_worker_sleep(plba_worker *w, uint64_t ms)
{
	struct timespec ts;
	bool s;

	deadline_in(ms, &ts);
	pthread_mutex_lock(&w->mu);
	while (!w->stopping &&
	    pthread_cond_timedwait(&w->cv, &w->mu, &ts) != ETIMEDOUT)
		;
	s = w->stopping;
	pthread_mutex_unlock(&w->mu);
	return s;
}

int
plba_worker_set_health(plba_worker *w, enum plba_health h, const char *detail)
{
	if (h > PLBA_HEALTH_UNHEALTHY)
		return PLBA_EINVAL;
	pthread_mutex_lock(&w->mu);
	w->set_health = h;
	snprintf(w->set_detail, sizeof(w->set_detail), "%s", detail ? detail : "");
	pthread_mutex_unlock(&w->mu);
	/* Contributors may still report something worse. */
	poll_health(w);
	send_health(w);
	return PLBA_OK;
}

int
plba_worker_set_status(plba_worker *w, enum plba_status s)
{
	struct frame_writer fw;

	/* Any other value would be sent as "idle", hiding the caller's bug. */
	if (s != PLBA_STATUS_IDLE && s != PLBA_STATUS_BUSY)
		return PLBA_EINVAL;
	frame_writer_init(&fw);
	if (proto_put_status(&fw, s == PLBA_STATUS_BUSY ? "busy" : "idle") == -1) {
		frame_writer_free(&fw);
		return PLBA_ENOMEM;
	}
	return send_frames(w, &fw);
}

const char *
plba_worker_error(const plba_worker *w)
{
	return w->err;
}

static char *
put(char *q, const char *s, size_t n)
{
	memcpy(q, s, n);
	return q + n;
}

/* Builds {name, payload, metadata} as JSON text; checks the payload, and
 * says in *deep when nesting is what it is refused for.  Published inside
 * a span, the task carries its trace. */
static char *
task_json(plba_worker *w, const char *name, const char *payload, bool *deep)
{
	char tp[64];
	plba_span *cur = w->tracing ? plba_span_current(w) : NULL;
	bool traced = cur != NULL && plba_span_traceparent(cur, tp, sizeof(tp)) == 0;
	cJSON *p = NULL;
	char *q, *out;
	size_t qlen, plen, len;
	bool finite;

	if (payload == NULL)
		payload = "null";
	plen = strlen(payload);
	/*
	 * Sent as it is, so it must be exactly one JSON value: trailing text
	 * would make a frame the master kills us for, or add members to the
	 * task (metadata).  Bytes the master refuses are found here too, and
	 * so are numbers cJSON would turn into null.
	 */
	if (proto_first_invalid(payload, plen) < plen ||
	    (p = cJSON_ParseWithOpts(payload, NULL, true)) == NULL)
		return NULL;
	finite = json_finite(p);
	/* The master refuses a deeper one (proto.h says why). */
	*deep = json_deeper(p, PROTO_TASK_DEPTH);
	cJSON_Delete(p);
	if (!finite || *deep)
		return NULL;
	qlen = json_quote(NULL, 0, name);
	len = qlen + plen + 128;
	if ((out = malloc(len)) == NULL)
		return NULL;
	/* Copies, not snprintf: a traced publish's "%s" of the traceparent
	 * alone showed in the producer's profile. */
#define PUT_LIT(q, lit)	put((q), "" lit, sizeof(lit) - 1)
	q = out;
	q = PUT_LIT(q, "{\"name\":");
	json_quote(q, qlen, name);
	q += qlen;
	q = PUT_LIT(q, ",\"payload\":");
	q = put(q, payload, plen);
	if (traced) {
		q = PUT_LIT(q, ",\"metadata\":{\"traceparent\":\"");
		q = put(q, tp, strlen(tp));
		q = PUT_LIT(q, "\"}");
	}
	put(q, "}", 2);		/* and the NUL */
#undef PUT_LIT
	return out;
}

static int
publish(plba_worker *w, const char *queue, const char *name,
    const char *payload, struct waiter *wt, bool track)
{
	struct frame_writer fw;
	char ref[24], *task;
	bool deep = false;
	int rc;

	if (queue == NULL || name == NULL)
		return PLBA_EINVAL;
	if ((task = task_json(w, name, payload, &deep)) == NULL) {
		if (deep)
			snprintf(w->err, sizeof(w->err), "payload is nested "
			    "more than %d deep", PROTO_TASK_DEPTH);
		else
			snprintf(w->err, sizeof(w->err), "payload is not JSON");
		return PLBA_EINVAL;
	}
	pthread_mutex_lock(&w->mu);
	if (w->closed || w->force) {
		pthread_mutex_unlock(&w->mu);
		free(task);
		return w->closed ? closed_error(w) : PLBA_ESTATE;
	}
	snprintf(ref, sizeof(ref), "%" PRIu64, ++w->next_ref);
	if (wt != NULL) {
		snprintf(wt->ref, sizeof(wt->ref), "%s", ref);
		wt->next = w->waiters;
		w->waiters = wt;
	} else {
		while (w->async_out >= PUBLISH_WINDOW && !w->closed)
			pthread_cond_wait(&w->cv, &w->mu);
		w->async_out++;
	}
	pthread_mutex_unlock(&w->mu);
	frame_writer_init(&fw);
	rc = proto_put_publish(&fw, ref, queue, task, strlen(task), track) == 0 ?
	    send_frames(w, &fw) : PLBA_ENOMEM;
	if (rc != PLBA_OK)
		frame_writer_free(&fw);
	free(task);
	return rc;
}

static int
publish_wait(plba_worker *w, const char *queue, const char *name,
    const char *payload_json, char *id, size_t idlen, bool track)
{
	struct waiter wt, **pp;
	int rc;

	memset(&wt, 0, sizeof(wt));
	if ((rc = publish(w, queue, name, payload_json, &wt, track)) != PLBA_OK &&
	    wt.ref[0] == '\0')
		return rc;
	pthread_mutex_lock(&w->mu);
	while (!wt.done && !w->closed && rc == PLBA_OK)
		pthread_cond_wait(&w->cv, &w->mu);
	for (pp = &w->waiters; *pp != NULL; pp = &(*pp)->next)
		if (*pp == &wt) {
			*pp = wt.next;
			break;
		}
	if (rc == PLBA_OK)
		rc = wt.done ? wt.rc : closed_error(w);
	pthread_mutex_unlock(&w->mu);
	if (rc == PLBA_OK && id != NULL && idlen > 0)
		snprintf(id, idlen, "%s", wt.id);
	return rc;
}

int
plba_publish(plba_worker *w, const char *queue, const char *name,
    const char *payload_json, char *id, size_t idlen)
{
	return publish_wait(w, queue, name, payload_json, id, idlen, false);
}

int
plba_publish_tracked(plba_worker *w, const char *queue, const char *name,
    const char *payload_json, char *id, size_t idlen)
{
	return publish_wait(w, queue, name, payload_json, id, idlen, true);
}

int
plba_publish_async(plba_worker *w, const char *queue, const char *name,
    const char *payload_json)
{
	return publish(w, queue, name, payload_json, NULL, false);
}

int
plba_worker_next_done(plba_worker *w, uint64_t ms, struct plba_done *out)
{
	struct done_notice *n;
	struct timespec ts;
	int rc;

	if (out == NULL)
		return PLBA_EINVAL;
	deadline_in(ms, &ts);
	pthread_mutex_lock(&w->mu);
	while (w->dhead == NULL && !w->stopping &&
	    pthread_cond_timedwait(&w->cv, &w->mu, &ts) != ETIMEDOUT)
		;
	if ((n = w->dhead) != NULL) {
		if ((w->dhead = n->next) == NULL)
			w->dtail = NULL;
		*out = n->d;
		rc = 1;
	} else
		rc = w->closed ? closed_error(w) : 0;
	pthread_mutex_unlock(&w->mu);
	free(n);
	return rc;
}

int
plba_publish_flush(plba_worker *w)
{
	int rc;

	pthread_mutex_lock(&w->mu);
	while (w->async_out > 0 && !w->closed)
		pthread_cond_wait(&w->cv, &w->mu);
	rc = w->async_out > 0 ? closed_error(w) : w->async_rc;
	w->async_rc = PLBA_OK;
	pthread_mutex_unlock(&w->mu);
	return rc;
}

/* --- tasks ------------------------------------------------------------------ */

const char *
plba_task_id(const plba_task *t)
{
	return t->id;
}

const char *
plba_task_queue(const plba_task *t)
{
	return t->queue;
}

const char *
plba_task_name(const plba_task *t)
{
	return t->name;
}

unsigned
plba_task_attempt(const plba_task *t)
{
	return t->attempt;
}

const char *
plba_task_payload(const plba_task *t)
{
	struct plba_task *mt = (struct plba_task *)t;
	cJSON *p;

	if (mt->payload == NULL) {
		p = cJSON_GetObjectItemCaseSensitive(t->task, "payload");
		mt->payload = p != NULL ? cJSON_PrintUnformatted(p) : NULL;
	}
	return mt->payload != NULL ? mt->payload : "null";
}

const char *
plba_task_meta(const plba_task *t, const char *key)
{
	const char *p;
	size_t i;
	cJSON *v;

	if (t->meta != NULL) {
		for (i = 0, p = t->meta; i < t->meta_pairs; i++) {
			if (strcmp(p, key) == 0)
				return p + strlen(p) + 1;
			p += strlen(p) + 1;
			p += strlen(p) + 1;
		}
		return NULL;
	}
	v = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(t->task, "metadata"), key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

void
plba_task_error(plba_task *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->error, sizeof(t->error), fmt, ap);
	va_end(ap);
}

static void
task_free(struct plba_task *t)
{
	cJSON_Delete(t->root);
	free(t->payload);
	free(t);
}

/* The handler, inside a consumer span that continues the producer's
 * trace when tracing is on; the outcome is recorded on it. */
static enum plba_task_result
handle_task(plba_worker *w, const struct reg_worker *r, plba_task *t)
{
	enum plba_task_result res;
	plba_span *s;
	char name[160];
	size_t qlen;

	if (!w->tracing)
		return r->handler(w, t, r->handler_arg);
	/* Not snprintf: this runs for every task. */
	qlen = strnlen(t->queue, sizeof(name) - sizeof("process "));
	memcpy(name, "process ", sizeof("process ") - 1);
	memcpy(name + sizeof("process ") - 1, t->queue, qlen);
	name[sizeof("process ") - 1 + qlen] = '\0';
	s = trace_resume_kind(w, plba_task_meta(t, "traceparent"), name,
	    "consumer");
	trace_span_set_task(s, t->queue, t->name, t->id, t->attempt);
	res = r->handler(w, t, r->handler_arg);
	switch (res) {
	case PLBA_TASK_OK:
		trace_span_set_outcome(s, "ack");
		plba_span_ok(s);
		break;
	case PLBA_TASK_RETRY:
		trace_span_set_outcome(s, "nack-retry");
		plba_span_error(s, "%s", t->error[0] ? t->error : "retry");
		break;
	default:	/* anything else is treated as FAIL */
		trace_span_set_outcome(s, "nack-dead");
		plba_span_error(s, "%s", t->error[0] ? t->error : "failed");
		break;
	}
	plba_span_end(s);
	return res;
}

bool
child_tracing(plba_worker *w)
{
	return w->tracing;
}

uint64_t
child_trace_sample(plba_worker *w)
{
	return w->trace_sample;
}

/* Queues a trace frame to go with the next frame (see struct plba_worker). */
int
child_send_trace(plba_worker *w, const char *json, size_t len)
{
	uint64_t now = now_ms();
	bool wake = false;
	int rc = PLBA_OK;

	pthread_mutex_lock(&w->wmu);
	if (frame_queued(&w->traces) == 0) {
		w->traces_since = now;
		wake = w->traces_asleep;
		w->traces_asleep = false;
	}
	w->traces_last = now;
	if (proto_put_trace(&w->traces, json, len) == -1)
		rc = PLBA_ENOMEM;
	else if (frame_queued(&w->traces) >= TRACE_HOLD_BYTES)
		rc = write_out(&w->traces);
	pthread_mutex_unlock(&w->wmu);
	if (wake)
		(void)eventfd_write(w->wakefd, 1);
	return rc;
}

/* The seed's QueueWorker loop: one task at a time, acked or nacked by the
 * handler's answer.  On a graceful stop what was already received is
 * finished; on a forced one the master requeues it. */
static int
queue_loop(plba_worker *w)
{
	const struct reg_worker *r = w->reg;
	enum plba_task_result res;
	struct frame_writer fw;
	struct plba_task *t;
	int rc;

	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (w->thead == NULL && !w->stopping)
			pthread_cond_wait(&w->cv, &w->mu);
		if ((t = w->thead) == NULL || w->force || w->closed) {
			pthread_mutex_unlock(&w->mu);
			break;
		}
		if ((w->thead = t->next) == NULL)
			w->ttail = NULL;
		pthread_mutex_unlock(&w->mu);

		res = handle_task(w, r, t);
		frame_writer_init(&fw);
		if (res != PLBA_TASK_RETRY && res != PLBA_TASK_OK)
			res = PLBA_TASK_FAIL;
		if (res == PLBA_TASK_OK)
			rc = proto_put_ack(&fw, t->id);
		else
			rc = proto_put_nack(&fw, t->id, t->error[0] ? t->error :
			    (res == PLBA_TASK_RETRY ? "retry" : "failed"),
			    res == PLBA_TASK_RETRY);
		task_free(t);
		if (rc == -1 || send_frames(w, &fw) != PLBA_OK)
			break;
	}
	return 0;
}

/* --- the whole child ---------------------------------------------------------- */

static void
load_config(plba_worker *w)
{
	const char *env = getenv("PLBA_CONFIG");
	const char *paths[32];
	char *copy, *p, *save = NULL;
	size_t n = 0;

	if (env == NULL || (copy = strdup(env)) == NULL)
		return;
	for (p = strtok_r(copy, "\n", &save); p != NULL && n < 32;
	    p = strtok_r(NULL, "\n", &save))
		paths[n++] = p;
	if (n > 0 && plba_config_load(paths, n, &w->cfg, w->err,
	    sizeof(w->err)) != PLBA_OK)
		fprintf(stderr, "plba: configuration: %s\n", w->err);
	free(copy);
}

static void
worker_free(plba_worker *w)
{
	struct plba_task *t;
	struct done_notice *n;

	while ((t = w->thead) != NULL) {
		w->thead = t->next;
		task_free(t);
	}
	while ((n = w->dhead) != NULL) {
		w->dhead = n->next;
		free(n);
	}
	frame_writer_free(&w->traces);
	plba_config_free(w->cfg);
	if (w->sigfd >= 0)
		close(w->sigfd);
	if (w->wakefd >= 0)
		close(w->wakefd);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->wmu);
	pthread_mutex_destroy(&w->mu);
	free(w->name);
	free(w);
}

int
child_run(const struct reg_worker *reg, const struct plba_registry *module)
{
	plba_worker *w;
	pthread_t th;
	sigset_t mask;
	const char *name = getenv("PLBA_WORKER"), *inst = getenv("PLBA_INSTANCE");
	int status = 0;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return 1;
	w->reg = reg;
	w->module = module;
	w->name = strdup(name != NULL ? name : reg->name);
	w->instance = inst != NULL ? (unsigned)atoi(inst) : 0;
	w->heartbeat_ms = 1000;
	pthread_mutex_init(&w->mu, NULL);
	pthread_mutex_init(&w->wmu, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&w->cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	load_config(w);

	/* Every thread blocks SIGTERM and SIGINT; the channel thread reads
	 * them from a signalfd and turns them into a graceful stop. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	w->sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	w->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	frame_writer_init(&w->traces);

	{
		struct frame_writer fw;

		frame_writer_init(&fw);
		if (proto_put_hello(&fw, (long)getpid(), true) == -1 ||
		    send_frames(w, &fw) != PLBA_OK) {
			fprintf(stderr, "plba: no channel to the master on fd 3: "
			    "run this program under plba-master\n");
			worker_free(w);
			return 1;
		}
	}
	if (pthread_create(&th, NULL, channel_thread, w) != 0) {
		worker_free(w);
		return 1;
	}
	pthread_mutex_lock(&w->mu);
	while (!w->welcomed && !w->closed)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);

	/* A worker that cannot run its configuration must never count as
	 * ready: what depends on it would start, and so would the runtime. */
	if (!w->closed && reg->check != NULL &&
	    reg->check(w, reg->ops != NULL ? reg->arg : reg->handler_arg) != 0)
		status = 2;
	else if (!w->closed && send_simple(w, "ready") == PLBA_OK) {
		if (reg->ops != NULL)
			status = reg->ops->start(w, reg->arg) == 0 ? 0 : 1;
		else
			status = queue_loop(w);
		if (plba_publish_flush(w) != PLBA_OK && status == 0 && !w->closed)
			status = 1;
	}
	/* The spans still waiting go before the process ends. */
	(void)send_traces(w);
	/*
	 * The channel thread reads reg, which may live on our caller's
	 * stack, and calls the worker's health and stop functions: it must
	 * be gone before we return.  fd 3 stays open until the process
	 * exits, which the master reads as the end.
	 */
	pthread_mutex_lock(&w->mu);
	w->leaving = true;
	pthread_mutex_unlock(&w->mu);
	(void)eventfd_write(w->wakefd, 1);
	pthread_join(th, NULL);
	if (w->misunderstood)
		status = 1;
	worker_free(w);
	return status;
}

int
plba_worker_main(const struct plba_worker_ops *ops, void *arg)
{
	struct reg_worker reg = { .name = (char *)"worker", .ops = ops, .arg = arg };

	if (ops == NULL || ops->start == NULL)
		return 2;
	return child_run(&reg, NULL);
}

int
plba_queue_worker_main(plba_task_handler handler, void *arg)
{
	struct reg_worker reg = { .name = (char *)"worker", .handler = handler,
	    .handler_arg = arg };

	if (handler == NULL)
		return 2;
	return child_run(&reg, NULL);
}
