/*
 * Unit tests of the configuration tree (src/lib/conf.c) and of the public
 * typed accessors (src/lib/config.c, src/lib/error.c).
 */
#include "config.h"

#include "unit.h"
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "plba/config.h"
#include "plba/error.h"
#include "plba/version.h"

/* --- helpers ------------------------------------------------------------ */

static struct conf_errors errs;
static char *tmpfiles[8];
static size_t ntmpfiles;

static void
setup(void)
{
	memset(&errs, 0, sizeof(errs));
}

static void
teardown(void)
{
	size_t	 i;

	conf_errors_clear(&errs);
	for (i = 0; i < ntmpfiles; i++) {
		unlink(tmpfiles[i]);
		free(tmpfiles[i]);
	}
	ntmpfiles = 0;
}

static struct conf_doc *
load(const char *yaml)
{
	return conf_load_string(yaml, strlen(yaml), "t.yml", &errs);
}

static void
dump_errors(void)
{
	size_t	 i;

	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "  error: %s\n", errs.msgs[i]);
}

/* Fails unless msg is exactly one of the collected errors. */
#define assert_error(msg) do {						\
	const char *m_ = (msg);						\
	size_t i_;							\
	for (i_ = 0; i_ < errs.n; i_++)					\
		if (strcmp(errs.msgs[i_], m_) == 0)			\
			break;						\
	if (i_ == errs.n) {						\
		dump_errors();						\
		ck_abort_msg("expected error \"%s\"", m_);		\
	}								\
} while (0)

/* Loads yaml, which must fail with exactly the one error msg. */
#define assert_load_fails(yaml, msg) do {				\
	struct conf_doc *d_ = load(yaml);				\
	if (d_ != NULL)							\
		conf_doc_free(d_);					\
	ck_assert_msg(d_ == NULL, "loading should fail: %s", yaml);	\
	assert_error(msg);						\
	if (errs.n != 1)						\
		dump_errors();						\
	ck_assert_uint_eq(errs.n, 1);					\
	conf_errors_clear(&errs);					\
} while (0)

static struct conf_doc *
load_ok(const char *yaml)
{
	struct conf_doc	*d = load(yaml);

	if (d == NULL)
		dump_errors();
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(errs.n, 0);
	return d;
}

static const char *
str_at(struct conf_doc *d, const char *path)
{
	struct conf_node *n = conf_path(conf_doc_root(d), path);

	ck_assert_msg(n != NULL, "no node at %s", path);
	ck_assert_msg(n->type == CONF_SCALAR, "%s is not a scalar", path);
	return n->value;
}

/* Writes text to a new temporary file; removed in teardown. */
static const char *
write_temp(const char *text)
{
	char	 tmpl[] = "/tmp/plba-test-conf-XXXXXX";
	size_t	 len = strlen(text);
	int	 fd;

	ck_assert_uint_lt(ntmpfiles, sizeof(tmpfiles) / sizeof(tmpfiles[0]));
	ck_assert_int_ne(fd = mkstemp(tmpl), -1);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	tmpfiles[ntmpfiles] = strdup(tmpl);
	return tmpfiles[ntmpfiles++];
}

/* --- value parsers ------------------------------------------------------ */

/* The error of a file that holds no document, or only a null. */
#define EMPTY_MSG(file)	file ":1:1: the file holds no configuration "	\
	"(it is empty, comments only or null); write {} for an empty "	\
	"one on purpose"

START_TEST(duration_valid)
{
	static const struct { const char *s; uint64_t ms; } ok[] = {
		{ "250ms", 250 }, { "5s", 5000 }, { "2m", 120000 },
		{ "1h", 3600000 }, { "1.5s", 1500 }, { "5", 5000 },
		{ "0", 0 }, { "0s", 0 }, { "0.25", 250 }, { "0.5ms", 0 },
		{ "1.0001s", 1000 }, { "1.5h", 5400000 }, { "007s", 7000 },
		{ "0.001", 1 }, { "1.123456789123s", 1123 },
		{ "18446744073709551615ms", UINT64_MAX },
	};
	uint64_t ms;
	size_t	 i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ms = 42;
		ck_assert_msg(conf_parse_duration(ok[i].s, &ms) == 0,
		    "\"%s\" rejected", ok[i].s);
		ck_assert_msg(ms == ok[i].ms, "\"%s\": %ju, expected %ju",
		    ok[i].s, (uintmax_t)ms, (uintmax_t)ok[i].ms);
	}
}
END_TEST

START_TEST(duration_invalid)
{
	static const char *const bad[] = {
		"", "-1s", "-0", "+5s", "5x", "5 s", " 5s", "5s ", "s", "ms",
		"1.s", ".5s", "5S", "5MS", "1e3", "1d", "5sec", "1..5s", "0x10",
		"18446744073709551616ms", "18446744073709551615s",
		"5124095576030432h", "99999999999999999999999",
	};
	uint64_t ms = 42;
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(conf_parse_duration(bad[i], &ms) == -1,
		    "\"%s\" accepted", bad[i]);
		ck_assert_msg(ms == 42, "\"%s\" changed the output", bad[i]);
	}
	ck_assert_int_eq(conf_parse_duration(NULL, &ms), -1);
}
END_TEST

START_TEST(size_valid)
{
	static const struct { const char *s; uint64_t b; } ok[] = {
		{ "512", 512 }, { "512B", 512 }, { "0", 0 },
		{ "64KiB", 65536 }, { "16MiB", 16777216 },
		{ "1GiB", 1073741824 }, { "1TiB", 1099511627776ull },
		{ "10kB", 10000 }, { "10KB", 10000 }, { "5MB", 5000000 },
		{ "1GB", 1000000000 }, { "2TB", 2000000000000ull },
		{ "1.5KiB", 1536 }, { "0.5GiB", 536870912 },
		{ "1.5kB", 1500 }, { "16777215TiB", 16777215ull << 40 },
		{ "18446744073709551615", UINT64_MAX },
	};
	uint64_t b;
	size_t	 i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		b = 42;
		ck_assert_msg(conf_parse_size(ok[i].s, &b) == 0,
		    "\"%s\" rejected", ok[i].s);
		ck_assert_msg(b == ok[i].b, "\"%s\": %ju, expected %ju",
		    ok[i].s, (uintmax_t)b, (uintmax_t)ok[i].b);
	}
}
END_TEST

START_TEST(size_invalid)
{
	static const char *const bad[] = {
		"", "-1", "+1", "1.5", "1.5B", "10 KiB", "10kib", "10K", "10k",
		"10Ki", "1x", "KiB", "1.KiB", "16EiB", "1e6",
		"18446744073709551616", "16777216TiB", "17179869184GiB",
	};
	uint64_t b = 42;
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(conf_parse_size(bad[i], &b) == -1,
		    "\"%s\" accepted", bad[i]);
		ck_assert_msg(b == 42, "\"%s\" changed the output", bad[i]);
	}
}
END_TEST

START_TEST(bool_values)
{
	static const char *const yes[] = { "true", "TRUE", "True", "yes",
	    "YES", "on", "On" };
	static const char *const no[] = { "false", "FALSE", "no", "No",
	    "off", "OFF" };
	static const char *const bad[] = { "", "1", "0", "y", "n", "t",
	    "truee", " true", "nope", "enabled" };
	bool	 v;
	size_t	 i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		v = false;
		ck_assert_int_eq(conf_parse_bool(yes[i], &v), 0);
		ck_assert_msg(v, "%s", yes[i]);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		v = true;
		ck_assert_int_eq(conf_parse_bool(no[i], &v), 0);
		ck_assert_msg(!v, "%s", no[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = true;
		ck_assert_msg(conf_parse_bool(bad[i], &v) == -1, "\"%s\"",
		    bad[i]);
		ck_assert(v);
	}
}
END_TEST

START_TEST(int_values)
{
	static const struct { const char *s; long long v; } ok[] = {
		{ "0", 0 }, { "-5", -5 }, { "+7", 7 }, { "007", 7 },
		{ "-0", 0 }, { "9223372036854775807", LLONG_MAX },
		{ "-9223372036854775808", LLONG_MIN },
	};
	static const char *const bad[] = {
		"", "-", "+", "1.0", "0x10", " 1", "1 ", "1e3", "--1", "+-1",
		"9223372036854775808", "-9223372036854775809", "five",
	};
	long long v;
	size_t	 i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = 42;
		ck_assert_msg(conf_parse_int(ok[i].s, &v) == 0, "%s", ok[i].s);
		ck_assert_msg(v == ok[i].v, "%s gave %lld", ok[i].s, v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 42;
		ck_assert_msg(conf_parse_int(bad[i], &v) == -1, "\"%s\"",
		    bad[i]);
		ck_assert_int_eq(v, 42);
	}
}
END_TEST

/* --- parsing ------------------------------------------------------------ */

START_TEST(parse_tree_and_positions)
{
	struct conf_doc	 *d;
	struct conf_node *root, *n;

	d = load_ok("platform:\n"
	    "  name: demo\n"
	    "  modules: [a.so, 'b.so']\n"
	    "empty:\n"
	    "tilde: ~\n"
	    "quoted: \"null\"\n"
	    "tagged: !!str null\n"
	    "list:\n"
	    "  - x\n"
	    "  - {k: v}\n");
	root = conf_doc_root(d);
	ck_assert_int_eq(root->type, CONF_MAP);
	ck_assert_uint_eq(root->n, 6);
	ck_assert_str_eq(root->keys[0], "platform");
	ck_assert_str_eq(root->keys[5], "list");
	ck_assert_str_eq(root->keymarks[5].file, "t.yml");
	ck_assert_int_eq(root->keymarks[5].line, 8);
	ck_assert_int_eq(root->keymarks[5].col, 1);

	n = conf_path(root, "platform.name");
	ck_assert_str_eq(n->value, "demo");
	ck_assert(n->plain);
	ck_assert_str_eq(n->file, "t.yml");
	ck_assert_int_eq(n->line, 2);
	ck_assert_int_eq(n->col, 9);

	n = conf_path(root, "platform.modules");
	ck_assert_int_eq(n->type, CONF_SEQ);
	ck_assert_uint_eq(n->n, 2);
	ck_assert_int_eq(n->line, 3);
	ck_assert_int_eq(n->col, 12);
	ck_assert(n->items[0]->plain);
	ck_assert(!n->items[1]->plain);
	ck_assert_str_eq(n->items[1]->value, "b.so");
	ck_assert_int_eq(n->items[1]->col, 19);

	ck_assert(conf_is_null(conf_map_get(root, "empty")));
	ck_assert(conf_is_null(conf_map_get(root, "tilde")));
	ck_assert(!conf_is_null(conf_map_get(root, "quoted")));
	ck_assert(!conf_is_null(conf_map_get(root, "tagged")));
	ck_assert(!conf_is_null(conf_map_get(root, "platform")));
	ck_assert(!conf_is_null(NULL));

	ck_assert_str_eq(str_at(d, "list[0]"), "x");
	ck_assert_str_eq(str_at(d, "list[1].k"), "v");
	ck_assert_int_eq(conf_path(root, "list[1].k")->line, 10);
	ck_assert_int_eq(conf_path(root, "list[1].k")->col, 9);
	ck_assert_ptr_null(conf_path(root, "list[2]"));
	ck_assert_ptr_null(conf_path(root, "list[x]"));
	ck_assert_ptr_null(conf_path(root, "platform..name"));
	ck_assert_ptr_null(conf_path(root, "platform."));
	ck_assert_ptr_null(conf_path(root, "platform.nope"));
	ck_assert_ptr_null(conf_path(root, "platform.name.deeper"));
	ck_assert_ptr_eq(conf_path(root, ""), root);
	ck_assert_ptr_null(conf_map_get(conf_path(root, "list"), "x"));
	conf_doc_free(d);
}
END_TEST

START_TEST(parse_empty_documents)
{
	/* An editor that truncates a file mid-save leaves one of these;
	 * none of them may pass for a configuration. */
	static const char *const empties[] = {
		"", "\n\n", "# only a comment\n", "---\n", "--- ~\n", "~\n",
		"null\n", "---\n...\n", "\n# a comment\nnull # more\n",
	};
	struct conf_doc	*d;
	size_t		 i;

	for (i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
		assert_load_fails(empties[i], EMPTY_MSG("t.yml"));
		conf_errors_clear(&errs);
	}
	/* NULL text is no document either. */
	ck_assert_ptr_null(conf_load_string(NULL, 0, NULL, &errs));
	assert_error(EMPTY_MSG("<string>"));
	conf_errors_clear(&errs);

	/* {} is the way to say it on purpose. */
	d = load_ok("{}\n");
	ck_assert_int_eq(conf_doc_root(d)->type, CONF_MAP);
	ck_assert_uint_eq(conf_doc_root(d)->n, 0);
	conf_doc_free(d);
	d = load_ok("# nothing yet\n--- {}\n");
	ck_assert_uint_eq(conf_doc_root(d)->n, 0);
	conf_doc_free(d);
}
END_TEST

START_TEST(merge_empty_file_fails)
{
	const char	*paths[2];

	/* A later file that was emptied is an error, not "no overrides". */
	paths[0] = write_temp("a: 1\n");
	paths[1] = write_temp("# overrides, truncated\n");
	ck_assert_ptr_null(conf_load_files(paths, 2, &errs));
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_ptr_nonnull(strstr(errs.msgs[0], paths[1]));
	ck_assert_ptr_nonnull(strstr(errs.msgs[0],
	    ":1:1: the file holds no configuration"));
}
END_TEST

START_TEST(parse_top_level_must_be_map)
{
	assert_load_fails("- a\n- b\n",
	    "t.yml:1:1: the top level must be a map, not a list");
	assert_load_fails("hello\n",
	    "t.yml:1:1: the top level must be a map, not a scalar");
	assert_load_fails("\n\n  [1, 2]\n",
	    "t.yml:3:3: the top level must be a map, not a list");
}
END_TEST

START_TEST(parse_duplicate_keys)
{
	struct conf_doc	*d;

	assert_load_fails("a: 1\nb: 2\na: 3\n",
	    "t.yml:3:1: a: duplicate key, first written on line 1");
	assert_load_fails("x:\n  y: 1\n  z: [1]\n  y:\n    deep: 2\n",
	    "t.yml:4:3: x.y: duplicate key, first written on line 2");
	assert_load_fails("l:\n  - {k: 1, k: 2}\n",
	    "t.yml:2:12: l[0].k: duplicate key, first written on line 2");
	/* Every duplicate is reported, not only the first. */
	d = load("a: 1\na: 2\nb: 1\nb: 2\n");
	ck_assert_ptr_null(d);
	assert_error("t.yml:2:1: a: duplicate key, first written on line 1");
	assert_error("t.yml:4:1: b: duplicate key, first written on line 3");
	ck_assert_uint_eq(errs.n, 2);
	conf_errors_clear(&errs);
	/* Same key in different maps is fine. */
	d = load_ok("a: {k: 1}\nb: {k: 2}\n");
	conf_doc_free(d);
}
END_TEST

START_TEST(parse_keys_must_be_scalars)
{
	assert_load_fails("? [a]\n: 1\n", "t.yml:1:3: map keys must be scalars");
	assert_load_fails("x:\n  {[a]: 1}\n",
	    "t.yml:2:4: x: map keys must be scalars");
	assert_load_fails("x:\n  ? {a: 1}\n  : 1\n",
	    "t.yml:2:5: x: map keys must be scalars");
	assert_load_fails("l: &l [1]\n*l : 2\n",
	    "t.yml:2:1: map keys must be scalars");
}
END_TEST

START_TEST(parse_syntax_errors)
{
	assert_load_fails("a: [1, 2\nb: 3\n",
	    "t.yml:2:2: a[2]: did not find expected ',' or ']' (while parsing a "
	    "flow sequence at line 1, column 4)");
	assert_load_fails("a:\n\tb: 1\n",
	    "t.yml:2:1: a: found character that cannot start any token (while "
	    "scanning for the next token at line 2, column 1)");
	assert_load_fails("a: b: c\n",
	    "t.yml:1:5: mapping values are not allowed in this context");
	assert_load_fails("a: 'x\n",
	    "t.yml:2:1: a: found unexpected end of stream (while scanning a "
	    "quoted scalar at line 1, column 4)");
	assert_load_fails("ok: 1\nb: \xff\n",
	    "t.yml:2:4: invalid leading UTF-8 octet (byte 0xff)");
	assert_load_fails("a: 1\n---\nb: 2\n",
	    "t.yml:2:1: only one YAML document per file is supported");
	assert_load_fails("a: \"x\\0y\"\n",
	    "t.yml:1:4: a: NUL characters are not allowed");
}
END_TEST

START_TEST(parse_deep_nesting_rejected)
{
	const size_t	 len = 200 * 1024;
	struct conf_doc	*d;
	char		*text, *e;
	size_t		 i;

	/* 200 KB of "[": must stop at the 65th level, while streaming. */
	text = malloc(len + 1);
	memset(text, '[', len);
	text[len] = '\0';
	d = conf_load_string(text, len, "t.yml", &errs);
	ck_assert_ptr_null(d);
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_msg(strncmp(errs.msgs[0], "t.yml:1:65: [0][0]", 18) == 0,
	    "%s", errs.msgs[0]);
	e = errs.msgs[0] + strlen(errs.msgs[0]);
	ck_assert_str_eq(e - 28, "nested deeper than 64 levels");
	conf_errors_clear(&errs);

	/* Under the root map, 63 levels are fine (64 in all); 64 are not. */
	for (i = 0; i < 2; i++) {
		size_t n = 63 + i, k = 0, j;

		k += (size_t)sprintf(text, "a: ");
		for (j = 0; j < n; j++)
			text[k++] = '[';
		for (j = 0; j < n; j++)
			text[k++] = ']';
		text[k] = '\0';
		d = load(text);
		if (i == 0) {
			ck_assert_ptr_nonnull(d);
			conf_doc_free(d);
			continue;
		}
		ck_assert_ptr_null(d);
		ck_assert_uint_eq(errs.n, 1);
		ck_assert_msg(strncmp(errs.msgs[0], "t.yml:1:67: a[0][0]",
		    19) == 0, "%s", errs.msgs[0]);
	}
	free(text);
}
END_TEST

START_TEST(parse_deep_block_maps_rejected)
{
	char	 buf[16384];
	size_t	 len, i;

	len = (size_t)snprintf(buf, sizeof(buf), "a:\n");
	for (i = 1; i < 70; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		    "%*sk:\n", (int)(2 * i), "");
	ck_assert_ptr_null(load(buf));
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_msg(strstr(errs.msgs[0], "nested deeper than 64 levels"),
	    "%s", errs.msgs[0]);
	ck_assert_msg(strncmp(errs.msgs[0], "t.yml:65:129: a.k.k.", 20) == 0,
	    "%s", errs.msgs[0]);
}
END_TEST

START_TEST(parse_billion_laughs_rejected)
{
	char	 buf[4096], prev = 'a', c;
	size_t	 len;
	int	 i;

	len = (size_t)snprintf(buf, sizeof(buf),
	    "a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n");
	for (c = 'b'; c <= 'i'; c++, prev++) {
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		    "%c: &%c [", c, c);
		for (i = 0; i < 9; i++)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
			    "*%c%s", prev, i < 8 ? "," : "]\n");
	}
	ck_assert_ptr_null(load(buf));
	ck_assert_uint_eq(errs.n, 1);
	/* f is 9^6 nodes: the limit is crossed on its line. */
	ck_assert_msg(strncmp(errs.msgs[0], "t.yml:6:", 8) == 0, "%s",
	    errs.msgs[0]);
	ck_assert_msg(strstr(errs.msgs[0], ": document too large: more than "
	    "200000 nodes once aliases are expanded") != NULL, "%s",
	    errs.msgs[0]);
}
END_TEST

START_TEST(parse_alias_depth_limited)
{
	char	 buf[8192];
	size_t	 len = 0;
	int	 i;

	/* An anchor 40 levels tall, used 30 levels down: 70 levels. */
	len += (size_t)snprintf(buf + len, sizeof(buf) - len, "a: &a ");
	for (i = 0; i < 40; i++)
		buf[len++] = '[';
	for (i = 0; i < 40; i++)
		buf[len++] = ']';
	len += (size_t)snprintf(buf + len, sizeof(buf) - len, "\nb: ");
	for (i = 0; i < 30; i++)
		buf[len++] = '[';
	len += (size_t)snprintf(buf + len, sizeof(buf) - len, "*a");
	for (i = 0; i < 30; i++)
		buf[len++] = ']';
	buf[len] = '\0';
	ck_assert_ptr_null(load(buf));
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_msg(strstr(errs.msgs[0], "nested deeper than 64 levels"),
	    "%s", errs.msgs[0]);
	ck_assert_msg(strncmp(errs.msgs[0], "t.yml:2:34: b[0]", 16) == 0, "%s",
	    errs.msgs[0]);
}
END_TEST

START_TEST(parse_anchors_and_aliases)
{
	struct conf_doc	 *d;
	struct conf_node *a, *b;

	d = load_ok("base: &base\n"
	    "  x: 1\n"
	    "  list: [p, q]\n"
	    "copy: *base\n"
	    "word: &w hello\n"
	    "words: [*w, *w]\n"
	    "*w : keyed\n");
	a = conf_path(conf_doc_root(d), "base");
	b = conf_path(conf_doc_root(d), "copy");
	ck_assert_ptr_ne(a, b);
	ck_assert(conf_equal(a, b));
	ck_assert_str_eq(str_at(d, "copy.list[1]"), "q");
	/* A copy keeps the positions of what it copies. */
	ck_assert_int_eq(conf_path(conf_doc_root(d), "copy.x")->line, 2);
	ck_assert_str_eq(str_at(d, "words[1]"), "hello");
	ck_assert_str_eq(str_at(d, "hello"), "keyed");
	conf_doc_free(d);

	assert_load_fails("a: *nope\n", "t.yml:1:4: unknown anchor \"nope\"");
	assert_load_fails("a: &a [1, *a]\n",
	    "t.yml:1:11: alias \"*a\" is used inside its own anchor");
	/* A redefined anchor: the latest definition wins. */
	d = load_ok("a: &x 1\nb: &x 2\nc: *x\n");
	ck_assert_str_eq(str_at(d, "c"), "2");
	conf_doc_free(d);
	/* Also from inside the first definition. */
	d = load_ok("a: &x [1, &x 2, *x]\nb: *x\n");
	ck_assert_str_eq(str_at(d, "a[2]"), "2");
	ck_assert_str_eq(str_at(d, "b"), "2");
	conf_doc_free(d);
}
END_TEST

START_TEST(parse_merge_keys)
{
	struct conf_doc	 *d;
	struct conf_node *m;

	d = load_ok("base: &b {x: 1, y: 2, z: {deep: 1}}\n"
	    "other: &o {y: 20, w: 4}\n"
	    "m1:\n"
	    "  <<: *b\n"
	    "  y: 3\n"
	    "m2:\n"
	    "  y: 3\n"
	    "  <<: *b\n"
	    "m3:\n"
	    "  <<: [*o, *b]\n"
	    "m4:\n"
	    "  \"<<\": literal\n"
	    "m5: {<<: {inline: yes}}\n");
	m = conf_path(conf_doc_root(d), "m1");
	ck_assert_uint_eq(m->n, 3);
	ck_assert_str_eq(str_at(d, "m1.x"), "1");
	ck_assert_str_eq(str_at(d, "m1.y"), "3");
	ck_assert_str_eq(str_at(d, "m1.z.deep"), "1");
	ck_assert_ptr_null(conf_map_get(m, "<<"));
	/* Keys written in the map win wherever they are. */
	ck_assert_str_eq(str_at(d, "m2.y"), "3");
	ck_assert_str_eq(str_at(d, "m2.x"), "1");
	/* In a list of maps, earlier maps win. */
	ck_assert_str_eq(str_at(d, "m3.y"), "20");
	ck_assert_str_eq(str_at(d, "m3.w"), "4");
	ck_assert_str_eq(str_at(d, "m3.x"), "1");
	/* A quoted << is an ordinary key. */
	ck_assert_str_eq(conf_map_get(conf_path(conf_doc_root(d), "m4"),
	    "<<")->value, "literal");
	ck_assert_str_eq(str_at(d, "m5.inline"), "yes");
	conf_doc_free(d);

	assert_load_fails("m: {<<: 5}\n",
	    "t.yml:1:9: m.<<: the value of a merge key must be a map or a "
	    "list of maps");
	assert_load_fails("b: &b {x: 1}\nm:\n  <<: [*b, 5]\n",
	    "t.yml:3:7: m.<<: the value of a merge key must be a map or a "
	    "list of maps");
}
END_TEST

START_TEST(parse_size_limit)
{
	const size_t	 len = CONF_MAX_FILE_SIZE + 1;
	char		*text, msg[128];
	const char	*path;
	FILE		*f;

	text = malloc(len + 1);
	memset(text, '#', len);
	text[len] = '\0';
	ck_assert_ptr_null(conf_load_string(text, len, "big.yml", &errs));
	assert_error("big.yml: file is larger than the limit of 4194304 bytes");
	conf_errors_clear(&errs);

	path = write_temp("");
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	fclose(f);
	ck_assert_ptr_null(conf_load_files(&path, 1, &errs));
	snprintf(msg, sizeof(msg), "%s: file is larger than the limit of "
	    "4194304 bytes", path);
	assert_error(msg);
	ck_assert_uint_eq(errs.n, 1);
	conf_errors_clear(&errs);

	/* Exactly at the limit is fine: {} and a long comment. */
	text[len - 1] = '\0';
	memcpy(text, "{}\n", 3);
	{
		struct conf_doc *d = conf_load_string(text, len - 1, "ok.yml",
		    &errs);

		ck_assert_ptr_nonnull(d);
		conf_doc_free(d);
	}
	free(text);
}
END_TEST

/* --- files and merging -------------------------------------------------- */

START_TEST(merge_two_files)
{
	const char	*paths[2];
	struct conf_doc	*d;
	struct conf_node *root, *n;

	paths[0] = write_temp("platform:\n"
	    "  name: one\n"
	    "  stop_timeout: 5s\n"
	    "  modules: [a.so, b.so]\n"
	    "  http:\n"
	    "    enabled: true\n"
	    "    listen: 127.0.0.1:1\n"
	    "only_first: 1\n"
	    "replaced_map: {k: v}\n");
	paths[1] = write_temp("# second\n"
	    "platform:\n"
	    "  modules: [c.so]\n"
	    "  name: two\n"
	    "  http:\n"
	    "    listen: 127.0.0.1:2\n"
	    "    token_file: /t\n"
	    "only_second: 2\n"
	    "replaced_map: scalar\n");
	d = conf_load_files(paths, 2, &errs);
	if (d == NULL)
		dump_errors();
	ck_assert_ptr_nonnull(d);
	root = conf_doc_root(d);
	ck_assert_str_eq(root->file, paths[0]);
	ck_assert_str_eq(str_at(d, "platform.name"), "two");
	ck_assert_str_eq(str_at(d, "platform.stop_timeout"), "5s");
	n = conf_path(root, "platform.modules");
	ck_assert_uint_eq(n->n, 1);
	ck_assert_str_eq(n->items[0]->value, "c.so");
	ck_assert_str_eq(str_at(d, "platform.http.enabled"), "true");
	ck_assert_str_eq(str_at(d, "platform.http.listen"), "127.0.0.1:2");
	ck_assert_str_eq(str_at(d, "platform.http.token_file"), "/t");
	ck_assert_str_eq(str_at(d, "only_first"), "1");
	ck_assert_str_eq(str_at(d, "only_second"), "2");
	ck_assert_str_eq(str_at(d, "replaced_map"), "scalar");
	/* Positions come from the file that provided the node. */
	n = conf_path(root, "platform.name");
	ck_assert_str_eq(n->file, paths[1]);
	ck_assert_int_eq(n->line, 4);
	ck_assert_int_eq(n->col, 9);
	n = conf_path(root, "platform.stop_timeout");
	ck_assert_str_eq(n->file, paths[0]);
	ck_assert_int_eq(n->line, 3);
	n = conf_path(root, "platform.http.token_file");
	ck_assert_str_eq(n->file, paths[1]);
	ck_assert_int_eq(n->line, 7);
	n = conf_path(root, "platform");
	ck_assert_str_eq(n->file, paths[0]);
	/* Key order: first file's order, new keys appended. */
	ck_assert_str_eq(root->keys[0], "platform");
	ck_assert_str_eq(root->keys[3], "only_second");
	ck_assert_str_eq(root->keymarks[3].file, paths[1]);
	ck_assert_int_eq(root->keymarks[3].line, 8);
	ck_assert_str_eq(root->keymarks[2].file, paths[1]);
	ck_assert_int_eq(root->keymarks[2].line, 9);
	conf_doc_free(d);
}
END_TEST

START_TEST(merge_three_files)
{
	const char	*paths[3];
	struct conf_doc	*d;
	struct conf_node *n;

	paths[0] = write_temp("w:\n  a: {x: 1, y: 1, list: [1, 2, 3]}\n");
	paths[1] = write_temp("w:\n  a: {y: 2, z: 2}\n  b: {x: 2}\n");
	paths[2] = write_temp("w:\n  a:\n    z: 3\n    list: [9]\n");
	d = conf_load_files(paths, 3, &errs);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(str_at(d, "w.a.x"), "1");
	ck_assert_str_eq(str_at(d, "w.a.y"), "2");
	ck_assert_str_eq(str_at(d, "w.a.z"), "3");
	ck_assert_str_eq(str_at(d, "w.b.x"), "2");
	n = conf_path(conf_doc_root(d), "w.a.list");
	ck_assert_uint_eq(n->n, 1);
	ck_assert_str_eq(n->items[0]->value, "9");
	ck_assert_str_eq(n->file, paths[2]);
	ck_assert_int_eq(n->line, 4);
	ck_assert_int_eq(n->col, 11);
	ck_assert_str_eq(conf_path(conf_doc_root(d), "w.a.y")->file, paths[1]);
	ck_assert_str_eq(conf_path(conf_doc_root(d), "w.a.x")->file, paths[0]);
	ck_assert_str_eq(conf_path(conf_doc_root(d), "w.a.z")->file, paths[2]);
	conf_doc_free(d);

	/* Zero files: an empty configuration. */
	d = conf_load_files(NULL, 0, &errs);
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(conf_doc_root(d)->n, 0);
	conf_doc_free(d);
}
END_TEST

START_TEST(merge_errors_from_every_file)
{
	const char	*paths[3];
	char		 msg[256];

	paths[0] = write_temp("a: 1\na: 2\n");
	paths[1] = "/nonexistent/plba.yml";
	paths[2] = write_temp("b: [\n");
	ck_assert_ptr_null(conf_load_files(paths, 3, &errs));
	ck_assert_uint_eq(errs.n, 3);
	snprintf(msg, sizeof(msg), "%s:2:1: a: duplicate key, first written "
	    "on line 1", paths[0]);
	assert_error(msg);
	assert_error("/nonexistent/plba.yml: No such file or directory");
	snprintf(msg, sizeof(msg), "%s:2:1: b[0]: did not find expected node "
	    "content (while parsing a flow node at line 2, column 1)",
	    paths[2]);
	assert_error(msg);
	conf_errors_clear(&errs);

	paths[0] = "/tmp";
	ck_assert_ptr_null(conf_load_files(paths, 1, &errs));
	assert_error("/tmp: Is a directory");
}
END_TEST

START_TEST(merge_null_replaces)
{
	const char	*paths[2];
	struct conf_doc	*d;

	/* A later null is a value like any other: it replaces. */
	paths[0] = write_temp("a: {x: 1}\nb: 1\n");
	paths[1] = write_temp("a:\nb: ~\n");
	d = conf_load_files(paths, 2, &errs);
	ck_assert_ptr_nonnull(d);
	ck_assert(conf_is_null(conf_path(conf_doc_root(d), "a")));
	ck_assert(conf_is_null(conf_path(conf_doc_root(d), "b")));
	conf_doc_free(d);
}
END_TEST

/* --- interpolation ------------------------------------------------------ */

START_TEST(interp_values)
{
	struct conf_doc	*d;

	setenv("PLBA_T_USER", "alice", 1);
	setenv("PLBA_T_EMPTY", "", 1);
	unsetenv("PLBA_T_UNSET");
	d = load_ok("a: ${PLBA_T_USER}\n"
	    "b: \"${PLBA_T_UNSET:-fallback}\"\n"
	    "c: \"${PLBA_T_EMPTY:-used when empty}\"\n"
	    "d: \"${PLBA_T_EMPTY}\"\n"
	    "e: \"${PLBA_T_USER:-not used}\"\n"
	    "f: cost $$5 and $$$${PLBA_T_USER}\n"
	    "g: $5 a$ $x $ {x}\n"
	    "h: \"<${PLBA_T_USER}@${PLBA_T_UNSET:-example.com}>\"\n"
	    "i: \"${PLBA_T_UNSET:-a:b c}\"\n"
	    "j: \"${PLBA_T_UNSET:-}\"\n"
	    "${PLBA_T_USER}: key is not interpolated\n"
	    "l: ['${PLBA_T_USER}', x]\n"
	    "m: ${PLBA_T_USER}${PLBA_T_USER}\n");
	ck_assert_str_eq(str_at(d, "a"), "alice");
	ck_assert_str_eq(str_at(d, "b"), "fallback");
	ck_assert_str_eq(str_at(d, "c"), "used when empty");
	ck_assert_str_eq(str_at(d, "d"), "");
	ck_assert_str_eq(str_at(d, "e"), "alice");
	ck_assert_str_eq(str_at(d, "f"), "cost $5 and $${PLBA_T_USER}");
	ck_assert_str_eq(str_at(d, "g"), "$5 a$ $x $ {x}");
	ck_assert_str_eq(str_at(d, "h"), "<alice@example.com>");
	ck_assert_str_eq(str_at(d, "i"), "a:b c");
	ck_assert_str_eq(str_at(d, "j"), "");
	ck_assert_ptr_nonnull(conf_map_get(conf_doc_root(d), "${PLBA_T_USER}"));
	ck_assert_str_eq(str_at(d, "l[0]"), "alice");
	ck_assert_str_eq(str_at(d, "m"), "alicealice");
	conf_doc_free(d);
}
END_TEST

START_TEST(interp_errors)
{
	struct conf_doc	*d;

	unsetenv("IMAP_USER");
	unsetenv("PLBA_T_UNSET");
	assert_load_fails("mail_order_bot:\n"
	    "  imap: {url: x, user: \"${IMAP_USER}\"}\n",
	    "t.yml:2:24: mail_order_bot.imap.user: environment variable "
	    "IMAP_USER is not set");
	assert_load_fails("a: \"${FOO\"\n",
	    "t.yml:1:4: a: unterminated \"${\" (write \"$$\" for a literal "
	    "\"$\")");
	assert_load_fails("a:\n  - ok\n  - \"x ${PLBA_T_UNSET:-y\"\n",
	    "t.yml:3:5: a[1]: unterminated \"${\" (write \"$$\" for a "
	    "literal \"$\")");
	assert_load_fails("a: ${1BAD}\n",
	    "t.yml:1:4: a: invalid variable reference \"${1BAD}\"");
	assert_load_fails("a: ${}\n",
	    "t.yml:1:4: a: invalid variable reference \"${}\"");
	assert_load_fails("a: ${X-y}\n",
	    "t.yml:1:4: a: invalid variable reference \"${X-y}\"");
	assert_load_fails("a: \"${A B}\"\n",
	    "t.yml:1:4: a: invalid variable reference \"${A B}\"");
	assert_load_fails("w:\n  x:\n    command: [prog, \"${PLBA_T_UNSET}\"]\n",
	    "t.yml:3:21: w.x.command[1]: environment variable PLBA_T_UNSET "
	    "is not set");

	/* Every scalar is checked; all errors are reported. */
	d = load("a: ${PLBA_T_UNSET}\nb: ${PLBA_T_UNSET2}\n");
	ck_assert_ptr_null(d);
	ck_assert_uint_eq(errs.n, 2);
	assert_error("t.yml:1:4: a: environment variable PLBA_T_UNSET is "
	    "not set");
	assert_error("t.yml:2:4: b: environment variable PLBA_T_UNSET2 is "
	    "not set");
}
END_TEST

START_TEST(interp_after_merge)
{
	const char	*paths[2];
	struct conf_doc	*d;
	char		 msg[256];

	unsetenv("PLBA_T_UNSET");
	/* The first file's reference is replaced before interpolation. */
	paths[0] = write_temp("a: ${PLBA_T_UNSET}\nb: x\n");
	paths[1] = write_temp("a: fixed\nb: ${PLBA_T_UNSET}\n");
	d = conf_load_files(paths, 1, &errs);
	ck_assert_ptr_null(d);
	conf_errors_clear(&errs);
	d = conf_load_files(paths, 2, &errs);
	ck_assert_ptr_null(d);
	ck_assert_uint_eq(errs.n, 1);
	snprintf(msg, sizeof(msg), "%s:2:4: b: environment variable "
	    "PLBA_T_UNSET is not set", paths[1]);
	assert_error(msg);
}
END_TEST

START_TEST(interp_aliases)
{
	struct conf_doc	*d;

	/* An alias is interpolated where it lands, error path included. */
	setenv("PLBA_T_USER", "bob", 1);
	d = load_ok("a: &a {u: \"${PLBA_T_USER}\"}\nb: *a\n");
	ck_assert_str_eq(str_at(d, "a.u"), "bob");
	ck_assert_str_eq(str_at(d, "b.u"), "bob");
	conf_doc_free(d);
	unsetenv("PLBA_T_UNSET");
	d = load("a: &a {u: \"${PLBA_T_UNSET}\"}\nb: *a\n");
	ck_assert_ptr_null(d);
	ck_assert_uint_eq(errs.n, 2);
	assert_error("t.yml:1:11: a.u: environment variable PLBA_T_UNSET is "
	    "not set");
	assert_error("t.yml:1:11: b.u: environment variable PLBA_T_UNSET is "
	    "not set");
}
END_TEST

/* --- errors, equality --------------------------------------------------- */

START_TEST(error_formats)
{
	struct conf_node n;
	struct conf_mark m = { "f.yml", 3, 7 };

	memset(&n, 0, sizeof(n));
	n.file = "f.yml";
	n.line = 12;
	n.col = 18;
	conf_error(&errs, &n, "workers.x.concurrency", "expected %s", "this");
	conf_error(&errs, &n, NULL, "no path");
	conf_error(&errs, &n, "", "empty path");
	conf_error(&errs, NULL, "a.b", "no node");
	conf_error(&errs, NULL, NULL, "nothing");
	conf_error_mark(&errs, &m, "k", "at a key");
	conf_error_mark(&errs, NULL, "k", "no mark");
	ck_assert_uint_eq(errs.n, 7);
	ck_assert_str_eq(errs.msgs[0],
	    "f.yml:12:18: workers.x.concurrency: expected this");
	ck_assert_str_eq(errs.msgs[1], "f.yml:12:18: no path");
	ck_assert_str_eq(errs.msgs[2], "f.yml:12:18: empty path");
	ck_assert_str_eq(errs.msgs[3], "a.b: no node");
	ck_assert_str_eq(errs.msgs[4], "nothing");
	ck_assert_str_eq(errs.msgs[5], "f.yml:3:7: k: at a key");
	ck_assert_str_eq(errs.msgs[6], "k: no mark");
	conf_errors_clear(&errs);
	ck_assert_uint_eq(errs.n, 0);
	ck_assert_ptr_null(errs.msgs);
	/* NULL collectors are tolerated. */
	conf_error(NULL, &n, "x", "dropped");
	conf_errors_clear(NULL);
}
END_TEST

START_TEST(equality)
{
	struct conf_doc	 *d;
	struct conf_node *r;

	d = load_ok("a: {x: 1, y: [1, {z: 2}]}\n"
	    "b:\n  y: [1, {z: 2}]\n  x: 1\n"
	    "c: {x: 1, y: [1, {z: 3}]}\n"
	    "d: {x: 1, y: [{z: 2}, 1]}\n"
	    "e: {x: '1', y: [1, {z: 2}]}\n"
	    "f: {x: 1}\n");
	r = conf_doc_root(d);
	ck_assert(conf_equal(conf_map_get(r, "a"), conf_map_get(r, "b")));
	ck_assert(!conf_equal(conf_map_get(r, "a"), conf_map_get(r, "c")));
	ck_assert(!conf_equal(conf_map_get(r, "a"), conf_map_get(r, "d")));
	ck_assert(!conf_equal(conf_map_get(r, "a"), conf_map_get(r, "e")));
	ck_assert(!conf_equal(conf_map_get(r, "a"), conf_map_get(r, "f")));
	ck_assert(!conf_equal(conf_map_get(r, "f"), conf_map_get(r, "a")));
	ck_assert(!conf_equal(conf_map_get(r, "a"), NULL));
	ck_assert(conf_equal(NULL, NULL));
	conf_doc_free(d);
}
END_TEST

/* A reload scales a worker whose section differs in concurrency alone. */
START_TEST(equality_except_one_key)
{
	struct conf_doc	 *d;
	struct conf_node *r;

	d = load_ok("a: {command: [x], concurrency: 2}\n"
	    "b: {concurrency: 5, command: [x]}\n"
	    "c: {command: [x]}\n"
	    "d: {command: [y], concurrency: 2}\n"
	    "e: {command: [x], concurrency: 2, user: u}\n"
	    "f: [command, concurrency]\n");
	r = conf_doc_root(d);
#define EQ(x, y) conf_equal_except(conf_map_get(r, x), conf_map_get(r, y), \
	    "concurrency")
	ck_assert(EQ("a", "b"));
	ck_assert(EQ("a", "c") && EQ("c", "a"));
	ck_assert(!EQ("a", "d"));
	ck_assert(!EQ("a", "e") && !EQ("e", "a"));
	ck_assert(!EQ("a", "f"));
	ck_assert(EQ("f", "f"));
#undef EQ
	conf_doc_free(d);
}
END_TEST

START_TEST(many_keys)
{
	/* Duplicate detection stays fast on a map with many keys. */
	const size_t	 n = 100000;
	char		*text, *p;
	struct conf_doc	*d;
	size_t		 i;

	p = text = malloc(n * 16 + 32);
	for (i = 0; i < n; i++)
		p += sprintf(p, "k%zu: %zu\n", i, i);
	sprintf(p, "k17: again\n");
	ck_assert_ptr_null(load(text));
	ck_assert_uint_eq(errs.n, 1);
	assert_error("t.yml:100001:1: k17: duplicate key, first written on "
	    "line 18");
	conf_errors_clear(&errs);
	*p = '\0';
	d = load_ok(text);
	ck_assert_uint_eq(conf_doc_root(d)->n, n);
	ck_assert_str_eq(str_at(d, "k99999"), "99999");
	conf_doc_free(d);
	free(text);
}
END_TEST

/* --- public API --------------------------------------------------------- */

START_TEST(public_load_and_walk)
{
	const char	*paths[2], *file, *s;
	plba_config	*cfg = (plba_config *)1;
	const plba_node	*root, *n;
	char		 errbuf[512];
	int		 line, col;

	paths[0] = write_temp("app:\n"
	    "  imap: {url: \"imaps://x\", port: 993}\n"
	    "  list: [a, b]\n");
	paths[1] = write_temp("app:\n  imap: {port: 994}\n");
	ck_assert_int_eq(plba_config_load(paths, 2, &cfg, errbuf,
	    sizeof(errbuf)), PLBA_OK);
	ck_assert_str_eq(errbuf, "");
	root = plba_config_root(cfg);
	ck_assert_ptr_nonnull(root);
	ck_assert_int_eq(plba_node_kind(root), PLBA_NODE_MAP);
	ck_assert_uint_eq(plba_node_count(root), 1);
	ck_assert_str_eq(plba_node_key_at(root, 0), "app");
	ck_assert_ptr_null(plba_node_key_at(root, 1));
	n = plba_node_get(root, "app.list");
	ck_assert_int_eq(plba_node_kind(n), PLBA_NODE_SEQ);
	ck_assert_uint_eq(plba_node_count(n), 2);
	ck_assert_int_eq(plba_node_kind(plba_node_at(n, 1)), PLBA_NODE_SCALAR);
	ck_assert_int_eq(plba_node_string(plba_node_at(n, 1), NULL, NULL, &s),
	    PLBA_OK);
	ck_assert_str_eq(s, "b");
	ck_assert_ptr_null(plba_node_at(n, 2));
	ck_assert_ptr_null(plba_node_key_at(n, 0));
	ck_assert_uint_eq(plba_node_count(plba_node_at(n, 0)), 0);
	ck_assert_ptr_eq(plba_node_get(n, ""), n);
	ck_assert_ptr_eq(plba_node_get(n, NULL), n);
	ck_assert_ptr_null(plba_node_get(NULL, "x"));
	ck_assert_ptr_eq(plba_node_get(root, "app.list[0]"),
	    plba_node_at(n, 0));

	n = plba_node_get(root, "app.imap.port");
	plba_node_where(n, &file, &line, &col);
	ck_assert_str_eq(file, paths[1]);
	ck_assert_int_eq(line, 2);
	ck_assert_int_eq(col, 16);
	plba_node_where(NULL, &file, &line, &col);
	ck_assert_ptr_null(file);
	ck_assert_int_eq(line, 0);
	plba_node_where(n, NULL, NULL, NULL);
	plba_config_free(cfg);
	plba_config_free(NULL);
}
END_TEST

START_TEST(public_load_errors)
{
	const char	*paths[2];
	plba_config	*cfg = (plba_config *)1;
	char		 errbuf[512], small[16], expect[512];

	paths[0] = write_temp("a: 1\na: 2\n");
	paths[1] = "/nonexistent/x.yml";
	ck_assert_int_eq(plba_config_load(paths, 2, &cfg, errbuf,
	    sizeof(errbuf)), PLBA_ECONFIG);
	ck_assert_ptr_null(cfg);
	snprintf(expect, sizeof(expect), "%s:2:1: a: duplicate key, first "
	    "written on line 1\n/nonexistent/x.yml: No such file or directory",
	    paths[0]);
	ck_assert_str_eq(errbuf, expect);
	/* Truncated, still terminated. */
	ck_assert_int_eq(plba_config_load(paths, 2, &cfg, small,
	    sizeof(small)), PLBA_ECONFIG);
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
	ck_assert(strncmp(small, expect, sizeof(small) - 1) == 0);
	ck_assert_int_eq(plba_config_load(paths, 2, &cfg, NULL, 0),
	    PLBA_ECONFIG);
	ck_assert_int_eq(plba_config_load(paths, 2, NULL, NULL, 0),
	    PLBA_EINVAL);
	ck_assert_int_eq(plba_config_load(NULL, 1, &cfg, NULL, 0),
	    PLBA_EINVAL);
}
END_TEST

START_TEST(public_typed_accessors)
{
	const char	*path, *s;
	plba_config	*cfg;
	const plba_node	*r;
	long long	 i;
	bool		 b;
	double		 f;
	uint64_t	 u;

	path = write_temp("s: text\n"
	    "q: \"42\"\n"
	    "i: -17\n"
	    "big: 9223372036854775808\n"
	    "dec: 1.5\n"
	    "exp: -2.5e3\n"
	    "b: yes\n"
	    "dur: 250ms\n"
	    "size: 64KiB\n"
	    "nul: ~\n"
	    "empty:\n"
	    "map: {k: v}\n"
	    "seq: [1]\n"
	    "nan: nan\n"
	    "inf: .inf\n"
	    "hex: 0x10\n");
	ck_assert_int_eq(plba_config_load(&path, 1, &cfg, NULL, 0), PLBA_OK);
	r = plba_config_root(cfg);

	/* strings */
	ck_assert_int_eq(plba_node_string(r, "s", "d", &s), PLBA_OK);
	ck_assert_str_eq(s, "text");
	ck_assert_int_eq(plba_node_string(r, "i", "d", &s), PLBA_OK);
	ck_assert_str_eq(s, "-17");
	ck_assert_int_eq(plba_node_string(r, "absent", "d", &s), PLBA_OK);
	ck_assert_str_eq(s, "d");
	ck_assert_int_eq(plba_node_string(r, "nul", "d", &s), PLBA_OK);
	ck_assert_str_eq(s, "d");
	ck_assert_int_eq(plba_node_string(r, "empty", NULL, &s), PLBA_OK);
	ck_assert_ptr_null(s);
	s = "untouched";
	ck_assert_int_eq(plba_node_string(r, "map", "d", &s), PLBA_ETYPE);
	ck_assert_int_eq(plba_node_string(r, "seq", "d", &s), PLBA_ETYPE);
	ck_assert_str_eq(s, "untouched");
	ck_assert_int_eq(plba_node_string(r, "s", NULL, NULL), PLBA_EINVAL);
	ck_assert_int_eq(plba_node_string(plba_node_get(r, "s"), NULL, "d",
	    &s), PLBA_OK);
	ck_assert_str_eq(s, "text");

	/* integers */
	ck_assert_int_eq(plba_node_int(r, "i", 0, &i), PLBA_OK);
	ck_assert_int_eq(i, -17);
	ck_assert_int_eq(plba_node_int(r, "q", 0, &i), PLBA_OK);
	ck_assert_int_eq(i, 42);
	ck_assert_int_eq(plba_node_int(r, "absent", 7, &i), PLBA_OK);
	ck_assert_int_eq(i, 7);
	ck_assert_int_eq(plba_node_int(r, "nul", 8, &i), PLBA_OK);
	ck_assert_int_eq(i, 8);
	i = 99;
	ck_assert_int_eq(plba_node_int(r, "dec", 0, &i), PLBA_ETYPE);
	ck_assert_int_eq(plba_node_int(r, "big", 0, &i), PLBA_ETYPE);
	ck_assert_int_eq(plba_node_int(r, "s", 0, &i), PLBA_ETYPE);
	ck_assert_int_eq(plba_node_int(r, "hex", 0, &i), PLBA_ETYPE);
	ck_assert_int_eq(plba_node_int(r, "map", 0, &i), PLBA_ETYPE);
	ck_assert_int_eq(i, 99);

	/* doubles */
	ck_assert_int_eq(plba_node_double(r, "dec", 0, &f), PLBA_OK);
	ck_assert(f == 1.5);
	ck_assert_int_eq(plba_node_double(r, "exp", 0, &f), PLBA_OK);
	ck_assert(f == -2500.0);
	ck_assert_int_eq(plba_node_double(r, "i", 0, &f), PLBA_OK);
	ck_assert(f == -17.0);
	ck_assert_int_eq(plba_node_double(r, "absent", 0.25, &f), PLBA_OK);
	ck_assert(f == 0.25);
	f = 3.0;
	ck_assert_int_eq(plba_node_double(r, "nan", 0, &f), PLBA_ETYPE);
	ck_assert_int_eq(plba_node_double(r, "inf", 0, &f), PLBA_ETYPE);
	ck_assert_int_eq(plba_node_double(r, "hex", 0, &f), PLBA_ETYPE);
	ck_assert_int_eq(plba_node_double(r, "s", 0, &f), PLBA_ETYPE);
	ck_assert(f == 3.0);

	/* booleans */
	ck_assert_int_eq(plba_node_bool(r, "b", false, &b), PLBA_OK);
	ck_assert(b);
	ck_assert_int_eq(plba_node_bool(r, "absent", true, &b), PLBA_OK);
	ck_assert(b);
	ck_assert_int_eq(plba_node_bool(r, "nul", false, &b), PLBA_OK);
	ck_assert(!b);
	ck_assert_int_eq(plba_node_bool(r, "i", false, &b), PLBA_ETYPE);
	ck_assert_int_eq(plba_node_bool(r, "seq", false, &b), PLBA_ETYPE);

	/* durations and sizes */
	ck_assert_int_eq(plba_node_duration(r, "dur", 0, &u), PLBA_OK);
	ck_assert_uint_eq(u, 250);
	ck_assert_int_eq(plba_node_duration(r, "q", 0, &u), PLBA_OK);
	ck_assert_uint_eq(u, 42000);
	ck_assert_int_eq(plba_node_duration(r, "absent", 1234, &u), PLBA_OK);
	ck_assert_uint_eq(u, 1234);
	ck_assert_int_eq(plba_node_duration(r, "i", 0, &u), PLBA_ETYPE);
	ck_assert_int_eq(plba_node_duration(r, "size", 0, &u), PLBA_ETYPE);
	ck_assert_uint_eq(u, 1234);
	ck_assert_int_eq(plba_node_size(r, "size", 0, &u), PLBA_OK);
	ck_assert_uint_eq(u, 65536);
	ck_assert_int_eq(plba_node_size(r, "empty", 5, &u), PLBA_OK);
	ck_assert_uint_eq(u, 5);
	ck_assert_int_eq(plba_node_size(r, "dur", 0, &u), PLBA_ETYPE);
	ck_assert_int_eq(plba_node_size(r, "map", 0, &u), PLBA_ETYPE);
	ck_assert_uint_eq(u, 5);

	/* A NULL node is an absent one. */
	ck_assert_int_eq(plba_node_int(NULL, "x", 3, &i), PLBA_OK);
	ck_assert_int_eq(i, 3);
	plba_config_free(cfg);
}
END_TEST

START_TEST(public_errors_and_version)
{
	static const int codes[] = {
		PLBA_OK, PLBA_EINVAL, PLBA_ENOMEM, PLBA_ECONFIG, PLBA_ETYPE,
		PLBA_ENOENT, PLBA_ESYS, PLBA_EPROTO, PLBA_ECLOSED, PLBA_EABI,
		PLBA_ESTATE,
	};
	const size_t n = sizeof(codes) / sizeof(codes[0]);
	const char *unknown = plba_strerror(-1000);
	size_t	 i, j;

	ck_assert_ptr_nonnull(unknown);
	ck_assert_ptr_nonnull(plba_strerror(1));
	for (i = 0; i < n; i++) {
		ck_assert_ptr_nonnull(plba_strerror(codes[i]));
		ck_assert_str_ne(plba_strerror(codes[i]), unknown);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(plba_strerror(codes[i]),
			    plba_strerror(codes[j]));
	}
	ck_assert_str_eq(plba_strerror(PLBA_ECONFIG), "invalid configuration");
	ck_assert_str_eq(plba_version(), PLBA_VERSION_STRING);
	ck_assert_str_eq(plba_version(), "0.1.0");
}
END_TEST

static Suite *
conf_suite(void)
{
	Suite	*s = suite_create("conf");
	TCase	*tc;

	tc = tcase_create("parsers");
	tcase_add_test(tc, duration_valid);
	tcase_add_test(tc, duration_invalid);
	tcase_add_test(tc, size_valid);
	tcase_add_test(tc, size_invalid);
	tcase_add_test(tc, bool_values);
	tcase_add_test(tc, int_values);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, parse_tree_and_positions);
	tcase_add_test(tc, parse_empty_documents);
	tcase_add_test(tc, merge_empty_file_fails);
	tcase_add_test(tc, parse_top_level_must_be_map);
	tcase_add_test(tc, parse_duplicate_keys);
	tcase_add_test(tc, parse_keys_must_be_scalars);
	tcase_add_test(tc, parse_syntax_errors);
	tcase_add_test(tc, parse_deep_nesting_rejected);
	tcase_add_test(tc, parse_deep_block_maps_rejected);
	tcase_add_test(tc, parse_billion_laughs_rejected);
	tcase_add_test(tc, parse_alias_depth_limited);
	tcase_add_test(tc, parse_anchors_and_aliases);
	tcase_add_test(tc, parse_merge_keys);
	tcase_add_test(tc, parse_size_limit);
	tcase_add_test(tc, many_keys);
	suite_add_tcase(s, tc);

	tc = tcase_create("merge");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, merge_two_files);
	tcase_add_test(tc, merge_three_files);
	tcase_add_test(tc, merge_errors_from_every_file);
	tcase_add_test(tc, merge_null_replaces);
	suite_add_tcase(s, tc);

	tc = tcase_create("interpolation");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, interp_values);
	tcase_add_test(tc, interp_errors);
	tcase_add_test(tc, interp_after_merge);
	tcase_add_test(tc, interp_aliases);
	suite_add_tcase(s, tc);

	tc = tcase_create("misc");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, error_formats);
	tcase_add_test(tc, equality);
	tcase_add_test(tc, equality_except_one_key);
	suite_add_tcase(s, tc);

	tc = tcase_create("public");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, public_load_and_walk);
	tcase_add_test(tc, public_load_errors);
	tcase_add_test(tc, public_typed_accessors);
	tcase_add_test(tc, public_errors_and_version);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(conf_suite());
}
