/*
 * W3C Trace Context, the pure part: ids from a proper random source,
 * traceparent parsing and formatting, and span records as JSON.  Shared
 * by libplba's trace API and the master, which records its own spans.
 */
#ifndef PLBA_TRACECTX_H
#define PLBA_TRACECTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TRACEPARENT_LEN	55	/* "00-" 32 "-" 16 "-" 2 */

struct tracectx {
	uint8_t	trace_id[16];
	uint8_t	span_id[8];
	bool	sampled;
};

/*
 * Parses a traceparent header value.  Version 00 must be exactly 55
 * characters; a higher version may carry more after the flags, as the
 * spec allows; version ff, all-zero ids, upper-case hex and bad
 * separators are invalid.  Returns 0 or -1.
 */
int	tracectx_parse(const char *, struct tracectx *);
/*
 * The same, keeping the ids as the hex digits they came as (no NUL), for
 * whoever only prints them again: the master keeps each task's so.
 */
int	tracectx_parse_text(const char *, char trace_id[32], char span_id[16],
	    bool *sampled);
/* Always version 00; buf needs TRACEPARENT_LEN + 1 bytes. */
void	tracectx_format(const struct tracectx *, char *buf);
/* The same from ids in hex (32 and 16 digits, NUL or not). */
void	tracectx_format_text(const char trace_id[32], const char span_id[16],
	    bool sampled, char *buf);
/*
 * Head sampling by trace id, so that every process deciding about one
 * trace decides alike: a new trace is recorded when the last 56 bits of
 * its id, read as a number, are below the bound of the ratio (W3C Trace
 * Context level 2 keeps those bits random).  The bound of 1 is 2^56:
 * every trace; of 0, none.
 */
#define TRACE_SAMPLE_ALL	(UINT64_C(1) << 56)
uint64_t tracectx_sample_bound(double ratio);
bool	 tracectx_sample(const uint8_t trace_id[16], uint64_t bound);
/* Fills random bytes from getrandom(2), buffered. Never all zeros. */
void	trace_random(uint8_t *out, size_t n);
void	trace_hex(const uint8_t *in, size_t n, char *out);	/* 2n chars + NUL */
/* v in decimal, at the end of buf; returns where it starts. */
const char *trace_u64(uint64_t v, char buf[20], size_t *len);
/* Wall clock in nanoseconds since the epoch, for span times. */
uint64_t trace_now_ns(void);

/*
 * Span records printed by hand, in the very form cJSON_PrintUnformatted
 * gives: the master writes records in that form to the trace file as they
 * stand (src/master/span_text.c), so libplba and the master print theirs
 * so, without building a cJSON tree.  A text grows as needed; once memory
 * runs out it stays failed and rec_text_end() says so.
 */
struct rec_text {
	char	*s;
	size_t	 len;
	size_t	 cap;
	bool	 own;		/* s was allocated here, not the caller's */
	bool	 failed;
};

void	 rec_text_init(struct rec_text *, char *buf, size_t cap);
bool	 rec_text_grow(struct rec_text *, size_t n);
void	 rec_text_lit(struct rec_text *, const char *s);	/* as it is */
void	 rec_text_u64(struct rec_text *, uint64_t);	/* in decimal */
/* A span record's first members, from ids in hex (32, 16 and 16
 * digits): {"trace_id":"...","span_id":"..." and, unless parent_id is
 * NULL, ,"parent_span_id":"..."; the next member goes on with its comma. */
void	 rec_text_ids(struct rec_text *, const char trace_id[32],
	    const char span_id[16], const char *parent_id);
/* s quoted as cJSON prints a string: \" \\ \b \f \n \r \t, other
 * control characters as \u00xx, every other byte as it is. */
void	 rec_text_quote(struct rec_text *, const char *s);
/*
 * Inline: a record is printed in some thirty pieces, and a call for each
 * showed in the profiles of the master and of every consumer.
 */
static inline void
rec_text_put(struct rec_text *t, const char *s, size_t len)
{
	if (t->len + len + 1 > t->cap && !rec_text_grow(t, len))
		return;
	memcpy(t->s + t->len, s, len);
	t->len += len;
}

/* A string literal, its length known at compile time. */
#define REC_TEXT_LIT(t, lit)	rec_text_put((t), "" lit, sizeof(lit) - 1)

/* NUL-terminates; the text, or NULL if memory ran out. */
const char *rec_text_end(struct rec_text *);
/* Frees the text if it outgrew the caller's buffer. */
void	 rec_text_free(struct rec_text *);

#endif
