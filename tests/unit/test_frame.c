/* Worker protocol framing: partial reads, limits, sockets, back-pressure. */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include "unit.h"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"

#define MIB	((size_t)1 << 20)

static void
be32(unsigned char *p, uint32_t n)
{
	p[0] = (unsigned char)(n >> 24);
	p[1] = (unsigned char)(n >> 16);
	p[2] = (unsigned char)(n >> 8);
	p[3] = (unsigned char)n;
}

/* A whole frame (header and body) in one malloc'ed buffer. */
static unsigned char *
make_frame(const void *body, size_t len)
{
	unsigned char *f = malloc(FRAME_HEADER + len);

	ck_assert_ptr_nonnull(f);
	be32(f, (uint32_t)len);
	memcpy(f + FRAME_HEADER, body, len);
	return f;
}

/* A recognisable body: byte i of frame seq, so reordering shows. */
static void
fill(char *p, size_t len, unsigned seq)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (char)((i * 7 + seq * 13) % 251);
}

static bool
check_fill_from(const char *p, size_t from, size_t len, unsigned seq)
{
	size_t i;

	for (i = from; i < len; i++)
		if (p[i] != (char)((i * 7 + seq * 13) % 251))
			return false;
	return true;
}

static bool
check_fill(const char *p, size_t len, unsigned seq)
{
	return check_fill_from(p, 0, len, seq);
}

static void
pair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
	    0);
}

static void
nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	ck_assert_int_ne(fl, -1);
	ck_assert_int_eq(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
}

static void
write_all(int fd, const void *p, size_t len)
{
	const char *c = p;
	ssize_t n;

	while (len > 0) {
		n = write(fd, c, len);
		ck_assert_int_gt(n, 0);
		c += n;
		len -= (size_t)n;
	}
}

/* Reads from a non-blocking fd until nothing is waiting. */
static size_t
drain(struct frame_reader *r, int fd)
{
	size_t total = 0;
	ssize_t n;

	while ((n = frame_read(r, fd)) > 0)
		total += (size_t)n;
	ck_assert_int_eq(n, -1);
	ck_assert_int_eq(errno, EAGAIN);
	return total;
}

/* --- reader --------------------------------------------------------------- */

START_TEST(header_split_across_feeds)
{
	struct frame_reader r;
	const char *data;
	size_t len;
	unsigned char *f = make_frame("{\"type\":\"ready\"}", 16);

	frame_reader_init(&r, 1024);
	ck_assert_int_eq(frame_next(&r, &data, &len), 0);
	ck_assert_int_eq(frame_feed(&r, f, 1), 0);
	ck_assert_int_eq(frame_next(&r, &data, &len), 0);
	ck_assert_int_eq(frame_feed(&r, f + 1, 2), 0);
	ck_assert_int_eq(frame_next(&r, &data, &len), 0);
	ck_assert_uint_eq(frame_pending(&r), 3);
	ck_assert_int_eq(frame_feed(&r, f + 3, 1), 0);
	ck_assert_int_eq(frame_next(&r, &data, &len), 0);
	ck_assert_int_eq(frame_feed(&r, f + 4, 16), 0);
	ck_assert_int_eq(frame_next(&r, &data, &len), 1);
	ck_assert_uint_eq(len, 16);
	ck_assert_mem_eq(data, "{\"type\":\"ready\"}", 16);
	ck_assert_uint_eq(frame_pending(&r), 0);
	ck_assert_int_eq(frame_next(&r, &data, &len), 0);
	frame_reader_free(&r);
	free(f);
}
END_TEST

START_TEST(body_byte_by_byte)
{
	struct frame_reader r;
	const char *data;
	size_t len, i, n = 1000;
	char body[1000];
	unsigned char *f;

	fill(body, n, 1);
	f = make_frame(body, n);
	frame_reader_init(&r, 4096);
	for (i = 0; i < FRAME_HEADER + n - 1; i++) {
		ck_assert_int_eq(frame_feed(&r, f + i, 1), 0);
		ck_assert_int_eq(frame_next(&r, &data, &len), 0);
		ck_assert_uint_eq(frame_pending(&r), i + 1);
	}
	ck_assert_int_eq(frame_feed(&r, f + i, 1), 0);
	ck_assert_int_eq(frame_next(&r, &data, &len), 1);
	ck_assert_uint_eq(len, n);
	ck_assert(check_fill(data, len, 1));
	frame_reader_free(&r);
	free(f);
}
END_TEST

START_TEST(several_frames_in_one_feed)
{
	struct frame_reader r;
	const char *data;
	size_t len, off = 0;
	unsigned char buf[256];
	const char *bodies[] = { "{\"a\":1}", "{}", "{\"type\":\"heartbeat\"}" };
	unsigned i;

	for (i = 0; i < 3; i++) {
		be32(buf + off, (uint32_t)strlen(bodies[i]));
		memcpy(buf + off + 4, bodies[i], strlen(bodies[i]));
		off += 4 + strlen(bodies[i]);
	}
	/* And the first two bytes of a fourth frame's header. */
	buf[off++] = 0;
	buf[off++] = 0;
	frame_reader_init(&r, 1024);
	ck_assert_int_eq(frame_feed(&r, buf, off), 0);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(frame_next(&r, &data, &len), 1);
		ck_assert_uint_eq(len, strlen(bodies[i]));
		ck_assert_mem_eq(data, bodies[i], len);
	}
	ck_assert_int_eq(frame_next(&r, &data, &len), 0);
	ck_assert_uint_eq(frame_pending(&r), 2);
	be32(buf, 2);
	ck_assert_int_eq(frame_feed(&r, buf + 2, 2), 0);
	ck_assert_int_eq(frame_feed(&r, "{}", 2), 0);
	ck_assert_int_eq(frame_next(&r, &data, &len), 1);
	ck_assert_mem_eq(data, "{}", 2);
	ck_assert_uint_eq(frame_pending(&r), 0);
	frame_reader_free(&r);
}
END_TEST

START_TEST(exactly_max_frame_accepted)
{
	struct frame_reader r;
	const char *data;
	size_t len, max = 16 * MIB;
	unsigned char hdr[4];
	char *body = malloc(max);

	ck_assert_ptr_nonnull(body);
	fill(body, max, 2);
	be32(hdr, (uint32_t)max);
	frame_reader_init(&r, max);
	ck_assert_int_eq(frame_feed(&r, hdr, 4), 0);
	ck_assert_int_eq(frame_feed(&r, body, 100), 0);
	ck_assert_int_eq(frame_next(&r, &data, &len), 0);
	/* Room for the whole frame is made at once. */
	ck_assert_uint_ge(r.cap, FRAME_HEADER + max);
	ck_assert_int_eq(frame_feed(&r, body + 100, max - 100), 0);
	ck_assert_int_eq(frame_next(&r, &data, &len), 1);
	ck_assert_uint_eq(len, max);
	ck_assert_mem_eq(data, body, 64);
	ck_assert(check_fill(data, len, 2));
	frame_reader_free(&r);
	free(body);
}
END_TEST

START_TEST(small_max_frame_boundary)
{
	struct frame_reader r;
	const char *data;
	size_t len;
	char body[101];
	unsigned char *f;

	memset(body, 'x', sizeof(body));
	f = make_frame(body, 100);
	frame_reader_init(&r, 100);
	ck_assert_int_eq(frame_feed(&r, f, FRAME_HEADER + 100), 0);
	ck_assert_int_eq(frame_next(&r, &data, &len), 1);
	ck_assert_uint_eq(len, 100);
	free(f);
	f = make_frame(body, 101);
	ck_assert_int_eq(frame_feed(&r, f, FRAME_HEADER), 0);
	ck_assert_int_eq(frame_next(&r, &data, &len), -1);
	frame_reader_free(&r);
	free(f);
}
END_TEST

START_TEST(over_max_rejected_before_allocation)
{
	struct frame_reader r;
	const char *data = NULL;
	size_t len = 0;
	unsigned char hdr[4];

	frame_reader_init(&r, 16 * MIB);
	be32(hdr, 0x40000000u);
	ck_assert_int_eq(frame_feed(&r, hdr, 4), 0);
	ck_assert_int_eq(frame_next(&r, &data, &len), -1);
	ck_assert_ptr_null(data);
	ck_assert_uint_eq(len, 0);
	ck_assert_uint_le(r.cap, 65536);
	/* Still rejected, still small, however often it is asked. */
	ck_assert_int_eq(frame_next(&r, &data, &len), -1);
	ck_assert_uint_le(r.cap, 65536);
	frame_reader_free(&r);

	/* One byte over. */
	frame_reader_init(&r, 16 * MIB);
	be32(hdr, (uint32_t)(16 * MIB + 1));
	ck_assert_int_eq(frame_feed(&r, hdr, 4), 0);
	ck_assert_int_eq(frame_next(&r, &data, &len), -1);
	ck_assert_uint_le(r.cap, 65536);
	frame_reader_free(&r);

	/* The largest prefix there is. */
	frame_reader_init(&r, 16 * MIB);
	be32(hdr, UINT32_MAX);
	ck_assert_int_eq(frame_feed(&r, hdr, 4), 0);
	ck_assert_int_eq(frame_next(&r, &data, &len), -1);
	ck_assert_uint_le(r.cap, 65536);
	frame_reader_free(&r);
}
END_TEST

START_TEST(zero_length_rejected)
{
	struct frame_reader r;
	const char *data;
	size_t len;
	unsigned char hdr[4] = { 0, 0, 0, 0 };

	frame_reader_init(&r, 1024);
	ck_assert_int_eq(frame_feed(&r, hdr, 4), 0);
	ck_assert_int_eq(frame_next(&r, &data, &len), -1);
	frame_reader_free(&r);
}
END_TEST

START_TEST(bad_frame_after_good_one)
{
	struct frame_reader r;
	const char *data;
	size_t len;
	unsigned char buf[16];

	be32(buf, 2);
	memcpy(buf + 4, "{}", 2);
	be32(buf + 6, 0);
	frame_reader_init(&r, 1024);
	ck_assert_int_eq(frame_feed(&r, buf, 10), 0);
	ck_assert_int_eq(frame_next(&r, &data, &len), 1);
	ck_assert_int_eq(frame_next(&r, &data, &len), -1);
	frame_reader_free(&r);
}
END_TEST

START_TEST(pending_and_trim)
{
	struct frame_reader r;
	const char *data;
	size_t len, cap;
	unsigned char *f = make_frame("{\"x\":true}", 10);

	frame_reader_init(&r, 1024);
	ck_assert_uint_eq(frame_pending(&r), 0);
	/* Trimming a reader that never held anything is harmless. */
	frame_reader_trim(&r);
	ck_assert_ptr_null(r.buf);

	ck_assert_int_eq(frame_feed(&r, f, 7), 0);
	ck_assert_uint_eq(frame_pending(&r), 7);
	cap = r.cap;
	/* A partial frame is kept. */
	frame_reader_trim(&r);
	ck_assert_ptr_nonnull(r.buf);
	ck_assert_uint_eq(r.cap, cap);
	ck_assert_uint_eq(frame_pending(&r), 7);

	ck_assert_int_eq(frame_feed(&r, f + 7, 14 - 7), 0);
	ck_assert_uint_eq(frame_pending(&r), 14);
	ck_assert_int_eq(frame_feed(&r, f, 3), 0);
	ck_assert_int_eq(frame_next(&r, &data, &len), 1);
	ck_assert_uint_eq(frame_pending(&r), 3);
	frame_reader_trim(&r);
	ck_assert_ptr_nonnull(r.buf);
	ck_assert_uint_eq(frame_pending(&r), 3);

	ck_assert_int_eq(frame_feed(&r, f + 3, 11), 0);
	ck_assert_int_eq(frame_next(&r, &data, &len), 1);
	ck_assert_mem_eq(data, "{\"x\":true}", 10);
	ck_assert_uint_eq(frame_pending(&r), 0);
	frame_reader_trim(&r);
	ck_assert_ptr_null(r.buf);
	ck_assert_uint_eq(r.cap, 0);
	ck_assert_uint_eq(r.start, 0);
	ck_assert_uint_eq(r.max_frame, 1024);

	/* And it works again after a trim. */
	ck_assert_int_eq(frame_feed(&r, f, 14), 0);
	ck_assert_int_eq(frame_next(&r, &data, &len), 1);
	ck_assert_uint_eq(len, 10);
	frame_reader_free(&r);
	free(f);
}
END_TEST

START_TEST(read_from_socket)
{
	struct frame_reader r;
	const char *data;
	size_t len, big = 200000, off, piece = 5000, total;
	int sv[2];
	unsigned char *f;
	char *body;
	ssize_t n;

	pair(sv);
	nonblock(sv[0]);
	frame_reader_init(&r, 1 * MIB);

	/* Nothing waiting. */
	errno = 0;
	ck_assert_int_eq(frame_read(&r, sv[0]), -1);
	ck_assert_int_eq(errno, EAGAIN);

	/* A small frame in one write. */
	f = make_frame("{\"type\":\"ready\"}", 16);
	write_all(sv[1], f, 20);
	free(f);
	ck_assert_uint_eq(drain(&r, sv[0]), 20);
	ck_assert_int_eq(frame_next(&r, &data, &len), 1);
	ck_assert_mem_eq(data, "{\"type\":\"ready\"}", 16);

	/* A frame over 64 KiB, written in pieces, read as they come. */
	body = malloc(big);
	ck_assert_ptr_nonnull(body);
	fill(body, big, 3);
	f = make_frame(body, big);
	total = 0;
	for (off = 0; off < FRAME_HEADER + big; off += piece) {
		size_t k = FRAME_HEADER + big - off < piece ?
		    FRAME_HEADER + big - off : piece;

		write_all(sv[1], f + off, k);
		total += drain(&r, sv[0]);
		ck_assert_uint_eq(total, off + k);
		if (off + k < FRAME_HEADER + big)
			ck_assert_int_eq(frame_next(&r, &data, &len), 0);
	}
	ck_assert_int_eq(frame_next(&r, &data, &len), 1);
	ck_assert_uint_eq(len, big);
	ck_assert(check_fill(data, len, 3));
	ck_assert_uint_eq(frame_pending(&r), 0);

	/* A 90000-byte frame in one write, behind a small one: the socket
	 * holds it all, the reader takes it in several reads. */
	free(f);
	f = make_frame(body, 90000);
	write_all(sv[1], "\0\0\0\2{}", 6);
	write_all(sv[1], f, FRAME_HEADER + 90000);
	ck_assert_uint_eq(drain(&r, sv[0]), 6 + FRAME_HEADER + 90000);
	ck_assert_int_eq(frame_next(&r, &data, &len), 1);
	ck_assert_uint_eq(len, 2);
	ck_assert_mem_eq(data, "{}", 2);
	ck_assert_int_eq(frame_next(&r, &data, &len), 1);
	ck_assert_uint_eq(len, 90000);
	ck_assert(check_fill(data, len, 3));
	ck_assert_int_eq(frame_next(&r, &data, &len), 0);

	/* End of stream. */
	close(sv[1]);
	n = frame_read(&r, sv[0]);
	ck_assert_int_eq(n, 0);
	close(sv[0]);
	frame_reader_free(&r);
	free(f);
	free(body);
}
END_TEST

/* --- writer --------------------------------------------------------------- */

START_TEST(put_header_and_body)
{
	struct frame_writer w;
	const unsigned char *p;
	char *big = malloc(70000);

	ck_assert_ptr_nonnull(big);
	fill(big, 70000, 4);
	frame_writer_init(&w);
	ck_assert_uint_eq(frame_queued(&w), 0);
	ck_assert_int_eq(frame_put(&w, "{\"type\":\"ready\"}", 16), 0);
	ck_assert_uint_eq(frame_queued(&w), 20);
	p = (const unsigned char *)w.buf + w.start;
	ck_assert_mem_eq(p, "\0\0\0\x10{\"type\":\"ready\"}", 20);

	ck_assert_int_eq(frame_put(&w, big, 70000), 0);
	ck_assert_uint_eq(frame_queued(&w), 20 + 4 + 70000);
	p = (const unsigned char *)w.buf + w.start + 20;
	/* 70000 = 0x00011170 */
	ck_assert_uint_eq(p[0], 0x00);
	ck_assert_uint_eq(p[1], 0x01);
	ck_assert_uint_eq(p[2], 0x11);
	ck_assert_uint_eq(p[3], 0x70);
	ck_assert(check_fill((const char *)p + 4, 70000, 4));
	frame_writer_free(&w);
	ck_assert_ptr_null(w.buf);
	ck_assert_uint_eq(w.len, 0);
	free(big);
}
END_TEST

START_TEST(putv_concatenates)
{
	struct frame_writer w;
	const char *parts[] = { "{\"a\":", "", "\"b\"", "}" };
	size_t lens[] = { 5, 0, 3, 1 };
	struct frame_reader r;
	const char *data;
	size_t len;

	frame_writer_init(&w);
	ck_assert_int_eq(frame_putv(&w, parts, lens, 4), 0);
	ck_assert_uint_eq(frame_queued(&w), 4 + 9);
	ck_assert_mem_eq(w.buf + w.start, "\0\0\0\x09{\"a\":\"b\"}", 13);
	ck_assert_int_eq(frame_putv(&w, parts + 2, lens + 2, 1), 0);
	ck_assert_uint_eq(frame_queued(&w), 13 + 7);

	/* What the writer queued, the reader takes back. */
	frame_reader_init(&r, 64);
	ck_assert_int_eq(frame_feed(&r, w.buf + w.start, w.len), 0);
	ck_assert_int_eq(frame_next(&r, &data, &len), 1);
	ck_assert_uint_eq(len, 9);
	ck_assert_mem_eq(data, "{\"a\":\"b\"}", 9);
	ck_assert_int_eq(frame_next(&r, &data, &len), 1);
	ck_assert_uint_eq(len, 3);
	ck_assert_mem_eq(data, "\"b\"", 3);
	ck_assert_int_eq(frame_next(&r, &data, &len), 0);
	frame_reader_free(&r);
	frame_writer_free(&w);
}
END_TEST

START_TEST(move_appends_and_empties)
{
	struct frame_writer a, b;
	struct frame_reader r;
	const char *data;
	size_t len;
	int i;

	frame_writer_init(&a);
	frame_writer_init(&b);
	/* Moving nothing, and into nothing. */
	ck_assert_int_eq(frame_writer_move(&a, &b), 0);
	ck_assert_uint_eq(frame_queued(&a), 0);
	ck_assert_int_eq(frame_put(&a, "{\"t\":1}", 7), 0);
	for (i = 0; i < 2000; i++)	/* past the first buffer of a */
		ck_assert_int_eq(frame_put(&b, "{\"x\":2}", 7), 0);
	ck_assert_int_eq(frame_writer_move(&a, &b), 0);
	ck_assert_uint_eq(frame_queued(&b), 0);
	ck_assert_uint_eq(frame_queued(&a), 11 * 2001);
	frame_reader_init(&r, 64);
	ck_assert_int_eq(frame_feed(&r, a.buf + a.start, a.len), 0);
	ck_assert_int_eq(frame_next(&r, &data, &len), 1);
	ck_assert_mem_eq(data, "{\"t\":1}", 7);
	for (i = 0; i < 2000; i++) {
		ck_assert_int_eq(frame_next(&r, &data, &len), 1);
		ck_assert_mem_eq(data, "{\"x\":2}", 7);
	}
	ck_assert_int_eq(frame_next(&r, &data, &len), 0);
	/* b is reusable. */
	ck_assert_int_eq(frame_put(&b, "{}", 2), 0);
	ck_assert_uint_eq(frame_queued(&b), 6);
	frame_reader_free(&r);
	frame_writer_free(&a);
	frame_writer_free(&b);
}
END_TEST

START_TEST(flush_empty)
{
	struct frame_writer w;
	int sv[2];

	pair(sv);
	frame_writer_init(&w);
	ck_assert_int_eq(frame_flush(&w, sv[0]), 0);
	frame_writer_free(&w);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/*
 * Queues more than a small socket holds: flush stops with 1 instead of
 * blocking, and every frame arrives, whole and in order, as the peer reads.
 * More frames are queued while the first batch is half sent.
 */
START_TEST(flush_backpressure)
{
	enum { NFRAMES = 64, MORE = 16, BODY = 20000 };
	struct frame_writer w;
	struct frame_reader r;
	const char *data;
	size_t len;
	int sv[2], sndbuf = 4096, rc, rounds = 0, saw_partial = 0;
	unsigned seq, got = 0;
	char *body = malloc(BODY);

	ck_assert_ptr_nonnull(body);
	pair(sv);
	ck_assert_int_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf,
	    sizeof(sndbuf)), 0);
	nonblock(sv[0]);
	nonblock(sv[1]);
	frame_writer_init(&w);
	frame_reader_init(&r, 1 * MIB);
	for (seq = 0; seq < NFRAMES; seq++) {
		fill(body, BODY, seq);
		memcpy(body, &seq, sizeof(seq));
		ck_assert_int_eq(frame_put(&w, body, BODY), 0);
	}
	ck_assert_uint_eq(frame_queued(&w), NFRAMES * (BODY + 4));

	rc = frame_flush(&w, sv[0]);
	ck_assert_int_eq(rc, 1);
	ck_assert_uint_gt(frame_queued(&w), 0);
	ck_assert_uint_lt(frame_queued(&w), NFRAMES * (BODY + 4));
	/* Still full: a second try sends nothing and says so. */
	ck_assert_int_eq(frame_flush(&w, sv[0]), 1);

	for (seq = NFRAMES; seq < NFRAMES + MORE; seq++) {
		fill(body, BODY, seq);
		memcpy(body, &seq, sizeof(seq));
		ck_assert_int_eq(frame_put(&w, body, BODY), 0);
	}

	while (got < NFRAMES + MORE) {
		ck_assert_int_lt(++rounds, 100000);
		drain(&r, sv[1]);
		while (frame_next(&r, &data, &len) == 1) {
			unsigned s;

			ck_assert_uint_eq(len, BODY);
			memcpy(&s, data, sizeof(s));
			ck_assert_uint_eq(s, got);
			ck_assert(check_fill_from(data, sizeof(s), BODY, s));
			got++;
		}
		rc = frame_flush(&w, sv[0]);
		ck_assert_int_ge(rc, 0);
		if (rc == 1)
			saw_partial++;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_int_gt(saw_partial, 0);
	ck_assert_uint_eq(frame_queued(&w), 0);
	ck_assert_uint_eq(frame_pending(&r), 0);
	/* Over a mebibyte was buffered; an emptied writer gives it back. */
	ck_assert_ptr_null(w.buf);
	ck_assert_uint_eq(w.cap, 0);
	/* And nothing more arrives. */
	errno = 0;
	ck_assert_int_eq(frame_read(&r, sv[1]), -1);
	ck_assert_int_eq(errno, EAGAIN);

	/* An emptied writer still works. */
	ck_assert_int_eq(frame_put(&w, "{}", 2), 0);
	ck_assert_int_eq(frame_flush(&w, sv[0]), 0);
	drain(&r, sv[1]);
	ck_assert_int_eq(frame_next(&r, &data, &len), 1);
	ck_assert_mem_eq(data, "{}", 2);

	close(sv[0]);
	close(sv[1]);
	frame_writer_free(&w);
	frame_reader_free(&r);
	free(body);
}
END_TEST

START_TEST(flush_to_closed_peer)
{
	struct frame_writer w;
	int sv[2];

	pair(sv);
	close(sv[1]);
	frame_writer_init(&w);
	ck_assert_int_eq(frame_put(&w, "{}", 2), 0);
	/* MSG_NOSIGNAL: an error, not a SIGPIPE. */
	errno = 0;
	ck_assert_int_eq(frame_flush(&w, sv[0]), -1);
	ck_assert_int_eq(errno, EPIPE);
	ck_assert_uint_eq(frame_queued(&w), 6);
	frame_writer_free(&w);
	close(sv[0]);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("frame");
	TCase *rd = tcase_create("reader");
	TCase *wr = tcase_create("writer");

	tcase_add_test(rd, header_split_across_feeds);
	tcase_add_test(rd, body_byte_by_byte);
	tcase_add_test(rd, several_frames_in_one_feed);
	tcase_add_test(rd, exactly_max_frame_accepted);
	tcase_add_test(rd, small_max_frame_boundary);
	tcase_add_test(rd, over_max_rejected_before_allocation);
	tcase_add_test(rd, zero_length_rejected);
	tcase_add_test(rd, bad_frame_after_good_one);
	tcase_add_test(rd, pending_and_trim);
	tcase_add_test(rd, read_from_socket);
	tcase_set_timeout(rd, 60);
	suite_add_tcase(s, rd);

	tcase_add_test(wr, put_header_and_body);
	tcase_add_test(wr, putv_concatenates);
	tcase_add_test(wr, move_appends_and_empties);
	tcase_add_test(wr, flush_empty);
	tcase_add_test(wr, flush_backpressure);
	tcase_add_test(wr, flush_to_closed_peer);
	tcase_set_timeout(wr, 60);
	suite_add_tcase(s, wr);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
