/* Splitting child output into bounded lines. */
#include "config.h"

#include "unit.h"
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "utf8.h"

struct got {
	size_t	 n;
	char	*lines[64];
	size_t	 lens[64];
	bool	 trunc[64];
};

static void
got_free(struct got *g)
{
	while (g->n > 0)
		free(g->lines[--g->n]);
}

static void
collect(void *arg, const char *line, size_t len, bool truncated)
{
	struct got *g = arg;

	ck_assert_uint_lt(g->n, 64);
	g->lines[g->n] = strndup(line, len);
	g->lens[g->n] = len;
	g->trunc[g->n] = truncated;
	g->n++;
}

START_TEST(whole_lines)
{
	struct output o = { 0 };
	struct got g = { 0 };

	output_feed(&o, "one\ntwo\n", 8, collect, &g);
	ck_assert_uint_eq(g.n, 2);
	ck_assert_str_eq(g.lines[0], "one");
	ck_assert_str_eq(g.lines[1], "two");
	ck_assert_ptr_null(o.partial);
	got_free(&g);
}
END_TEST

START_TEST(line_split_across_reads)
{
	struct output o = { 0 };
	struct got g = { 0 };

	output_feed(&o, "hel", 3, collect, &g);
	ck_assert_uint_eq(g.n, 0);
	output_feed(&o, "lo wor", 6, collect, &g);
	output_feed(&o, "ld\nnext", 7, collect, &g);
	ck_assert_uint_eq(g.n, 1);
	ck_assert_str_eq(g.lines[0], "hello world");
	ck_assert(!g.trunc[0]);
	output_flush(&o, collect, &g);
	ck_assert_uint_eq(g.n, 2);
	ck_assert_str_eq(g.lines[1], "next");
	ck_assert_ptr_null(o.partial);
	got_free(&g);
}
END_TEST

START_TEST(empty_lines_kept)
{
	struct output o = { 0 };
	struct got g = { 0 };

	output_feed(&o, "\n\nx\n", 4, collect, &g);
	ck_assert_uint_eq(g.n, 3);
	ck_assert_str_eq(g.lines[0], "");
	ck_assert_str_eq(g.lines[2], "x");
	got_free(&g);
}
END_TEST

START_TEST(huge_line_in_pieces)
{
	struct output o = { 0 };
	struct got g = { 0 };
	size_t big = OUTPUT_LINE_MAX * 3 + 10, i;
	char *data = malloc(big + 1);

	memset(data, 'a', big);
	data[big] = '\n';
	/* Fed in odd-sized reads, as a pipe would deliver it. */
	for (i = 0; i < big + 1; i += 1000)
		output_feed(&o, data + i, big + 1 - i < 1000 ? big + 1 - i : 1000,
		    collect, &g);
	ck_assert_uint_eq(g.n, 4);
	for (i = 0; i < 3; i++) {
		ck_assert_uint_eq(g.lens[i], OUTPUT_LINE_MAX);
		ck_assert(g.trunc[i]);
	}
	ck_assert_uint_eq(g.lens[3], 10);
	ck_assert(!g.trunc[3]);
	ck_assert_ptr_null(o.partial);
	free(data);
	got_free(&g);
}
END_TEST

START_TEST(exact_max_line_is_whole)
{
	struct output o = { 0 };
	struct got g = { 0 };
	char *data = malloc(OUTPUT_LINE_MAX + 1);

	memset(data, 'b', OUTPUT_LINE_MAX);
	data[OUTPUT_LINE_MAX] = '\n';
	output_feed(&o, data, 100, collect, &g);
	output_feed(&o, data + 100, OUTPUT_LINE_MAX + 1 - 100, collect, &g);
	ck_assert_uint_eq(g.n, 1);
	ck_assert_uint_eq(g.lens[0], OUTPUT_LINE_MAX);
	ck_assert(!g.trunc[0]);
	free(data);
	got_free(&g);
}
END_TEST

static bool
valid_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, n;

	for (i = 0; i < len; i += n)
		if ((n = utf8_seq(p + i, len - i)) == 0)
			return false;
	return true;
}

/*
 * A long line of skip ASCII bytes and count chars (each clen bytes), fed
 * in reads of step bytes: every piece ends between characters, and
 * together they are the line.
 */
static void
check_multibyte(size_t skip, const char *chr, size_t clen, size_t count,
    size_t step)
{
	struct output o = { 0 };
	struct got g = { 0 };
	size_t big = skip + clen * count, i, at;
	char *data = malloc(big + 1);

	memset(data, 'x', skip);
	for (i = 0; i < count; i++)
		memcpy(data + skip + i * clen, chr, clen);
	data[big] = '\n';
	for (i = 0; i < big + 1; i += step)
		output_feed(&o, data + i, big + 1 - i < step ? big + 1 - i : step,
		    collect, &g);
	ck_assert_uint_gt(g.n, 1);
	for (i = at = 0; i < g.n; at += g.lens[i], i++) {
		ck_assert(valid_utf8(g.lines[i], g.lens[i]));
		ck_assert_uint_eq((g.lens[i] - (i == 0 ? skip : 0)) % clen, 0);
		ck_assert_mem_eq(g.lines[i], data + at, g.lens[i]);
		if (i + 1 < g.n) {
			ck_assert(g.trunc[i]);
			ck_assert_uint_le(g.lens[i], OUTPUT_LINE_MAX);
			ck_assert_uint_gt(g.lens[i], OUTPUT_LINE_MAX - clen);
		} else
			ck_assert(!g.trunc[i]);
	}
	ck_assert_uint_eq(at, big);
	ck_assert_ptr_null(o.partial);
	free(data);
	got_free(&g);
}

START_TEST(pieces_end_between_characters)
{
	static const size_t steps[] = { 1000, 4093, 65536 };
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		check_multibyte(0, "\xe2\x82\xac", 3, 20000, steps[i]);
		check_multibyte(1, "\xe2\x82\xac", 3, 20000, steps[i]);
		check_multibyte(1, "\xf0\x9f\x98\x80", 4, 9000, steps[i]);
		check_multibyte(3, "\xf0\x9f\x98\x80", 4, 9000, steps[i]);
		check_multibyte(1, "\xc3\xa9", 2, 10000, steps[i]);
	}
}
END_TEST

/* Bytes that are no character are passed on as they are: log.c replaces
 * them, and the splitter must still make progress through them. */
START_TEST(invalid_bytes_still_split)
{
	struct output o = { 0 };
	struct got g = { 0 };
	size_t big = OUTPUT_LINE_MAX * 2 + 5, i, at;
	char *data = malloc(big + 1);

	memset(data, 0xff, big);
	data[OUTPUT_LINE_MAX - 1] = (char)0xe2;	/* a lead byte cut short */
	data[big] = '\n';
	output_feed(&o, data, big + 1, collect, &g);
	for (i = at = 0; i < g.n; at += g.lens[i], i++)
		ck_assert_mem_eq(g.lines[i], data + at, g.lens[i]);
	ck_assert_uint_eq(at, big);
	ck_assert_uint_eq(g.lens[0], OUTPUT_LINE_MAX - 1);
	ck_assert_ptr_null(o.partial);
	free(data);
	got_free(&g);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("output");
	TCase *tc = tcase_create("lines");

	tcase_add_test(tc, whole_lines);
	tcase_add_test(tc, line_split_across_reads);
	tcase_add_test(tc, empty_lines_kept);
	tcase_add_test(tc, huge_line_in_pieces);
	tcase_add_test(tc, exact_max_line_is_whole);
	tcase_add_test(tc, pieces_end_between_characters);
	tcase_add_test(tc, invalid_bytes_still_split);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
