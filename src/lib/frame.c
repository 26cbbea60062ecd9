#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"

/* One read() asks for at least this much room, so small frames are
 * batched: many frames per system call under load. */
#define READ_CHUNK	65536

void
frame_reader_init(struct frame_reader *r, size_t max_frame)
{
	memset(r, 0, sizeof(*r));
	r->max_frame = max_frame;
}

void
frame_reader_free(struct frame_reader *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

/* Makes room for `want` more bytes after the held ones. */
static int
reserve(char **buf, size_t *start, size_t len, size_t *cap, size_t want)
{
	size_t ncap;
	char *p;

	if (*start + len + want <= *cap)
		return 0;
	if (*start > 0) {
		memmove(*buf, *buf + *start, len);
		*start = 0;
		if (len + want <= *cap)
			return 0;
	}
	ncap = *cap ? *cap : 4096;
	while (ncap < len + want)
		ncap *= 2;
	if ((p = realloc(*buf, ncap)) == NULL)
		return -1;
	*buf = p;
	*cap = ncap;
	return 0;
}

ssize_t
frame_read(struct frame_reader *r, int fd)
{
	ssize_t n;

	if (reserve(&r->buf, &r->start, r->len, &r->cap, READ_CHUNK) == -1) {
		errno = ENOMEM;
		return -1;
	}
	n = read(fd, r->buf + r->start + r->len,
	    r->cap - r->start - r->len);
	if (n > 0)
		r->len += (size_t)n;
	return n;
}

int
frame_feed(struct frame_reader *r, const void *data, size_t n)
{
	if (reserve(&r->buf, &r->start, r->len, &r->cap, n) == -1)
		return -1;
	memcpy(r->buf + r->start + r->len, data, n);
	r->len += n;
	return 0;
}

int
frame_next(struct frame_reader *r, const char **data, size_t *len)
{
	uint32_t be;
	size_t n;

	if (r->len < FRAME_HEADER)
		return 0;
	memcpy(&be, r->buf + r->start, sizeof(be));
	n = ntohl(be);
	if (n == 0 || n > r->max_frame)
		return -1;
	if (r->len - FRAME_HEADER < n) {
		/* Grow now for the whole frame, so a large frame needs
		 * one allocation, not a doubling per read. */
		if (reserve(&r->buf, &r->start, r->len, &r->cap,
		    FRAME_HEADER + n - r->len) == -1)
			return -2;
		return 0;
	}
	*data = r->buf + r->start + FRAME_HEADER;
	*len = n;
	r->start += FRAME_HEADER + n;
	r->len -= FRAME_HEADER + n;
	if (r->len == 0)
		r->start = 0;
	return 1;
}

void
frame_reader_trim(struct frame_reader *r)
{
	if (r->len > 0)
		return;
	free(r->buf);
	r->buf = NULL;
	r->start = r->cap = 0;
}

size_t
frame_pending(const struct frame_reader *r)
{
	return r->len;
}

void
frame_writer_init(struct frame_writer *w)
{
	memset(w, 0, sizeof(*w));
}

void
frame_writer_free(struct frame_writer *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

int
frame_putv(struct frame_writer *w, const char *const *parts,
    const size_t *lens, size_t nparts)
{
	size_t i, total = 0;
	uint32_t be;
	char *p;

	for (i = 0; i < nparts; i++)
		total += lens[i];
	if (total > UINT32_MAX)
		return -1;
	if (reserve(&w->buf, &w->start, w->len, &w->cap,
	    FRAME_HEADER + total) == -1)
		return -1;
	p = w->buf + w->start + w->len;
	be = htonl((uint32_t)total);
	memcpy(p, &be, FRAME_HEADER);
	p += FRAME_HEADER;
	for (i = 0; i < nparts; i++) {
		memcpy(p, parts[i], lens[i]);
		p += lens[i];
	}
	w->len += FRAME_HEADER + total;
	return 0;
}

int
frame_put(struct frame_writer *w, const char *json, size_t len)
{
	return frame_putv(w, &json, &len, 1);
}

int
frame_flush(struct frame_writer *w, int fd)
{
	ssize_t n;

	while (w->len > 0) {
		n = send(fd, w->buf + w->start, w->len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 1;
			return -1;
		}
		w->start += (size_t)n;
		w->len -= (size_t)n;
	}
	w->start = 0;
	/* A burst may have grown the buffer a lot; give it back. */
	if (w->cap > (1u << 20)) {
		free(w->buf);
		w->buf = NULL;
		w->cap = 0;
	}
	return 0;
}

int
frame_writer_move(struct frame_writer *dst, struct frame_writer *src)
{
	if (src->len == 0)
		return 0;
	if (reserve(&dst->buf, &dst->start, dst->len, &dst->cap, src->len) == -1)
		return -1;
	memcpy(dst->buf + dst->start + dst->len, src->buf + src->start, src->len);
	dst->len += src->len;
	src->start = 0;
	src->len = 0;
	return 0;
}
