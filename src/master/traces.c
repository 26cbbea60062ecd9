#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "log.h"
#include "otlp.h"
#include "queue.h"
#include "runtime.h"
#include "span_text.h"
#include "task_span.h"
#include "trace_export.h"
#include "traces.h"
#include "proto.h"
#include "tracectx.h"

/* What a lookup reads of a kept span, wherever it is. */
struct ring_span {
	const char	*json;		/* the record as received */
	size_t		 len;
	/* Or, json NULL, a span of the master's as the log has it. */
	const struct task_span *task_span;
	const char	*worker;
	int		 instance;
	bool		 canonical;	/* json is valid, in the form cJSON prints */
};

/* A span's own copy, for one the exporter's log does not hold. */
struct ring_copy {
	struct ring_span span;		/* into ts and text */
	size_t		 size;		/* of this allocation */
	struct task_span ts;		/* a master's span, its strings in text */
	char		 text[];	/* the record, NUL, worker, NUL */
};

/*
 * A span kept for GET /traces/{id}.  Most are read where the exporter's log
 * holds them (trace_exporter_logged()) for as long as it does: a copy of
 * each record here cost about 0.04 of file/none in bench/trace
 * (bench/trace.md, "The ring reads the log").  The rest, the records the
 * log did not take and those of an exporter a reload replaced, have a copy
 * of their own.  An entry is 48 bytes, so that the 20000 take about a
 * megabyte and each span writes to one or two cache lines of them.
 */
struct ring_entry {
	char		 trace_id[32];	/* hex, no NUL */
	uint64_t	 logged;	/* where in the exporter's log; 0: copy */
	struct ring_copy *copy;
};

struct traces {
	struct trace_exporter	*exporter;
	struct ring_entry	*ring;
	size_t			 head;	/* next slot to write */
	size_t			 n;
	size_t			 bytes;	/* the copies, all told */
};

/*
 * What outlives a reload that replaces the exporter or turns tracing off:
 * the exporters replaced, draining on their own threads until done, and
 * the counters of those gone, so that /metrics never counts backwards.
 * Built with the first exporter; with transport none from the start,
 * never.
 */
struct trace_history {
	struct trace_exporter	**retiring;
	size_t			 nretiring;
	struct trace_export_stats gone;
	uint64_t		 reported_drops;
};

static void	ring_unlog(struct traces *);

/* A replaced exporter's buffer gets this long to go out. */
#define RETIRE_MS	2000

bool
traces_on(const struct runtime *rt)
{
	return rt->traces != NULL;
}

static struct traces *
traces_new(struct trace_exporter *ex)
{
	struct traces *t;

	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->ring = calloc(TRACE_RING_SPANS, sizeof(*t->ring))) == NULL) {
		free(t);
		return NULL;
	}
	t->exporter = ex;
	return t;
}

static void
traces_free(struct traces *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < TRACE_RING_SPANS; i++)
		free(t->ring[i].copy);
	free(t->ring);
	free(t);
}

int
traces_open(struct runtime *rt)
{
	struct trace_exporter *ex;
	char err[512];

	if (rt->settings->trace.transport == TRACE_NONE)
		return 0;
	if ((ex = trace_exporter_new(rt->settings, err, sizeof(err))) == NULL) {
		log_error("%s", err);
		return -1;
	}
	if ((rt->trace_history = calloc(1, sizeof(*rt->trace_history))) == NULL ||
	    (rt->traces = traces_new(ex)) == NULL) {
		trace_exporter_free(ex, 0);
		log_error("tracing: out of memory");
		return -1;
	}
	return 0;
}

static void
add_stats(struct trace_export_stats *to, const struct trace_export_stats *st)
{
	to->submitted += st->submitted;
	to->exported += st->exported;
	to->dropped += st->dropped;
	to->failed_batches += st->failed_batches;
	to->retries += st->retries;
	to->invalid += st->invalid;
	to->queued += st->queued;
	to->errors += st->errors;
	if (st->last_error[0] != '\0')
		memcpy(to->last_error, st->last_error, sizeof(to->last_error));
}

/* Frees the replaced exporters that are done, keeping their counts. */
static void
reap_retired(struct trace_history *h)
{
	struct trace_export_stats st;
	size_t i = 0;

	while (i < h->nretiring) {
		if (!trace_exporter_done(h->retiring[i])) {
			i++;
			continue;
		}
		trace_exporter_stats(h->retiring[i], &st);
		st.queued = 0;
		add_stats(&h->gone, &st);
		trace_exporter_free(h->retiring[i], 0);
		h->retiring[i] = h->retiring[--h->nretiring];
	}
}

/*
 * What is buffered gets 2 s to go out, a batch in flight included; what
 * misses the deadline is dropped, and said, since no later report will.
 */
void
traces_close(struct runtime *rt)
{
	struct trace_history *h = rt->trace_history;
	struct trace_export_stats st, all;
	uint64_t before;
	size_t i;

	traces_report(rt);
	if (h == NULL)
		return;
	/* The clock starts now, not once the replaced ones are done. */
	if (rt->traces != NULL)
		trace_exporter_retire(rt->traces->exporter, 2000);
	traces_stats(rt, &all);
	before = all.dropped;
	all = h->gone;
	/* Each has its own deadline, set when it was replaced. */
	for (i = 0; i < h->nretiring; i++) {
		trace_exporter_close(h->retiring[i], RETIRE_MS, &st);
		add_stats(&all, &st);
	}
	if (rt->traces != NULL) {
		trace_exporter_close(rt->traces->exporter, 2000, &st);
		add_stats(&all, &st);
		traces_free(rt->traces);
		rt->traces = NULL;
	}
	if (all.dropped > before)
		log_warn("tracing: %llu span records dropped at exit, %llu in "
		    "all%s%s", (unsigned long long)(all.dropped - before),
		    (unsigned long long)all.dropped,
		    all.last_error[0] != '\0' ? ": " : "", all.last_error);
	free(h->retiring);
	free(h);
	rt->trace_history = NULL;
}

/* Whether next's exporter would be the running one's: same transport,
 * destination and service name. */
static bool
same_exporter(const struct settings *a, const struct settings *b)
{
	if (a->trace.transport != b->trace.transport)
		return false;
	switch (a->trace.transport) {
	case TRACE_NONE:
		return true;
	case TRACE_FILE:
		return strcmp(a->trace.file, b->trace.file) == 0 &&
		    strcmp(a->name, b->name) == 0;
	default:
		return strcmp(a->trace.endpoint, b->trace.endpoint) == 0 &&
		    strcmp(a->name, b->name) == 0;
	}
}

int
traces_reload(struct runtime *rt, const struct settings *next)
{
	struct trace_history *h = rt->trace_history;
	struct trace_exporter *ex = NULL, **grown;
	struct traces *t = rt->traces;
	bool was_on = t != NULL;
	bool new_sample = rt->settings->trace.sample != next->trace.sample;
	char err[512];

	if (same_exporter(rt->settings, next)) {
		if (t == NULL || !new_sample)
			return 0;
		log_info("platform.trace.sample: %g", next->trace.sample);
		return 1;
	}
	/* Everything that can fail comes first: a reload applies whole. */
	if (next->trace.transport != TRACE_NONE &&
	    (ex = trace_exporter_new(next, err, sizeof(err))) == NULL) {
		log_error("%s", err);
		return -1;
	}
	if (h == NULL && (h = rt->trace_history = calloc(1, sizeof(*h))) == NULL)
		goto nomem;
	if (t != NULL) {
		if ((grown = realloc(h->retiring, (h->nretiring + 1) *
		    sizeof(*grown))) == NULL)
			goto nomem;
		h->retiring = grown;
	}
	if (ex != NULL && t == NULL && (t = traces_new(ex)) == NULL)
		goto nomem;

	if (rt->traces != NULL) {
		if (ex != NULL)
			ring_unlog(rt->traces);
		trace_exporter_retire(rt->traces->exporter, RETIRE_MS);
		h->retiring[h->nretiring++] = rt->traces->exporter;
		if (ex == NULL) {
			/* Off: the spans kept for /traces go too. */
			traces_free(rt->traces);
			t = NULL;
		}
	}
	if (t != NULL)
		t->exporter = ex;
	rt->traces = t;
	log_info("platform.trace: transport %s%s%s",
	    next->trace.transport == TRACE_NONE ? "none" :
	    next->trace.transport == TRACE_FILE ? "file " : "otlp ",
	    next->trace.transport == TRACE_FILE ? next->trace.file : "",
	    next->trace.transport == TRACE_OTLP ? next->trace.endpoint : "");
	return was_on != (t != NULL) || (t != NULL && new_sample);
nomem:
	trace_exporter_free(ex, 0);
	log_error("tracing: out of memory");
	return -1;
}

double
traces_sample(const struct runtime *rt)
{
	return rt->traces != NULL ? rt->settings->trace.sample : 0;
}

void
traces_reopen(struct runtime *rt)
{
	if (rt->traces != NULL)
		trace_exporter_reopen(rt->traces->exporter);
}

bool
traces_stats(struct runtime *rt, struct trace_export_stats *st)
{
	struct trace_history *h = rt->trace_history;
	struct trace_export_stats one;
	size_t i;

	memset(st, 0, sizeof(*st));
	if (h == NULL)
		return false;
	reap_retired(h);
	add_stats(st, &h->gone);
	for (i = 0; i < h->nretiring; i++) {
		trace_exporter_stats(h->retiring[i], &one);
		add_stats(st, &one);
	}
	if (rt->traces != NULL) {
		trace_exporter_stats(rt->traces->exporter, &one);
		add_stats(st, &one);
	}
	return true;
}

void
traces_report(struct runtime *rt)
{
	struct trace_history *h = rt->trace_history;
	struct trace_export_stats st;

	if (!traces_stats(rt, &st))
		return;
	if (st.dropped > h->reported_drops) {
		log_warn("tracing: %llu span records dropped so far%s%s",
		    (unsigned long long)st.dropped,
		    st.last_error[0] != '\0' ? ": " : "", st.last_error);
		h->reported_drops = st.dropped;
	}
}

static void
slot_clear(struct traces *t, struct ring_entry *e)
{
	if (e->copy != NULL) {
		t->bytes -= e->copy->size;
		free(e->copy);
		e->copy = NULL;
	}
	e->logged = 0;
}

/*
 * A copy of the span into e, kept as it came (a master's span as its
 * fields); it is printed or parsed only if someone asks.  Copies are made
 * for every span while the exporter's buffer is full (a collector down):
 * an entry's allocation is reused while spans fit and it is not far
 * larger than they need.
 */
static bool
slot_copy(struct traces *t, struct ring_entry *e, const struct ring_span *sp)
{
	const struct task_span *ts = sp->task_span;
	struct ring_copy *c = e->copy;
	size_t qlen = 0, dlen = 0, wlen = strlen(sp->worker), need, size;
	char *p;

	if (ts != NULL) {
		qlen = strlen(ts->queue) + 1;
		dlen = ts->detail != NULL ? strlen(ts->detail) + 1 : 0;
		need = sizeof(*c) + qlen + dlen + wlen + 1;
	} else
		need = sizeof(*c) + sp->len + 1 + wlen + 1;
	size = need < 512 ? 512 : need;
	e->logged = 0;
	if (c == NULL || c->size < need || c->size > 4 * size) {
		slot_clear(t, e);
		if ((c = malloc(size)) == NULL)
			return false;
		c->size = size;
		t->bytes += size;
		e->copy = c;
	}
	c->span = *sp;
	p = c->text;
	if (ts != NULL) {
		c->ts = *ts;
		c->ts.queue = memcpy(p, ts->queue, qlen);
		p += qlen;
		if (ts->detail != NULL) {
			c->ts.detail = memcpy(p, ts->detail, dlen);
			p += dlen;
		}
		c->span.task_span = &c->ts;
	} else {
		c->span.json = memcpy(p, sp->json, sp->len);
		p[sp->len] = '\0';
		p += sp->len + 1;
	}
	c->span.worker = memcpy(p, sp->worker, wlen + 1);
	return true;
}

/* The oldest go until the ring is within its bytes again. */
static void
ring_trim(struct traces *t)
{
	while (t->bytes > TRACE_RING_BYTES && t->n > 1) {
		slot_clear(t, &t->ring[(t->head + TRACE_RING_SPANS - t->n) %
		    TRACE_RING_SPANS]);
		t->n--;
	}
}

/*
 * trace_id is the span's, 32 hex digits; logged, where the exporter's log
 * has it (0: nowhere, and it is copied).
 */
static void
ring_put_span(struct traces *t, const char *trace_id,
    const struct ring_span *sp, uint64_t logged)
{
	struct ring_entry *e = &t->ring[t->head];

	if (sp->len + 1 > TRACE_RING_SPAN_MAX)
		return;
	/* Full: this slot holds the oldest, which goes. */
	if (t->n == TRACE_RING_SPANS)
		t->n--;
	if (logged != 0) {
		if (e->copy != NULL)
			slot_clear(t, e);
		e->logged = logged;
	} else if (!slot_copy(t, e, sp))
		return;
	memcpy(e->trace_id, trace_id, 32);
	t->head = (t->head + 1) % TRACE_RING_SPANS;
	t->n++;
	ring_trim(t);
}

static void
ring_put_id(struct traces *t, const char *trace_id, const char *json,
    size_t len, const char *worker, int instance, bool canonical,
    uint64_t logged)
{
	struct ring_span sp = { .json = json, .len = len, .worker = worker,
	    .instance = instance, .canonical = canonical };

	ring_put_span(t, trace_id, &sp, logged);
}

/* A record from elsewhere: its trace id is looked up in its text. */
static void
ring_put(struct traces *t, const char *json, size_t len, const char *worker,
    int instance, uint64_t logged)
{
	const char *id;
	size_t idlen;

	if (json_member_text(json, len, "trace_id", &id, &idlen) == -1 ||
	    idlen != 34)
		return;
	ring_put_id(t, id + 1, json, len, worker, instance, false, logged);
}

/* A kept span's text and sender; false once the log has let it go. */
static bool
ring_span(const struct traces *t, const struct ring_entry *e,
    struct ring_span *out)
{
	struct trace_logged l;

	if (e->logged == 0) {
		if (e->copy == NULL)
			return false;
		*out = e->copy->span;
		return true;
	}
	if (!trace_exporter_logged(t->exporter, e->logged, &l))
		return false;
	out->json = l.json;
	out->len = l.len;
	out->task_span = l.task_span;
	out->worker = l.worker;
	out->instance = l.instance;
	out->canonical = l.valid;
	return true;
}

/*
 * The span as text: a master's span is printed into t, which the caller
 * frees.  False when memory ran out.
 */
static bool
ring_span_text(struct ring_span *sp, struct rec_text *t)
{
	if (sp->task_span == NULL)
		return true;
	sp->canonical = task_span_print(sp->task_span, t);
	sp->task_span = NULL;
	if ((sp->json = rec_text_end(t)) == NULL)
		return false;
	sp->len = t->len;
	return true;
}

/*
 * A master's span: where the log has it, or else copied as its fields.
 * tid is its trace id in hex, 32 digits with or without a NUL.
 */
static void
ring_put_task_span(struct traces *t, const char *tid,
    const struct task_span *span, uint64_t logged)
{
	struct ring_span sp = { .task_span = span,
	    .worker = TRACE_EXPORT_MASTER, .instance = -1 };

	ring_put_span(t, tid, &sp, logged);
}

/*
 * Before the exporter goes (a reload replaced it): the spans its log
 * holds are copied, so that lookups find them as before.
 */
static void
ring_unlog(struct traces *t)
{
	struct ring_entry *e;
	struct ring_span sp;
	size_t i;

	for (i = 0; i < TRACE_RING_SPANS; i++) {
		e = &t->ring[i];
		if (e->logged == 0)
			continue;
		/* From the log into a copy of its own: a logged entry has
		 * no copy that sp could be in. */
		if (!ring_span(t, e, &sp) || !slot_copy(t, e, &sp))
			slot_clear(t, e);
	}
	ring_trim(t);
}

void
traces_record(struct runtime *rt, const char *json, size_t len,
    const char *worker, int instance)
{
	struct traces *t = rt->traces;
	uint64_t at;

	if (t == NULL)
		return;
	at = trace_exporter_stage(t->exporter, json, len, worker, instance);
	ring_put(t, json, len, worker, instance, at);
}

/*
 * A trace frame as libplba writes it, {"type":"trace","record":R} with R
 * in the form cJSON prints, is the bulk of a child's traffic with tracing
 * on.  Its record is taken from the text, and the scan that shows it is
 * one JSON object (span_text.c) stands in for the parse msg_decode() would
 * do; any other frame is left to msg_decode().
 */
bool
traces_frame(struct runtime *rt, const char *frame, size_t len,
    const char *worker, int instance, int pid)
{
	static const char head[] = TRACE_FRAME_HEAD;
	static const char id_head[] = "{\"trace_id\":\"";
	const size_t hlen = sizeof(head) - 1, ilen = sizeof(id_head) - 1;
	struct traces *t = rt->traces;
	const char *rec, *trace_id;
	size_t rlen;

	if (t == NULL || len < hlen + 3 || memcmp(frame, head, hlen) != 0 ||
	    frame[len - 1] != '}')
		return false;
	rec = frame + hlen;
	rlen = len - hlen - 1;
	/*
	 * libplba's records begin with their trace id, which is all the
	 * loop needs of one (for the ring); the rest is checked on the
	 * exporter thread, which has time for it (vet_batch()).  The ring
	 * does not take the record for canonical: a lookup checks it.
	 */
	if (rlen > ilen + 33 && memcmp(rec, id_head, ilen) == 0 &&
	    rec[ilen + 32] == '"') {
		ring_put_id(t, rec + ilen, rec, rlen, worker, instance, false,
		    trace_exporter_stage_frame(t->exporter, rec, rlen, worker,
		    instance, pid));
		return true;
	}
	switch (span_text_check_id(rec, rlen, &trace_id)) {
	case SPAN_TEXT_VALID:
		ring_put_id(t, trace_id, rec, rlen, worker, instance, true,
		    trace_exporter_stage_valid(t->exporter, rec, rlen, worker,
		    instance));
		return true;
	case SPAN_TEXT_INVALID:
		ring_put(t, rec, rlen, worker, instance,
		    trace_exporter_stage(t->exporter, rec, rlen, worker,
		    instance));
		return true;
	default:
		return false;
	}
}

void
traces_flush(struct runtime *rt)
{
	if (rt->traces != NULL)
		trace_exporter_flush(rt->traces->exporter);
}

bool
traces_offender(struct runtime *rt, struct trace_offender *out)
{
	struct trace_history *h = rt->trace_history;
	size_t i;

	if (rt->traces != NULL &&
	    trace_exporter_offender(rt->traces->exporter, out))
		return true;
	for (i = 0; h != NULL && i < h->nretiring; i++)
		if (trace_exporter_offender(h->retiring[i], out))
			return true;
	return false;
}

/* A task's context from its traceparent: kept only when valid and sampled. */
static void
context_from(const char *traceparent, struct qtrace *trace)
{
	bool sampled;

	trace->state = QTRACE_NONE;
	/* The flags, at the same place in every version, say whether there
	 * is anything to read: with platform.trace.sample below 1 most
	 * tasks carry an unsampled context.  An odd hex digit has the
	 * sampled bit; anything else is unsampled or invalid, no context
	 * either way. */
	if (strlen(traceparent) < TRACEPARENT_LEN ||
	    strchr("13579bdf", traceparent[54]) == NULL)
		return;
	if (tracectx_parse_text(traceparent, trace->trace_id, trace->span_id,
	    &sampled) == -1 || !sampled)
		return;
	trace->state = QTRACE_SAMPLED;
}

/*
 * The traceparent in a task's metadata, when it has a valid one.  Found by
 * scanning the text, not parsing it: for tasks the master has as text only
 * (restored from the store, published over HTTP).
 */
void
traces_task_context(const char *body, size_t len, struct qtrace *trace)
{
	const char *meta, *tp;
	size_t mlen, tlen;
	char buf[TRACEPARENT_LEN + 64];

	trace->state = QTRACE_NONE;
	if (json_member_text(body, len, "metadata", &meta, &mlen) == -1 ||
	    json_member_text(meta, mlen, "traceparent", &tp, &tlen) == -1 ||
	    tlen < 2 || tlen - 2 >= sizeof(buf) || tp[0] != '"')
		return;
	memcpy(buf, tp + 1, tlen - 2);
	buf[tlen - 2] = '\0';
	context_from(buf, trace);
}

/* The same, from a decoded publish: no second look at its text. */
void
traces_task_context_msg(const struct msg *m, struct qtrace *trace)
{
	char tp[256];		/* room for a future version's longer form */

	if (msg_meta_get(m, "traceparent", tp, sizeof(tp)) == 0)
		context_from(tp, trace);
	else
		trace->state = QTRACE_NONE;
}

/*
 * Staged as its fields: the exporter thread prints it (task_span.c).  This
 * runs twice for every task, and printing it here cost about 0.03 of
 * file/none in bench/trace.
 */
void
traces_task_span(struct runtime *rt, struct qtrace *trace,
    const char *task_body, const char *name, const char *queue,
    uint64_t task_id, unsigned attempt, const char *detail, bool error)
{
	struct traces *t = rt->traces;
	struct task_span span;

	if (t == NULL)
		return;
	if (trace->state == QTRACE_UNKNOWN && task_body != NULL)
		traces_task_context(task_body, strlen(task_body), trace);
	if (trace->state != QTRACE_SAMPLED)
		return;
	memcpy(span.trace_id, trace->trace_id, sizeof(span.trace_id));
	memcpy(span.parent_id, trace->span_id, sizeof(span.parent_id));
	trace_random(span.span_id, sizeof(span.span_id));
	span.time_ns = trace_now_ns();
	span.task_id = task_id;
	span.attempt = attempt;
	span.error = error;
	span.name = name;
	span.queue = queue;
	span.detail = detail;
	ring_put_task_span(t, span.trace_id, &span,
	    trace_exporter_stage_task_span(t->exporter, &span));
}

/*
 * One span of a lookup's answer: the record with the worker and instance
 * that sent it added as its last members.  A canonical record goes as it
 * is; one that came in another form goes as the trace file's slow way
 * prints it, or not at all when the file drops it.
 */
static bool
put_span(struct rec_text *out, struct ring_span *e, bool first)
{
	struct rec_text mine;
	char *printed = NULL, buf[1024];
	const char *text;
	size_t len;
	bool invalid, ok = false;

	rec_text_init(&mine, buf, sizeof(buf));
	if (!ring_span_text(e, &mine))
		goto done;
	text = e->json;
	len = e->len;
	/* A child's record the loop staged unchecked is mostly canonical. */
	if (!e->canonical && span_text_check(text, len) != SPAN_TEXT_VALID) {
		if ((printed = otlp_normal_record(e->json, e->len,
		    &invalid)) == NULL)
			goto done;
		text = printed;
		len = strlen(text);
	}
	if (!first)
		REC_TEXT_LIT(out, ",");
	/* Up to its closing brace; "{}" takes no comma before the rest. */
	rec_text_put(out, text, len - 1);
	if (len > 2)
		REC_TEXT_LIT(out, ",");
	REC_TEXT_LIT(out, "\"worker\":");
	rec_text_quote(out, e->worker);
	REC_TEXT_LIT(out, ",\"instance\":");
	if (e->instance < 0)
		REC_TEXT_LIT(out, "-");
	rec_text_u64(out, (uint64_t)(e->instance < 0 ? -(int64_t)e->instance :
	    e->instance));
	REC_TEXT_LIT(out, "}");
	ok = true;
done:
	free(printed);
	rec_text_free(&mine);
	return ok;
}

/* The span of trace_id that e keeps, if it does. */
static bool
span_of(const struct traces *t, const struct ring_entry *e,
    const char *trace_id, struct ring_span *sp)
{
	return memcmp(e->trace_id, trace_id, 32) == 0 && ring_span(t, e, sp);
}

char *
traces_lookup(struct runtime *rt, const char *trace_id)
{
	struct traces *t = rt->traces;
	struct ring_entry *e;
	struct ring_span sp;
	struct rec_text out;
	size_t i, size = 64;
	char *buf;
	bool first = true;

	if (t == NULL || strlen(trace_id) != 32)
		return NULL;
	/*
	 * Sized first, so that the answer takes one buffer about as large
	 * as the spans it holds: a cJSON tree of a ring full of one trace
	 * took twice as much again.
	 */
	for (i = 0; i < t->n; i++) {
		e = &t->ring[(t->head + TRACE_RING_SPANS - t->n + i) %
		    TRACE_RING_SPANS];
		if (span_of(t, e, trace_id, &sp))
			size += (sp.task_span != NULL ? TASK_SPAN_TEXT_MAX +
			    6 * (strlen(sp.task_span->queue) +
			    (sp.task_span->detail != NULL ?
			    2 * strlen(sp.task_span->detail) : 0)) : sp.len) +
			    6 * strlen(sp.worker) + 48;
	}
	if (size == 64 || (buf = malloc(size)) == NULL)
		return NULL;
	rec_text_init(&out, buf, size);
	REC_TEXT_LIT(&out, "{\"trace_id\":\"");
	rec_text_put(&out, trace_id, strlen(trace_id));
	REC_TEXT_LIT(&out, "\",\"spans\":[");
	/* Oldest first. */
	for (i = 0; i < t->n; i++) {
		e = &t->ring[(t->head + TRACE_RING_SPANS - t->n + i) %
		    TRACE_RING_SPANS];
		if (span_of(t, e, trace_id, &sp) && put_span(&out, &sp, first))
			first = false;
	}
	REC_TEXT_LIT(&out, "]}");
	if (first || rec_text_end(&out) == NULL) {
		rec_text_free(&out);
		free(buf);
		return NULL;
	}
	/* A record cJSON printed longer than it came may have outgrown buf. */
	if (out.own) {
		free(buf);
		return out.s;
	}
	return buf;
}
