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
	size_t take, room;

	while (n > 0) {
		nl = memchr(data, '\n', n);
		take = nl != NULL ? (size_t)(nl - data) : n;
		room = OUTPUT_LINE_MAX - o->len;
		if (take > room || (take == room && nl == NULL)) {
			/* Too long for one line: pass on a full piece. */
			if (o->len == 0)
				fn(arg, data, room, true);
			else {
				keep(o, data, room, fn, arg);
				if (o->partial != NULL)
					emit_partial(o, fn, arg, true);
			}
			data += room;
			n -= room;
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
