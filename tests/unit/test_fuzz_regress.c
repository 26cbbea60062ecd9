/*
 * Inputs the fuzz targets (tests/fuzz/) found, replayed through the same
 * functions with the same checks, so that a fix stays fixed.  Each test
 * says which target found its input and which property it broke.  Links
 * against libplba_core (frame, proto) and libplba_conf (conf, settings).
 */
#include "config.h"

#include "unit.h"
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "conf.h"
#include "frame.h"
#include "proto.h"
#include "settings.h"
#include "tracectx.h"

/*
 * The property fuzz_frame checks on every publish: the task the master
 * queues (channel.c's handle_publish: strndup of task_raw, else the tree
 * printed) is the task msg_decode validated, and the task frame it is
 * delivered in (proto_put_task) decodes on the consumer's side.  A frame
 * that msg_decode refuses passes trivially.
 */
static void
check_publish_frame(const char *frame, size_t len)
{
	struct frame_writer w;
	struct msg m, t;
	char err[256], *text;
	cJSON *queued;
	uint32_t be;

	if (msg_decode(&m, frame, len, true, err, sizeof(err)) == -1)
		return;
	ck_assert_int_eq(m.type, MSG_PUBLISH);
	if (m.task_raw != NULL)
		text = strndup(m.task_raw, m.task_raw_len);
	else
		text = cJSON_PrintUnformatted(m.task);
	ck_assert_int_eq(msg_task_whole(&m), 0);
	ck_assert_ptr_nonnull(text);
	queued = cJSON_Parse(text);
	ck_assert_msg(queued != NULL && cJSON_Compare(queued, m.task, true),
	    "queued task %s is not the task validated", text);
	cJSON_Delete(queued);

	frame_writer_init(&w);
	ck_assert_int_eq(proto_put_task(&w, 1, m.queue, 1, text, strlen(text)), 0);
	memcpy(&be, w.buf + w.start, sizeof(be));
	ck_assert_uint_eq(ntohl(be), w.len - FRAME_HEADER);
	ck_assert_msg(msg_decode(&t, w.buf + w.start + FRAME_HEADER,
	    w.len - FRAME_HEADER, false, err, sizeof(err)) == 0,
	    "the consumer cannot decode the task frame: %s", err);
	ck_assert_int_eq(t.type, MSG_TASK);
	ck_assert_int_eq(msg_task_whole(&t), 0);
	ck_assert(cJSON_Compare(t.task, m.task, true));
	msg_clear(&t);
	frame_writer_free(&w);
	free(text);
	msg_clear(&m);
}

/*
 * fuzz_frame, after about 1,500 executions: a raw NUL byte inside a
 * string.  cJSON accepts it (and raw control characters, which RFC 8259
 * forbids in strings), the tree's string stops at the NUL, and
 * handle_publish's strndup(task_raw) cuts the task there: "{"name":"a"
 * is queued, and the consumer's decode of the task frame fails.
 */
START_TEST(nul_in_string)
{
	static const char frame[] =
	    "{\"type\":\"publish\",\"ref\":\"r\",\"queue\":\"q\","
	    "\"task\":{\"name\":\"a\0\"}}";

	check_publish_frame(frame, sizeof(frame) - 1);
}
END_TEST

/* The NUL where the fuzzer put it, in a metadata key. */
START_TEST(nul_in_metadata_key)
{
	static const char frame[] =
	    "{\"type\":\"publish\",\"ref\":\"r\",\"queue\":\"q\","
	    "\"task\":{\"name\":\"n\",\"metadata\":{\"tracepa\x01\0\0\x02\":\"x\"}}}";

	check_publish_frame(frame, sizeof(frame) - 1);
}
END_TEST

/*
 * fuzz_frame, in the 5-minute run: an ESC byte (0x1b) before the task.
 * cJSON skips every byte up to 0x20 as white space; json_member_text
 * skips JSON's four, so task_raw is "\x1b{" and that is what is queued.
 */
START_TEST(control_byte_as_space)
{
	static const char frame[] =
	    "{\"type\":\"publish\",\"ref\":\"r\",\"queue\":\"q\","
	    "\"task\" :\x1b{ \"name\" : \"n\" } }";

	check_publish_frame(frame, sizeof(frame) - 1);
}
END_TEST

/*
 * fuzz_frame's passthrough property, on an input written from reading
 * json_member_text: the first member cJSON finds named "task" is spelled
 * with an escape, so it is the one validated; json_member_text compares
 * keys as written and returns the second, which is not even an object.
 * The master queues "not an object" and the consumer's decode fails.
 */
START_TEST(escaped_duplicate_task)
{
	static const char frame[] =
	    "{\"type\":\"publish\",\"ref\":\"r\",\"queue\":\"q\","
	    "\"ta\\u0073k\":{\"name\":\"a\"},\"task\":\"not an object\"}";

	check_publish_frame(frame, sizeof(frame) - 1);
}
END_TEST

/* The same with an object that would fail check_task: no name. */
START_TEST(escaped_duplicate_task_unchecked)
{
	static const char frame[] =
	    "{\"type\":\"publish\",\"ref\":\"r\",\"queue\":\"q\","
	    "\"\\u0074ask\":{\"name\":\"a\"},\"task\":{\"metadata\":{\"n\":1}}}";

	check_publish_frame(frame, sizeof(frame) - 1);
}
END_TEST

/*
 * fuzz_http's property on POST /queues/Q/tasks: when the wrapper
 * do_publish builds around a body fails msg_decode, the reason starts
 * with "publish: ", which do_publish skips before answering.  A body
 * nested as deep as cJSON_Parse allows (1000 levels) is one level too
 * deep once wrapped, so the reason is "invalid JSON" and the client was
 * told "SON".  do_publish now refuses such a body for its depth before
 * it parses it (deep_payload.sh); msg_decode still must not say
 * "publish: " for it.
 */
START_TEST(wrapped_too_deep)
{
	const int depth = 999;		/* arrays, inside the task object */
	char *body, *p, *task, err[256];
	cJSON *b, *wrap;
	struct msg m;
	int i;

	body = malloc(64 + 2 * (size_t)depth);
	ck_assert_ptr_nonnull(body);
	p = body + sprintf(body, "{\"name\":\"n\",\"p\":");
	for (i = 0; i < depth; i++)
		*p++ = '[';
	for (i = 0; i < depth; i++)
		*p++ = ']';
	strcpy(p, "}");
	b = cJSON_Parse(body);
	ck_assert_msg(b != NULL, "cJSON_Parse takes the body itself");
	/* What do_publish builds. */
	wrap = cJSON_CreateObject();
	cJSON_AddStringToObject(wrap, "type", "publish");
	cJSON_AddStringToObject(wrap, "ref", "http");
	cJSON_AddStringToObject(wrap, "queue", "q");
	cJSON_AddItemToObject(wrap, "task", b);
	task = cJSON_PrintUnformatted(wrap);
	cJSON_Delete(wrap);
	ck_assert_ptr_nonnull(task);
	/* One level too deep once wrapped: refused as JSON, not as a
	 * publish, so do_publish must not cut a "publish: " prefix off it
	 * (http.sh checks the answer the client gets). */
	ck_assert_int_eq(msg_decode(&m, task, strlen(task), true, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "invalid JSON");
	free(task);
	free(body);
}
END_TEST

/*
 * fuzz_http, in CI's 30-second run: a traceparent of a later version
 * whose extra fields are not UTF-8 ("01-...-01-\377x").  The W3C parse
 * takes it, as it must, and do_publish copied the header as it came into
 * the task's metadata, which msg_decode then refused: the client got 400
 * "invalid UTF-8 at byte 202" for a good body.  do_publish now carries
 * the context on as tracectx_format() writes it (trace.sh checks the
 * answer over HTTP); this is why.
 */
START_TEST(later_traceparent_version)
{
	static const char header[] =
	    "01-5bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-\377x";
	char canonical[TRACEPARENT_LEN + 1], *task, err[256];
	const char *tp[2];
	struct tracectx ctx;
	struct msg m;
	int i;

	ck_assert_int_eq(tracectx_parse(header, &ctx), 0);
	tracectx_format(&ctx, canonical);
	ck_assert_str_eq(canonical,
	    "00-5bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
	tp[0] = header;
	tp[1] = canonical;
	for (i = 0; i < 2; i++) {
		cJSON *wrap = cJSON_CreateObject(), *task_obj, *meta;

		cJSON_AddStringToObject(wrap, "type", "publish");
		cJSON_AddStringToObject(wrap, "ref", "http");
		cJSON_AddStringToObject(wrap, "queue", "q");
		task_obj = cJSON_AddObjectToObject(wrap, "task");
		cJSON_AddStringToObject(task_obj, "name", "n");
		meta = cJSON_AddObjectToObject(task_obj, "metadata");
		cJSON_AddStringToObject(meta, "traceparent", tp[i]);
		task = cJSON_PrintUnformatted(wrap);
		cJSON_Delete(wrap);
		ck_assert_ptr_nonnull(task);
		if (i == 0) {
			ck_assert_int_eq(msg_decode(&m, task, strlen(task),
			    true, err, sizeof(err)), -1);
			ck_assert_msg(strncmp(err, "invalid UTF-8", 13) == 0,
			    "%s", err);
		} else {
			ck_assert_int_eq(msg_decode(&m, task, strlen(task),
			    true, err, sizeof(err)), 0);
			msg_clear(&m);
		}
		free(task);
	}
}
END_TEST

/*
 * fuzz_config, in the 5-minute run, as a timeout: a scalar with a bad
 * ${...} reference, aliased through a few levels of sequences.  The
 * aliases are expanded before interpolation, so the one mistake is
 * reported once per copy (11 111 here, all at 1:4; the fuzzer's 505-byte
 * file gave 78 111), and conf.c's verror_mark grows the list with one
 * reallocarray per message, which under ASan took 48 s.
 */
START_TEST(aliased_error_multiplied)
{
	static const char yaml[] =
	    "a: &a \"${A:B}\"\n"
	    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	    "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n";
	struct conf_errors errs = { 0 };
	struct settings *s;

	s = settings_load_string(yaml, sizeof(yaml) - 1, "alias.yml", &errs);
	ck_assert_ptr_null(s);
	ck_assert_uint_ge(errs.n, 1);
	/* At most CONF_MAX_ERRORS, then one line saying there are more. */
	ck_assert_msg(errs.n <= CONF_MAX_ERRORS + 1, "one bad scalar gave %zu errors, the "
	    "first \"%s\"", errs.n, errs.msgs[0]);
	conf_errors_clear(&errs);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("fuzz_regress");
	TCase *frame = tcase_create("fuzz_frame");
	TCase *http = tcase_create("fuzz_http");
	TCase *config = tcase_create("fuzz_config");

	tcase_add_test(frame, nul_in_string);
	tcase_add_test(frame, nul_in_metadata_key);
	tcase_add_test(frame, control_byte_as_space);
	tcase_add_test(frame, escaped_duplicate_task);
	tcase_add_test(frame, escaped_duplicate_task_unchecked);
	suite_add_tcase(s, frame);
	tcase_add_test(http, wrapped_too_deep);
	tcase_add_test(http, later_traceparent_version);
	suite_add_tcase(s, http);
	tcase_add_test(config, aliased_error_multiplied);
	suite_add_tcase(s, config);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
