/*
 * plbactl trace's tree (src/ctl/spans.c): order, nesting, and answers
 * that are not a tree at all; and the tables every command prints
 * (src/ctl/table.c).
 */
#include "config.h"

#include "unit.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/* What spans_print() prints for the answer in TEXT. */
static char *
printed(const char *text)
{
	cJSON *o = cJSON_Parse(text);
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	ck_assert_ptr_nonnull(o);
	f = open_memstream(&out, &len);
	ck_assert_ptr_nonnull(f);
	spans_print(o, f);
	fclose(f);
	cJSON_Delete(o);
	return out;
}

/* The line of OUT that holds NEEDLE; the whole rest of OUT from there. */
static const char *
line_with(const char *out, const char *needle)
{
	const char *p = strstr(out, needle);

	ck_assert_msg(p != NULL, "no \"%s\" in:\n%s", needle, out);
	while (p > out && p[-1] != '\n')
		p--;
	return p;
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* A mail's journey, the spans in no useful order, as the ring may hold them. */
START_TEST(test_tree)
{
	char *out = printed("{\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\","
	    "\"spans\":["
	    "{\"span_id\":\"g\",\"parent_span_id\":\"c3\",\"name\":\"mail parsed\","
	    "\"start_ns\":\"1000003600\",\"end_ns\":\"1000003700\","
	    "\"status\":{\"code\":\"error\",\"message\":\"no order lines\"},"
	    "\"worker\":\"email-processor\",\"instance\":2},"
	    "{\"span_id\":\"c2\",\"parent_span_id\":\"r\",\"name\":\"plba.dispatch\","
	    "\"start_ns\":\"1000003000\",\"end_ns\":\"1000003000\","
	    "\"attributes\":{\"plba.detail\":\"email-processor.2\"},"
	    "\"status\":{\"code\":\"ok\"},\"worker\":\"plba-master\",\"instance\":-1},"
	    "{\"span_id\":\"r\",\"name\":\"mail discovered\","
	    "\"start_ns\":\"1000001000\",\"end_ns\":\"1000005000\","
	    "\"status\":{\"code\":\"unset\"},\"worker\":\"mail-poller\",\"instance\":0},"
	    "{\"span_id\":\"c3\",\"parent_span_id\":\"r\",\"name\":\"process emails\","
	    "\"start_ns\":\"1000003500\",\"end_ns\":\"1000004500\","
	    "\"status\":{\"code\":\"ok\"},\"worker\":\"email-processor\",\"instance\":2},"
	    "{\"span_id\":\"c1\",\"parent_span_id\":\"r\",\"name\":\"plba.enqueue\","
	    "\"start_ns\":\"1000002000\",\"end_ns\":\"1000002000\","
	    "\"status\":{\"code\":\"ok\"},\"worker\":\"plba-master\",\"instance\":-1}"
	    "]}");

	ck_assert_str_eq(out,
	    "trace 4bf92f3577b34da6a3ce929d0e0e4736: 5 spans over 4.0us\n"
	    "\n"
	    "START  DURATION  SPAN              WORKER             STATUS  DETAIL\n"
	    "    0     4.0us  mail discovered   mail-poller.0      unset   -\n"
	    "1.0us         0    plba.enqueue    plba-master        ok      -\n"
	    "2.0us         0    plba.dispatch   plba-master        ok      email-processor.2\n"
	    "2.5us     1.0us    process emails  email-processor.2  ok      -\n"
	    "2.6us     100ns      mail parsed   email-processor.2  error   no order lines\n");
	free(out);
}
END_TEST

/* A parent the master no longer holds: its children stand on their own,
 * in start order among the other roots. */
START_TEST(test_orphans)
{
	char *out = printed("{\"trace_id\":\"t\",\"spans\":["
	    "{\"span_id\":\"b\",\"parent_span_id\":\"gone\",\"name\":\"late\","
	    "\"start_ns\":\"300\",\"end_ns\":\"400\"},"
	    "{\"span_id\":\"a\",\"parent_span_id\":\"gone\",\"name\":\"early\","
	    "\"start_ns\":\"100\",\"end_ns\":\"200\"}]}");
	const char *early = line_with(out, "early"), *late = line_with(out, "late");

	ck_assert_msg(early < late, "out of start order:\n%s", out);
	ck_assert_msg(strstr(out, "  early") != NULL && strstr(out, "    early")
	    == NULL, "an orphan is indented:\n%s", out);
	ck_assert(strstr(out, "2 spans over 300ns") != NULL);
	free(out);
}
END_TEST

/* Parents in a circle, a span its own parent, ids twice: each span once,
 * and the walk ends. */
START_TEST(test_cycles)
{
	char *out = printed("{\"trace_id\":\"t\",\"spans\":["
	    "{\"span_id\":\"a\",\"parent_span_id\":\"b\",\"name\":\"one\"},"
	    "{\"span_id\":\"b\",\"parent_span_id\":\"a\",\"name\":\"two\"},"
	    "{\"span_id\":\"s\",\"parent_span_id\":\"s\",\"name\":\"self\"},"
	    "{\"span_id\":\"s\",\"parent_span_id\":\"s\",\"name\":\"again\"}]}");

	ck_assert_uint_eq(count_lines(out), 3 + 4);
	line_with(out, "one");
	line_with(out, "two");
	line_with(out, "self");
	line_with(out, "again");
	free(out);
}
END_TEST

/* What is missing or malformed is shown as "-"; what is not an object
 * is no span. */
START_TEST(test_junk)
{
	char *out = printed("{\"spans\":[1,\"x\",null,{},"
	    "{\"name\":\"bad times\",\"start_ns\":\"12x\",\"end_ns\":-1,"
	    "\"status\":\"ok\",\"instance\":\"0\",\"worker\":7}]}");

	ck_assert_str_eq(out,
	    "trace -: 2 spans over 0\n"
	    "\n"
	    "START  DURATION  SPAN       WORKER  STATUS  DETAIL\n"
	    "    -         -  -          -       -       -\n"
	    "    -         -  bad times  -       -       -\n");
	free(out);
	out = printed("{\"trace_id\":\"t\"}");
	ck_assert_str_eq(out, "trace t: 0 spans over 0\n\n"
	    "START  DURATION  SPAN  WORKER  STATUS  DETAIL\n");
	free(out);
}
END_TEST

/* A child's words cannot drive the terminal. */
START_TEST(test_sanitized)
{
	char *out = printed("{\"trace_id\":\"t\\u001b[2J\",\"spans\":["
	    "{\"span_id\":\"a\",\"name\":\"x\\u001b[31my\",\"worker\":\"w\\r\","
	    "\"status\":{\"code\":\"error\",\"message\":\"m\\n\"}}]}");

	ck_assert_ptr_null(strchr(out, '\033'));
	ck_assert_ptr_null(strchr(out, '\r'));
	line_with(out, "trace t?[2J: 1 span over 0");
	line_with(out, "x?[31my");
	line_with(out, "m?");
	free(out);
}
END_TEST

/* A long chain: indentation stops growing, and 20000 spans (the most the
 * master keeps) take no quadratic time. */
START_TEST(test_deep)
{
	cJSON *o = cJSON_CreateObject(), *arr, *s;
	char id[32], parent[32], *text, *out;
	const char *last;
	int i, n = 20000;

	cJSON_AddStringToObject(o, "trace_id", "t");
	arr = cJSON_AddArrayToObject(o, "spans");
	for (i = 0; i < n; i++) {
		s = cJSON_CreateObject();
		snprintf(id, sizeof(id), "%016x", i);
		snprintf(parent, sizeof(parent), "%016x", i - 1);
		cJSON_AddStringToObject(s, "span_id", id);
		if (i > 0)
			cJSON_AddStringToObject(s, "parent_span_id", parent);
		snprintf(id, sizeof(id), "n%d", i);
		cJSON_AddStringToObject(s, "name", id);
		cJSON_AddItemToArray(arr, s);
	}
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	out = printed(text);
	free(text);
	ck_assert_uint_eq(count_lines(out), 3 + (size_t)n);
	/* Nested 15 and 16 deep, and the last, as deep as 16. */
	ck_assert_ptr_nonnull(strstr(out, "\n    -         -  "
	    "                              n15 "));
	ck_assert_ptr_nonnull(strstr(out, "\n    -         -  "
	    "                                n16 "));
	last = line_with(out, "n19999");
	ck_assert_msg(strncmp(last, "    -         -  "
	    "                                n19999", 49 + 6) == 0, "%.80s",
	    last);
	free(out);
}
END_TEST

/* A trace file: this trace's records, with their resource lifted to where
 * /traces puts it; other traces' lines, and lines that are not records,
 * passed over. */
/* Events (trace messages) under their span, at their time, with empty
 * cells where a point in time has nothing to say; past 32, counted. */
START_TEST(test_events)
{
	cJSON *o = cJSON_Parse("{\"trace_id\":\"t\",\"spans\":["
	    "{\"span_id\":\"a\",\"name\":\"handle\",\"start_ns\":\"1000\","
	    "\"end_ns\":\"9000\",\"status\":{\"code\":\"ok\"},\"worker\":\"w\","
	    "\"instance\":0,\"events\":[{\"name\":\"fetched 3 lines\","
	    "\"time_ns\":\"2500\"},7,{\"name\":\"no time\"}]},"
	    "{\"span_id\":\"b\",\"parent_span_id\":\"a\",\"name\":\"step\","
	    "\"start_ns\":\"3000\",\"end_ns\":\"4000\"}]}"), *many, *ev;
	char *out, *text;
	int i;

	ck_assert_ptr_nonnull(o);
	text = cJSON_PrintUnformatted(o);
	out = printed(text);
	free(text);
	ck_assert_str_eq(out,
	    "trace t: 2 spans over 8.0us\n"
	    "\n"
	    "START  DURATION  SPAN       WORKER  STATUS  DETAIL\n"
	    "    0     8.0us  handle     w.0     ok      -\n"
	    "1.5us              * event                  fetched 3 lines\n"
	    "    -              * event                  no time\n"
	    "2.0us     1.0us    step     -       -       -\n");
	free(out);

	/* A span with forty events shows 32 and counts the rest. */
	many = cJSON_AddArrayToObject(cJSON_GetArrayItem(cJSON_GetObjectItem(o,
	    "spans"), 1), "events");
	for (i = 0; i < 40; i++) {
		ev = cJSON_CreateObject();
		cJSON_AddStringToObject(ev, "name", "tick");
		cJSON_AddItemToArray(many, ev);
	}
	text = cJSON_PrintUnformatted(o);
	out = printed(text);
	free(text);
	ck_assert_uint_eq(count_lines(out), 3 + 1 + 2 + 1 + 32 + 1);
	line_with(out, "      * 8 more events");
	cJSON_Delete(o);
	free(out);
}
END_TEST

START_TEST(test_from_file)
{
	static const char file[] =
	    "{\"trace_id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"span_id\":\"1\","
	    "\"name\":\"one\",\"resource\":{\"service.name\":\"s\","
	    "\"worker\":\"w\",\"instance\":3}}\n"
	    "{\"trace_id\":\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\",\"span_id\":\"2\"}\n"
	    "not json aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
	    "[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]\n"
	    "{\"trace_id\":\"x\",\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}\n"
	    "\n"
	    "{\"trace_id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"span_id\":\"3\","
	    "\"parent_span_id\":\"1\",\"name\":\"two\",\"worker\":\"top\","
	    "\"resource\":{\"worker\":\"w\",\"instance\":-1}}";
	FILE *f = fmemopen((void *)file, sizeof(file) - 1, "r");
	cJSON *o, *spans;
	size_t n;

	ck_assert_ptr_nonnull(f);
	o = spans_from_file(f, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &n);
	fclose(f);
	ck_assert_uint_eq(n, 2);
	spans = cJSON_GetObjectItem(o, "spans");
	ck_assert_int_eq(cJSON_GetArraySize(spans), 2);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "trace_id")->valuestring,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(spans, 0),
	    "worker")->valuestring, "w");
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(spans, 0),
	    "instance")->valueint, 3);
	/* What a record says itself is not overwritten. */
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(spans, 1),
	    "worker")->valuestring, "top");
	cJSON_Delete(o);
}
END_TEST

START_TEST(test_durations)
{
	char buf[32];

	spans_duration(0, buf);
	ck_assert_str_eq(buf, "0");
	spans_duration(999, buf);
	ck_assert_str_eq(buf, "999ns");
	spans_duration(1500, buf);
	ck_assert_str_eq(buf, "1.5us");
	spans_duration(2300000, buf);
	ck_assert_str_eq(buf, "2.3ms");
	spans_duration(4250000000ULL, buf);
	ck_assert_str_eq(buf, "4.25s");
}
END_TEST

/* Terminal columns of the first n bytes of s, for the strings below:
 * two for CJK (lead bytes 0xe4 to 0xe9), none for U+0300 to U+036F. */
static size_t
columns(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++) {
		unsigned char b = (unsigned char)s[i];

		if ((b & 0xc0) == 0x80 || b == 0xcc || b == 0xcd)
			continue;
		c += b >= 0xe4 && b <= 0xe9 ? 2 : 1;
	}
	return c;
}

/* ERROR starts at one terminal column on every line, whatever the names
 * before it are made of. */
START_TEST(test_table_columns)
{
	static const char *const headers[] = { "NAME", "ERROR", NULL };
	struct table *t = table_new(headers, "ll");
	char *out = NULL, *line, *save = NULL;
	size_t len = 0, rows = 0;
	const char *at;
	FILE *f;

	table_add(t, "plain");
	table_add(t, "e1");
	table_add(t, "\xe6\xbc\xa2\xe5\xad\x97");	/* two CJK: four columns */
	table_add(t, "e2");
	table_add(t, "e\xcc\x81" "e\xcc\x81");	/* e with acute, twice: two */
	table_add(t, "e3");
	f = open_memstream(&out, &len);
	ck_assert_ptr_nonnull(f);
	table_print(t, f);
	fclose(f);
	table_free(t);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), rows++) {
		at = rows == 0 ? strstr(line, "ERROR") : strstr(line, "  e") + 2;
		/* "plain" is the widest: five columns, then two blanks. */
		ck_assert_msg(columns(line, (size_t)(at - line)) == 7,
		    "line %zu: %s", rows, line);
	}
	ck_assert_uint_eq(rows, 4);
	free(out);
}
END_TEST

/* What a worker wrote cannot drive the terminal, nor turn a line around. */
START_TEST(test_table_sanitized)
{
	char *s = ctl_sanitize("a\x1b[31m\xe2\x80\xae" "b\xe2\x81\xa7" "c\xc3\xa9");

	ck_assert_str_eq(s, "a?[31m?b?c\xc3\xa9");
	free(s);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("ctl_spans");
	TCase *tc = tcase_create("tree");

	tcase_add_test(tc, test_tree);
	tcase_add_test(tc, test_orphans);
	tcase_add_test(tc, test_cycles);
	tcase_add_test(tc, test_junk);
	tcase_add_test(tc, test_sanitized);
	tcase_add_test(tc, test_deep);
	tcase_add_test(tc, test_events);
	tcase_add_test(tc, test_from_file);
	tcase_add_test(tc, test_durations);
	tcase_add_test(tc, test_table_columns);
	tcase_add_test(tc, test_table_sanitized);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
