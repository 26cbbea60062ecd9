/*
 * Worker protocol framing: a 4-byte length in network byte order, then
 * that many bytes of one JSON object.  The reader rejects a length over
 * the limit before it allocates anything for it; the writer queues whole
 * frames and drains them as the socket allows, never blocking.
 */
#ifndef PLBA_FRAME_H
#define PLBA_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_HEADER	4

struct frame_reader {
	char	*buf;
	size_t	 start;		/* first unconsumed byte */
	size_t	 len;		/* bytes held from start */
	size_t	 cap;
	size_t	 max_frame;
};

struct frame_writer {
	char	*buf;
	size_t	 start;
	size_t	 len;
	size_t	 cap;
};

void	frame_reader_init(struct frame_reader *, size_t max_frame);
void	frame_reader_free(struct frame_reader *);
/*
 * Reads once from fd into the buffer.  Returns bytes read, 0 at end of
 * stream, -1 with errno set on error (EAGAIN when nothing is waiting).
 */
ssize_t	frame_read(struct frame_reader *, int fd);
/* Appends bytes as if read (tests, fuzzing). Returns -1 when out of memory. */
int	frame_feed(struct frame_reader *, const void *data, size_t n);
/*
 * Takes the next complete frame: returns 1 with *data and *len set (valid
 * until the next call), 0 when more bytes are needed, -1 when the length
 * prefix is zero or over max_frame (the stream cannot be resynchronised),
 * -2 when memory for the frame cannot be had.
 */
int	frame_next(struct frame_reader *, const char **data, size_t *len);
/* Gives the buffer back when nothing is held: idle channels cost no
 * memory, which matters with a thousand instances. */
void	frame_reader_trim(struct frame_reader *);
/* Bytes buffered that do not yet form a frame. */
size_t	frame_pending(const struct frame_reader *);

void	frame_writer_init(struct frame_writer *);
void	frame_writer_free(struct frame_writer *);
/* Queues one frame with json as its body. Returns -1 when out of memory. */
int	frame_put(struct frame_writer *, const char *json, size_t len);
/* Queues one frame whose body is the concatenation of parts. */
int	frame_putv(struct frame_writer *, const char *const *parts,
	    const size_t *lens, size_t nparts);
/*
 * Writes as much as the fd takes without blocking.  Returns 0 when
 * everything went out, 1 when some is left (wait for writability), -1
 * on error with errno set.
 */
int	frame_flush(struct frame_writer *, int fd);
/* Moves src's queued bytes to the end of dst.  -1 when out of memory
 * (both left as they were). */
int	frame_writer_move(struct frame_writer *dst, struct frame_writer *src);
static inline size_t frame_queued(const struct frame_writer *w) { return w->len; }

#endif
