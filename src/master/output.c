#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "output.h"

void
output_reset(struct output *o)
{
	free(o->partial);
	o->partial = NULL;
	o->len = 0;
}

static void
emit_partial(struct output *o, line_fn fn, void *arg, bool truncated)
{
	fn(arg, o->partial, o->len, truncated);
	output_reset(o);
}

/*
 * Where a piece of a long line ends: before a character it does not hold
 * all of, so that the pieces are as much UTF-8 as the line.  Only the
 * lead byte is looked at; bytes that make no character either way become
 * U+FFFD in the log (log.c), in this piece or in the next.
 */
static size_t
piece_end(const char *s, size_t len)
{
	unsigned char c;
	size_t i, need;

	for (i = len; i > 0 && len - i < 4; i--) {
		if (((c = (unsigned char)s[i - 1]) & 0xc0) == 0x80)
			continue;
		need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		return len - (i - 1) < need ? i - 1 : len;
	}
	return len;
}

/* Keeps an incomplete tail; when the buffer cannot be had, it is logged now. */
static void
keep(struct output *o, const char *data, size_t n, line_fn fn, void *arg)
{
	if (o->partial == NULL &&
	    (o->partial = malloc(OUTPUT_LINE_MAX)) == NULL) {
		fn(arg, data, n, true);
		return;
	}
	memcpy(o->partial + o->len, data, n);
	o->len += n;
}

void
output_feed(struct output *o, const char *data, size_t n, line_fn fn, void *arg)
{
	const char *nl;
	size_t take, room, cut;

	while (n > 0) {
		nl = memchr(data, '\n', n);
		take = nl != NULL ? (size_t)(nl - data) : n;
		room = OUTPUT_LINE_MAX - o->len;
		if (take > room || (take == room && nl == NULL)) {
			/* Too long for one line: pass on a full piece. */
			if (o->len == 0) {
				cut = piece_end(data, room);
				fn(arg, data, cut, true);
				data += cut;
				n -= cut;
				continue;
			}
			keep(o, data, room, fn, arg);
			data += room;
			n -= room;
			/* The few bytes of a character cut short wait for
			 * the rest of it. */
			cut = piece_end(o->partial, o->len);
			fn(arg, o->partial, cut, true);
			if ((o->len -= cut) == 0)
				output_reset(o);
			else
				memmove(o->partial, o->partial + cut, o->len);
			continue;
		}
		if (nl == NULL) {
			keep(o, data, take, fn, arg);
			return;
		}
		if (o->len == 0)
			fn(arg, data, take, false);
		else {
			keep(o, data, take, fn, arg);
			if (o->partial != NULL)
				emit_partial(o, fn, arg, false);
		}
		data += take + 1;
		n -= take + 1;
	}
}

void
output_flush(struct output *o, line_fn fn, void *arg)
{
	if (o->len > 0)
		emit_partial(o, fn, arg, false);
	output_reset(o);
}
