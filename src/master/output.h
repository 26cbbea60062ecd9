/*
 * Splits a child's stdout or stderr into lines for the log.  Memory is
 * bounded: a partial line is buffered only while it is incomplete, and a
 * line longer than OUTPUT_LINE_MAX is passed on in pieces marked
 * truncated, so a child writing a huge line or a flood cannot grow the
 * master.  A piece ends between UTF-8 characters, a few bytes short of
 * OUTPUT_LINE_MAX if need be: cut inside one, the log would show two
 * U+FFFD where the line had a valid character.
 */
#ifndef PLBA_MASTER_OUTPUT_H
#define PLBA_MASTER_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#define OUTPUT_LINE_MAX	8192

typedef void	(*line_fn)(void *arg, const char *line, size_t len, bool truncated);

struct output {
	char	*partial;	/* NULL unless a line is incomplete */
	size_t	 len;
};

void	output_feed(struct output *, const char *data, size_t n, line_fn, void *arg);
/* At end of stream: passes on what is left of an unterminated line. */
void	output_flush(struct output *, line_fn, void *arg);
void	output_reset(struct output *);

#endif
