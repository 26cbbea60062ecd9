/*
 * Whether a span record's text can be written as it stands (see
 * span_text.c): the file transport's fast way.
 */
#ifndef PLBA_MASTER_SPAN_TEXT_H
#define PLBA_MASTER_SPAN_TEXT_H

#include <stddef.h>

enum span_text {
	SPAN_TEXT_VALID,	/* canonical, no "resource", a valid span */
	SPAN_TEXT_INVALID,	/* canonical, but not a valid span: drop it */
	SPAN_TEXT_OTHER		/* anything else: parse it to know */
};

/* len bytes of text, not necessarily NUL-terminated. */
enum span_text	span_text_check(const char *text, size_t len);
/* The same; when VALID, *trace_id points at the record's trace id, its 32
 * hex digits in text (the quotes left out). */
enum span_text	span_text_check_id(const char *text, size_t len,
		    const char **trace_id);

#endif
