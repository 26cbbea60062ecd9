/*
 * The trace exporter: a bounded buffer filled by the loop thread and one
 * exporter thread that drains it into a file (trace_file.c) or an
 * OTLP/HTTP collector (otlp_http.c).
 *
 * The thread boundary: the loop thread calls trace_exporter_submit(),
 * _reopen() and _stats(), which only take the mutex for a few pointer moves
 * and counter updates; the exporter thread takes batches out under the
 * mutex and does all encoding and I/O without it.  The thread never calls
 * the master's log functions (they are not thread-safe): what goes wrong is
 * left in the counters and last_error for the loop to report.  A batch being
 * sent still counts against the buffer's bounds, so memory stays bounded
 * however long the collector is away.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto.h"
#include "settings.h"
#include "span_text.h"
#include "task_span.h"
#include "trace_export.h"
#include "trace_sink.h"
#include "tracectx.h"

/*
 * Records are copied one after the other into a circular log that the
 * exporter thread reads in the same order and gives back by the byte.  It
 * replaced blocks passed back and forth between the two threads, which
 * showed in the queue's throughput with tracing to a file (bench/trace.md,
 * "The exporter's log"): each record went to a block last touched on the
 * other core, at no address the processor could see coming.  Written in order,
 * the log's lines are fetched ahead on both sides, and nothing is
 * allocated.  A record that finds no room in it (the transport is behind,
 * or the record is large) is allocated on its own.  The log and those
 * blocks together stay within TRACE_EXPORT_MAX_BYTES.
 */
#define FILE_BATCH	256		/* the file transport's batching */
#define FILE_DELAY_MS	10
#define LOG_CAP		TRACE_EXPORT_LOG_BYTES
#define LOG_RECORD_MAX	(64u << 10)	/* larger records are malloc'ed */
#define LOG_ALIGN	64		/* records start on a cache line */
#define BLOCK_BYTES	(TRACE_EXPORT_MAX_BYTES - LOG_CAP)

struct trace_exporter {
	enum trace_transport transport;
	size_t		 wake_n;	/* records that make a batch go */
	uint64_t	 delay_ns;	/* or the age of its first that does */
	/* The transport's; the thread's alone once it has started, but for
	 * otlp_http_wakeup(), which any thread may call. */
	struct trace_file *file;	/* TRACE_FILE */
	struct otlp_http *http;		/* TRACE_OTLP */

	pthread_t	 thread;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;		/* wakes the thread: records, reopen, stop */

	/* Under mu. */
	struct rec	*head;
	struct rec     **tail;
	size_t		 nlist;		/* records in the list */
	size_t		 list_len;	/* the sum of their len */
	size_t		 held;		/* in the list or in a batch being sent */
	size_t		 bytes;		/* the blocks among them (not the log) */
	bool		 full;		/* the last submit found no room */
	bool		 reopen;
	bool		 stopping;
	bool		 exited;	/* the thread is done: join it at once */
	uint64_t	 deadline;	/* monotonic ns, once stopping */
	struct trace_export_stats st;

	size_t		 log_used;	/* log bytes not given back, gaps too */

	/* Senders of trace frames vetting found not to be JSON, for the
	 * loop to kill; waiting mirrors n for a check without mu. */
	struct trace_offender offenders[TRACE_EXPORT_OFFENDERS];
	size_t		 noffenders;
	_Atomic size_t	 offenders_waiting;

	/* The stop deadline again, for a transfer under way; 0: none. */
	_Atomic uint64_t abort_at;

	/*
	 * The loop thread's alone: records staged since the last flush,
	 * blocks to reuse, and the buffer's fill as of the last flush (it
	 * only shrinks meanwhile, so bounds checked against it hold).
	 */
	struct rec	*stage;
	struct rec     **stage_tail;
	size_t		 nstage;
	size_t		 stage_len;	/* the sum of their len */
	size_t		 stage_bytes;
	uint64_t	 stage_submitted;
	uint64_t	 stage_dropped;
	uint64_t	 stage_at;	/* trace_mono_ns() at the first staged */
	size_t		 seen_held;
	size_t		 seen_bytes;
	/*
	 * The log.  Unreturned records lie in the log_used + stage_log bytes
	 * before log_w (circularly); seen_log_used is log_used as of the last
	 * flush, at least what it is now.  log_end counts every byte the log
	 * was ever written up to (log_w is it modulo LOG_CAP): a record that
	 * began at b is intact while log_end - b <= LOG_CAP.
	 */
	char		*log;
	size_t		 log_w;
	uint64_t	 log_end;
	size_t		 stage_log;
	size_t		 seen_log_used;
};

/* Called without mu held. */
void
trace_export_error(struct trace_exporter *ex, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&ex->mu);
	va_start(ap, fmt);
	vsnprintf(ex->st.last_error, sizeof(ex->st.last_error), fmt, ap);
	va_end(ap);
	ex->st.errors++;
	pthread_mutex_unlock(&ex->mu);
}

void
trace_export_retried(struct trace_exporter *ex)
{
	pthread_mutex_lock(&ex->mu);
	ex->st.retries++;
	pthread_mutex_unlock(&ex->mu);
}

uint64_t
trace_export_abort_at(struct trace_exporter *ex)
{
	return atomic_load(&ex->abort_at);
}

/* What a record of size bytes takes in the log. */
static size_t
log_size(size_t size)
{
	return (size + LOG_ALIGN - 1) & ~(size_t)(LOG_ALIGN - 1);
}

/* A record let go without going through trace_export_finish(): the
 * exporter is stopping, and its log goes with it. */
static void
rec_free(struct trace_exporter *ex, struct rec *r)
{
	if (r->in_log)
		ex->log_used -= r->gap + log_size(r->size);
	else {
		ex->bytes -= r->size;
		free(r);
	}
}

/* ---- the exporter thread ------------------------------------------------- */

/*
 * Waits on cv until the monotonic time t (0: until signalled).  Returns
 * false on a timeout.  Called with mu held.
 */
static bool
wait_until(struct trace_exporter *ex, uint64_t t)
{
	struct timespec ts;

	if (t == 0)
		return pthread_cond_wait(&ex->cv, &ex->mu) == 0;
	ts.tv_sec = (time_t)(t / 1000000000u);
	ts.tv_nsec = (long)(t % 1000000000u);
	return pthread_cond_timedwait(&ex->cv, &ex->mu, &ts) != ETIMEDOUT;
}

bool
trace_export_backoff(struct trace_exporter *ex, uint64_t ms)
{
	uint64_t until = trace_mono_ns() + ms * NS_PER_MS;
	bool go = true;

	pthread_mutex_lock(&ex->mu);
	for (;;) {
		if (ex->stopping && ex->deadline <= until) {
			go = false;
			break;
		}
		if (trace_mono_ns() >= until)
			break;
		wait_until(ex, until);
	}
	pthread_mutex_unlock(&ex->mu);
	return go;
}

/* Takes up to a batch of records off the list.  Called with mu held. */
static struct rec *
take_batch(struct trace_exporter *ex, size_t *np)
{
	struct rec *first = ex->head, *r = first, *last = NULL;
	size_t n = 0, bytes = 0;

	/*
	 * Most often the whole list is a batch, and it goes without a walk:
	 * the records are in memory the loop thread has just written, and
	 * chasing their links one miss after another was 5 % of the
	 * master's perf samples while tracing to a file (bench/trace.md,
	 * eleventh round).
	 */
	if (ex->nlist <= TRACE_EXPORT_BATCH &&
	    ex->list_len <= TRACE_EXPORT_BATCH_BYTES) {
		*np = ex->nlist;
		ex->head = NULL;
		ex->tail = &ex->head;
		ex->nlist = 0;
		ex->list_len = 0;
		return first;
	}
	while (r != NULL && n < TRACE_EXPORT_BATCH &&
	    (n == 0 || bytes + r->len <= TRACE_EXPORT_BATCH_BYTES)) {
		bytes += r->len;
		n++;
		last = r;
		r = r->next;
	}
	if (last != NULL)
		last->next = NULL;
	ex->head = r;
	if (r == NULL)
		ex->tail = &ex->head;
	ex->nlist -= n;
	ex->list_len -= bytes;
	*np = n;
	return first;
}

/* Called without mu held. */
void
trace_export_finish(struct trace_exporter *ex, struct rec *batch, size_t n,
    size_t exported, size_t invalid, bool failed)
{
	struct rec *r, *next, *lose = NULL;
	size_t bytes = 0, logged = 0;

	/* The batch leaves the log in order: only its byte count goes back. */
	for (r = batch; r != NULL; r = next) {
		next = r->next;
		if (r->in_log)
			logged += r->gap + log_size(r->size);
		else {
			bytes += r->size;
			r->next = lose;
			lose = r;
		}
	}
	pthread_mutex_lock(&ex->mu);
	ex->held -= n;
	ex->bytes -= bytes;
	ex->log_used -= logged;
	ex->st.exported += exported;
	ex->st.invalid += invalid;
	ex->st.dropped += n - exported;
	if (failed)
		ex->st.failed_batches++;
	pthread_mutex_unlock(&ex->mu);
	for (r = lose; r != NULL; r = next) {
		next = r->next;
		free(r);
	}
}

/* ---- vetting a trace frame's record ---------------------------------------- */

/* The sender of r goes on the list for the loop (once is enough). */
static void
offend(struct trace_exporter *ex, const struct rec *r, const char *why)
{
	struct trace_offender *o;
	size_t i;

	pthread_mutex_lock(&ex->mu);
	for (i = 0; i < ex->noffenders; i++)
		if (ex->offenders[i].pid == r->pid)
			goto out;
	if (ex->noffenders == TRACE_EXPORT_OFFENDERS)
		goto out;	/* the rest are told at their next frame */
	o = &ex->offenders[ex->noffenders++];
	snprintf(o->worker, sizeof(o->worker), "%s", r->worker);
	o->instance = r->instance;
	o->pid = r->pid;
	snprintf(o->why, sizeof(o->why), "%s", why);
	atomic_store(&ex->offenders_waiting, ex->noffenders);
out:
	pthread_mutex_unlock(&ex->mu);
}

/*
 * A record the loop took from a frame {"type":"trace","record":R} without
 * a look at R (traces_frame()), and that is not a canonical span: the
 * frame is decoded as the loop would have decoded it, and when that fails
 * its sender is a protocol offender and the record is not exported.
 */
static void
vet_frame(struct trace_exporter *ex, struct rec *r)
{
	static const char head[] = TRACE_FRAME_HEAD;
	const size_t hlen = sizeof(head) - 1;
	char err[256], *frame;
	struct msg m;

	r->rejected = true;
	if ((frame = malloc(hlen + r->len + 1)) == NULL)
		return;		/* not known to be bad: dropped as invalid */
	memcpy(frame, head, hlen);
	memcpy(frame + hlen, r->data, r->len);
	frame[hlen + r->len] = '}';
	if (msg_decode(&m, frame, hlen + r->len + 1, true, err,
	    sizeof(err)) == -1) {
		offend(ex, r, err);
		free(frame);
		return;
	}
	/* R is the record, or begins with it when the frame had more
	 * members after it. */
	if (m.type == MSG_TRACE && m.task_raw == frame + hlen &&
	    m.task_raw_len <= r->len) {
		r->rejected = false;
		if (m.task_raw_len < r->len)
			r->vet_len = (uint32_t)m.task_raw_len;
	}
	msg_clear(&m);
	free(frame);
}

/*
 * Checking a child's records cost the event loop, which the queue's
 * throughput waits on, some 250 ns a traced task; here they cost a thread
 * that has time (bench/trace.md, eleventh round).
 */
static void
vet_batch(struct trace_exporter *ex, struct rec *batch)
{
	struct rec *r;

	for (r = batch; r != NULL; r = r->next) {
		if (!r->unvetted)
			continue;
		switch (span_text_check(r->data, r->len)) {
		case SPAN_TEXT_VALID:
			r->vetted = true;
			break;
		case SPAN_TEXT_INVALID:
			break;	/* one JSON object, but no span */
		default:
			vet_frame(ex, r);
			break;
		}
	}
}

bool
trace_exporter_offender(struct trace_exporter *ex, struct trace_offender *out)
{
	bool any = false;

	if (ex == NULL || atomic_load_explicit(&ex->offenders_waiting,
	    memory_order_relaxed) == 0)
		return false;
	pthread_mutex_lock(&ex->mu);
	if (ex->noffenders > 0) {
		*out = ex->offenders[--ex->noffenders];
		atomic_store(&ex->offenders_waiting, ex->noffenders);
		any = true;
	}
	pthread_mutex_unlock(&ex->mu);
	return any;
}

/*
 * The exporter thread.  A batch goes when it is full (ex->wake_n records)
 * or its oldest record is ex->delay_ns old: for OTLP TRACE_EXPORT_BATCH
 * and TRACE_EXPORT_DELAY_MS; for the file FILE_BATCH and FILE_DELAY_MS, so
 * that a busy master writes the file in few large writes and wakes this
 * thread a few hundred times a second, not for every loop iteration.  Once
 * stopping, everything goes out at once until the list is empty or the
 * deadline has passed; what is left then is dropped.
 */
static void *
exporter_main(void *arg)
{
	struct trace_exporter *ex = arg;
	struct rec *batch, *r;
	uint64_t now, due;
	size_t n;

	pthread_mutex_lock(&ex->mu);
	for (;;) {
		if (ex->reopen) {
			ex->reopen = false;
			pthread_mutex_unlock(&ex->mu);
			trace_file_reopen(ex, ex->file);
			pthread_mutex_lock(&ex->mu);
			continue;
		}
		now = trace_mono_ns();
		if (ex->stopping && (ex->head == NULL || now >= ex->deadline))
			break;
		due = 0;
		if (ex->head != NULL) {
			due = ex->head->at + ex->delay_ns;
			if (ex->stopping || ex->nlist >= ex->wake_n ||
			    now >= due) {
				batch = take_batch(ex, &n);
				pthread_mutex_unlock(&ex->mu);
				vet_batch(ex, batch);
				if (ex->transport == TRACE_FILE)
					trace_file_send(ex, ex->file, batch, n);
				else
					otlp_http_send(ex, ex->http, batch, n);
				pthread_mutex_lock(&ex->mu);
				continue;
			}
		}
		wait_until(ex, due);
	}
	/* Past the deadline: the rest is dropped. */
	while ((r = ex->head) != NULL) {
		ex->head = r->next;
		ex->held--;
		ex->st.dropped++;
		rec_free(ex, r);
	}
	ex->tail = &ex->head;
	ex->nlist = 0;
	ex->list_len = 0;
	ex->exited = true;
	pthread_mutex_unlock(&ex->mu);
	return NULL;
}

/* ---- the loop thread's side ---------------------------------------------- */

static void
release(struct trace_exporter *ex)
{
	struct rec *r;

	while ((r = ex->head) != NULL) {
		ex->head = r->next;
		if (!r->in_log)
			free(r);
	}
	while ((r = ex->stage) != NULL) {
		ex->stage = r->next;
		if (!r->in_log)
			free(r);
	}
	free(ex->log);
	trace_file_close(ex->file);
	otlp_http_free(ex->http);
	free(ex);
}

struct trace_exporter *
trace_exporter_new(const struct settings *s, char *err, size_t errlen)
{
	struct trace_exporter *ex;
	const char *service = s->name != NULL ? s->name : "plba";
	pthread_condattr_t ca;
	sigset_t all, old;
	int rc;

	if (errlen > 0)
		err[0] = '\0';
	if (s->trace.transport == TRACE_NONE)
		return NULL;
	if ((ex = calloc(1, sizeof(*ex))) == NULL) {
		snprintf(err, errlen, "platform.trace: out of memory");
		return NULL;
	}
	ex->transport = s->trace.transport;
	if (ex->transport == TRACE_FILE) {
		ex->wake_n = FILE_BATCH;
		ex->delay_ns = FILE_DELAY_MS * NS_PER_MS;
	} else {
		ex->wake_n = TRACE_EXPORT_BATCH;
		ex->delay_ns = TRACE_EXPORT_DELAY_MS * NS_PER_MS;
	}
	ex->tail = &ex->head;
	ex->stage_tail = &ex->stage;
	if (ex->transport == TRACE_FILE) {
		if (s->trace.file == NULL) {
			snprintf(err, errlen, "platform.trace.file: not set");
			goto fail;
		}
		if ((ex->file = trace_file_open(s->trace.file, service, err,
		    errlen)) == NULL)
			goto fail;
	} else if ((ex->http = otlp_http_new(s->trace.endpoint, service, err,
	    errlen)) == NULL)
		goto fail;

	pthread_mutex_init(&ex->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ex->cv, &ca);
	pthread_condattr_destroy(&ca);
	/* The master takes its signals through a signalfd: a thread with one
	 * unblocked would have it delivered there instead, and lost. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&ex->thread, NULL, exporter_main, ex);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "platform.trace: cannot start the "
		    "exporter thread: %s", strerror(rc));
		pthread_cond_destroy(&ex->cv);
		pthread_mutex_destroy(&ex->mu);
		goto fail;
	}
	return ex;
fail:
	release(ex);
	return NULL;
}

/* The fills as they are now: they only shrink between flushes. */
static void
refresh(struct trace_exporter *ex)
{
	pthread_mutex_lock(&ex->mu);
	ex->seen_held = ex->held;
	ex->seen_bytes = ex->bytes;
	ex->seen_log_used = ex->log_used;
	pthread_mutex_unlock(&ex->mu);
}

/*
 * Room for a record of size bytes in all: next in the log, or at its start
 * when it does not fit before the end (the bytes skipped go back with the
 * record), or a block of its own; *at says where in the log (0: not in
 * it; trace_exporter_logged()).  Blocks get what the log leaves of
 * TRACE_EXPORT_MAX_BYTES.  The fills seen at the last flush are at least
 * the fills now (only the thread changes them since, and only down), so
 * checking against them keeps the bounds; when they say no, the fills now
 * are asked for, which may say yes.
 */
static struct rec *
rec_alloc(struct trace_exporter *ex, size_t size, uint64_t *at_log)
{
	size_t need = log_size(size), gap = 0, at;
	struct rec *r;

	if (size <= LOG_RECORD_MAX && (ex->log != NULL ||
	    (ex->log = malloc(LOG_CAP)) != NULL)) {
		if (LOG_CAP - ex->log_w < need)
			gap = LOG_CAP - ex->log_w;
		if (ex->seen_log_used + ex->stage_log + gap + need > LOG_CAP)
			refresh(ex);
		if (ex->seen_log_used + ex->stage_log + gap + need <= LOG_CAP) {
			at = gap > 0 ? 0 : ex->log_w;
			r = (struct rec *)(void *)(ex->log + at);
			ex->log_w = at + need == LOG_CAP ? 0 : at + need;
			ex->stage_log += gap + need;
			*at_log = ex->log_end + gap + 1;
			ex->log_end += gap + need;
			r->gap = (uint32_t)gap;
			r->in_log = true;
			return r;
		}
	}
	if (ex->seen_bytes + ex->stage_bytes + size > BLOCK_BYTES)
		refresh(ex);
	if (ex->seen_bytes + ex->stage_bytes + size > BLOCK_BYTES ||
	    (r = malloc(size)) == NULL)
		return NULL;
	r->gap = 0;
	r->in_log = false;
	ex->stage_bytes += size;
	return r;
}

/* Room for one more record in the count. */
static bool
room(struct trace_exporter *ex)
{
	if (ex->seen_held + ex->nstage >= TRACE_EXPORT_MAX_RECORDS)
		refresh(ex);
	return ex->seen_held + ex->nstage < TRACE_EXPORT_MAX_RECORDS;
}

/* A master's span sits where a record's text would. */
_Static_assert(offsetof(struct rec, data) % _Alignof(struct task_span) == 0,
    "struct rec's data is not aligned for a task_span");

/* Room for a record of size bytes, counted; NULL when there is none
 * (the record is dropped, and counted). */
static struct rec *
stage_alloc(struct trace_exporter *ex, size_t size, uint64_t *at)
{
	struct rec *r;

	*at = 0;
	ex->stage_submitted++;
	if (!room(ex) || (r = rec_alloc(ex, size, at)) == NULL) {
		ex->stage_dropped++;
		return NULL;
	}
	return r;
}

/* The record r, filled, goes to the stage. */
static void
stage_put(struct trace_exporter *ex, struct rec *r)
{
	r->next = NULL;
	/* One clock read a loop iteration: the batch timer needs no more. */
	if (ex->nstage == 0)
		ex->stage_at = trace_mono_ns();
	r->at = ex->stage_at;
	*ex->stage_tail = r;
	ex->stage_tail = &r->next;
	ex->nstage++;
	ex->stage_len += r->len;
}

static uint64_t
stage(struct trace_exporter *ex, const char *json, size_t len,
    const char *worker, int instance, int pid, bool valid, bool unvetted)
{
	struct rec *r;
	size_t wlen, size;
	uint64_t at;
	char *w;

	if (ex == NULL)
		return 0;
	if (worker == NULL)
		worker = TRACE_EXPORT_MASTER;
	wlen = strlen(worker);
	size = sizeof(*r) + len + 1 + wlen + 1;
	if (json == NULL) {
		ex->stage_submitted++;
		ex->stage_dropped++;
		return 0;
	}
	if ((r = stage_alloc(ex, size, &at)) == NULL)
		return 0;
	memcpy(r->data, json, len);
	r->data[len] = '\0';
	w = r->data + len + 1;
	memcpy(w, worker, wlen + 1);
	r->worker = w;
	r->len = len;
	r->size = size;
	r->instance = instance;
	r->pid = pid;
	r->valid = valid;
	r->task_span = false;
	r->unvetted = unvetted;
	r->vetted = r->rejected = false;
	r->vet_len = 0;
	stage_put(ex, r);
	return at;
}

uint64_t
trace_exporter_stage_task_span(struct trace_exporter *ex,
    const struct task_span *span)
{
	struct task_span *s;
	struct rec *r;
	size_t qlen, dlen, size;
	uint64_t at;
	char *p;

	if (ex == NULL)
		return 0;
	qlen = strlen(span->queue);
	dlen = span->detail != NULL ? strlen(span->detail) : 0;
	size = sizeof(*r) + sizeof(*s) + qlen + 1 + dlen + 1;
	if ((r = stage_alloc(ex, size, &at)) == NULL)
		return 0;
	s = (struct task_span *)(void *)r->data;
	*s = *span;
	p = r->data + sizeof(*s);
	memcpy(p, span->queue, qlen + 1);
	s->queue = p;
	if (span->detail != NULL) {
		memcpy(p + qlen + 1, span->detail, dlen + 1);
		s->detail = p + qlen + 1;
	}
	r->worker = TRACE_EXPORT_MASTER;
	/* What its text will take, for the batches' byte bound. */
	r->len = TASK_SPAN_TEXT_MAX + 6 * (qlen + 2 * dlen);
	r->size = size;
	r->instance = -1;
	r->pid = 0;
	r->valid = false;
	r->task_span = true;
	r->unvetted = r->vetted = r->rejected = false;
	r->vet_len = 0;
	stage_put(ex, r);
	return at;
}

const char *
trace_rec_text(const struct rec *r, struct rec_text *t, size_t *len,
    bool *valid)
{
	const char *text;

	if (r->rejected) {
		/* No text: every transport takes that for invalid. */
		*len = 0;
		*valid = false;
		return "";
	}
	if (!r->task_span) {
		*len = r->vet_len != 0 ? r->vet_len : r->len;
		*valid = r->valid || r->vetted;
		return r->data;
	}
	*valid = task_span_print((const struct task_span *)(const void *)
	    r->data, t);
	if ((text = rec_text_end(t)) != NULL)
		*len = t->len;
	return text;
}

uint64_t
trace_exporter_stage(struct trace_exporter *ex, const char *json, size_t len,
    const char *worker, int instance)
{
	return stage(ex, json, len, worker, instance, 0, false, false);
}

uint64_t
trace_exporter_stage_valid(struct trace_exporter *ex, const char *json,
    size_t len, const char *worker, int instance)
{
	return stage(ex, json, len, worker, instance, 0, true, false);
}

uint64_t
trace_exporter_stage_frame(struct trace_exporter *ex, const char *json,
    size_t len, const char *worker, int instance, int pid)
{
	return stage(ex, json, len, worker, instance, pid, false, true);
}

/*
 * The exporter thread only reads a record's text, worker and instance, and
 * the loop writes them only when it stages the record: read here on the
 * loop, they are the record's until a later one takes its bytes, exported
 * or not.
 */
bool
trace_exporter_logged(const struct trace_exporter *ex, uint64_t at,
    struct trace_logged *out)
{
	const struct rec *r;
	uint64_t begin;

	if (ex == NULL || ex->log == NULL || at == 0)
		return false;
	begin = at - 1;
	if (begin >= ex->log_end || ex->log_end - begin > LOG_CAP)
		return false;
	r = (const struct rec *)(const void *)(ex->log + begin % LOG_CAP);
	out->json = r->task_span ? NULL : r->data;
	out->len = r->task_span ? 0 : r->len;
	out->task_span = r->task_span ?
	    (const struct task_span *)(const void *)r->data : NULL;
	out->worker = r->worker;
	out->instance = r->instance;
	out->valid = r->valid;
	return true;
}

void
trace_exporter_flush(struct trace_exporter *ex)
{
	struct rec *r, *next;
	size_t before;

	if (ex == NULL || ex->stage_submitted == 0)
		return;
	pthread_mutex_lock(&ex->mu);
	ex->st.submitted += ex->stage_submitted;
	ex->st.dropped += ex->stage_dropped;
	if (ex->stopping)
		;	/* no news: the exporter is going */
	else if (ex->stage_dropped > 0 && !ex->full) {
		ex->full = true;
		snprintf(ex->st.last_error, sizeof(ex->st.last_error),
		    "platform.trace: the span buffer is full "
		    "(%zu spans, %zu bytes): dropping spans",
		    ex->held + ex->nstage, ex->bytes + ex->stage_bytes +
		    ex->log_used + ex->stage_log);
		ex->st.errors++;
	} else if (ex->stage_dropped == 0 && ex->nstage > 0)
		ex->full = false;
	if (ex->stopping) {
		/* Too late: what was staged is dropped, and its log bytes
		 * are free again. */
		ex->st.dropped += ex->nstage;
		next = ex->stage;
		ex->log_w = (ex->log_w + LOG_CAP - ex->stage_log % LOG_CAP) %
		    LOG_CAP;
		ex->log_end -= ex->stage_log;
	} else {
		ex->log_used += ex->stage_log;
		next = NULL;
		if (ex->nstage > 0) {
			before = ex->nlist;
			*ex->tail = ex->stage;
			ex->tail = ex->stage_tail;
			ex->nlist += ex->nstage;
			ex->list_len += ex->stage_len;
			ex->held += ex->nstage;
			ex->bytes += ex->stage_bytes;
			/* The thread sets its batch timer from the first
			 * record; a full batch goes without waiting for it. */
			if (before == 0 || (before < ex->wake_n &&
			    ex->nlist >= ex->wake_n))
				pthread_cond_signal(&ex->cv);
		}
	}
	ex->seen_held = ex->held;
	ex->seen_bytes = ex->bytes;
	ex->seen_log_used = ex->log_used;
	pthread_mutex_unlock(&ex->mu);
	ex->stage_log = 0;
	for (r = next; r != NULL; r = next) {
		next = r->next;
		if (!r->in_log)
			free(r);
	}
	ex->stage = NULL;
	ex->stage_tail = &ex->stage;
	ex->nstage = 0;
	ex->stage_len = 0;
	ex->stage_bytes = 0;
	ex->stage_submitted = 0;
	ex->stage_dropped = 0;
}

void
trace_exporter_submit(struct trace_exporter *ex, const char *json, size_t len,
    const char *worker, int instance)
{
	trace_exporter_stage(ex, json, len, worker, instance);
	trace_exporter_flush(ex);
}

void
trace_exporter_reopen(struct trace_exporter *ex)
{
	if (ex == NULL || ex->transport != TRACE_FILE)
		return;
	pthread_mutex_lock(&ex->mu);
	ex->reopen = true;
	pthread_cond_signal(&ex->cv);
	pthread_mutex_unlock(&ex->mu);
}

void
trace_exporter_stats(struct trace_exporter *ex, struct trace_export_stats *st)
{
	if (ex == NULL) {
		memset(st, 0, sizeof(*st));
		return;
	}
	pthread_mutex_lock(&ex->mu);
	*st = ex->st;
	st->queued = ex->held;
	pthread_mutex_unlock(&ex->mu);
}

void
trace_exporter_retire(struct trace_exporter *ex, unsigned deadline_ms)
{
	uint64_t deadline = trace_mono_ns() + (uint64_t)deadline_ms * NS_PER_MS;

	if (ex == NULL)
		return;
	trace_exporter_flush(ex);
	pthread_mutex_lock(&ex->mu);
	/* Retired already: the earlier deadline holds. */
	if (!ex->stopping || deadline < ex->deadline) {
		ex->stopping = true;
		ex->deadline = deadline;
		atomic_store(&ex->abort_at, ex->deadline);
		pthread_cond_broadcast(&ex->cv);
	}
	pthread_mutex_unlock(&ex->mu);
	/* A transfer under way learns of the deadline now, not at its next
	 * wake-up. */
	otlp_http_wakeup(ex->http);
}

bool
trace_exporter_done(struct trace_exporter *ex)
{
	bool done;

	pthread_mutex_lock(&ex->mu);
	done = ex->exited;
	pthread_mutex_unlock(&ex->mu);
	return done;
}

void
trace_exporter_close(struct trace_exporter *ex, unsigned deadline_ms,
    struct trace_export_stats *st)
{
	if (ex == NULL) {
		if (st != NULL)
			memset(st, 0, sizeof(*st));
		return;
	}
	trace_exporter_retire(ex, deadline_ms);
	pthread_join(ex->thread, NULL);
	if (st != NULL) {
		*st = ex->st;
		st->queued = ex->held;
	}
	pthread_cond_destroy(&ex->cv);
	pthread_mutex_destroy(&ex->mu);
	release(ex);
}

void
trace_exporter_free(struct trace_exporter *ex, unsigned deadline_ms)
{
	trace_exporter_close(ex, deadline_ms, NULL);
}
