#include "config.h"

#include <string.h>

#include "task_span.h"
#include "tracectx.h"

/*
 * s quoted.  Printable ASCII that is not empty is its own canonical form
 * between quotes, and the names and queues here nearly always are; says
 * whether s was so.
 */
static bool
put_quoted(struct rec_text *t, const char *s)
{
	const char *p;

	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f ||
		    *p == '"' || *p == '\\')
			break;
	if (*p != '\0' || p == s) {
		rec_text_quote(t, s);
		return false;
	}
	REC_TEXT_LIT(t, "\"");
	rec_text_put(t, s, (size_t)(p - s));
	REC_TEXT_LIT(t, "\"");
	return true;
}

bool
task_span_print(const struct task_span *s, struct rec_text *t)
{
	char nowbuf[20], span_hex[17];
	const char *nowtext;
	size_t nowlen;
	bool plain;

	/* The task's ids are kept in hex: only the master's own is not. */
	trace_hex(s->span_id, 8, span_hex);
	REC_TEXT_LIT(t, "{\"trace_id\":\"");
	rec_text_put(t, s->trace_id, 32);
	REC_TEXT_LIT(t, "\",\"span_id\":\"");
	rec_text_put(t, span_hex, 16);
	REC_TEXT_LIT(t, "\",\"parent_span_id\":\"");
	rec_text_put(t, s->parent_id, 16);
	REC_TEXT_LIT(t, "\"");
	/* The name is one of the master's own words: nothing to check. */
	REC_TEXT_LIT(t, ",\"name\":\"");
	rec_text_lit(t, s->name);
	REC_TEXT_LIT(t, "\"");
	/* An instant: one time, printed once. */
	nowtext = trace_u64(s->time_ns, nowbuf, &nowlen);
	REC_TEXT_LIT(t, ",\"kind\":\"internal\",\"start_ns\":\"");
	rec_text_put(t, nowtext, nowlen);
	REC_TEXT_LIT(t, "\",\"end_ns\":\"");
	rec_text_put(t, nowtext, nowlen);
	REC_TEXT_LIT(t, "\",\"attributes\":{\"plba.queue\":");
	plain = put_quoted(t, s->queue);
	REC_TEXT_LIT(t, ",\"plba.task.id\":\"");
	rec_text_u64(t, s->task_id);
	REC_TEXT_LIT(t, "\",\"plba.task.attempt\":");
	rec_text_u64(t, s->attempt);
	if (s->detail != NULL) {
		REC_TEXT_LIT(t, ",\"plba.detail\":");
		plain &= put_quoted(t, s->detail);
	}
	rec_text_lit(t, s->error ? "},\"status\":{\"code\":\"error\"" :
	    "},\"status\":{\"code\":\"ok\"");
	if (s->error && s->detail != NULL) {
		REC_TEXT_LIT(t, ",\"message\":");
		rec_text_quote(t, s->detail);
	}
	REC_TEXT_LIT(t, "}}");
	return plain;
}
