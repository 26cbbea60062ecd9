/*
 * OTLP/HTTP JSON encoding of span records, and the trace exporter's file
 * and OTLP transports against a small in-process collector whose answers
 * each test scripts.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "unit.h"
#include <cJSON.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "otlp.h"
#include "settings.h"
#include "utf8.h"
#include "task_span.h"
#include "tracectx.h"
#include "trace_export.h"

#include "span_records.h"

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Encodes records all sent by ("mail", 0) and parses the request back. */
static cJSON *
encode_n(const char *const *recs, size_t n)
{
	const char *workers[16];
	int instances[16];
	char *text;
	cJSON *o;
	size_t i;

	ck_assert_uint_le(n, 16);
	for (i = 0; i < n; i++) {
		workers[i] = "mail";
		instances[i] = 0;
	}
	text = otlp_encode("svc", recs, workers, instances, n);
	ck_assert_ptr_nonnull(text);
	o = cJSON_Parse(text);
	ck_assert_msg(o != NULL, "not JSON: %s", text);
	free(text);
	return o;
}

static cJSON *
encode1(const char *rec)
{
	return encode_n(&rec, 1);
}

static cJSON *
get(const cJSON *o, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	ck_assert_msg(v != NULL, "no member %s", key);
	return v;
}

static const char *
str(const cJSON *o, const char *key)
{
	cJSON *v = get(o, key);

	ck_assert_msg(cJSON_IsString(v), "%s is not a string", key);
	return v->valuestring;
}

static int
num(const cJSON *o, const char *key)
{
	cJSON *v = get(o, key);

	ck_assert_msg(cJSON_IsNumber(v), "%s is not a number", key);
	return v->valueint;
}

static cJSON *
spans_of(const cJSON *root, int rs)
{
	cJSON *r = cJSON_GetArrayItem(get(root, "resourceSpans"), rs);

	ck_assert_ptr_nonnull(r);
	return get(cJSON_GetArrayItem(get(r, "scopeSpans"), 0), "spans");
}

static cJSON *
span0(const cJSON *root)
{
	cJSON *s = cJSON_GetArrayItem(spans_of(root, 0), 0);

	ck_assert_ptr_nonnull(s);
	return s;
}

/* The AnyValue of key in an OTLP attribute list, or NULL. */
static cJSON *
attr(const cJSON *attrs, const char *key)
{
	const cJSON *kv;

	cJSON_ArrayForEach(kv, attrs)
		if (strcmp(str(kv, "key"), key) == 0)
			return get(kv, "value");
	return NULL;
}

static cJSON *
resource_attrs(const cJSON *root, int rs)
{
	return get(get(cJSON_GetArrayItem(get(root, "resourceSpans"), rs),
	    "resource"), "attributes");
}

static bool
is_hex(const char *s, size_t n)
{
	size_t i;

	if (strlen(s) != n)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* ---- encoding ------------------------------------------------------------ */

START_TEST(root_span_fields)
{
	cJSON *root = encode1(REC("\"kind\":\"internal\","));
	cJSON *rs, *scope, *s, *a;

	ck_assert_int_eq(cJSON_GetArraySize(get(root, "resourceSpans")), 1);
	rs = cJSON_GetArrayItem(get(root, "resourceSpans"), 0);
	a = resource_attrs(root, 0);
	ck_assert_str_eq(str(attr(a, "service.name"), "stringValue"), "svc");
	ck_assert_str_eq(str(attr(a, "worker"), "stringValue"), "mail");
	ck_assert_str_eq(str(attr(a, "instance"), "intValue"), "0");
	scope = get(cJSON_GetArrayItem(get(rs, "scopeSpans"), 0), "scope");
	ck_assert_str_eq(str(scope, "name"), "plba");
	ck_assert_str_eq(str(scope, "version"), PACKAGE_VERSION);

	s = span0(root);
	/* Hex, as OTLP JSON wants, not protobuf JSON's base64. */
	ck_assert_str_eq(str(s, "traceId"), TID);
	ck_assert(is_hex(str(s, "traceId"), 32));
	ck_assert_str_eq(str(s, "spanId"), SID);
	ck_assert(is_hex(str(s, "spanId"), 16));
	ck_assert_ptr_null(cJSON_GetObjectItem(s, "parentSpanId"));
	ck_assert_str_eq(str(s, "name"), "mail.parse");
	ck_assert_int_eq(num(s, "kind"), 1);
	ck_assert_str_eq(str(s, "startTimeUnixNano"), "1700000000000000000");
	ck_assert_str_eq(str(s, "endTimeUnixNano"), "1700000000500000000");
	ck_assert_int_eq(num(get(s, "status"), "code"), 0);
	/* None of the record's own spelling leaks through. */
	ck_assert_ptr_null(cJSON_GetObjectItem(s, "trace_id"));
	ck_assert_ptr_null(cJSON_GetObjectItem(s, "start_ns"));
	cJSON_Delete(root);
}
END_TEST

START_TEST(child_span_parent)
{
	cJSON *root = encode1(REC("\"parent_span_id\":\"00F067AA0BA902B7\","));

	ck_assert_str_eq(str(span0(root), "parentSpanId"), PID);
	cJSON_Delete(root);
	/* An empty parent is a root too. */
	root = encode1(REC("\"parent_span_id\":\"\","));
	ck_assert_ptr_null(cJSON_GetObjectItem(span0(root), "parentSpanId"));
	cJSON_Delete(root);
}
END_TEST

START_TEST(kinds_as_integers)
{
	static const struct { const char *rec; int kind; } t[] = {
		{ REC("\"kind\":\"internal\","), 1 },
		{ REC("\"kind\":\"server\","), 2 },
		{ REC("\"kind\":\"client\","), 3 },
		{ REC("\"kind\":\"producer\","), 4 },
		{ REC("\"kind\":\"consumer\","), 5 },
		{ REC(""), 1 },
		{ REC("\"kind\":\"sideways\","), 0 },
		{ REC("\"kind\":7,"), 0 },
	};
	cJSON *root;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		root = encode1(t[i].rec);
		ck_assert_msg(num(span0(root), "kind") == t[i].kind,
		    "%s: kind %d", t[i].rec, num(span0(root), "kind"));
		cJSON_Delete(root);
	}
}
END_TEST

START_TEST(status_codes)
{
	cJSON *root, *st;

	root = encode1(REC("\"status\":{\"code\":\"ok\"},"));
	st = get(span0(root), "status");
	ck_assert_int_eq(num(st, "code"), 1);
	ck_assert_ptr_null(cJSON_GetObjectItem(st, "message"));
	cJSON_Delete(root);

	root = encode1(REC("\"status\":{\"code\":\"error\","
	    "\"message\":\"imap: timeout\"},"));
	st = get(span0(root), "status");
	ck_assert_int_eq(num(st, "code"), 2);
	ck_assert_str_eq(str(st, "message"), "imap: timeout");
	cJSON_Delete(root);

	root = encode1(REC("\"status\":{\"code\":\"unset\"},"));
	ck_assert_int_eq(num(get(span0(root), "status"), "code"), 0);
	cJSON_Delete(root);
}
END_TEST

START_TEST(attributes_typed)
{
	cJSON *root = encode1(REC("\"attributes\":{\"s\":\"x\",\"i\":42,"
	    "\"neg\":-7,\"big\":1700000000000,\"d\":1.5,\"t\":true,\"f\":false,"
	    "\"n\":null,\"o\":{\"a\":[1,2]},\"id\":9007199254740993,"
	    "\"min\":-9223372036854775808,\"over\":92233720368547758070},"));
	cJSON *a = get(span0(root), "attributes");

	ck_assert(cJSON_IsArray(a));
	ck_assert_str_eq(str(attr(a, "s"), "stringValue"), "x");
	/* int64 is a string in OTLP JSON. */
	ck_assert_str_eq(str(attr(a, "i"), "intValue"), "42");
	ck_assert_str_eq(str(attr(a, "neg"), "intValue"), "-7");
	ck_assert_str_eq(str(attr(a, "big"), "intValue"), "1700000000000");
	ck_assert(cJSON_IsNumber(get(attr(a, "d"), "doubleValue")));
	ck_assert(get(attr(a, "d"), "doubleValue")->valuedouble == 1.5);
	ck_assert(cJSON_IsTrue(get(attr(a, "t"), "boolValue")));
	ck_assert(cJSON_IsFalse(get(attr(a, "f"), "boolValue")));
	ck_assert_ptr_null(attr(a, "n"));
	ck_assert_str_eq(str(attr(a, "o"), "stringValue"), "{\"a\":[1,2]}");
	/* Past 2^53 from the record's digits, not through a double. */
	ck_assert_str_eq(str(attr(a, "id"), "intValue"), "9007199254740993");
	ck_assert_str_eq(str(attr(a, "min"), "intValue"),
	    "-9223372036854775808");
	/* Past int64: a double. */
	ck_assert(cJSON_IsNumber(get(attr(a, "over"), "doubleValue")));
	ck_assert_int_eq(cJSON_GetArraySize(a), 11);
	cJSON_Delete(root);

	/* No attributes: no empty list either. */
	root = encode1(REC("\"attributes\":{},"));
	ck_assert_ptr_null(cJSON_GetObjectItem(span0(root), "attributes"));
	cJSON_Delete(root);
}
END_TEST

START_TEST(events_encoded)
{
	cJSON *root = encode1(REC("\"events\":["
	    "{\"name\":\"retry\",\"time_ns\":\"1700000000100000000\","
	    "\"attributes\":{\"attempt\":2}},"
	    "{\"name\":\"\",\"time_ns\":\"1\"},"
	    "{\"name\":\"no time\"},"
	    "{\"name\":\"bad time\",\"time_ns\":\"12x\"},"
	    "{\"name\":\"done\",\"time_ns\":\"1700000000200000000\"}],"));
	cJSON *ev = get(span0(root), "events"), *e;

	ck_assert_int_eq(cJSON_GetArraySize(ev), 2);
	e = cJSON_GetArrayItem(ev, 0);
	ck_assert_str_eq(str(e, "name"), "retry");
	ck_assert_str_eq(str(e, "timeUnixNano"), "1700000000100000000");
	ck_assert_str_eq(str(attr(get(e, "attributes"), "attempt"), "intValue"),
	    "2");
	e = cJSON_GetArrayItem(ev, 1);
	ck_assert_str_eq(str(e, "name"), "done");
	ck_assert_ptr_null(cJSON_GetObjectItem(e, "attributes"));
	cJSON_Delete(root);
}
END_TEST

START_TEST(grouped_by_worker_and_instance)
{
	const char *recs[6] = {
		REC("\"kind\":\"producer\","), REC(""), REC(""), REC(""),
		REC(""), REC("")
	};
	const char *workers[6] = {
		"poller", "mailer", "poller", "poller", NULL, "plba-master"
	};
	const int instances[6] = { 0, 0, 0, 1, -1, -1 };
	char *text = otlp_encode("mail_order_bot", recs, workers, instances, 6);
	cJSON *root, *a;
	static const struct { const char *w; const char *i; int n; } want[] = {
		{ "poller", "0", 2 }, { "mailer", "0", 1 }, { "poller", "1", 1 },
		{ "plba-master", "-1", 2 },
	};
	int i;

	ck_assert_ptr_nonnull(text);
	root = cJSON_Parse(text);
	free(text);
	ck_assert_ptr_nonnull(root);
	ck_assert_int_eq(cJSON_GetArraySize(get(root, "resourceSpans")), 4);
	for (i = 0; i < 4; i++) {
		a = resource_attrs(root, i);
		ck_assert_int_eq(cJSON_GetArraySize(a), 3);
		ck_assert_str_eq(str(attr(a, "service.name"), "stringValue"),
		    "mail_order_bot");
		ck_assert_str_eq(str(attr(a, "worker"), "stringValue"), want[i].w);
		ck_assert_str_eq(str(attr(a, "instance"), "intValue"), want[i].i);
		ck_assert_int_eq(cJSON_GetArraySize(spans_of(root, i)),
		    want[i].n);
	}
	/* Order kept within a group. */
	ck_assert_int_eq(num(cJSON_GetArrayItem(spans_of(root, 0), 0), "kind"), 4);
	cJSON_Delete(root);

	/* No worker list at all: everything is the master's. */
	text = otlp_encode("svc", recs, NULL, NULL, 2);
	root = cJSON_Parse(text);
	free(text);
	ck_assert_int_eq(cJSON_GetArraySize(get(root, "resourceSpans")), 1);
	ck_assert_str_eq(str(attr(resource_attrs(root, 0), "worker"),
	    "stringValue"), TRACE_EXPORT_MASTER);
	cJSON_Delete(root);
}
END_TEST

START_TEST(invalid_records_skipped)
{
	static const char *const bad[] = {
		/* ids: length, digits, all zeros */
		"{\"trace_id\":\"0af7651916cd43dd8448eb211c80319\",\"span_id\":\""
		    SID "\",\"name\":\"x\"," TIMES "}",
		"{\"trace_id\":\"0af7651916cd43dd8448eb211c80319g\",\"span_id\":\""
		    SID "\",\"name\":\"x\"," TIMES "}",
		"{\"trace_id\":\"00000000000000000000000000000000\",\"span_id\":\""
		    SID "\",\"name\":\"x\"," TIMES "}",
		"{\"trace_id\":\"" TID "\",\"span_id\":\"b7ad6b716920333\","
		    "\"name\":\"x\"," TIMES "}",
		"{\"trace_id\":\"" TID "\",\"span_id\":\"0000000000000000\","
		    "\"name\":\"x\"," TIMES "}",
		"{\"trace_id\":\"" TID "\",\"span_id\":12,\"name\":\"x\"," TIMES "}",
		"{\"span_id\":\"" SID "\",\"name\":\"x\"," TIMES "}",
		REC("\"parent_span_id\":\"zz\","),
		REC("\"parent_span_id\":42,"),
		/* name */
		"{\"trace_id\":\"" TID "\",\"span_id\":\"" SID "\"," TIMES "}",
		"{\"trace_id\":\"" TID "\",\"span_id\":\"" SID "\",\"name\":\"\","
		    TIMES "}",
		"{\"trace_id\":\"" TID "\",\"span_id\":\"" SID "\",\"name\":3,"
		    TIMES "}",
		/* times */
		"{\"trace_id\":\"" TID "\",\"span_id\":\"" SID "\",\"name\":\"x\","
		    "\"end_ns\":\"1\"}",
		"{\"trace_id\":\"" TID "\",\"span_id\":\"" SID "\",\"name\":\"x\","
		    "\"start_ns\":1,\"end_ns\":\"2\"}",
		"{\"trace_id\":\"" TID "\",\"span_id\":\"" SID "\",\"name\":\"x\","
		    "\"start_ns\":\"-1\",\"end_ns\":\"2\"}",
		"{\"trace_id\":\"" TID "\",\"span_id\":\"" SID "\",\"name\":\"x\","
		    "\"start_ns\":\"99999999999999999999\",\"end_ns\":\"2\"}",
		/* not a span at all */
		"", "not json", "[1,2]", "null", "{\"trace_id\":", "{} {}",
		NULL,
	};
	const size_t nbad = sizeof(bad) / sizeof(bad[0]);
	const char *recs[32];
	cJSON *root, *spans;
	char *text;
	size_t i;

	for (i = 0; i < nbad; i++) {
		text = otlp_encode("svc", &bad[i], NULL, NULL, 1);
		ck_assert_ptr_nonnull(text);
		ck_assert_msg(strcmp(text, "{\"resourceSpans\":[]}") == 0,
		    "record %zu accepted: %s", i, text);
		free(text);
	}
	/* Mixed in with good ones, only the bad ones go. */
	ck_assert_uint_lt(nbad + 2, 32);
	recs[0] = REC("\"kind\":\"producer\",");
	for (i = 0; i < nbad; i++)
		recs[i + 1] = bad[i];
	recs[nbad + 1] = REC("\"kind\":\"consumer\",");
	text = otlp_encode("svc", recs, NULL, NULL, nbad + 2);
	root = cJSON_Parse(text);
	free(text);
	spans = spans_of(root, 0);
	ck_assert_int_eq(cJSON_GetArraySize(spans), 2);
	ck_assert_int_eq(num(cJSON_GetArrayItem(spans, 0), "kind"), 4);
	ck_assert_int_eq(num(cJSON_GetArrayItem(spans, 1), "kind"), 5);
	cJSON_Delete(root);
}
END_TEST

START_TEST(empty_request)
{
	char *text = otlp_encode("svc", NULL, NULL, NULL, 0);

	ck_assert_str_eq(text, "{\"resourceSpans\":[]}");
	free(text);
}
END_TEST

START_TEST(bad_utf8_replaced)
{
	const char *rec = "{\"trace_id\":\"" TID "\",\"span_id\":\"" SID "\","
	    "\"name\":\"caf\xe9\",\"attributes\":{\"k\":\"\xff\xfe ok \xc3\xa9\"},"
	    TIMES "}";
	cJSON *root = encode1(rec);
	cJSON *s = span0(root);

	ck_assert_str_eq(str(s, "name"), "caf\xef\xbf\xbd");
	ck_assert_str_eq(str(attr(get(s, "attributes"), "k"), "stringValue"),
	    "\xef\xbf\xbd\xef\xbf\xbd ok \xc3\xa9");
	cJSON_Delete(root);
}
END_TEST

START_TEST(escaping_survives)
{
	cJSON *root = encode1("{\"trace_id\":\"" TID "\",\"span_id\":\"" SID
	    "\",\"name\":\"a \\\"quoted\\\"\\nname\"," TIMES "}");

	ck_assert_str_eq(str(span0(root), "name"), "a \"quoted\"\nname");
	cJSON_Delete(root);
}
END_TEST

/* ---- the exporter: construction ----------------------------------------- */

static void
settings_for(struct settings *s, enum trace_transport t, const char *file,
    const char *endpoint)
{
	memset(s, 0, sizeof(*s));
	s->name = (char *)"svc";
	s->trace.transport = t;
	s->trace.file = (char *)file;
	s->trace.endpoint = (char *)endpoint;
}

START_TEST(none_builds_nothing)
{
	struct settings s;
	struct trace_export_stats st;
	char err[256] = "junk";

	settings_for(&s, TRACE_NONE, NULL, NULL);
	ck_assert_ptr_null(trace_exporter_new(&s, err, sizeof(err)));
	ck_assert_str_eq(err, "");
	trace_exporter_submit(NULL, "{}", 2, "w", 0);
	trace_exporter_reopen(NULL);
	memset(&st, 0xff, sizeof(st));
	trace_exporter_stats(NULL, &st);
	ck_assert_uint_eq(st.submitted, 0);
	ck_assert_uint_eq(st.dropped, 0);
	ck_assert_str_eq(st.last_error, "");
	trace_exporter_free(NULL, 1000);
}
END_TEST

START_TEST(file_open_error)
{
	struct settings s;
	char err[256];

	settings_for(&s, TRACE_FILE, "/nonexistent-plba/x/traces.jsonl", NULL);
	ck_assert_ptr_null(trace_exporter_new(&s, err, sizeof(err)));
	ck_assert_str_eq(err, "platform.trace.file: "
	    "/nonexistent-plba/x/traces.jsonl: No such file or directory");
}
END_TEST

START_TEST(bad_endpoint)
{
	static const char *const urls[] = {
		"not a url", "ftp://127.0.0.1/v1/traces", "127.0.0.1:4318",
		"http://", "", "http:///v1/traces", "https:///",
		"http://:4318/v1/traces",
	};
	struct settings s;
	struct trace_exporter *ex;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		settings_for(&s, TRACE_OTLP, NULL, urls[i]);
		ck_assert_msg(trace_exporter_new(&s, err, sizeof(err)) == NULL,
		    "%s accepted", urls[i]);
		ck_assert_msg(strncmp(err, "platform.trace.endpoint: ", 25) == 0,
		    "%s", err);
	}
	settings_for(&s, TRACE_OTLP, NULL, "https://collector.example:4318/v1/traces");
	ex = trace_exporter_new(&s, err, sizeof(err));
	ck_assert_msg(ex != NULL, "%s", err);
	trace_exporter_free(ex, 0);
}
END_TEST

/* Polls the stats until cond holds or ms pass. */
#define WAIT_STATS(ex, st, cond, ms) do {				\
	uint64_t until_ = now_ms() + (ms);				\
	for (;;) {							\
		trace_exporter_stats((ex), &(st));			\
		if ((cond) || now_ms() > until_)			\
			break;						\
		sleep_ms(10);						\
	}								\
} while (0)

/* ---- the file transport ------------------------------------------------- */

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s;
	long n;

	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = calloc(1, (size_t)n + 1);
	ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return s;
}

static void
tmpname(char *buf, size_t len, const char *tag)
{
	const char *dir = getenv("TMPDIR");

	snprintf(buf, len, "%s/plba-test-otlp-%s-%ld.jsonl",
	    dir != NULL ? dir : "/tmp", tag, (long)getpid());
	unlink(buf);
}

START_TEST(file_lines)
{
	const char *good = "{\"trace_id\":\"" TID "\",\"span_id\":\"" SID "\","
	    "\"name\":\"mail.parse\",\"resource\":\"theirs\","
	    "\n  \"attributes\":{\"n\":1}," TIMES "}\n";
	struct settings s;
	struct trace_exporter *ex;
	struct trace_export_stats st;
	char path[256], err[256], *text, *line, *save = NULL;
	cJSON *o, *res;
	int lines = 0;
	struct stat sb;

	tmpname(path, sizeof(path), "lines");
	settings_for(&s, TRACE_FILE, path, NULL);
	ex = trace_exporter_new(&s, err, sizeof(err));
	ck_assert_msg(ex != NULL, "%s", err);
	ck_assert_int_eq(stat(path, &sb), 0);
	trace_exporter_submit(ex, good, strlen(good), "mailer", 2);
	trace_exporter_submit(ex, "{\"nope\":1}", 10, "mailer", 2);
	trace_exporter_submit(ex, good, strlen(good), NULL, -1);
	/* The length counts, not a NUL: a record cut short is invalid. */
	trace_exporter_submit(ex, good, 20, "mailer", 2);
	WAIT_STATS(ex, st, st.exported + st.dropped == 4, 5000);
	ck_assert_uint_eq(st.submitted, 4);
	ck_assert_uint_eq(st.exported, 2);
	ck_assert_uint_eq(st.dropped, 2);
	ck_assert_uint_eq(st.invalid, 2);
	ck_assert_uint_eq(st.queued, 0);
	trace_exporter_free(ex, 1000);

	text = slurp(path);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), lines++) {
		ck_assert_ptr_nonnull(o = cJSON_Parse(line));
		ck_assert_str_eq(str(o, "trace_id"), TID);
		ck_assert_str_eq(str(o, "name"), "mail.parse");
		ck_assert_int_eq(num(get(o, "attributes"), "n"), 1);
		res = get(o, "resource");
		ck_assert_str_eq(str(res, "service.name"), "svc");
		ck_assert_str_eq(str(res, "worker"),
		    lines == 0 ? "mailer" : TRACE_EXPORT_MASTER);
		ck_assert_int_eq(num(res, "instance"), lines == 0 ? 2 : -1);
		cJSON_Delete(o);
	}
	ck_assert_int_eq(lines, 2);
	free(text);
	unlink(path);
}
END_TEST

/*
 * Records in the form libplba prints go to the file as their own text with
 * the resource spliced in; any other form is parsed and printed again; and
 * whatever a child sends, every line is one valid JSON object or the record
 * is dropped and counted.
 */
START_TEST(file_any_record_gives_json_lines)
{
	static const char *const valid[] = {
		REC(""),
		" " REC("\"resource\":{\"x\":1},\"resource\":2,\"a\":1.50,") "\n",
		REC("\"a\":\"tab\tnew\nline\\/\\u00e9\","),
		REC("\"attributes\":{\"deep\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{}]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]},"),
		REC("\"attributes\":{\"k\xff\":\"v\xc3\",\"ok\":\"\xc3\xa9\"},"),
		REC("\"attributes\":{\"id\":9007199254740993},"),
	};
	static const char *const invalid[] = {
		"", "{", "[]", "{\"trace_id\":", REC("") "}", "{\"a\":\"\\ud800\"}",
		"{\"trace_id\":\"" TID "\",\"span_id\":\"" SID "\",\"name\":\"\","
		    TIMES "}",
	};
	struct settings s;
	struct trace_exporter *ex;
	struct trace_export_stats st;
	char path[256], err[256], *text, *line, *save = NULL, want[1024];
	size_t i, n, k, nv = sizeof(valid) / sizeof(valid[0]);
	size_t ni = sizeof(invalid) / sizeof(invalid[0]);
	cJSON *o, *res;
	int lines = 0;

	tmpname(path, sizeof(path), "hostile");
	settings_for(&s, TRACE_FILE, path, NULL);
	ex = trace_exporter_new(&s, err, sizeof(err));
	ck_assert_msg(ex != NULL, "%s", err);
	for (i = 0; i < nv; i++)
		trace_exporter_submit(ex, valid[i], strlen(valid[i]),
		    "w\"\xff", (int)i);
	for (i = 0; i < ni; i++)
		trace_exporter_submit(ex, invalid[i], strlen(invalid[i]), "w", 0);
	WAIT_STATS(ex, st, st.exported + st.dropped == nv + ni, 5000);
	ck_assert_uint_eq(st.exported, nv);
	ck_assert_uint_eq(st.invalid, ni);
	trace_exporter_free(ex, 1000);

	text = slurp(path);
	/* The first, printed as libplba prints, went through as text. */
	snprintf(want, sizeof(want), "%.*s,\"resource\":{\"service.name\":"
	    "\"svc\",\"worker\":\"w\\\"\xef\xbf\xbd\",\"instance\":0}}\n",
	    (int)strlen(REC("")) - 1, REC(""));
	ck_assert_int_eq(strncmp(text, want, strlen(want)), 0);
	/* JSON is UTF-8: bad bytes were replaced, good ones kept. */
	for (i = 0, n = strlen(text); i < n; i += k)
		ck_assert_msg((k = utf8_seq((unsigned char *)text + i,
		    n - i)) > 0, "not UTF-8 at %zu: %s", i, text + i);
	ck_assert_ptr_nonnull(strstr(text, "\"k\xef\xbf\xbd\":\"v\xef\xbf\xbd\","
	    "\"ok\":\"\xc3\xa9\""));
	/* Parsed and printed again, an integer past 2^53 keeps its digits. */
	ck_assert_ptr_nonnull(strstr(text, "\"id\":9007199254740993}"));
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), lines++) {
		ck_assert_msg((o = cJSON_Parse(line)) != NULL, "%s", line);
		ck_assert_str_eq(str(o, "trace_id"), TID);
		res = get(o, "resource");
		ck_assert_str_eq(str(res, "worker"), "w\"\xef\xbf\xbd");
		ck_assert_int_eq(num(res, "instance"), lines);
		/* One resource, ours, last. */
		ck_assert_ptr_eq(res, o->child->prev);
		ck_assert_ptr_null(strstr(line, "\"resource\":{\"x\""));
		cJSON_Delete(o);
	}
	ck_assert_int_eq(lines, (int)nv);
	free(text);
	unlink(path);
}
END_TEST

/*
 * The loop stages records and flushes once an iteration: nothing staged
 * is seen or counted before the flush, the bounds hold for what is staged,
 * and blocks reused for later records never mix them up.
 */
START_TEST(file_staged_until_flush)
{
	struct settings s;
	struct trace_exporter *ex;
	struct trace_export_stats st;
	char path[256], err[256], big[3000], *text, *line, *save = NULL;
	size_t i, n = TRACE_EXPORT_MAX_RECORDS + 5;
	cJSON *o;
	int lines = 0, bigs = 0;

	tmpname(path, sizeof(path), "staged");
	settings_for(&s, TRACE_FILE, path, NULL);
	ex = trace_exporter_new(&s, err, sizeof(err));
	ck_assert_msg(ex != NULL, "%s", err);
	for (i = 0; i < n; i++)
		trace_exporter_stage(ex, REC(""), strlen(REC("")), "w", (int)i);
	trace_exporter_stats(ex, &st);
	ck_assert_uint_eq(st.submitted, 0);
	ck_assert_uint_eq(st.queued, 0);
	trace_exporter_flush(ex);
	trace_exporter_stats(ex, &st);
	ck_assert_uint_eq(st.submitted, n);
	ck_assert_uint_eq(st.dropped, 5);
	ck_assert_uint_le(st.queued, TRACE_EXPORT_MAX_RECORDS);
	WAIT_STATS(ex, st, st.exported == TRACE_EXPORT_MAX_RECORDS, 20000);
	ck_assert_msg(strncmp(st.last_error, "platform.trace: the span buffer "
	    "is full (10000 spans, ", 54) == 0, "%s", st.last_error);

	/* Again, through the log the first round went round, mixed with
	 * records of 2.5 KB. */
	snprintf(big, sizeof(big), REC("\"attributes\":{\"pad\":\"%2500d\"},"), 7);
	for (i = 0; i < 300; i++) {
		if (i % 3 == 0)
			trace_exporter_stage(ex, big, strlen(big), "w", -2);
		else
			trace_exporter_stage(ex, REC(""), strlen(REC("")), "x",
			    (int)i);
		if (i % 7 == 0)
			trace_exporter_flush(ex);
	}
	trace_exporter_flush(ex);
	WAIT_STATS(ex, st, st.exported == TRACE_EXPORT_MAX_RECORDS + 300, 5000);
	ck_assert_uint_eq(st.exported, TRACE_EXPORT_MAX_RECORDS + 300);
	ck_assert_uint_eq(st.dropped, 5);
	trace_exporter_free(ex, 1000);

	text = slurp(path);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), lines++) {
		ck_assert_msg((o = cJSON_Parse(line)) != NULL, "%s", line);
		if (lines >= TRACE_EXPORT_MAX_RECORDS) {
			i = (size_t)(lines - TRACE_EXPORT_MAX_RECORDS);
			if (i % 3 == 0) {
				ck_assert_int_eq(num(get(o, "resource"),
				    "instance"), -2);
				ck_assert_uint_eq(strlen(str(get(o, "attributes"),
				    "pad")), 2500);
				bigs++;
			} else
				ck_assert_int_eq(num(get(o, "resource"),
				    "instance"), (int)i);
		} else
			ck_assert_int_eq(num(get(o, "resource"), "instance"),
			    lines);
		cJSON_Delete(o);
	}
	ck_assert_int_eq(lines, TRACE_EXPORT_MAX_RECORDS + 300);
	ck_assert_int_eq(bigs, 100);
	free(text);
	unlink(path);
}
END_TEST

/*
 * The exporter's log (trace_export.c) goes round many times, skips its
 * end when a record does not fit before it, and is overflowed into blocks
 * of their own when the transport is behind or a record is large: every
 * record still comes out once, whole and in order.
 */
START_TEST(file_log_keeps_records_whole_and_in_order)
{
	enum { ROUNDS = 8, PER_ROUND = 600 };
	struct settings s;
	struct trace_exporter *ex;
	struct trace_export_stats st;
	char path[256], err[256], *rec, *text, *line, *save = NULL;
	size_t i, pad, total = 0, sizes[ROUNDS * PER_ROUND];
	unsigned seed = 12345;
	const char *p;
	cJSON *o;
	int r, lines = 0;

	tmpname(path, sizeof(path), "log");
	settings_for(&s, TRACE_FILE, path, NULL);
	ex = trace_exporter_new(&s, err, sizeof(err));
	ck_assert_msg(ex != NULL, "%s", err);
	rec = malloc(100 << 10);
	ck_assert_ptr_nonnull(rec);
	for (r = 0; r < ROUNDS; r++) {
		/* 600 records of 100 B to 40 KB, some past 64 KiB: some 12 MB
		 * a round, three times what the log holds.  Every other round
		 * is staged whole before the thread sees any of it, so that
		 * the log fills; the others are handed over as they come. */
		for (i = (size_t)r * PER_ROUND; i < (size_t)(r + 1) * PER_ROUND;
		    i++) {
			seed = seed * 1103515245u + 12345u;
			pad = (seed >> 8) % 40000;
			if (i % 97 == 0)
				pad = 70000 + i % 5000;
			sizes[i] = pad;
			total += pad;
			snprintf(rec, 100 << 10, REC("\"attributes\":{\"n\":%zu,"
			    "\"pad\":\"%*s\"},"), i, (int)pad, "");
			memset(strstr(rec, "\"pad\":\"") + 7, 'a' + (int)(i % 26),
			    pad);
			trace_exporter_stage(ex, rec, strlen(rec), "w", r);
			if (r % 2 == 1 && i % 7 == 6)
				trace_exporter_flush(ex);
		}
		trace_exporter_flush(ex);
		WAIT_STATS(ex, st, st.queued == 0, 20000);
		ck_assert_uint_eq(st.queued, 0);
	}
	ck_assert_uint_eq(st.submitted, ROUNDS * PER_ROUND);
	ck_assert_uint_eq(st.dropped, 0);
	ck_assert_uint_eq(st.exported, ROUNDS * PER_ROUND);
	ck_assert_uint_gt(total, 8u * (4u << 20));
	trace_exporter_free(ex, 1000);
	free(rec);

	text = slurp(path);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), lines++) {
		ck_assert_msg((o = cJSON_Parse(line)) != NULL, "line %d", lines);
		ck_assert_int_eq(num(get(o, "attributes"), "n"), lines);
		p = str(get(o, "attributes"), "pad");
		ck_assert_uint_eq(strlen(p), sizes[lines]);
		ck_assert_uint_eq(strspn(p, (char[]){ (char)('a' + lines % 26),
		    '\0' }), sizes[lines]);
		ck_assert_int_eq(num(get(o, "resource"), "instance"),
		    lines / PER_ROUND);
		cJSON_Delete(o);
	}
	ck_assert_int_eq(lines, ROUNDS * PER_ROUND);
	free(text);
	unlink(path);
}
END_TEST

/*
 * A record staged into the log can be read there, as it was staged, after
 * its export too, until records after it have taken its bytes: the
 * /traces ring keeps no copy of its own.  One the log did not take, too
 * large or dropped, is not there.
 */
START_TEST(file_log_lends_its_records)
{
	enum { N = 300 };
	struct settings s;
	struct trace_exporter *ex;
	struct trace_export_stats st;
	struct trace_logged l;
	char path[256], err[256], rec[600], *big;
	uint64_t at[N], first, last = 0;
	size_t i, filled = 0, staged = 0;

	tmpname(path, sizeof(path), "lend");
	settings_for(&s, TRACE_FILE, path, NULL);
	ex = trace_exporter_new(&s, err, sizeof(err));
	ck_assert_msg(ex != NULL, "%s", err);
	for (i = 0; i < N; i++) {
		snprintf(rec, sizeof(rec), REC("\"attributes\":{\"n\":%zu},"),
		    i);
		at[i] = i % 2 ? trace_exporter_stage_valid(ex, rec, strlen(rec),
		    i % 3 ? "mailer" : NULL, (int)i) :
		    trace_exporter_stage(ex, rec, strlen(rec), "w", (int)i);
		ck_assert_uint_ne(at[i], 0);
	}
	trace_exporter_flush(ex);
	WAIT_STATS(ex, st, st.exported == N, 10000);
	ck_assert_uint_eq(st.exported, N);
	for (i = 0; i < N; i++) {
		snprintf(rec, sizeof(rec), REC("\"attributes\":{\"n\":%zu},"),
		    i);
		ck_assert(trace_exporter_logged(ex, at[i], &l));
		ck_assert_str_eq(l.json, rec);
		ck_assert_uint_eq(l.len, strlen(rec));
		ck_assert_str_eq(l.worker, i % 2 == 0 ? "w" : i % 3 ?
		    "mailer" : TRACE_EXPORT_MASTER);
		ck_assert_int_eq(l.instance, (int)i);
		ck_assert(l.valid == (i % 2 == 1));
	}
	ck_assert(!trace_exporter_logged(ex, 0, &l));

	/* Larger than a log record may be: a block of its own. */
	big = malloc(80 << 10);
	ck_assert_ptr_nonnull(big);
	snprintf(big, 80 << 10, REC("\"attributes\":{\"pad\":\"%*s\"},"),
	    70000, "");
	ck_assert_uint_eq(trace_exporter_stage(ex, big, strlen(big), "w", 0), 0);
	free(big);

	/* Round the log once more: the first records go, the last stay, and
	 * a record is whole for as long as it can be read. */
	first = at[0];
	while (trace_exporter_logged(ex, first, &l)) {
		ck_assert_ptr_nonnull(strstr(l.json, "\"n\":0}"));
		ck_assert_uint_lt(filled, 2 * TRACE_EXPORT_LOG_BYTES);
		snprintf(rec, sizeof(rec), REC("\"attributes\":{\"fill\":%zu},"),
		    filled);
		last = trace_exporter_stage(ex, rec, strlen(rec), "w", 7);
		ck_assert_uint_ne(last, 0);
		filled += strlen(rec);
		if (++staged % 64 == 0) {
			trace_exporter_flush(ex);
			WAIT_STATS(ex, st, st.queued == 0, 10000);
		}
	}
	ck_assert_uint_gt(filled, TRACE_EXPORT_LOG_BYTES / 2);
	ck_assert(trace_exporter_logged(ex, last, &l));
	ck_assert_int_eq(l.instance, 7);
	ck_assert_ptr_nonnull(strstr(l.json, "\"fill\":"));
	trace_exporter_free(ex, 5000);
	unlink(path);
}
END_TEST

/*
 * A span of the master's is staged as its fields and printed by the
 * exporter thread: its line is the record cJSON would print, with the
 * resource; a detail that is not plain ASCII comes out escaped as cJSON
 * escapes it; and the log lends the fields to a lookup.
 */
/*
 * A master's span is printed without a room check a piece: room is made
 * up front for all but the strings that need escapes, and again after
 * each.  Long strings, escaped or not, in either place, from a text that
 * starts small, come out as cJSON prints them.
 */
START_TEST(task_span_text_grows_for_its_strings)
{
	static const size_t lens[] = { 0, 1, 50, 399, 400, 401, 3000 };
	struct task_span span = {
		.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736",
		.span_id = { 1, 2, 3, 4, 5, 6, 7, 8 },
		.parent_id = "0102030405060708",
		.time_ns = 1795804122987940736u, .task_id = UINT64_MAX,
		.attempt = 4000000000u, .name = "plba.dead_letter",
	};
	char small[8], *queue, *detail, *printed;
	struct rec_text t;
	const char *text;
	size_t qi, di, i;
	cJSON *o;
	int esc;

	queue = malloc(3001);
	detail = malloc(3001);
	for (esc = 0; esc < 4; esc++)
		for (qi = 1; qi < sizeof(lens) / sizeof(lens[0]); qi++)
			for (di = 0; di < sizeof(lens) / sizeof(lens[0]); di++) {
				for (i = 0; i < lens[qi]; i++)
					queue[i] = (esc & 1) && i % 3 == 0 ?
					    '\x01' : 'q';
				queue[lens[qi]] = '\0';
				for (i = 0; i < lens[di]; i++)
					detail[i] = (esc & 2) && i % 2 == 0 ?
					    '"' : 'd';
				detail[lens[di]] = '\0';
				span.queue = queue;
				span.detail = lens[di] > 0 ? detail : NULL;
				span.error = esc == 3;
				rec_text_init(&t, small, sizeof(small));
				ck_assert_int_eq(task_span_print(&span, &t),
				    !(esc & 1) && (!(esc & 2) || lens[di] == 0));
				ck_assert_ptr_nonnull(text = rec_text_end(&t));
				ck_assert_ptr_nonnull(o = cJSON_Parse(text));
				ck_assert_str_eq(str(get(o, "attributes"),
				    "plba.queue"), queue);
				ck_assert_ptr_nonnull(printed =
				    cJSON_PrintUnformatted(o));
				ck_assert_str_eq(text, printed);
				free(printed);
				cJSON_Delete(o);
				rec_text_free(&t);
			}
	free(queue);
	free(detail);
}
END_TEST

START_TEST(file_task_spans_printed_by_the_thread)
{
	struct settings s;
	struct trace_exporter *ex;
	struct trace_export_stats st;
	struct trace_logged l;
	struct task_span span = {
		.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736",
		.span_id = { 0, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7 },
		.parent_id = "0102030405060708",
		.time_ns = 1795804122987940736u, .task_id = 233, .attempt = 2,
		.name = "plba.dispatch", .queue = "mail", .detail = "consumer.0",
	};
	char path[256], err[256], detail[] = "nack: \"bad\"\tmail \xc3\xa9";
	char *text, *line, *printed, *save = NULL;
	uint64_t at;
	cJSON *o;

	tmpname(path, sizeof(path), "task");
	settings_for(&s, TRACE_FILE, path, NULL);
	ex = trace_exporter_new(&s, err, sizeof(err));
	ck_assert_msg(ex != NULL, "%s", err);
	at = trace_exporter_stage_task_span(ex, &span);
	ck_assert_uint_ne(at, 0);
	span.name = "plba.redeliver";
	span.detail = detail;
	span.error = true;
	ck_assert_uint_ne(trace_exporter_stage_task_span(ex, &span), 0);
	trace_exporter_flush(ex);
	WAIT_STATS(ex, st, st.exported == 2, 10000);
	ck_assert_uint_eq(st.exported, 2);
	ck_assert(trace_exporter_logged(ex, at, &l));
	ck_assert_ptr_null(l.json);
	ck_assert_ptr_nonnull(l.task_span);
	ck_assert_str_eq(l.task_span->name, "plba.dispatch");
	ck_assert_str_eq(l.task_span->queue, "mail");
	ck_assert_str_eq(l.task_span->detail, "consumer.0");
	ck_assert_uint_eq(l.task_span->task_id, 233);
	ck_assert_str_eq(l.worker, TRACE_EXPORT_MASTER);
	ck_assert_int_eq(l.instance, -1);
	trace_exporter_free(ex, 5000);

	text = slurp(path);
	line = strtok_r(text, "\n", &save);
	ck_assert_ptr_nonnull(line);
	ck_assert_str_eq(line, "{\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\","
	    "\"span_id\":\"00f067aa0ba902b7\",\"parent_span_id\":"
	    "\"0102030405060708\",\"name\":\"plba.dispatch\",\"kind\":"
	    "\"internal\",\"start_ns\":\"1795804122987940736\",\"end_ns\":"
	    "\"1795804122987940736\",\"attributes\":{\"plba.queue\":\"mail\","
	    "\"plba.task.id\":\"233\",\"plba.task.attempt\":2,\"plba.detail\":"
	    "\"consumer.0\"},\"status\":{\"code\":\"ok\"},\"resource\":"
	    "{\"service.name\":\"svc\",\"worker\":\"plba-master\",\"instance\":-1}}");
	line = strtok_r(NULL, "\n", &save);
	ck_assert_ptr_nonnull(line);
	ck_assert_ptr_nonnull(o = cJSON_Parse(line));
	ck_assert_str_eq(str(o, "name"), "plba.redeliver");
	ck_assert_str_eq(str(get(o, "attributes"), "plba.detail"), detail);
	ck_assert_str_eq(str(get(o, "status"), "code"), "error");
	ck_assert_str_eq(str(get(o, "status"), "message"), detail);
	/* As cJSON prints it, byte for byte. */
	ck_assert_ptr_nonnull(printed = cJSON_PrintUnformatted(o));
	ck_assert_str_eq(line, printed);
	free(printed);
	cJSON_Delete(o);
	ck_assert_ptr_null(strtok_r(NULL, "\n", &save));
	free(text);
	unlink(path);
}
END_TEST

/*
 * What waits for the transport, the log and the records too big for it
 * together, takes at most TRACE_EXPORT_MAX_BYTES of memory: measured by
 * the allocator, with nothing handed to the thread yet.
 */
START_TEST(file_buffer_within_its_bytes)
{
	struct settings s;
	struct trace_exporter *ex;
	struct trace_export_stats st;
	struct mallinfo2 before, after;
	char path[256], err[256], *rec;
	size_t i, held, pad = 100000, n = 250;

	tmpname(path, sizeof(path), "bytes");
	settings_for(&s, TRACE_FILE, path, NULL);
	ex = trace_exporter_new(&s, err, sizeof(err));
	ck_assert_msg(ex != NULL, "%s", err);
	rec = malloc(pad + 256);
	ck_assert_ptr_nonnull(rec);
	snprintf(rec, pad + 256, REC("\"attributes\":{\"pad\":\"%*s\"},"),
	    (int)pad, "");
	before = mallinfo2();
	/* Small ones first, into the log, then 25 MB of large ones. */
	for (i = 0; i < 2000; i++)
		trace_exporter_stage(ex, REC(""), strlen(REC("")), "w", 0);
	for (i = 0; i < n; i++)
		trace_exporter_stage(ex, rec, strlen(rec), "w", 1);
	after = mallinfo2();
	held = (after.uordblks + after.hblkhd) - (before.uordblks +
	    before.hblkhd);
	ck_assert_msg(held <= TRACE_EXPORT_MAX_BYTES, "%zu bytes held", held);
	trace_exporter_flush(ex);
	trace_exporter_stats(ex, &st);
	ck_assert_uint_eq(st.submitted, 2000 + n);
	ck_assert_uint_gt(st.dropped, 0);
	ck_assert_uint_lt(st.dropped, n);
	trace_exporter_free(ex, 5000);
	free(rec);
	unlink(path);
}
END_TEST

/*
 * Records the loop took from trace frames unchecked (traces_frame()) are
 * checked on the exporter thread: a span in any JSON form is written, one
 * whose frame had members after the record is written as the record; a
 * frame that is not JSON names its sender, once, and is dropped.
 */
START_TEST(file_frames_vetted_by_the_thread)
{
	static const char *const recs[] = {
		REC(""),				/* canonical */
		REC("\"kind\":\"internal\" ,"),		/* JSON, not canonical */
		REC("") ",\"extra\":[1]",		/* the frame goes on */
		REC("\"kind\":\"internal\" ,") ",\"extra\":2",	/* both */
		"{\"trace_id\":\"" TID "\",\"x\":tru",	/* not JSON */
		REC("\"note\":\"caf\xe9\","),		/* not UTF-8 */
		"{\"trace_id\":\"" TID "\"}",		/* JSON, no span */
	};
	struct settings s;
	struct trace_exporter *ex;
	struct trace_export_stats st;
	struct trace_offender off;
	char path[256], err[256], *text, *line, *save = NULL;
	size_t i;
	cJSON *o;
	int lines = 0;

	tmpname(path, sizeof(path), "vetted");
	settings_for(&s, TRACE_FILE, path, NULL);
	ex = trace_exporter_new(&s, err, sizeof(err));
	ck_assert_msg(ex != NULL, "%s", err);
	ck_assert(!trace_exporter_offender(ex, &off));
	for (i = 0; i < sizeof(recs) / sizeof(recs[0]); i++)
		trace_exporter_stage_frame(ex, recs[i], strlen(recs[i]), "w",
		    (int)i, 1000 + (int)i);
	/* The same sender twice is named once. */
	trace_exporter_stage_frame(ex, recs[4], strlen(recs[4]), "w", 4, 1004);
	trace_exporter_flush(ex);
	WAIT_STATS(ex, st, st.exported + st.dropped == 8, 5000);
	ck_assert_uint_eq(st.exported, 4);
	ck_assert_uint_eq(st.dropped, 4);
	ck_assert_uint_eq(st.invalid, 4);

	ck_assert(trace_exporter_offender(ex, &off));
	ck_assert_str_eq(off.worker, "w");
	ck_assert_int_eq(off.instance + 1000, off.pid);
	ck_assert_msg(strstr(off.why, "invalid") != NULL, "%s", off.why);
	ck_assert(trace_exporter_offender(ex, &off));
	ck_assert_int_eq(off.instance + 1000, off.pid);
	ck_assert_msg(strstr(off.why, "invalid") != NULL, "%s", off.why);
	ck_assert(!trace_exporter_offender(ex, &off));
	trace_exporter_free(ex, 1000);

	text = slurp(path);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), lines++) {
		ck_assert_msg((o = cJSON_Parse(line)) != NULL, "%s", line);
		ck_assert_int_eq(num(get(o, "resource"), "instance"), lines);
		ck_assert_ptr_null(cJSON_GetObjectItem(o, "extra"));
		cJSON_Delete(o);
	}
	ck_assert_int_eq(lines, 4);
	free(text);
	unlink(path);
}
END_TEST

START_TEST(file_reopen)
{
	const char *rec = REC("");
	struct settings s;
	struct trace_exporter *ex;
	struct trace_export_stats st;
	char path[256], rotated[300], err[256], *text;

	tmpname(path, sizeof(path), "reopen");
	snprintf(rotated, sizeof(rotated), "%s.1", path);
	settings_for(&s, TRACE_FILE, path, NULL);
	ex = trace_exporter_new(&s, err, sizeof(err));
	ck_assert_msg(ex != NULL, "%s", err);
	trace_exporter_submit(ex, rec, strlen(rec), "w", 0);
	WAIT_STATS(ex, st, st.exported == 1, 5000);
	ck_assert_uint_eq(st.exported, 1);
	ck_assert_int_eq(rename(path, rotated), 0);
	trace_exporter_reopen(ex);
	trace_exporter_submit(ex, rec, strlen(rec), "w", 1);
	trace_exporter_submit(ex, rec, strlen(rec), "w", 2);
	/* free flushes what is left. */
	trace_exporter_free(ex, 2000);

	text = slurp(rotated);
	ck_assert_ptr_nonnull(strstr(text, "\"instance\":0}"));
	ck_assert_ptr_null(strchr(strchr(text, '\n') + 1, '\n'));
	free(text);
	text = slurp(path);
	ck_assert_ptr_null(strstr(text, "\"instance\":0}"));
	ck_assert_ptr_nonnull(strstr(text, "\"instance\":1}"));
	ck_assert_ptr_nonnull(strstr(text, "\"instance\":2}"));
	free(text);
	unlink(path);
	unlink(rotated);
}
END_TEST

/* ---- the OTLP transport, against a scripted collector ------------------- */

struct collector {
	int		 fd;
	int		 port;
	pthread_t	 thread;
	pthread_mutex_t	 mu;
	int		 script[8];	/* answers to the first requests; then 200 */
	size_t		 nscript;
	bool		 hang;		/* read requests, never answer */
	_Atomic bool	 stop;
	size_t		 requests;
	size_t		 spans;
	bool		 bad_request;	/* a request that was not OTLP JSON */
	char		 content_type[64];
	char		 path[64];
	char		*last_body;
};

static size_t
count_spans(const char *body)
{
	cJSON *o = cJSON_Parse(body), *rs, *ss, *sp;
	size_t n = 0;

	if (o == NULL)
		return (size_t)-1;
	cJSON_ArrayForEach(rs, cJSON_GetObjectItem(o, "resourceSpans"))
		cJSON_ArrayForEach(ss, cJSON_GetObjectItem(rs, "scopeSpans"))
			cJSON_ArrayForEach(sp, cJSON_GetObjectItem(ss, "spans"))
				n++;
	cJSON_Delete(o);
	return n;
}

/* Reads one request off fd; false at EOF. */
static bool
read_request(struct collector *c, int fd)
{
	static char buf[8 << 20];
	size_t len = 0, clen = 0, hlen;
	ssize_t r;
	char *end, *h, *line, *save = NULL;
	char ctype[64] = "", path[64] = "";

	while ((end = memmem(buf, len, "\r\n\r\n", 4)) == NULL) {
		if (len == sizeof(buf) ||
		    (r = read(fd, buf + len, sizeof(buf) - len)) <= 0)
			return false;
		len += (size_t)r;
	}
	hlen = (size_t)(end - buf) + 4;
	*end = '\0';
	sscanf(buf, "POST %63s ", path);
	for (line = strtok_r(buf, "\r\n", &save); line != NULL;
	    line = strtok_r(NULL, "\r\n", &save)) {
		if ((h = strchr(line, ':')) == NULL)
			continue;
		*h++ = '\0';
		while (*h == ' ')
			h++;
		if (strcasecmp(line, "Content-Length") == 0)
			clen = strtoul(h, NULL, 10);
		else if (strcasecmp(line, "Content-Type") == 0)
			snprintf(ctype, sizeof(ctype), "%s", h);
	}
	ck_assert_uint_lt(hlen + clen, sizeof(buf));
	while (len < hlen + clen) {
		if ((r = read(fd, buf + len, sizeof(buf) - len)) <= 0)
			return false;
		len += (size_t)r;
	}
	pthread_mutex_lock(&c->mu);
	c->requests++;
	free(c->last_body);
	c->last_body = strndup(buf + hlen, clen);
	if (count_spans(c->last_body) == (size_t)-1)
		c->bad_request = true;
	else
		c->spans += count_spans(c->last_body);
	snprintf(c->content_type, sizeof(c->content_type), "%s", ctype);
	snprintf(c->path, sizeof(c->path), "%s", path);
	pthread_mutex_unlock(&c->mu);
	return true;
}

static void *
collector_main(void *arg)
{
	struct collector *c = arg;
	char resp[256];
	const char *body;
	size_t n;
	int fd, code;

	while ((fd = accept(c->fd, NULL, NULL)) != -1) {
		while (read_request(c, fd)) {
			if (c->hang) {
				while (!c->stop)
					sleep_ms(10);
				break;
			}
			pthread_mutex_lock(&c->mu);
			n = c->requests;
			pthread_mutex_unlock(&c->mu);
			code = n <= c->nscript ? c->script[n - 1] : 200;
			body = code == 200 ? "{}" :
			    "{\"code\":3,\"message\":\"go away\"}";
			snprintf(resp, sizeof(resp), "HTTP/1.1 %d X\r\n"
			    "Content-Type: application/json\r\n"
			    "Content-Length: %zu\r\n\r\n%s", code, strlen(body),
			    body);
			if (write(fd, resp, strlen(resp)) < 0)
				break;
		}
		close(fd);
	}
	return NULL;
}

/* A listening socket on 127.0.0.1; closed at once, it is a dead port. */
static int
listen_local(int *port)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static void
collector_start(struct collector *c)
{
	c->fd = listen_local(&c->port);
	pthread_mutex_init(&c->mu, NULL);
	ck_assert_int_eq(pthread_create(&c->thread, NULL, collector_main, c), 0);
}

/* Stops the collector thread once the exporter is gone. */
static void
collector_stop(struct collector *c)
{
	c->stop = true;
	shutdown(c->fd, SHUT_RDWR);
	pthread_join(c->thread, NULL);
	close(c->fd);
	free(c->last_body);
	pthread_mutex_destroy(&c->mu);
}

static size_t
collector_get(struct collector *c, size_t *spans)
{
	size_t n;

	pthread_mutex_lock(&c->mu);
	n = c->requests;
	if (spans != NULL)
		*spans = c->spans;
	ck_assert_msg(!c->bad_request, "the collector got bad JSON");
	pthread_mutex_unlock(&c->mu);
	return n;
}

static struct trace_exporter *
otlp_exporter(int port)
{
	struct settings s;
	struct trace_exporter *ex;
	char url[128], err[256];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/traces", port);
	settings_for(&s, TRACE_OTLP, NULL, url);
	ex = trace_exporter_new(&s, err, sizeof(err));
	ck_assert_msg(ex != NULL, "%s", err);
	return ex;
}

static void
submit_n(struct trace_exporter *ex, size_t n, const char *worker)
{
	const char *rec = REC("\"kind\":\"consumer\",");
	size_t i;

	for (i = 0; i < n; i++)
		trace_exporter_submit(ex, rec, strlen(rec), worker, (int)(i % 3));
}

START_TEST(otlp_exports)
{
	struct collector c = { 0 };
	struct trace_exporter *ex;
	struct trace_export_stats st;
	size_t spans;
	cJSON *root;
	const char *bad = "{\"trace_id\":\"xyz\"}";

	collector_start(&c);
	ex = otlp_exporter(c.port);
	submit_n(ex, 10, "mailer");
	trace_exporter_submit(ex, bad, strlen(bad), "mailer", 0);
	WAIT_STATS(ex, st, st.exported + st.dropped == 11, 5000);
	ck_assert_uint_eq(st.exported, 10);
	ck_assert_uint_eq(st.invalid, 1);
	ck_assert_uint_eq(st.dropped, 1);
	ck_assert_uint_eq(st.failed_batches, 0);
	ck_assert_uint_eq(st.retries, 0);
	ck_assert_uint_eq(collector_get(&c, &spans), 1);
	ck_assert_uint_eq(spans, 10);
	ck_assert_str_eq(c.content_type, "application/json");
	ck_assert_str_eq(c.path, "/v1/traces");
	root = cJSON_Parse(c.last_body);
	/* Three instances of one worker: three resources. */
	ck_assert_int_eq(cJSON_GetArraySize(get(root, "resourceSpans")), 3);
	ck_assert_str_eq(str(attr(resource_attrs(root, 2), "instance"),
	    "intValue"), "2");
	cJSON_Delete(root);
	trace_exporter_free(ex, 1000);
	collector_stop(&c);
}
END_TEST

/* The collector gets trace frames vetted as the file does. */
START_TEST(otlp_frames_vetted)
{
	const char *good = REC("") ",\"extra\":1";
	const char *bad = "{\"trace_id\":\"" TID "\",\"x\":tru";
	struct collector c = { 0 };
	struct trace_exporter *ex;
	struct trace_export_stats st;
	struct trace_offender off;
	size_t spans;

	collector_start(&c);
	ex = otlp_exporter(c.port);
	trace_exporter_stage_frame(ex, good, strlen(good), "mailer", 0, 700);
	trace_exporter_stage_frame(ex, bad, strlen(bad), "mailer", 1, 701);
	trace_exporter_flush(ex);
	WAIT_STATS(ex, st, st.exported + st.dropped == 2, 5000);
	ck_assert_uint_eq(st.exported, 1);
	ck_assert_uint_eq(st.invalid, 1);
	ck_assert_uint_eq(collector_get(&c, &spans), 1);
	ck_assert_uint_eq(spans, 1);
	ck_assert(trace_exporter_offender(ex, &off));
	ck_assert_int_eq(off.pid, 701);
	ck_assert_int_eq(off.instance, 1);
	ck_assert(!trace_exporter_offender(ex, &off));
	trace_exporter_free(ex, 1000);
	collector_stop(&c);
}
END_TEST

START_TEST(otlp_batches_by_time)
{
	struct collector c = { 0 };
	struct trace_exporter *ex;
	struct trace_export_stats st;
	uint64_t t0;
	size_t spans;

	collector_start(&c);
	ex = otlp_exporter(c.port);
	t0 = now_ms();
	submit_n(ex, 3, "w");
	sleep_ms(TRACE_EXPORT_DELAY_MS / 2);
	ck_assert_uint_eq(collector_get(&c, NULL), 0);
	WAIT_STATS(ex, st, st.exported == 3, 5000);
	ck_assert_uint_eq(st.exported, 3);
	ck_assert_uint_ge(now_ms() - t0, TRACE_EXPORT_DELAY_MS);
	ck_assert_uint_eq(collector_get(&c, &spans), 1);
	ck_assert_uint_eq(spans, 3);
	trace_exporter_free(ex, 1000);
	collector_stop(&c);
}
END_TEST

START_TEST(otlp_batches_by_size)
{
	struct collector c = { 0 };
	struct trace_exporter *ex;
	struct trace_export_stats st;
	uint64_t t0;
	size_t spans;

	collector_start(&c);
	ex = otlp_exporter(c.port);
	t0 = now_ms();
	submit_n(ex, TRACE_EXPORT_BATCH * 2 + 1, "w");
	WAIT_STATS(ex, st, st.exported >= TRACE_EXPORT_BATCH * 2, 5000);
	/* Two full batches left without waiting for the timer... */
	ck_assert_uint_lt(now_ms() - t0, TRACE_EXPORT_DELAY_MS);
	ck_assert_uint_eq(st.exported, TRACE_EXPORT_BATCH * 2);
	ck_assert_uint_eq(collector_get(&c, &spans), 2);
	ck_assert_uint_eq(spans, TRACE_EXPORT_BATCH * 2);
	/* ...and the odd one goes when free flushes. */
	trace_exporter_free(ex, 2000);
	ck_assert_uint_eq(collector_get(&c, &spans), 3);
	ck_assert_uint_eq(spans, TRACE_EXPORT_BATCH * 2 + 1);
	collector_stop(&c);
}
END_TEST

START_TEST(otlp_retries_then_succeeds)
{
	struct collector c = { .script = { 503, 429 }, .nscript = 2 };
	struct trace_exporter *ex;
	struct trace_export_stats st;
	size_t spans;

	collector_start(&c);
	ex = otlp_exporter(c.port);
	submit_n(ex, TRACE_EXPORT_BATCH, "w");
	WAIT_STATS(ex, st, st.exported + st.dropped == TRACE_EXPORT_BATCH, 5000);
	ck_assert_uint_eq(st.exported, TRACE_EXPORT_BATCH);
	ck_assert_uint_eq(st.retries, 2);
	ck_assert_uint_eq(st.failed_batches, 0);
	ck_assert_uint_eq(st.dropped, 0);
	ck_assert_uint_eq(st.errors, 2);
	ck_assert_msg(strstr(st.last_error, "HTTP 429: go away") != NULL, "%s",
	    st.last_error);
	ck_assert_uint_eq(collector_get(&c, &spans), 3);
	trace_exporter_free(ex, 1000);
	collector_stop(&c);
}
END_TEST

START_TEST(otlp_gives_up_after_tries)
{
	struct collector c = { .script = { 503, 502, 500, 500 }, .nscript = 4 };
	struct trace_exporter *ex;
	struct trace_export_stats st;
	uint64_t t0;

	collector_start(&c);
	ex = otlp_exporter(c.port);
	t0 = now_ms();
	submit_n(ex, TRACE_EXPORT_BATCH, "w");
	WAIT_STATS(ex, st, st.failed_batches == 1, 5000);
	/* Back-off: 200ms, then 400ms, between the three tries. */
	ck_assert_uint_ge(now_ms() - t0, 3 * TRACE_EXPORT_BACKOFF_MS);
	ck_assert_uint_eq(st.failed_batches, 1);
	ck_assert_uint_eq(st.retries, TRACE_EXPORT_TRIES - 1);
	ck_assert_uint_eq(st.dropped, TRACE_EXPORT_BATCH);
	ck_assert_uint_eq(st.exported, 0);
	ck_assert_uint_eq(st.queued, 0);
	ck_assert_msg(strstr(st.last_error, "HTTP 500") != NULL, "%s",
	    st.last_error);
	ck_assert_uint_eq(collector_get(&c, NULL), TRACE_EXPORT_TRIES);
	/* The next batch starts afresh (and the collector answers 200 now...
	 * after its fourth 500). */
	submit_n(ex, TRACE_EXPORT_BATCH, "w");
	WAIT_STATS(ex, st, st.exported == TRACE_EXPORT_BATCH, 5000);
	ck_assert_uint_eq(st.exported, TRACE_EXPORT_BATCH);
	ck_assert_uint_eq(st.retries, TRACE_EXPORT_TRIES);
	trace_exporter_free(ex, 1000);
	collector_stop(&c);
}
END_TEST

START_TEST(otlp_4xx_not_retried)
{
	struct collector c = { .script = { 400 }, .nscript = 1 };
	struct trace_exporter *ex;
	struct trace_export_stats st;

	collector_start(&c);
	ex = otlp_exporter(c.port);
	submit_n(ex, 7, "w");
	WAIT_STATS(ex, st, st.failed_batches == 1, 5000);
	ck_assert_uint_eq(st.failed_batches, 1);
	ck_assert_uint_eq(st.retries, 0);
	ck_assert_uint_eq(st.dropped, 7);
	ck_assert_msg(strstr(st.last_error, "HTTP 400: go away") != NULL, "%s",
	    st.last_error);
	sleep_ms(300);
	ck_assert_uint_eq(collector_get(&c, NULL), 1);
	trace_exporter_free(ex, 1000);
	collector_stop(&c);
}
END_TEST

START_TEST(otlp_collector_down_stays_bounded)
{
	struct trace_exporter *ex;
	struct trace_export_stats st;
	const char *rec = REC("");
	size_t i, total = TRACE_EXPORT_MAX_RECORDS * 3;
	uint64_t t0;
	int port, fd;

	fd = listen_local(&port);
	close(fd);		/* nothing listens there now */
	ex = otlp_exporter(port);
	/* submit() does no I/O at all, whatever the collector does; how
	 * long it takes here says more about this box's load than about
	 * it, so only the bounds are checked. */
	for (i = 0; i < total; i++) {
		trace_exporter_submit(ex, rec, strlen(rec), "w", 0);
		if (i % 1000 == 0) {
			trace_exporter_stats(ex, &st);
			ck_assert_uint_le(st.queued, TRACE_EXPORT_MAX_RECORDS);
		}
	}
	trace_exporter_stats(ex, &st);
	ck_assert_uint_eq(st.submitted, total);
	ck_assert_uint_le(st.queued, TRACE_EXPORT_MAX_RECORDS);
	ck_assert_uint_ge(st.dropped, total - TRACE_EXPORT_MAX_RECORDS);
	ck_assert_uint_eq(st.exported + st.dropped + st.queued, total);
	ck_assert_msg(strstr(st.last_error, "buffer is full") != NULL ||
	    strstr(st.last_error, "platform.trace.endpoint") != NULL, "%s",
	    st.last_error);
	WAIT_STATS(ex, st, st.failed_batches >= 1, 5000);
	ck_assert_uint_ge(st.failed_batches, 1);
	ck_assert_msg(strstr(st.last_error, "platform.trace.endpoint: http://"
	    "127.0.0.1:") != NULL, "%s", st.last_error);
	/* Stopping does not wait for a collector that is not there. */
	/* Well under curl's 5 s timeout, with room for a loaded box. */
	t0 = now_ms();
	trace_exporter_free(ex, 300);
	ck_assert_uint_lt(now_ms() - t0, 4000);
}
END_TEST

/* An exporter whose first batch hangs at collector c (.hang set). */
static struct trace_exporter *
hung_exporter(struct collector *c)
{
	struct trace_exporter *ex;
	uint64_t t0;

	collector_start(c);
	ex = otlp_exporter(c->port);
	submit_n(ex, TRACE_EXPORT_BATCH, "w");
	t0 = now_ms();
	while (collector_get(c, NULL) == 0 && now_ms() - t0 < 5000)
		sleep_ms(10);
	ck_assert_uint_eq(collector_get(c, NULL), 1);
	return ex;
}

START_TEST(otlp_hung_collector_free_keeps_deadline)
{
	struct collector c = { .hang = true };
	struct trace_exporter *ex;
	struct trace_export_stats st;
	uint64_t t0;

	ex = hung_exporter(&c);
	/* The loop goes on submitting while the request hangs. */
	submit_n(ex, 10, "w");
	trace_exporter_stats(ex, &st);
	ck_assert_uint_eq(st.queued, TRACE_EXPORT_BATCH + 10);
	/* It waits for its deadline, then gives up on the hung transfer
	 * well before curl's own 5 s timeout would (room for a loaded box). */
	t0 = now_ms();
	trace_exporter_free(ex, 500);
	ck_assert_uint_ge(now_ms() - t0, 400);
	ck_assert_uint_lt(now_ms() - t0, 4500);
	collector_stop(&c);
}
END_TEST

/* What a reload does to the exporter it replaces: no waiting on the loop. */
START_TEST(otlp_retire_does_not_wait)
{
	struct collector c = { .hang = true };
	struct trace_exporter *ex;
	struct trace_export_stats st;
	uint64_t t0;

	ex = hung_exporter(&c);
	t0 = now_ms();
	trace_exporter_retire(ex, 500);
	/* A later deadline does not put off the first. */
	trace_exporter_retire(ex, 60000);
	ck_assert_uint_lt(now_ms() - t0, 400);
	ck_assert(!trace_exporter_done(ex));
	/* Retired: what still comes is dropped, and counted. */
	submit_n(ex, 3, "w");
	trace_exporter_stats(ex, &st);
	ck_assert_uint_eq(st.dropped, 3);
	while (!trace_exporter_done(ex) && now_ms() - t0 < 10000)
		sleep_ms(10);
	ck_assert(trace_exporter_done(ex));
	ck_assert_uint_ge(now_ms() - t0, 400);
	ck_assert_uint_lt(now_ms() - t0, 4500);
	trace_exporter_stats(ex, &st);
	ck_assert_uint_eq(st.dropped, TRACE_EXPORT_BATCH + 3);
	ck_assert_uint_eq(st.queued, 0);
	/* Done: freeing it waits for nothing. */
	t0 = now_ms();
	trace_exporter_free(ex, 60000);
	ck_assert_uint_lt(now_ms() - t0, 1000);
	collector_stop(&c);
}
END_TEST

START_TEST(otlp_free_flushes)
{
	struct collector c = { 0 };
	struct trace_exporter *ex;
	size_t spans;
	uint64_t t0;

	collector_start(&c);
	ex = otlp_exporter(c.port);
	submit_n(ex, 5, "w");
	t0 = now_ms();
	trace_exporter_free(ex, 3000);
	/* Sent at once, without waiting out the batch timer. */
	ck_assert_uint_lt(now_ms() - t0, TRACE_EXPORT_DELAY_MS);
	ck_assert_uint_eq(collector_get(&c, &spans), 1);
	ck_assert_uint_eq(spans, 5);
	collector_stop(&c);
}
END_TEST

static Suite *
otlp_suite(void)
{
	Suite *s = suite_create("otlp");
	TCase *enc = tcase_create("encode"), *ex = tcase_create("export");

	tcase_add_test(enc, root_span_fields);
	tcase_add_test(enc, child_span_parent);
	tcase_add_test(enc, kinds_as_integers);
	tcase_add_test(enc, status_codes);
	tcase_add_test(enc, attributes_typed);
	tcase_add_test(enc, events_encoded);
	tcase_add_test(enc, grouped_by_worker_and_instance);
	tcase_add_test(enc, invalid_records_skipped);
	tcase_add_test(enc, empty_request);
	tcase_add_test(enc, bad_utf8_replaced);
	tcase_add_test(enc, escaping_survives);
	suite_add_tcase(s, enc);

	tcase_set_timeout(ex, 30);
	tcase_add_test(ex, none_builds_nothing);
	tcase_add_test(ex, file_open_error);
	tcase_add_test(ex, bad_endpoint);
	tcase_add_test(ex, file_lines);
	tcase_add_test(ex, file_any_record_gives_json_lines);
	tcase_add_test(ex, file_staged_until_flush);
	tcase_add_test(ex, file_log_keeps_records_whole_and_in_order);
	tcase_add_test(ex, file_log_lends_its_records);
	tcase_add_test(ex, file_task_spans_printed_by_the_thread);
	tcase_add_test(ex, task_span_text_grows_for_its_strings);
	tcase_add_test(ex, file_buffer_within_its_bytes);
	tcase_add_test(ex, file_reopen);
	tcase_add_test(ex, file_frames_vetted_by_the_thread);
	tcase_add_test(ex, otlp_exports);
	tcase_add_test(ex, otlp_frames_vetted);
	tcase_add_test(ex, otlp_batches_by_time);
	tcase_add_test(ex, otlp_batches_by_size);
	tcase_add_test(ex, otlp_retries_then_succeeds);
	tcase_add_test(ex, otlp_gives_up_after_tries);
	tcase_add_test(ex, otlp_4xx_not_retried);
	tcase_add_test(ex, otlp_collector_down_stays_bounded);
	tcase_add_test(ex, otlp_hung_collector_free_keeps_deadline);
	tcase_add_test(ex, otlp_free_flushes);
	tcase_add_test(ex, otlp_retire_does_not_wait);
	suite_add_tcase(s, ex);
	return s;
}

int
main(void)
{
	/* The collector is local, whatever proxy the environment names. */
	setenv("no_proxy", "127.0.0.1", 1);
	setenv("NO_PROXY", "127.0.0.1", 1);
	return unit_run(otlp_suite());
}
