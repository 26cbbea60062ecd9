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
/* Always version 00; buf needs TRACEPARENT_LEN + 1 bytes. */
void	tracectx_format(const struct tracectx *, char *buf);
/* Fills random bytes from getrandom(2), buffered. Never all zeros. */
void	trace_random(uint8_t *out, size_t n);
void	trace_hex(const uint8_t *in, size_t n, char *out);	/* 2n chars + NUL */
/* Wall clock in nanoseconds since the epoch, for span times. */
uint64_t trace_now_ns(void);

#endif
