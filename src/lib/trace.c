#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plba/trace.h"
#include "child.h"
#include "tracectx.h"

/* An attribute: key and printed value in one block (key is the block). */
struct attr {
	char	*key;
	char	*value;		/* JSON, after the key's NUL */
	size_t	 klen;		/* told apart by length before strcmp */
	size_t	 vlen;
	bool	 own;		/* the library's own key: nothing to escape */
};

/*
 * A span's ids, in the hex they are printed in: a consumer's come in hex
 * (the task's traceparent) and every span's go out in hex (its record,
 * the traceparent of what it publishes), so they are made hex once, when
 * drawn, and never taken back to bytes.
 */
struct span_ctx {
	char		 trace_id[33];
	char		 span_id[17];
	bool		 sampled;
};

struct plba_span {
	plba_worker	*w;
	struct plba_span *prev;		/* current span before this one */
	struct span_ctx	 ctx;		/* own trace and span id */
	char		 parent_id[17];
	bool		 has_parent;
	bool		 inert;
	const char	*kind;
	char		*name;
	uint64_t	 start_ns;
	/*
	 * A consumer span's four attributes of the task (plba.queue,
	 * .task.name, .task.id, .task.attempt), first of all: kept as the
	 * task's own strings, which outlive the span, and printed from them
	 * with the record.  Set one by one they were a fifth of what a
	 * consumer's span cost.  queue is NULL when there are none, or once
	 * they have been made attributes like any other (a handler set one
	 * of their keys).
	 */
	struct {
		const char	*queue;
		const char	*name;
		const char	*id;
		unsigned	 attempt;
		/* plba.task.outcome, last of all: one of the queue
		 * worker's words ("ack"...), or NULL. */
		const char	*outcome;
	}		 task;
	struct attr	*attrs;		/* in the order last set */
	size_t		 nattrs;
	size_t		 attrs_cap;
	struct rec_text	 events;	/* printed: {...},{...} */
	const char	*status;	/* "unset", "ok", "error" */
	char		*message;

	/*
	 * The name and the attributes of a usual span live here, not in an
	 * allocation each: a consumer's span has a name and five attributes,
	 * and malloc and free were a fifth of what it cost.
	 */
	struct attr	 attrs_here[8];
	size_t		 arena_used;
	char		 arena[448];
};

/* Returned when tracing is off or memory is short: every call on it is a
 * no-op, so callers never check. */
static struct plba_span inert = { .inert = true, .status = "unset" };

static _Thread_local struct plba_span *current;

/*
 * Whether what is set on the span goes anywhere.  A span of an unsampled
 * trace is never sent: it only carries its context to the spans under it
 * and the tasks it publishes, so its attributes, events, status and times
 * are not kept (a consumer's span of an unsampled task cost, before, a
 * third of what a recorded one did).
 */
static bool
recording(const struct plba_span *s)
{
	return s != NULL && !s->inert && s->ctx.sampled;
}

/* size bytes from the span's arena, or from malloc when it is full. */
static char *
span_alloc(struct plba_span *s, size_t size)
{
	char *p;

	if (size <= sizeof(s->arena) - s->arena_used) {
		p = s->arena + s->arena_used;
		s->arena_used += size;
		return p;
	}
	return malloc(size);
}

static void
span_release(struct plba_span *s, char *p)
{
	/* As integers: relational operators on pointers into different
	 * objects are undefined. */
	uintptr_t a = (uintptr_t)s->arena, x = (uintptr_t)p;

	if (x < a || x >= a + sizeof(s->arena))
		free(p);
}

static struct plba_span *
span_new(plba_worker *w, const char *name, const struct span_ctx *parent,
    const char *kind)
{
	struct plba_span *s;
	uint8_t id[16];
	size_t len;

	if (w == NULL || !child_tracing(w) || (s = malloc(sizeof(*s))) == NULL)
		return &inert;
	/* Not calloc: the arena needs no zeroing. */
	memset(s, 0, offsetof(struct plba_span, arena));
	s->w = w;
	s->kind = kind;
	s->status = "unset";
	s->attrs = s->attrs_here;
	s->attrs_cap = sizeof(s->attrs_here) / sizeof(s->attrs_here[0]);
	if (name == NULL)
		name = "span";
	len = strlen(name) + 1;
	if ((s->name = span_alloc(s, len)) == NULL) {
		free(s);
		return &inert;
	}
	memcpy(s->name, name, len);
	if (parent != NULL) {
		memcpy(s->ctx.trace_id, parent->trace_id, 33);
		memcpy(s->parent_id, parent->span_id, 17);
		s->has_parent = true;
		s->ctx.sampled = parent->sampled;
	} else {
		trace_random(id, 16);
		s->ctx.sampled = tracectx_sample(id, child_trace_sample(w));
		trace_hex(id, 16, s->ctx.trace_id);
	}
	trace_random(id, 8);
	trace_hex(id, 8, s->ctx.span_id);
	if (s->ctx.sampled)
		s->start_ns = trace_now_ns();
	s->prev = current;
	current = s;
	return s;
}

plba_span *
plba_trace_start(plba_worker *w, const char *name)
{
	return span_new(w, name, NULL, "internal");
}

plba_span *
plba_span_start(plba_worker *w, const char *name)
{
	if (current != NULL && current != &inert && current->w == w)
		return span_new(w, name, &current->ctx, "internal");
	return span_new(w, name, NULL, "internal");
}

/* Internal: the consumer side of a queue, with its kind. */
plba_span *
trace_resume_kind(plba_worker *w, const char *traceparent, const char *name,
    const char *kind)
{
	struct span_ctx parent;

	if (traceparent != NULL && tracectx_parse_text(traceparent,
	    parent.trace_id, parent.span_id, &parent.sampled) == 0) {
		parent.trace_id[32] = parent.span_id[16] = '\0';
		return span_new(w, name, &parent, kind);
	}
	return span_new(w, name, NULL, kind);
}

plba_span *
plba_trace_resume(plba_worker *w, const char *traceparent, const char *name)
{
	return trace_resume_kind(w, traceparent, name, "internal");
}

plba_span *
plba_span_current(plba_worker *w)
{
	return current != NULL && current->w == w ? current : NULL;
}

static void task_attrs_made_common(plba_span *);

#define OUTCOME_KEY	"plba.task.outcome"

/* One of the four attributes of s->task. */
static bool
task_key(const char *key, size_t klen)
{
	switch (klen) {
	case 10: return memcmp(key, "plba.queue", 10) == 0;
	case 12: return memcmp(key, "plba.task.id", 12) == 0;
	case 14: return memcmp(key, "plba.task.name", 14) == 0;
	case 17: return memcmp(key, "plba.task.attempt", 17) == 0;
	default: return false;
	}
}

/* Takes key (klen bytes) out of the attributes, if it is there. */
static void
attr_remove(plba_span *s, const char *key, size_t klen)
{
	size_t i;

	for (i = 0; i < s->nattrs; i++)
		if (s->attrs[i].klen == klen &&
		    memcmp(s->attrs[i].key, key, klen) == 0) {
			span_release(s, s->attrs[i].key);
			memmove(&s->attrs[i], &s->attrs[i + 1],
			    (s->nattrs - i - 1) * sizeof(*s->attrs));
			s->nattrs--;
			return;
		}
}

/*
 * Sets key to a printed value (vlen bytes); setting a key again replaces
 * its value and moves it last, as cJSON's delete-and-add did.  One
 * allocation an attribute.
 */
static void
set(plba_span *s, const char *key, const char *value, size_t vlen, bool own)
{
	struct attr *a;
	size_t klen, cap;
	char *block;

	if (!recording(s) || key == NULL || value == NULL)
		return;
	klen = strlen(key);
	if (s->task.queue != NULL && task_key(key, klen))
		task_attrs_made_common(s);
	/* Set after the outcome (a handler cannot; the library's tests
	 * may): it replaces it. */
	if (s->task.outcome != NULL && klen == sizeof(OUTCOME_KEY) - 1 &&
	    memcmp(key, OUTCOME_KEY, klen) == 0)
		s->task.outcome = NULL;
	attr_remove(s, key, klen);
	if (s->nattrs == s->attrs_cap) {
		cap = s->attrs_cap * 2;
		if (s->attrs == s->attrs_here) {
			if ((a = malloc(cap * sizeof(*a))) != NULL)
				memcpy(a, s->attrs, s->nattrs * sizeof(*a));
		} else
			a = realloc(s->attrs, cap * sizeof(*a));
		if (a == NULL)
			return;
		s->attrs = a;
		s->attrs_cap = cap;
	}
	if ((block = span_alloc(s, klen + 1 + vlen + 1)) == NULL)
		return;
	memcpy(block, key, klen + 1);
	memcpy(block + klen + 1, value, vlen);
	block[klen + 1 + vlen] = '\0';
	s->attrs[s->nattrs].key = block;
	s->attrs[s->nattrs].value = block + klen + 1;
	s->attrs[s->nattrs].klen = klen;
	s->attrs[s->nattrs].vlen = vlen;
	s->attrs[s->nattrs].own = own;
	s->nattrs++;
}

/* A number as cJSON prints one (whole ones in int range as such). */
static void
set_number(plba_span *s, const char *key, double d)
{
	char buf[32];
	double back;

	if (isnan(d) || isinf(d))
		snprintf(buf, sizeof(buf), "null");
	else if (d >= INT_MIN && d <= INT_MAX && d == (double)(int)d)
		snprintf(buf, sizeof(buf), "%d", (int)d);
	else {
		snprintf(buf, sizeof(buf), "%1.15g", d);
		if (sscanf(buf, "%lg", &back) != 1 || back != d)
			snprintf(buf, sizeof(buf), "%1.17g", d);
	}
	set(s, key, buf, strlen(buf), false);
}

static void
set_str(plba_span *s, const char *key, const char *value, bool own)
{
	struct rec_text t;
	char buf[256];

	if (!recording(s))
		return;
	rec_text_init(&t, buf, sizeof(buf));
	rec_text_quote(&t, value != NULL ? value : "");
	if (rec_text_end(&t) != NULL)
		set(s, key, t.s, t.len, own);
	rec_text_free(&t);
}

void
plba_span_set_str(plba_span *s, const char *key, const char *value)
{
	set_str(s, key, value, false);
}

/*
 * Every digit, in int range or not.  cJSON would print one past int range
 * as a double, which the master's scan knows: such a record takes the
 * master's parsing way, which keeps the digits (otlp_parse_record()).
 */
static void
set_int(plba_span *s, const char *key, long long value, bool own)
{
	struct rec_text t;
	char buf[32];

	if (!recording(s))
		return;
	rec_text_init(&t, buf, sizeof(buf));
	if (value < 0) {
		rec_text_put(&t, "-", 1);
		/* Through unsigned: -LLONG_MIN does not fit. */
		rec_text_u64(&t, -(uint64_t)value);
	} else
		rec_text_u64(&t, (uint64_t)value);
	set(s, key, t.s, t.len, own);
}

void
trace_span_set_task(plba_span *s, const char *queue, const char *name,
    const char *id, unsigned attempt)
{
	if (!recording(s))
		return;
	s->task.queue = queue != NULL ? queue : "";
	s->task.name = name != NULL ? name : "";
	s->task.id = id != NULL ? id : "";
	s->task.attempt = attempt;
}

void
trace_span_set_outcome(plba_span *s, const char *outcome)
{
	if (!recording(s))
		return;
	/* The handler's own value of the key goes, as setting it again
	 * would make it go. */
	attr_remove(s, OUTCOME_KEY, sizeof(OUTCOME_KEY) - 1);
	s->task.outcome = outcome;
}

/*
 * A handler sets one of the task's keys: the four become attributes like
 * any other, first, where trace_span_set_task() put them, so that setting
 * the key again moves it last, as it would any attribute.
 */
static void
task_attrs_made_common(plba_span *s)
{
	const char *queue = s->task.queue;
	struct attr made[4];
	size_t before = s->nattrs, n;

	s->task.queue = NULL;
	set_str(s, "plba.queue", queue, true);
	set_str(s, "plba.task.name", s->task.name, true);
	set_str(s, "plba.task.id", s->task.id, true);
	set_int(s, "plba.task.attempt", s->task.attempt, true);
	/* Fewer than four when memory ran out. */
	n = s->nattrs - before;
	memcpy(made, s->attrs + before, n * sizeof(*made));
	memmove(s->attrs + n, s->attrs, before * sizeof(*s->attrs));
	memcpy(s->attrs, made, n * sizeof(*made));
}

void
plba_span_set_int(plba_span *s, const char *key, long long value)
{
	set_int(s, key, value, false);
}

void
plba_span_set_double(plba_span *s, const char *key, double value)
{
	if (recording(s))
		set_number(s, key, value);
}

void
plba_span_set_bool(plba_span *s, const char *key, bool value)
{
	if (recording(s))
		set(s, key, value ? "true" : "false", value ? 4 : 5, false);
}

void
plba_span_event(plba_span *s, const char *name)
{
	char ns[48];

	if (!recording(s) || name == NULL)
		return;
	rec_text_lit(&s->events, s->events.len > 0 ? ",{\"name\":" :
	    "{\"name\":");
	rec_text_quote(&s->events, name);
	snprintf(ns, sizeof(ns), ",\"time_ns\":\"%llu\"}",
	    (unsigned long long)trace_now_ns());
	rec_text_lit(&s->events, ns);
}

void
plba_span_error(plba_span *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!recording(s))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	free(s->message);
	s->message = strdup(msg);
	s->status = "error";
}

void
plba_span_ok(plba_span *s)
{
	if (!recording(s))
		return;
	s->status = "ok";
}

int
plba_span_traceparent(const plba_span *s, char *buf, size_t len)
{
	if (s == NULL || s->inert || len < TRACEPARENT_LEN + 1)
		return -1;
	tracectx_format_text(s->ctx.trace_id, s->ctx.span_id, s->ctx.sampled,
	    buf);
	return 0;
}

void
plba_trace_message(plba_worker *w, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!recording(plba_span_current(w)))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	plba_span_event(current, msg);
}

/* Before an attribute: the object opened for the first, a comma after. */
static void
next_attr(struct rec_text *t, bool *opened)
{
	if (*opened)
		REC_TEXT_LIT(t, ",");
	else
		REC_TEXT_LIT(t, ",\"attributes\":{");
	*opened = true;
}

/*
 * The record, printed as cJSON would print it (tracectx.h) so that the
 * master writes it to a trace file as it stands.  Into buf when it fits.
 */
static const char *
record(const plba_span *s, uint64_t end_ns, struct rec_text *t)
{
	bool opened = false;
	size_t i;

	rec_text_ids(t, s->ctx.trace_id, s->ctx.span_id,
	    s->has_parent ? s->parent_id : NULL);
	REC_TEXT_LIT(t, ",\"name\":");
	rec_text_quote(t, s->name);
	/* kind and status are this file's own words: nothing to escape. */
	REC_TEXT_LIT(t, ",\"kind\":\"");
	rec_text_lit(t, s->kind);
	REC_TEXT_LIT(t, "\",\"start_ns\":\"");
	rec_text_u64(t, s->start_ns);
	REC_TEXT_LIT(t, "\",\"end_ns\":\"");
	rec_text_u64(t, end_ns);
	rec_text_put(t, "\"", 1);
	if (s->task.queue != NULL) {
		next_attr(t, &opened);
		REC_TEXT_LIT(t, "\"plba.queue\":");
		rec_text_quote(t, s->task.queue);
		REC_TEXT_LIT(t, ",\"plba.task.name\":");
		rec_text_quote(t, s->task.name);
		REC_TEXT_LIT(t, ",\"plba.task.id\":");
		rec_text_quote(t, s->task.id);
		REC_TEXT_LIT(t, ",\"plba.task.attempt\":");
		rec_text_u64(t, s->task.attempt);
	}
	for (i = 0; i < s->nattrs; i++) {
		const struct attr *a = &s->attrs[i];

		next_attr(t, &opened);
		if (a->own) {
			REC_TEXT_LIT(t, "\"");
			rec_text_put(t, a->key, a->klen);
			REC_TEXT_LIT(t, "\"");
		} else
			rec_text_quote(t, a->key);
		REC_TEXT_LIT(t, ":");
		rec_text_put(t, a->value, a->vlen);
	}
	if (s->task.outcome != NULL) {
		next_attr(t, &opened);
		REC_TEXT_LIT(t, "\"" OUTCOME_KEY "\":\"");
		rec_text_lit(t, s->task.outcome);
		REC_TEXT_LIT(t, "\"");
	}
	if (opened)
		rec_text_put(t, "}", 1);
	if (s->events.len > 0) {
		REC_TEXT_LIT(t, ",\"events\":[");
		rec_text_put(t, s->events.s, s->events.len);
		rec_text_put(t, "]", 1);
	}
	REC_TEXT_LIT(t, ",\"status\":{\"code\":\"");
	rec_text_lit(t, s->status);
	REC_TEXT_LIT(t, "\"");
	if (s->message != NULL) {
		REC_TEXT_LIT(t, ",\"message\":");
		rec_text_quote(t, s->message);
	}
	REC_TEXT_LIT(t, "}}");
	return rec_text_end(t);
}

void
plba_span_end(plba_span *s)
{
	struct plba_span *p;
	struct rec_text t;
	const char *text;
	char buf[1024];
	size_t i;

	if (s == NULL || s->inert)
		return;
	/* Ending out of order still leaves no dangling current span. */
	if (current == s)
		current = s->prev;
	else
		for (p = current; p != NULL; p = p->prev)
			if (p->prev == s) {
				p->prev = s->prev;
				break;
			}
	if (s->ctx.sampled) {
		rec_text_init(&t, buf, sizeof(buf));
		if ((text = record(s, trace_now_ns(), &t)) != NULL)
			child_send_trace(s->w, text, t.len);
		rec_text_free(&t);
	}
	for (i = 0; i < s->nattrs; i++)
		span_release(s, s->attrs[i].key);
	if (s->attrs != s->attrs_here)
		free(s->attrs);
	rec_text_free(&s->events);
	free(s->message);
	span_release(s, s->name);
	free(s);
}
