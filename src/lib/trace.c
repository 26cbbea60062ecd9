#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "plba/trace.h"
#include "child.h"
#include "tracectx.h"

struct plba_span {
	plba_worker	*w;
	struct plba_span *prev;		/* current span before this one */
	struct tracectx	 ctx;		/* own trace and span id */
	uint8_t		 parent_id[8];
	bool		 has_parent;
	bool		 inert;
	const char	*kind;
	char		*name;
	uint64_t	 start_ns;
	cJSON		*attrs;
	cJSON		*events;
	const char	*status;	/* "unset", "ok", "error" */
	char		*message;
};

/* Returned when tracing is off or memory is short: every call on it is a
 * no-op, so callers never check. */
static struct plba_span inert = { .inert = true, .status = "unset" };

static _Thread_local struct plba_span *current;

static struct plba_span *
span_new(plba_worker *w, const char *name, const struct tracectx *parent,
    bool parent_sampled, const char *kind)
{
	struct plba_span *s;

	if (w == NULL || !child_tracing(w) || (s = calloc(1, sizeof(*s))) == NULL)
		return &inert;
	s->w = w;
	s->kind = kind;
	s->status = "unset";
	if ((s->name = strdup(name != NULL ? name : "span")) == NULL) {
		free(s);
		return &inert;
	}
	if (parent != NULL) {
		memcpy(s->ctx.trace_id, parent->trace_id, 16);
		memcpy(s->parent_id, parent->span_id, 8);
		s->has_parent = true;
		s->ctx.sampled = parent_sampled;
	} else {
		trace_random(s->ctx.trace_id, 16);
		s->ctx.sampled = true;
	}
	trace_random(s->ctx.span_id, 8);
	s->start_ns = trace_now_ns();
	s->prev = current;
	current = s;
	return s;
}

plba_span *
plba_trace_start(plba_worker *w, const char *name)
{
	return span_new(w, name, NULL, true, "internal");
}

plba_span *
plba_span_start(plba_worker *w, const char *name)
{
	if (current != NULL && current != &inert && current->w == w)
		return span_new(w, name, &current->ctx, current->ctx.sampled,
		    "internal");
	return span_new(w, name, NULL, true, "internal");
}

/* Internal: the consumer side of a queue, with its kind. */
plba_span *
trace_resume_kind(plba_worker *w, const char *traceparent, const char *name,
    const char *kind)
{
	struct tracectx parent;

	if (traceparent != NULL && tracectx_parse(traceparent, &parent) == 0)
		return span_new(w, name, &parent, parent.sampled, kind);
	return span_new(w, name, NULL, true, kind);
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

static void
set(plba_span *s, const char *key, cJSON *v)
{
	if (s == NULL || s->inert || key == NULL || v == NULL) {
		cJSON_Delete(v);
		return;
	}
	if (s->attrs == NULL && (s->attrs = cJSON_CreateObject()) == NULL) {
		cJSON_Delete(v);
		return;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(s->attrs, key);
	cJSON_AddItemToObject(s->attrs, key, v);
}

void
plba_span_set_str(plba_span *s, const char *key, const char *value)
{
	if (s != NULL && !s->inert)
		set(s, key, cJSON_CreateString(value != NULL ? value : ""));
}

void
plba_span_set_int(plba_span *s, const char *key, long long value)
{
	if (s != NULL && !s->inert)
		set(s, key, cJSON_CreateNumber((double)value));
}

void
plba_span_set_double(plba_span *s, const char *key, double value)
{
	if (s != NULL && !s->inert)
		set(s, key, cJSON_CreateNumber(value));
}

void
plba_span_set_bool(plba_span *s, const char *key, bool value)
{
	if (s != NULL && !s->inert)
		set(s, key, cJSON_CreateBool(value));
}

void
plba_span_event(plba_span *s, const char *name)
{
	cJSON *e;
	char ns[24];

	if (s == NULL || s->inert || name == NULL)
		return;
	if (s->events == NULL && (s->events = cJSON_CreateArray()) == NULL)
		return;
	if ((e = cJSON_CreateObject()) == NULL)
		return;
	snprintf(ns, sizeof(ns), "%llu", (unsigned long long)trace_now_ns());
	cJSON_AddStringToObject(e, "name", name);
	cJSON_AddStringToObject(e, "time_ns", ns);
	cJSON_AddItemToArray(s->events, e);
}

void
plba_span_error(plba_span *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (s == NULL || s->inert)
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
	if (s == NULL || s->inert)
		return;
	s->status = "ok";
}

int
plba_span_traceparent(const plba_span *s, char *buf, size_t len)
{
	if (s == NULL || s->inert || len < TRACEPARENT_LEN + 1)
		return -1;
	tracectx_format(&s->ctx, buf);
	return 0;
}

void
plba_trace_message(plba_worker *w, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (plba_span_current(w) == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	plba_span_event(current, msg);
}

static char *
record(const plba_span *s, uint64_t end_ns)
{
	char hex[33], ns[24];
	cJSON *o = cJSON_CreateObject(), *st;
	char *text;

	if (o == NULL)
		return NULL;
	trace_hex(s->ctx.trace_id, 16, hex);
	cJSON_AddStringToObject(o, "trace_id", hex);
	trace_hex(s->ctx.span_id, 8, hex);
	cJSON_AddStringToObject(o, "span_id", hex);
	if (s->has_parent) {
		trace_hex(s->parent_id, 8, hex);
		cJSON_AddStringToObject(o, "parent_span_id", hex);
	}
	cJSON_AddStringToObject(o, "name", s->name);
	cJSON_AddStringToObject(o, "kind", s->kind);
	snprintf(ns, sizeof(ns), "%llu", (unsigned long long)s->start_ns);
	cJSON_AddStringToObject(o, "start_ns", ns);
	snprintf(ns, sizeof(ns), "%llu", (unsigned long long)end_ns);
	cJSON_AddStringToObject(o, "end_ns", ns);
	if (s->attrs != NULL)
		cJSON_AddItemReferenceToObject(o, "attributes", s->attrs);
	if (s->events != NULL)
		cJSON_AddItemReferenceToObject(o, "events", s->events);
	st = cJSON_AddObjectToObject(o, "status");
	cJSON_AddStringToObject(st, "code", s->status);
	if (s->message != NULL)
		cJSON_AddStringToObject(st, "message", s->message);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

void
plba_span_end(plba_span *s)
{
	struct plba_span *p;
	char *text;

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
	if (s->ctx.sampled && (text = record(s, trace_now_ns())) != NULL) {
		child_send_trace(s->w, text, strlen(text));
		free(text);
	}
	cJSON_Delete(s->attrs);
	cJSON_Delete(s->events);
	free(s->message);
	free(s->name);
	free(s);
}
