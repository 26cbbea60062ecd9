#include "config.h"

#include <string.h>

#include "task_span.h"
#include "tracectx.h"

/* Printable ASCII but the quote and the backslash: its own JSON form. */
static const unsigned char plain_byte[256] = {
	[0x20] = 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
};

static char *
put(char *o, const char *s, size_t len)
{
	memcpy(o, s, len);
	return o + len;
}

/* A literal: its length, and so its copy, known when compiling. */
#define LIT(o, lit)	((o) = put((o), "" lit, sizeof(lit) - 1))

/*
 * s quoted, at o, where there is room for it as it is.  Printable ASCII
 * that is not empty is its own canonical form between quotes, and the
 * names and queues here nearly always are; anything else is printed as
 * cJSON would, through t, which may move, and then room is made for
 * more bytes again.  *plain says whether s was so.
 */
static char *
put_quoted(struct rec_text *t, char *o, const char *s, size_t more,
    bool *plain)
{
	const char *p;

	for (p = s; plain_byte[(unsigned char)*p]; p++)
		;
	if (*p != '\0' || p == s) {
		*plain = false;
		t->len = (size_t)(o - t->s);
		rec_text_quote(t, s);
		if (!rec_text_grow(t, more))
			return NULL;
		return t->s + t->len;
	}
	*o++ = '"';
	o = put(o, s, (size_t)(p - s));
	*o++ = '"';
	return o;
}

/*
 * Written straight into the text, without a room check a piece: the
 * exporter prints two of these a traced task, and the checks were a
 * quarter of their cost.  Room is made for all but the strings that may
 * need escapes up front, and again after each of those.
 */
bool
task_span_print(const struct task_span *s, struct rec_text *t)
{
	char span_hex[17], timebuf[20], idbuf[20], attemptbuf[20];
	const char *time, *id, *attempt;
	size_t tlen, ilen, alen, nlen = strlen(s->name), qlen, dlen;
	bool plain = true;
	char *o;

	qlen = strlen(s->queue);
	dlen = s->detail != NULL ? strlen(s->detail) : 0;
	if (!rec_text_grow(t, TASK_SPAN_TEXT_MAX + nlen + qlen + dlen))
		return false;
	trace_hex(s->span_id, 8, span_hex);
	time = trace_u64(s->time_ns, timebuf, &tlen);
	id = trace_u64(s->task_id, idbuf, &ilen);
	attempt = trace_u64(s->attempt, attemptbuf, &alen);
	o = t->s + t->len;
	LIT(o, "{\"trace_id\":\"");
	o = put(o, s->trace_id, 32);
	LIT(o, "\",\"span_id\":\"");
	o = put(o, span_hex, 16);
	LIT(o, "\",\"parent_span_id\":\"");
	o = put(o, s->parent_id, 16);
	/* The name is one of the master's own words: nothing to check. */
	LIT(o, "\",\"name\":\"");
	o = put(o, s->name, nlen);
	/* An instant: one time, printed once. */
	LIT(o, "\",\"kind\":\"internal\",\"start_ns\":\"");
	o = put(o, time, tlen);
	LIT(o, "\",\"end_ns\":\"");
	o = put(o, time, tlen);
	LIT(o, "\",\"attributes\":{\"plba.queue\":");
	if ((o = put_quoted(t, o, s->queue, TASK_SPAN_TEXT_MAX + dlen,
	    &plain)) == NULL)
		return false;
	LIT(o, ",\"plba.task.id\":\"");
	o = put(o, id, ilen);
	LIT(o, "\",\"plba.task.attempt\":");
	o = put(o, attempt, alen);
	if (s->detail != NULL) {
		LIT(o, ",\"plba.detail\":");
		if ((o = put_quoted(t, o, s->detail, TASK_SPAN_TEXT_MAX,
		    &plain)) == NULL)
			return false;
	}
	if (s->error)
		LIT(o, "},\"status\":{\"code\":\"error\"");
	else
		LIT(o, "},\"status\":{\"code\":\"ok\"");
	t->len = (size_t)(o - t->s);
	if (s->error && s->detail != NULL) {
		REC_TEXT_LIT(t, ",\"message\":");
		rec_text_quote(t, s->detail);
	}
	REC_TEXT_LIT(t, "}}");
	return plain;
}
