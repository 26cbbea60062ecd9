/*
 * span_text_check(): a record it passes as text must be exactly what
 * parsing and printing it again would give, and its verdict on validity
 * must be the parser's.  Mutated records check both at random.
 */
#include "config.h"

#include "unit.h"
#include <cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "span_text.h"
#include "tracectx.h"
#include "utf8.h"

#include "span_records.h"

static enum span_text
check(const char *s)
{
	return span_text_check(s, strlen(s));
}

/* What the slow way requires of a record (otlp.c's otlp_span). */
static bool
hex_ok(const cJSON *v, size_t n)
{
	const char *s;
	bool nonzero = false;
	size_t i;

	if (!cJSON_IsString(v) || strlen(s = v->valuestring) != n)
		return false;
	for (i = 0; i < n; i++) {
		if (strchr("0123456789abcdefABCDEF", s[i]) == NULL || s[i] == '\0')
			return false;
		nonzero |= s[i] != '0';
	}
	return nonzero;
}

static bool
ns_ok(const cJSON *v)
{
	const char *s;
	uint64_t x = 0;

	if (!cJSON_IsString(v) || (s = v->valuestring)[0] == '\0' ||
	    strlen(s) > 20)
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' ||
		    x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return false;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	return true;
}

static bool
valid_by_parser(const cJSON *o)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "parent_span_id");
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, "name");

	return cJSON_IsObject(o) &&
	    hex_ok(cJSON_GetObjectItemCaseSensitive(o, "trace_id"), 32) &&
	    hex_ok(cJSON_GetObjectItemCaseSensitive(o, "span_id"), 16) &&
	    (p == NULL || cJSON_IsNull(p) ||
	    (cJSON_IsString(p) && p->valuestring[0] == '\0') || hex_ok(p, 16)) &&
	    cJSON_IsString(n) && n->valuestring[0] != '\0' &&
	    ns_ok(cJSON_GetObjectItemCaseSensitive(o, "start_ns")) &&
	    ns_ok(cJSON_GetObjectItemCaseSensitive(o, "end_ns"));
}

/*
 * The property: a verdict other than OTHER means the text parses, prints
 * back byte for byte, has no resource, and is valid exactly when the
 * parser says so.
 */
static void
agrees(const char *s, size_t len)
{
	enum span_text v = span_text_check(s, len);
	char *copy, *text;
	const char *end = NULL;
	cJSON *o;

	if (v == SPAN_TEXT_OTHER)
		return;
	ck_assert_ptr_nonnull(copy = strndup(s, len));
	ck_assert_msg(strlen(copy) == len, "a NUL passed: %s", copy);
	o = cJSON_ParseWithOpts(copy, &end, true);
	ck_assert_msg(o != NULL, "passed but does not parse: %s", copy);
	ck_assert_ptr_nonnull(text = cJSON_PrintUnformatted(o));
	ck_assert_msg(strcmp(text, copy) == 0, "not canonical: %s -> %s",
	    copy, text);
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(o, "resource"));
	ck_assert_msg((v == SPAN_TEXT_VALID) == valid_by_parser(o),
	    "verdict %d disagrees with the parser: %s", (int)v, copy);
	free(text);
	cJSON_Delete(o);
	free(copy);
}

START_TEST(printed_records_pass)
{
	cJSON *o, *a, *e, *ev, *st;
	char *text;

	/* What libplba prints: attributes of every type, events, status,
	 * escapes and UTF-8. */
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "trace_id", TID);
	cJSON_AddStringToObject(o, "span_id", SID);
	cJSON_AddStringToObject(o, "parent_span_id", PID);
	cJSON_AddStringToObject(o, "name", "process \"q\"\\\n\t\x01 caf\xc3\xa9 /");
	cJSON_AddStringToObject(o, "kind", "consumer");
	cJSON_AddStringToObject(o, "start_ns", "1700000000000000000");
	cJSON_AddStringToObject(o, "end_ns", "1700000000000000001");
	a = cJSON_AddObjectToObject(o, "attributes");
	cJSON_AddStringToObject(a, "s", "x\x1f\b\f\r");
	cJSON_AddNumberToObject(a, "i", -42);
	cJSON_AddNumberToObject(a, "big", 2147483647);
	cJSON_AddNumberToObject(a, "small", -2147483648.0);
	cJSON_AddBoolToObject(a, "t", 1);
	cJSON_AddBoolToObject(a, "f", 0);
	cJSON_AddNullToObject(a, "n");
	cJSON_AddArrayToObject(a, "empty");
	cJSON_AddObjectToObject(a, "nothing");
	ev = cJSON_AddArrayToObject(o, "events");
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "name", "retry");
	cJSON_AddStringToObject(e, "time_ns", "1700000000000000000");
	cJSON_AddItemToArray(ev, e);
	st = cJSON_AddObjectToObject(o, "status");
	cJSON_AddStringToObject(st, "code", "error");
	cJSON_AddStringToObject(st, "message", "boom");
	text = cJSON_PrintUnformatted(o);
	ck_assert_int_eq(check(text), SPAN_TEXT_VALID);
	agrees(text, strlen(text));
	free(text);
	cJSON_Delete(o);

	ck_assert_int_eq(check(REC("")), SPAN_TEXT_VALID);
	ck_assert_int_eq(check(REC("\"parent_span_id\":\"\",")), SPAN_TEXT_VALID);
	ck_assert_int_eq(check(REC("\"parent_span_id\":null,")), SPAN_TEXT_VALID);
	ck_assert_int_eq(check(REC("\"parent_span_id\":\"00F067AA0BA902B7\",")),
	    SPAN_TEXT_VALID);
	/* The largest time there is, and twenty digits that are less. */
	ck_assert_int_eq(check("{\"trace_id\":\"" TID "\",\"span_id\":\"" SID
	    "\",\"name\":\"n\",\"start_ns\":\"18446744073709551615\","
	    "\"end_ns\":\"09999999999999999999\"}"), SPAN_TEXT_VALID);
}
END_TEST

/* span_text_check_id() points at the first trace_id's digits, where
 * ever the member is; the ring of recent spans files the record by it. */
START_TEST(trace_id_found)
{
	static const char *const recs[] = {
		REC(""),
		"{\"name\":\"x\",\"span_id\":\"" SID "\",\"trace_id\":\"" TID
		    "\"," TIMES "}",
		"{\"name\":\"x\",\"span_id\":\"" SID "\",\"trace_id\":\"" TID
		    "\",\"trace_id\":\"" PID PID "\"," TIMES "}",
	};
	const char *id;
	size_t i;

	for (i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		id = NULL;
		ck_assert_int_eq(span_text_check_id(recs[i], strlen(recs[i]),
		    &id), SPAN_TEXT_VALID);
		ck_assert_ptr_nonnull(id);
		ck_assert(id > recs[i] && id + 33 <= recs[i] + strlen(recs[i]));
		ck_assert_int_eq(strncmp(id, TID, 32), 0);
		ck_assert_int_eq(id[-1], '"');
		ck_assert_int_eq(id[32], '"');
	}
}
END_TEST

START_TEST(invalid_spans_known_without_parsing)
{
	static const char *const bad[] = {
		"{}",
		"{\"trace_id\":\"" TID "\"}",
		REC("\"parent_span_id\":\"00f067\","),
		REC("\"parent_span_id\":7,"),
		REC("\"parent_span_id\":\"0000000000000000\","),
		"{\"trace_id\":\"00000000000000000000000000000000\",\"span_id\":\""
		    SID "\",\"name\":\"n\"," TIMES "}",
		"{\"trace_id\":\"" TID "\",\"span_id\":\"b7ad6b716920333g\","
		    "\"name\":\"n\"," TIMES "}",
		"{\"trace_id\":\"" TID "\",\"span_id\":\"" SID "\",\"name\":\"\","
		    TIMES "}",
		"{\"trace_id\":\"" TID "\",\"span_id\":\"" SID "\",\"name\":1,"
		    TIMES "}",
		"{\"trace_id\":\"" TID "\",\"span_id\":\"" SID "\",\"name\":\"n\","
		    "\"start_ns\":\"18446744073709551616\",\"end_ns\":\"1\"}",
		"{\"trace_id\":\"" TID "\",\"span_id\":\"" SID "\",\"name\":\"n\","
		    "\"start_ns\":1,\"end_ns\":\"1\"}",
		"{\"trace_id\":\"" TID "\",\"span_id\":\"" SID "\",\"name\":\"n\","
		    "\"start_ns\":\"\",\"end_ns\":\"1\"}",
		"{\"trace_id\":\"" TID "\",\"span_id\":\"" SID "\",\"name\":\"n\","
		    "\"start_ns\":\"1\",\"end_ns\":\"000000000000000000001\"}",
		/* libplba's order, so its ids are taken on the way, and a
		 * parent after them that must still be checked. */
		"{\"trace_id\":\"" TID "\",\"span_id\":\"" SID "\",\"name\":\"n\","
		    "\"kind\":\"internal\"," TIMES ",\"parent_span_id\":\"00f067\"}",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(check(bad[i]) == SPAN_TEXT_INVALID, "%s", bad[i]);
		agrees(bad[i], strlen(bad[i]));
	}
	/* The first of a duplicated member counts, as in the parser. */
	ck_assert_int_eq(check(REC("\"name\":\"\",")), SPAN_TEXT_VALID);
	agrees(REC("\"name\":\"\","), strlen(REC("\"name\":\"\",")));
}
END_TEST

START_TEST(other_forms_are_parsed)
{
	static const char *const other[] = {
		"",
		"[]",
		"null",
		" " REC(""),
		REC("") " ",
		REC("") "x",
		REC("\"a\": 1,"),
		REC("\"a\":1.5,"),
		REC("\"a\":1e3,"),
		REC("\"a\":-0,"),
		REC("\"a\":01,"),
		REC("\"a\":2147483648,"),
		REC("\"a\":-2147483649,"),
		REC("\"a\":\"\\/\","),
		REC("\"a\":\"\\u0041\","),
		REC("\"a\":\"\\u000a\","),
		REC("\"a\":\"\\u0000\","),
		REC("\"a\":\"\\u001F\","),
		REC("\"a\":\"\\ud83d\\ude00\","),
		REC("\"a\":\"raw\ttab\","),
		REC("\"a\":tru,"),
		REC("\"a\":[1,],"),
		REC("\"a\":{\"b\":},"),
		REC("\"resource\":{},"),
		REC("\"a\":\"\xff\","),
		REC("\"a\":\"\xc3\","),
		REC("\"a\":\"\xed\xa0\x80\","),
		REC("\"\xc0\xaf\":1,"),
		REC("\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],"),
		"{\"trace_id\":\"" TID "\"",
		"{\"trace_id\"",
	};
	size_t i;

	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		ck_assert_msg(check(other[i]) == SPAN_TEXT_OTHER, "%s", other[i]);
	/* The length counts, not a NUL. */
	ck_assert_int_eq(span_text_check(REC(""), 20), SPAN_TEXT_OTHER);
	ck_assert_int_eq(span_text_check("{\"a\":\"x\0\"}", 10), SPAN_TEXT_OTHER);
}
END_TEST

/* Random edits of printed records: whatever passes must agree. */
START_TEST(mutants_agree)
{
	static const char alphabet[] = "{}[],:\"\\ 0123456789-.eEtrufalsnbu"
	    "abcdefABCDEF\x01\x7f\xc3\xa9";
	static const char *const seeds[] = {
		REC(""),
		REC("\"parent_span_id\":\"" PID "\",\"attributes\":{\"a\":-12,"
		    "\"b\":[true,false,null,{\"c\":\"\\n\\u0001\"}]},"),
		REC("\"status\":{\"code\":\"ok\"},\"events\":[{\"name\":\"e\","
		    "\"time_ns\":\"5\"}],"),
	};
	char buf[512];
	unsigned seed = 12345, r;
	size_t len, pos, i, k, passed = 0;

	for (i = 0; i < 60000; i++) {
		len = strlen(seeds[i % 3]);
		memcpy(buf, seeds[i % 3], len);
		for (k = 0; k < 1 + i % 3; k++) {
			seed = seed * 1103515245u + 12345u;
			r = seed >> 8;
			pos = r % len;
			switch ((r >> 12) % 3) {
			case 0:		/* replace */
				buf[pos] = alphabet[(r >> 4) % (sizeof(alphabet) - 1)];
				break;
			case 1:		/* insert */
				if (len + 1 >= sizeof(buf))
					break;
				memmove(buf + pos + 1, buf + pos, len - pos);
				buf[pos] = alphabet[(r >> 4) % (sizeof(alphabet) - 1)];
				len++;
				break;
			default:	/* delete */
				memmove(buf + pos, buf + pos + 1, len - pos - 1);
				len--;
				break;
			}
		}
		if (span_text_check(buf, len) != SPAN_TEXT_OTHER)
			passed++;
		agrees(buf, len);
	}
	/* Not a vacuous property: many mutants still pass. */
	ck_assert_uint_gt(passed, 1000);
}
END_TEST

/* Records printed by hand quote strings exactly as cJSON does, once
 * bytes that are not UTF-8 are U+FFFD (which cJSON leaves as they are). */
START_TEST(quote_as_cjson)
{
	struct rec_text t;
	char small[4], s[64], *want, *clean;
	const char *got;
	unsigned seed = 7;
	bool nomem;
	cJSON *v;
	size_t i, k, n;

	for (i = 0; i < 3000; i++) {
		n = i < 255 ? 1 : (i % 40) + 1;
		for (k = 0; k < n; k++) {
			seed = seed * 1103515245u + 12345u;
			s[k] = i < 255 ? (char)(i + 1) :
			    (char)((seed >> 16) % 255 + 1);
		}
		s[n] = '\0';
		/* A tiny first buffer: growth is part of what is tested. */
		rec_text_init(&t, small, sizeof(small));
		REC_TEXT_LIT(&t, "x");
		rec_text_quote(&t, s);
		ck_assert_ptr_nonnull(got = rec_text_end(&t));
		clean = utf8_clean(s, &nomem);
		ck_assert(!nomem);
		v = cJSON_CreateString(clean != NULL ? clean : s);
		want = cJSON_PrintUnformatted(v);
		ck_assert_msg(got[0] == 'x' && strcmp(got + 1, want) == 0,
		    "%s != %s", got + 1, want);
		ck_assert_uint_eq(t.len, strlen(want) + 1);
		free(want);
		free(clean);
		cJSON_Delete(v);
		rec_text_free(&t);
	}
}
END_TEST

/* Decimal numbers without snprintf. */
START_TEST(u64_as_printf)
{
	static const uint64_t v[] = { 0, 1, 9, 10, 99, 100, 1234567890123ULL,
		UINT64_MAX - 1, UINT64_MAX };
	struct rec_text t;
	char buf[8], want[32];
	size_t i;

	uint64_t p;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		rec_text_init(&t, buf, sizeof(buf));
		rec_text_u64(&t, v[i]);
		snprintf(want, sizeof(want), "%llu", (unsigned long long)v[i]);
		ck_assert_str_eq(rec_text_end(&t), want);
		rec_text_free(&t);
	}
	/* Every length, at both of its ends (digits go two at a time). */
	for (p = 10; p <= UINT64_C(10000000000000000000); p *= 10) {
		for (i = 0; i < 3; i++) {
			uint64_t x = p - 1 + i;

			rec_text_init(&t, buf, sizeof(buf));
			rec_text_u64(&t, x);
			snprintf(want, sizeof(want), "%llu", (unsigned long long)x);
			ck_assert_str_eq(rec_text_end(&t), want);
			rec_text_free(&t);
		}
		if (p == UINT64_C(10000000000000000000))
			break;
	}
}
END_TEST

static void
check_u64(uint64_t x)
{
	char buf[20], want[32];
	const char *got;
	size_t len;

	got = trace_u64(x, buf, &len);
	snprintf(want, sizeof(want), "%llu", (unsigned long long)x);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_int_eq(memcmp(got, want, len), 0);
}

/*
 * Digits are made four at a time, each group by multiplying: every group
 * value, in every group of a nineteen- and of a nine-digit number, and
 * many numbers at random.
 */
START_TEST(u64_every_group)
{
	uint64_t n, k, x = 0x9e3779b97f4a7c15u;
	int i;

	for (n = 0; n < 10000; n++) {
		for (k = 1; k <= UINT64_C(1000000000000); k *= 10000)
			check_u64(UINT64_C(1000000000000000000) + n * k);
		check_u64(n * UINT64_C(1000100010001));
		check_u64(UINT64_C(100000000) + n);
		check_u64(UINT64_C(100000000) + n * 10000);
	}
	for (i = 0; i < 1000000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		check_u64(x >> (i % 64));
	}
}
END_TEST

/* Every byte value, at every place in ids of every length up to 20. */
START_TEST(hex_as_printf)
{
	uint8_t in[20];
	char out[41], want[41];
	size_t n, i, k;
	unsigned b;

	for (b = 0; b < 256; b++)
		for (n = 1; n <= sizeof(in); n++)
			for (k = 0; k < n; k++) {
				for (i = 0; i < n; i++)
					in[i] = (uint8_t)(i == k ? b : i * 37 + b);
				trace_hex(in, n, out);
				for (i = 0; i < n; i++)
					snprintf(want + 2 * i, 3, "%02x", in[i]);
				ck_assert_str_eq(out, want);
			}
}
END_TEST

static Suite *
span_text_suite(void)
{
	Suite *s = suite_create("span_text");
	TCase *tc = tcase_create("check");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, printed_records_pass);
	tcase_add_test(tc, trace_id_found);
	tcase_add_test(tc, invalid_spans_known_without_parsing);
	tcase_add_test(tc, other_forms_are_parsed);
	tcase_add_test(tc, mutants_agree);
	tcase_add_test(tc, quote_as_cjson);
	tcase_add_test(tc, u64_as_printf);
	tcase_add_test(tc, u64_every_group);
	tcase_add_test(tc, hex_as_printf);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(span_text_suite());
}
