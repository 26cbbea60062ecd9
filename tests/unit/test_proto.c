/* Worker protocol messages: decoding, every rejection, encoder round trips. */
#include "config.h"

#include "unit.h"
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "frame.h"
#include "proto.h"
#include "json_exact.h"

/* A string every encoder must quote: quotes, backslashes, control
 * characters, a slash, UTF-8 of two, three and four bytes, DEL. */
#define NASTY	"q\"uote \\back\\\\ \x01\x1f\n\r\t\b\f / \xc3\xa9 " \
		"\xe2\x9c\x93 \xf0\x9f\x98\x80 \x7f end"

#define TASK_JSON	"{\"name\":\"mail.send\",\"payload\":{\"to\":\"a@b\"," \
		"\"n\":[1,2,3]},\"metadata\":{\"traceparent\":" \
		"\"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\"}}"

static void
decode_ok(struct msg *m, const char *json, bool from_child)
{
	char err[256] = "";
	int rc = msg_decode(m, json, strlen(json), from_child, err, sizeof(err));

	ck_assert_msg(rc == 0, "%s: %s", json, err);
	ck_assert_ptr_nonnull(m->root);
}

/* The task object's members, as both publish and task carry them. */
static void
check_task_json(struct msg *m)
{
	const cJSON *name, *payload, *meta, *tp;
	char buf[64];

	ck_assert_ptr_nonnull(m->task);
	name = cJSON_GetObjectItemCaseSensitive(m->task, "name");
	ck_assert(cJSON_IsString(name));
	ck_assert_str_eq(name->valuestring, "mail.send");
	payload = cJSON_GetObjectItemCaseSensitive(m->task, "payload");
	ck_assert(cJSON_IsObject(payload));
	ck_assert_int_eq(cJSON_GetArraySize(
	    cJSON_GetObjectItemCaseSensitive(payload, "n")), 3);
	/* Plain metadata may stay text, out of the tree (proto.h). */
	if (m->meta != NULL)
		ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(m->task,
		    "metadata"));
	ck_assert_int_eq(msg_meta_get(m, "traceparent", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf,
	    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
	ck_assert_int_eq(msg_task_whole(m), 0);
	ck_assert_ptr_null(m->meta);
	meta = cJSON_GetObjectItemCaseSensitive(m->task, "metadata");
	tp = cJSON_GetObjectItemCaseSensitive(meta, "traceparent");
	ck_assert(cJSON_IsString(tp));
	ck_assert_str_eq(tp->valuestring,
	    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
}

/* --- decoding, child to master ----------------------------------------------- */

START_TEST(decode_hello)
{
	struct msg m;

	decode_ok(&m, "{\"type\":\"hello\",\"protocol\":1,\"pid\":4242}", true);
	ck_assert_int_eq(m.type, MSG_HELLO);
	ck_assert_int_eq(m.protocol, 1);
	ck_assert_int_eq(m.pid, 4242);
	msg_clear(&m);
	ck_assert_ptr_null(m.root);
	ck_assert_int_eq(m.type, MSG_INVALID);

	/* pid is optional; 1.0 is the integer 1. */
	decode_ok(&m, "{\"protocol\":1.0,\"type\":\"hello\"}", true);
	ck_assert_int_eq(m.type, MSG_HELLO);
	ck_assert_int_eq(m.protocol, 1);
	ck_assert_int_eq(m.pid, 0);
	/* A child that does not say it takes "tracing" messages gets none. */
	ck_assert(!m.tracing_updates);
	msg_clear(&m);
	decode_ok(&m, "{\"type\":\"hello\",\"protocol\":1,"
	    "\"tracing_updates\":true}", true);
	ck_assert(m.tracing_updates);
	msg_clear(&m);
	/* An optional member may be null, as if absent. */
	decode_ok(&m, "{\"type\":\"hello\",\"protocol\":1,\"pid\":null,"
	    "\"tracing_updates\":null}", true);
	ck_assert_int_eq(m.pid, 0);
	ck_assert(!m.tracing_updates);
	msg_clear(&m);
}
END_TEST

START_TEST(decode_ready_heartbeat)
{
	struct msg m;

	decode_ok(&m, "{\"type\":\"ready\"}", true);
	ck_assert_int_eq(m.type, MSG_READY);
	msg_clear(&m);
	/* Members a type does not know are ignored. */
	decode_ok(&m, " {\"extra\":[1,{}],\"type\":\"heartbeat\"} ", true);
	ck_assert_int_eq(m.type, MSG_HEARTBEAT);
	msg_clear(&m);
}
END_TEST

START_TEST(decode_status)
{
	static const char *const words[] = { "starting", "idle", "busy",
		"stopping", "stopped" };
	char json[128];
	struct msg m;
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		snprintf(json, sizeof(json),
		    "{\"type\":\"status\",\"status\":\"%s\"}", words[i]);
		decode_ok(&m, json, true);
		ck_assert_int_eq(m.type, MSG_STATUS);
		ck_assert_str_eq(m.status, words[i]);
		msg_clear(&m);
	}
}
END_TEST

START_TEST(decode_health)
{
	struct msg m;

	decode_ok(&m, "{\"type\":\"health\",\"health\":\"degraded\","
	    "\"detail\":\"disk 91% full\"}", true);
	ck_assert_int_eq(m.type, MSG_HEALTH);
	ck_assert_str_eq(m.health, "degraded");
	ck_assert_str_eq(m.detail, "disk 91% full");
	msg_clear(&m);

	decode_ok(&m, "{\"type\":\"health\",\"health\":\"ok\"}", true);
	ck_assert_str_eq(m.health, "ok");
	ck_assert_ptr_null(m.detail);
	msg_clear(&m);

	decode_ok(&m, "{\"type\":\"health\",\"health\":\"unhealthy\","
	    "\"detail\":null}", true);
	ck_assert_str_eq(m.health, "unhealthy");
	ck_assert_ptr_null(m.detail);
	msg_clear(&m);
}
END_TEST

START_TEST(decode_publish)
{
	struct msg m;

	decode_ok(&m, "{\"type\":\"publish\",\"ref\":\"r1\",\"queue\":\"mail\","
	    "\"task\":" TASK_JSON "}", true);
	ck_assert_int_eq(m.type, MSG_PUBLISH);
	ck_assert_str_eq(m.ref, "r1");
	ck_assert_str_eq(m.queue, "mail");
	check_task_json(&m);
	msg_clear(&m);

	/* payload and metadata are optional; metadata may be null. */
	decode_ok(&m, "{\"type\":\"publish\",\"ref\":\"r2\",\"queue\":\"q\","
	    "\"task\":{\"name\":\"n\"}}", true);
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(m.task,
	    "name")->valuestring, "n");
	msg_clear(&m);
	decode_ok(&m, "{\"type\":\"publish\",\"ref\":\"r3\",\"queue\":\"q\","
	    "\"task\":{\"name\":\"n\",\"payload\":[1],\"metadata\":null}}", true);
	ck_assert_int_eq(m.type, MSG_PUBLISH);
	msg_clear(&m);
	decode_ok(&m, "{\"type\":\"publish\",\"ref\":\"r4\",\"queue\":\"q\","
	    "\"task\":{\"name\":\"n\",\"metadata\":{}}}", true);
	ck_assert_int_eq(m.type, MSG_PUBLISH);
	msg_clear(&m);
}
END_TEST

START_TEST(decode_ack_nack)
{
	struct msg m;

	decode_ok(&m, "{\"type\":\"ack\",\"id\":\"17\"}", true);
	ck_assert_int_eq(m.type, MSG_ACK);
	ck_assert_str_eq(m.id, "17");
	msg_clear(&m);

	decode_ok(&m, "{\"type\":\"nack\",\"id\":\"18\",\"error\":\"smtp down\","
	    "\"retry\":false}", true);
	ck_assert_int_eq(m.type, MSG_NACK);
	ck_assert_str_eq(m.id, "18");
	ck_assert_str_eq(m.error, "smtp down");
	ck_assert(!m.retry);
	msg_clear(&m);

	/* retry defaults to true, error to NULL. */
	decode_ok(&m, "{\"type\":\"nack\",\"id\":\"19\"}", true);
	ck_assert_str_eq(m.id, "19");
	ck_assert_ptr_null(m.error);
	ck_assert(m.retry);
	msg_clear(&m);

	decode_ok(&m, "{\"type\":\"nack\",\"id\":\"20\",\"retry\":true}", true);
	ck_assert(m.retry);
	msg_clear(&m);

	/* Optional members may be null, as if absent. */
	decode_ok(&m, "{\"type\":\"nack\",\"id\":\"21\",\"error\":null,"
	    "\"retry\":null}", true);
	ck_assert_ptr_null(m.error);
	ck_assert(m.retry);
	msg_clear(&m);
}
END_TEST

START_TEST(decode_trace)
{
	struct msg m;

	decode_ok(&m, "{\"type\":\"trace\",\"record\":{\"span\":\"a\","
	    "\"dur_us\":12}}", true);
	ck_assert_int_eq(m.type, MSG_TRACE);
	ck_assert(cJSON_IsObject(m.record));
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(m.record,
	    "span")->valuestring, "a");
	msg_clear(&m);
}
END_TEST

/* --- decoding, master to child ----------------------------------------------- */

START_TEST(decode_welcome)
{
	struct msg m;

	decode_ok(&m, "{\"type\":\"welcome\",\"worker\":\"mailer\",\"instance\":3,"
	    "\"heartbeat_ms\":5000,\"config\":{\"smtp\":\"localhost\"}}", false);
	ck_assert_int_eq(m.type, MSG_WELCOME);
	ck_assert_str_eq(m.worker, "mailer");
	ck_assert_int_eq(m.instance, 3);
	ck_assert(cJSON_IsObject(m.config));
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(m.config,
	    "smtp")->valuestring, "localhost");
	msg_clear(&m);

	decode_ok(&m, "{\"type\":\"welcome\",\"worker\":\"w\",\"instance\":0}",
	    false);
	ck_assert_int_eq(m.instance, 0);
	ck_assert_ptr_null(m.config);
	msg_clear(&m);

	/* The worker's own settings may be of any kind. */
	decode_ok(&m, "{\"type\":\"welcome\",\"worker\":\"w\",\"instance\":0,"
	    "\"config\":[1,2]}", false);
	ck_assert(cJSON_IsArray(m.config));
	msg_clear(&m);
	decode_ok(&m, "{\"type\":\"welcome\",\"worker\":\"w\",\"instance\":0,"
	    "\"config\":5}", false);
	ck_assert(cJSON_IsNumber(m.config));
	msg_clear(&m);
}
END_TEST

START_TEST(decode_published_rejected)
{
	struct msg m;

	decode_ok(&m, "{\"type\":\"published\",\"ref\":\"r1\",\"id\":\"99\"}",
	    false);
	ck_assert_int_eq(m.type, MSG_PUBLISHED);
	ck_assert_str_eq(m.ref, "r1");
	ck_assert_str_eq(m.id, "99");
	msg_clear(&m);

	decode_ok(&m, "{\"type\":\"rejected\",\"ref\":\"r2\","
	    "\"error\":\"no such queue\"}", false);
	ck_assert_int_eq(m.type, MSG_REJECTED);
	ck_assert_str_eq(m.ref, "r2");
	ck_assert_str_eq(m.error, "no such queue");
	msg_clear(&m);

	decode_ok(&m, "{\"type\":\"rejected\",\"ref\":\"r3\"}", false);
	ck_assert_ptr_null(m.error);
	msg_clear(&m);
}
END_TEST

START_TEST(decode_task)
{
	struct msg m;

	decode_ok(&m, "{\"type\":\"task\",\"id\":\"7\",\"queue\":\"mail\","
	    "\"attempt\":2,\"task\":" TASK_JSON "}", false);
	ck_assert_int_eq(m.type, MSG_TASK);
	ck_assert_str_eq(m.id, "7");
	ck_assert_str_eq(m.queue, "mail");
	ck_assert_int_eq(m.attempt, 2);
	check_task_json(&m);
	msg_clear(&m);
}
END_TEST

START_TEST(decode_stop)
{
	struct msg m;

	decode_ok(&m, "{\"type\":\"stop\",\"force\":true}", false);
	ck_assert_int_eq(m.type, MSG_STOP);
	ck_assert(m.force);
	msg_clear(&m);
	decode_ok(&m, "{\"type\":\"stop\",\"force\":false}", false);
	ck_assert(!m.force);
	msg_clear(&m);
	decode_ok(&m, "{\"type\":\"stop\"}", false);
	ck_assert(!m.force);
	msg_clear(&m);
	decode_ok(&m, "{\"type\":\"stop\",\"force\":null}", false);
	ck_assert(!m.force);
	msg_clear(&m);
}
END_TEST

START_TEST(decode_tracing)
{
	struct msg m;

	decode_ok(&m, "{\"type\":\"tracing\",\"trace\":true,"
	    "\"trace_sample\":0.25}", false);
	ck_assert_int_eq(m.type, MSG_TRACING);
	ck_assert(m.trace);
	ck_assert(m.trace_sample == 0.25);
	msg_clear(&m);
	/* Without a ratio: every new trace, as from a welcome of before. */
	decode_ok(&m, "{\"type\":\"tracing\",\"trace\":false}", false);
	ck_assert(!m.trace);
	ck_assert(m.trace_sample == 1);
	msg_clear(&m);
}
END_TEST

/* --- rejections ------------------------------------------------------------------ */

static const struct reject {
	const char	*json;
	bool		 from_child;
	const char	*err;
} rejects[] = {
	/* Not a message at all. */
	{ "", true, "invalid JSON" },
	{ "{", true, "invalid JSON" },
	{ "{\"type\":}", true, "invalid JSON" },
	{ "{\"type\":\"ready\",}", false, "invalid JSON" },
	{ "nul", true, "invalid JSON" },
	{ "[]", true, "a message must be a JSON object" },
	{ "[{\"type\":\"ready\"}]", true, "a message must be a JSON object" },
	{ "\"ready\"", true, "a message must be a JSON object" },
	{ "42", false, "a message must be a JSON object" },
	{ "null", true, "a message must be a JSON object" },
	{ "true", false, "a message must be a JSON object" },
	{ "{}", true, "a message needs a string \"type\"" },
	{ "{\"Type\":\"ready\"}", true, "a message needs a string \"type\"" },
	{ "{\"type\":null}", true, "a message needs a string \"type\"" },
	{ "{\"type\":1}", false, "a message needs a string \"type\"" },
	{ "{\"type\":[\"ready\"]}", true, "a message needs a string \"type\"" },
	{ "{\"type\":\"bogus\"}", true, "unknown message type \"bogus\"" },
	{ "{\"type\":\"READY\"}", true, "unknown message type \"READY\"" },
	{ "{\"type\":\"\"}", false, "unknown message type \"\"" },
	{ "{\"type\":\"invalid\"}", true, "unknown message type \"invalid\"" },
	/* A type that belongs to the other direction. */
	{ "{\"type\":\"welcome\",\"worker\":\"w\",\"instance\":1}", true,
	    "unknown message type \"welcome\"" },
	{ "{\"type\":\"published\",\"ref\":\"r\",\"id\":\"1\"}", true,
	    "unknown message type \"published\"" },
	{ "{\"type\":\"rejected\",\"ref\":\"r\"}", true,
	    "unknown message type \"rejected\"" },
	{ "{\"type\":\"task\",\"id\":\"1\",\"queue\":\"q\",\"attempt\":1,"
	    "\"task\":{\"name\":\"n\"}}", true, "unknown message type \"task\"" },
	{ "{\"type\":\"stop\"}", true, "unknown message type \"stop\"" },
	{ "{\"type\":\"hello\",\"protocol\":1}", false,
	    "unknown message type \"hello\"" },
	{ "{\"type\":\"ready\"}", false, "unknown message type \"ready\"" },
	{ "{\"type\":\"status\",\"status\":\"idle\"}", false,
	    "unknown message type \"status\"" },
	{ "{\"type\":\"health\",\"health\":\"ok\"}", false,
	    "unknown message type \"health\"" },
	{ "{\"type\":\"heartbeat\"}", false,
	    "unknown message type \"heartbeat\"" },
	{ "{\"type\":\"publish\",\"ref\":\"r\",\"queue\":\"q\","
	    "\"task\":{\"name\":\"n\"}}", false,
	    "unknown message type \"publish\"" },
	{ "{\"type\":\"ack\",\"id\":\"1\"}", false, "unknown message type \"ack\"" },
	{ "{\"type\":\"nack\",\"id\":\"1\"}", false,
	    "unknown message type \"nack\"" },
	{ "{\"type\":\"trace\",\"record\":{}}", false,
	    "unknown message type \"trace\"" },
	/* hello */
	{ "{\"type\":\"hello\",\"protocol\":2}", true,
	    "hello: \"protocol\" is not a supported version (1)" },
	{ "{\"type\":\"hello\",\"protocol\":0,\"pid\":1}", true,
	    "hello: \"protocol\" is not a supported version (1)" },
	{ "{\"type\":\"hello\",\"pid\":1}", true, "hello: \"protocol\" is missing" },
	{ "{\"type\":\"hello\",\"protocol\":\"1\"}", true,
	    "hello: \"protocol\" must be a number" },
	{ "{\"type\":\"hello\",\"protocol\":1.5}", true,
	    "hello: \"protocol\" must be an integer" },
	{ "{\"type\":\"hello\",\"protocol\":1e300}", true,
	    "hello: \"protocol\" must be an integer" },
	{ "{\"type\":\"hello\",\"protocol\":1,\"pid\":\"12\"}", true,
	    "hello: \"pid\" must be a number" },
	{ "{\"type\":\"hello\",\"protocol\":1,\"pid\":12.5}", true,
	    "hello: \"pid\" must be an integer" },
	/* status */
	{ "{\"type\":\"status\",\"status\":\"running\"}", true,
	    "status: \"status\" must be starting, idle, busy, stopping or stopped" },
	{ "{\"type\":\"status\",\"status\":\"failed\"}", true,
	    "status: \"status\" must be starting, idle, busy, stopping or stopped" },
	{ "{\"type\":\"status\",\"status\":\"IDLE\"}", true,
	    "status: \"status\" must be starting, idle, busy, stopping or stopped" },
	{ "{\"type\":\"status\"}", true, "status: \"status\" is missing" },
	{ "{\"type\":\"status\",\"status\":3}", true,
	    "status: \"status\" must be a string" },
	/* health */
	{ "{\"type\":\"health\",\"health\":\"sick\"}", true,
	    "health: \"health\" must be ok, degraded or unhealthy" },
	{ "{\"type\":\"health\",\"health\":\"\"}", true,
	    "health: \"health\" must be ok, degraded or unhealthy" },
	{ "{\"type\":\"health\"}", true, "health: \"health\" is missing" },
	{ "{\"type\":\"health\",\"health\":true}", true,
	    "health: \"health\" must be a string" },
	{ "{\"type\":\"health\",\"health\":\"ok\",\"detail\":5}", true,
	    "health: \"detail\" must be a string" },
	/* publish */
	{ "{\"type\":\"publish\",\"queue\":\"q\",\"task\":{\"name\":\"n\"}}", true,
	    "publish: \"ref\" is missing" },
	{ "{\"type\":\"publish\",\"ref\":\"r\",\"task\":{\"name\":\"n\"}}", true,
	    "publish: \"queue\" is missing" },
	{ "{\"type\":\"publish\",\"ref\":\"r\",\"queue\":\"q\"}", true,
	    "publish: \"task\" is missing" },
	{ "{\"type\":\"publish\",\"ref\":\"r\",\"queue\":\"q\",\"task\":null}", true,
	    "publish: \"task\" is missing" },
	{ "{\"type\":\"publish\",\"ref\":1,\"queue\":\"q\","
	    "\"task\":{\"name\":\"n\"}}", true, "publish: \"ref\" must be a string" },
	{ "{\"type\":\"publish\",\"ref\":\"r\",\"queue\":[],"
	    "\"task\":{\"name\":\"n\"}}", true,
	    "publish: \"queue\" must be a string" },
	{ "{\"type\":\"publish\",\"ref\":\"r\",\"queue\":\"q\",\"task\":\"n\"}", true,
	    "publish: \"task\" must be an object" },
	{ "{\"type\":\"publish\",\"ref\":\"r\",\"queue\":\"q\",\"track\":1,"
	    "\"task\":{\"name\":\"n\"}}", true,
	    "publish: \"track\" must be true or false" },
	/* done */
	{ "{\"type\":\"done\",\"id\":\"1\",\"queue\":\"q\",\"outcome\":\"acked\"}",
	    true, "unknown message type \"done\"" },
	{ "{\"type\":\"done\",\"id\":\"1\",\"queue\":\"q\"}", false,
	    "done: \"outcome\" is missing" },
	{ "{\"type\":\"done\",\"id\":\"1\",\"queue\":\"q\",\"outcome\":\"ok\"}",
	    false, "done: \"outcome\" must be acked or dead" },
	{ "{\"type\":\"done\",\"queue\":\"q\",\"outcome\":\"dead\"}", false,
	    "done: \"id\" is missing" },
	{ "{\"type\":\"publish\",\"ref\":\"r\",\"queue\":\"q\",\"task\":{}}", true,
	    "publish: \"task\" needs a string \"name\"" },
	{ "{\"type\":\"publish\",\"ref\":\"r\",\"queue\":\"q\","
	    "\"task\":{\"name\":7}}", true,
	    "publish: \"task\" needs a string \"name\"" },
	{ "{\"type\":\"publish\",\"ref\":\"r\",\"queue\":\"q\","
	    "\"task\":{\"name\":\"n\",\"metadata\":[\"a\"]}}", true,
	    "publish: \"task\" \"metadata\" must be an object" },
	{ "{\"type\":\"publish\",\"ref\":\"r\",\"queue\":\"q\","
	    "\"task\":{\"name\":\"n\",\"metadata\":{\"a\":\"b\",\"n\":1}}}", true,
	    "publish: \"task\" \"metadata\" values must be strings" },
	{ "{\"type\":\"publish\",\"ref\":\"r\",\"queue\":\"q\","
	    "\"task\":{\"name\":\"n\",\"metadata\":{\"a\":null}}}", true,
	    "publish: \"task\" \"metadata\" values must be strings" },
	/* ack, nack */
	{ "{\"type\":\"ack\"}", true, "ack: \"id\" is missing" },
	{ "{\"type\":\"ack\",\"id\":null}", true, "ack: \"id\" is missing" },
	{ "{\"type\":\"ack\",\"id\":17}", true, "ack: \"id\" must be a string" },
	{ "{\"type\":\"nack\",\"retry\":true}", true, "nack: \"id\" is missing" },
	{ "{\"type\":\"nack\",\"id\":18}", true, "nack: \"id\" must be a string" },
	{ "{\"type\":\"nack\",\"id\":\"1\",\"retry\":\"yes\"}", true,
	    "nack: \"retry\" must be true or false" },
	{ "{\"type\":\"nack\",\"id\":\"1\",\"retry\":1}", true,
	    "nack: \"retry\" must be true or false" },
	{ "{\"type\":\"nack\",\"id\":\"1\",\"error\":false}", true,
	    "nack: \"error\" must be a string" },
	/* trace */
	{ "{\"type\":\"trace\"}", true, "trace: \"record\" is missing" },
	{ "{\"type\":\"trace\",\"record\":[1]}", true,
	    "trace: \"record\" must be an object" },
	/* welcome */
	{ "{\"type\":\"welcome\",\"instance\":1}", false,
	    "welcome: \"worker\" is missing" },
	{ "{\"type\":\"welcome\",\"worker\":\"w\"}", false,
	    "welcome: \"instance\" is missing" },
	{ "{\"type\":\"welcome\",\"worker\":\"w\",\"instance\":\"1\"}", false,
	    "welcome: \"instance\" must be a number" },
	{ "{\"type\":\"welcome\",\"worker\":2,\"instance\":1}", false,
	    "welcome: \"worker\" must be a string" },
	/* published, rejected */
	{ "{\"type\":\"published\",\"id\":\"1\"}", false,
	    "published: \"ref\" is missing" },
	{ "{\"type\":\"published\",\"ref\":\"r\"}", false,
	    "published: \"id\" is missing" },
	{ "{\"type\":\"published\",\"ref\":\"r\",\"id\":1}", false,
	    "published: \"id\" must be a string" },
	{ "{\"type\":\"rejected\",\"error\":\"x\"}", false,
	    "rejected: \"ref\" is missing" },
	{ "{\"type\":\"rejected\",\"ref\":\"r\",\"error\":1}", false,
	    "rejected: \"error\" must be a string" },
	/* task */
	{ "{\"type\":\"task\",\"id\":7,\"queue\":\"q\",\"attempt\":1,"
	    "\"task\":{\"name\":\"n\"}}", false, "task: \"id\" must be a string" },
	{ "{\"type\":\"task\",\"queue\":\"q\",\"attempt\":1,"
	    "\"task\":{\"name\":\"n\"}}", false, "task: \"id\" is missing" },
	{ "{\"type\":\"task\",\"id\":\"7\",\"attempt\":1,"
	    "\"task\":{\"name\":\"n\"}}", false, "task: \"queue\" is missing" },
	{ "{\"type\":\"task\",\"id\":\"7\",\"queue\":\"q\","
	    "\"task\":{\"name\":\"n\"}}", false, "task: \"attempt\" is missing" },
	{ "{\"type\":\"task\",\"id\":\"7\",\"queue\":\"q\",\"attempt\":1.5,"
	    "\"task\":{\"name\":\"n\"}}", false,
	    "task: \"attempt\" must be an integer" },
	{ "{\"type\":\"task\",\"id\":\"7\",\"queue\":\"q\",\"attempt\":1}", false,
	    "task: \"task\" is missing" },
	{ "{\"type\":\"task\",\"id\":\"7\",\"queue\":\"q\",\"attempt\":1,"
	    "\"task\":{\"payload\":{}}}", false,
	    "task: \"task\" needs a string \"name\"" },
	{ "{\"type\":\"task\",\"id\":\"7\",\"queue\":\"q\",\"attempt\":1,"
	    "\"task\":{\"name\":\"n\",\"metadata\":{\"traceparent\":5}}}", false,
	    "task: \"task\" \"metadata\" values must be strings" },
	/* stop */
	{ "{\"type\":\"stop\",\"force\":\"true\"}", false,
	    "stop: \"force\" must be true or false" },
	/* tracing, and welcome's tracing members */
	{ "{\"type\":\"tracing\"}", false, "tracing: \"trace\" is missing" },
	{ "{\"type\":\"tracing\",\"trace\":1}", false,
	    "tracing: \"trace\" must be true or false" },
	{ "{\"type\":\"tracing\",\"trace\":true,\"trace_sample\":1.5}", false,
	    "tracing: \"trace_sample\" must be a number from 0 to 1" },
	{ "{\"type\":\"tracing\",\"trace\":true,\"trace_sample\":\"0.5\"}",
	    false, "tracing: \"trace_sample\" must be a number from 0 to 1" },
	{ "{\"type\":\"tracing\",\"trace\":true,\"trace_sample\":-0.1}", false,
	    "tracing: \"trace_sample\" must be a number from 0 to 1" },
	{ "{\"type\":\"tracing\",\"trace\":true}", true,
	    "unknown message type \"tracing\"" },
	{ "{\"type\":\"welcome\",\"worker\":\"w\",\"instance\":0,"
	    "\"trace\":\"yes\"}", false, "welcome: \"trace\" must be true or false" },
	{ "{\"type\":\"hello\",\"protocol\":1,\"tracing_updates\":1}", true,
	    "hello: \"tracing_updates\" must be true or false" },
};

START_TEST(rejected_with_reason)
{
	const struct reject *t = &rejects[_i];
	struct msg m;
	char err[256] = "";

	ck_assert_msg(msg_decode(&m, t->json, strlen(t->json), t->from_child,
	    err, sizeof(err)) == -1, "accepted: %s", t->json);
	ck_assert_msg(strcmp(err, t->err) == 0, "%s: got '%s', want '%s'",
	    t->json, err, t->err);
	/* Nothing is left to free. */
	ck_assert_ptr_null(m.root);
	ck_assert_int_eq(m.type, MSG_INVALID);
	msg_clear(&m);
}
END_TEST

START_TEST(reject_reason_bounded)
{
	char json[512], err[256], small[16];
	struct msg m;

	/* An unknown type is quoted in the reason, at most 64 bytes of it. */
	snprintf(json, sizeof(json), "{\"type\":\"%0200d\"}", 7);
	ck_assert_int_eq(msg_decode(&m, json, strlen(json), true, err,
	    sizeof(err)), -1);
	ck_assert_uint_eq(strlen(err), strlen("unknown message type \"\"") + 64);
	/* A small buffer gets a terminated prefix. */
	memset(small, 'x', sizeof(small));
	ck_assert_int_eq(msg_decode(&m, "{\"type\":\"ack\"}", 14, true, small,
	    sizeof(small)), -1);
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
	ck_assert_mem_eq(small, "ack: \"id\" is mi", sizeof(small) - 1);
}
END_TEST

/* The length given is the frame's: bytes after it are not looked at. */
START_TEST(decode_uses_length)
{
	const char *json = "{\"type\":\"ack\",\"id\":\"5\"}GARBAGE";
	size_t n = strlen("{\"type\":\"ack\",\"id\":\"5\"}");
	struct msg m;
	char err[128];

	ck_assert_int_eq(msg_decode(&m, json, n, true, err, sizeof(err)), 0);
	ck_assert_str_eq(m.id, "5");
	msg_clear(&m);
	/* Cut short, it is not JSON. */
	ck_assert_int_eq(msg_decode(&m, json, n - 1, true, err, sizeof(err)),
	    -1);
	ck_assert_str_eq(err, "invalid JSON");
}
END_TEST

/*
 * Puts bad at every offset of frame in turn: each must be refused, with
 * what and the offset in the error; where bad broke a sequence that began
 * before it, with why at least.
 */
static void
refused_at_every_offset(char *frame, size_t len, char bad, const char *what,
    const char *why)
{
	char err[128], want[64];
	struct msg m;
	size_t at;
	int rc;

	for (at = 0; at < len; at++) {
		char saved = frame[at];

		frame[at] = bad;
		err[0] = '\0';
		rc = msg_decode(&m, frame, len, true, err, sizeof(err));
		if (rc == 0)
			msg_clear(&m);
		ck_assert_msg(rc == -1, "accepted 0x%02x at %zu",
		    (unsigned char)bad, at);
		snprintf(want, sizeof(want), "%s at byte %zu", what, at);
		ck_assert_msg(strstr(err, want) != NULL ||
		    ((unsigned char)saved >= 0x80 && strstr(err, why) != NULL),
		    "%zu: %s", at, err);
		frame[at] = saved;
	}
}

/*
 * A raw control character anywhere in a frame, inside a string or out, is
 * refused with its byte offset; tab, newline and carriage return are white
 * space outside strings.  Every offset of a long frame is tried: the scan
 * goes sixteen bytes at a time and then byte by byte.
 */
START_TEST(control_characters_found_anywhere)
{
	char frame[128], err[128];
	struct msg m;
	size_t len;

	len = (size_t)snprintf(frame, sizeof(frame), "{\"type\":\"nack\","
	    "\"id\":\"1\",\"error\":\"%s\",\"retry\":true}",
	    "a reason long enough to span a few blocks");
	ck_assert_int_eq(msg_decode(&m, frame, len, true, err, sizeof(err)), 0);
	msg_clear(&m);
	refused_at_every_offset(frame, len, '\x01', "(0x01)",
	    "control character");
	/* White space between tokens, past the first sixteen bytes. */
	ck_assert_int_eq(msg_decode(&m, "{\"type\":\"ack\",   \t\r\n  \"id\":"
	    "\t\"1\"\n}", 33, true, err, sizeof(err)), 0);
	msg_clear(&m);
}
END_TEST

/*
 * A frame is UTF-8 (SPEC 5): a byte that starts no valid sequence, at any
 * offset, is refused with it; valid sequences of every length pass.
 */
START_TEST(invalid_utf8_found_anywhere)
{
	char frame[128], err[128];
	struct msg m;
	size_t len;

	len = (size_t)snprintf(frame, sizeof(frame), "{\"type\":\"nack\","
	    "\"id\":\"1\",\"error\":\"%s\",\"retry\":true}",
	    "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80, long enough for blocks");
	ck_assert_int_eq(msg_decode(&m, frame, len, true, err, sizeof(err)), 0);
	ck_assert_str_eq(m.error, "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80, "
	    "long enough for blocks");
	msg_clear(&m);
	/* Never a byte of UTF-8, wherever it stands. */
	refused_at_every_offset(frame, len, '\xff', "invalid UTF-8",
	    "invalid UTF-8");
	/* A surrogate and an overlong form are not UTF-8 either. */
	ck_assert_int_eq(msg_decode(&m, "{\"type\":\"ack\",\"id\":\"\xed\xa0\x80\"}",
	    21, true, err, sizeof(err)), -1);
	ck_assert_int_eq(msg_decode(&m, "{\"type\":\"ack\",\"id\":\"\xc0\xaf\"}",
	    20, true, err, sizeof(err)), -1);
}
END_TEST

/* What libplba sends of a caller's strings is UTF-8, whatever they held:
 * a health detail with stray bytes decodes, with U+FFFD for them. */
START_TEST(put_keeps_frames_utf8)
{
	struct frame_writer w;
	struct msg m;
	char err[128];

	frame_writer_init(&w);
	ck_assert_int_eq(proto_put_health(&w, "degraded", "disk /m\xe9" "dia full"),
	    0);
	/* Past the length prefix. */
	ck_assert_int_eq(msg_decode(&m, w.buf + w.start + 4, w.len - 4, true,
	    err, sizeof(err)), 0);
	ck_assert_str_eq(m.detail, "disk /m\xef\xbf\xbd" "dia full");
	msg_clear(&m);
	frame_writer_free(&w);
	/* A payload the master would refuse is found before it is sent. */
	ck_assert_uint_eq(proto_first_invalid("\"caf\xe9\"", 6), 4);
	ck_assert_uint_eq(proto_first_invalid("\"a\x01\"", 4), 2);
	ck_assert_uint_eq(proto_first_invalid("\"caf\xc3\xa9\"\n", 8), 8);
}
END_TEST

/* A frame is one JSON object: anything after it makes the frame bad,
 * or a second message in the same frame would be silently dropped. */
START_TEST(trailing_bytes_rejected)
{
	static const char *const bodies[] = {
		"{\"type\":\"ready\"}xyz",
		"{\"type\":\"ready\"}{\"type\":\"ack\",\"id\":\"1\"}",
		"{\"type\":\"ack\",\"id\":\"1\"} 1",
	};
	struct msg m;
	char err[128];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		err[0] = '\0';
		rc = msg_decode(&m, bodies[i], strlen(bodies[i]), true, err,
		    sizeof(err));
		if (rc == 0)
			msg_clear(&m);
		ck_assert_msg(rc == -1, "accepted: %s", bodies[i]);
		ck_assert_str_ne(err, "");
	}
	/* Whitespace around the object is JSON, and fine. */
	ck_assert_int_eq(msg_decode(&m, "\n {\"type\":\"ready\"} \n", 20, true,
	    err, sizeof(err)), 0);
	msg_clear(&m);
}
END_TEST

START_TEST(type_names_and_words)
{
	static const struct {
		enum msg_type	 t;
		const char	*name;
	} names[] = {
		{ MSG_HELLO, "hello" }, { MSG_READY, "ready" },
		{ MSG_STATUS, "status" }, { MSG_HEALTH, "health" },
		{ MSG_HEARTBEAT, "heartbeat" }, { MSG_PUBLISH, "publish" },
		{ MSG_ACK, "ack" }, { MSG_NACK, "nack" }, { MSG_TRACE, "trace" },
		{ MSG_WELCOME, "welcome" }, { MSG_PUBLISHED, "published" },
		{ MSG_REJECTED, "rejected" }, { MSG_TASK, "task" },
		{ MSG_STOP, "stop" }, { MSG_TRACING, "tracing" },
		{ MSG_INVALID, "invalid" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		ck_assert_str_eq(msg_type_name(names[i].t), names[i].name);
	ck_assert_str_eq(msg_type_name((enum msg_type)99), "invalid");

	ck_assert(proto_status_valid("starting"));
	ck_assert(proto_status_valid("idle"));
	ck_assert(proto_status_valid("busy"));
	ck_assert(proto_status_valid("stopping"));
	ck_assert(proto_status_valid("stopped"));
	ck_assert(!proto_status_valid("failed"));
	ck_assert(!proto_status_valid(""));
	ck_assert(!proto_status_valid("Idle"));
	ck_assert(!proto_status_valid("idle "));
	ck_assert(proto_health_valid("ok"));
	ck_assert(proto_health_valid("degraded"));
	ck_assert(proto_health_valid("unhealthy"));
	ck_assert(!proto_health_valid("OK"));
	ck_assert(!proto_health_valid("healthy"));
	ck_assert(!proto_health_valid(""));
}
END_TEST

/* --- encoders -------------------------------------------------------------------- */

/*
 * Takes the one frame the writer holds, through a frame reader as the
 * other end would, decodes it and empties the writer.
 */
static void
take(struct frame_writer *w, bool from_child, struct msg *m)
{
	struct frame_reader r;
	const char *data = NULL;
	size_t len = 0, pending;
	char err[256] = "", body[512] = "";
	int fed, next, rc = -1;

	/* Everything is freed before asserting, so a failure leaks nothing
	 * when the suite runs without fork under valgrind. */
	frame_reader_init(&r, 1u << 20);
	fed = frame_feed(&r, w->buf + w->start, w->len);
	next = frame_next(&r, &data, &len);
	pending = frame_pending(&r);
	if (next == 1) {
		snprintf(body, sizeof(body), "%.*s", (int)len, data);
		rc = msg_decode(m, data, len, from_child, err, sizeof(err));
	}
	frame_reader_free(&r);
	frame_writer_free(w);
	frame_writer_init(w);
	ck_assert_int_eq(fed, 0);
	ck_assert_int_eq(next, 1);
	ck_assert_uint_eq(pending, 0);
	ck_assert_msg(rc == 0, "%s: %s", body, err);
}

START_TEST(roundtrip_child_messages)
{
	static const char *const words[] = { "starting", "idle", "busy",
		"stopping", "stopped" };
	struct frame_writer w;
	struct msg m;
	size_t i;

	frame_writer_init(&w);

	ck_assert_int_eq(proto_put_hello(&w, 4242, true), 0);
	take(&w, true, &m);
	ck_assert_int_eq(m.type, MSG_HELLO);
	ck_assert_int_eq(m.protocol, PROTO_VERSION);
	ck_assert_int_eq(m.pid, 4242);
	ck_assert(m.tracing_updates);
	msg_clear(&m);
	ck_assert_int_eq(proto_put_hello(&w, 2147483647L, false), 0);
	take(&w, true, &m);
	ck_assert_int_eq(m.pid, 2147483647LL);
	ck_assert(!m.tracing_updates);
	msg_clear(&m);

	ck_assert_int_eq(proto_put_simple(&w, "ready"), 0);
	take(&w, true, &m);
	ck_assert_int_eq(m.type, MSG_READY);
	msg_clear(&m);
	ck_assert_int_eq(proto_put_simple(&w, "heartbeat"), 0);
	take(&w, true, &m);
	ck_assert_int_eq(m.type, MSG_HEARTBEAT);
	msg_clear(&m);

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		ck_assert_int_eq(proto_put_status(&w, words[i]), 0);
		take(&w, true, &m);
		ck_assert_int_eq(m.type, MSG_STATUS);
		ck_assert_str_eq(m.status, words[i]);
		msg_clear(&m);
	}

	ck_assert_int_eq(proto_put_health(&w, "degraded", NASTY), 0);
	take(&w, true, &m);
	ck_assert_int_eq(m.type, MSG_HEALTH);
	ck_assert_str_eq(m.health, "degraded");
	ck_assert_str_eq(m.detail, NASTY);
	msg_clear(&m);
	ck_assert_int_eq(proto_put_health(&w, "ok", NULL), 0);
	take(&w, true, &m);
	ck_assert_str_eq(m.health, "ok");
	ck_assert_str_eq(m.detail, "");
	msg_clear(&m);

	ck_assert_int_eq(proto_put_publish(&w, NASTY, "mail \"out\"", TASK_JSON,
	    strlen(TASK_JSON), false), 0);
	take(&w, true, &m);
	ck_assert_int_eq(m.type, MSG_PUBLISH);
	ck_assert_str_eq(m.ref, NASTY);
	ck_assert_str_eq(m.queue, "mail \"out\"");
	ck_assert(!m.track);
	check_task_json(&m);
	msg_clear(&m);
	ck_assert_int_eq(proto_put_publish(&w, "r", "q", TASK_JSON,
	    strlen(TASK_JSON), true), 0);
	take(&w, true, &m);
	ck_assert(m.track);
	msg_clear(&m);

	ck_assert_int_eq(proto_put_ack(&w, NASTY), 0);
	take(&w, true, &m);
	ck_assert_int_eq(m.type, MSG_ACK);
	ck_assert_str_eq(m.id, NASTY);
	msg_clear(&m);

	ck_assert_int_eq(proto_put_nack(&w, "18", NASTY, false), 0);
	take(&w, true, &m);
	ck_assert_int_eq(m.type, MSG_NACK);
	ck_assert_str_eq(m.id, "18");
	ck_assert_str_eq(m.error, NASTY);
	ck_assert(!m.retry);
	msg_clear(&m);
	ck_assert_int_eq(proto_put_nack(&w, "19", NULL, true), 0);
	take(&w, true, &m);
	ck_assert_str_eq(m.id, "19");
	ck_assert_str_eq(m.error, "");
	ck_assert(m.retry);
	msg_clear(&m);

	{
		const char *rec = "{\"span\":\"s\",\"attrs\":{\"k\":\"v\\\"\"}}";

		ck_assert_int_eq(proto_put_trace(&w, rec, strlen(rec)), 0);
		take(&w, true, &m);
		ck_assert_int_eq(m.type, MSG_TRACE);
		ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(m.record, "attrs"),
		    "k")->valuestring, "v\"");
		msg_clear(&m);
	}
	frame_writer_free(&w);
}
END_TEST

/* What the configuration check leaves for the rest of a welcome is
 * enough for the longest numbers it can carry. */
START_TEST(welcome_extra_bounds_the_frame)
{
	static const char config[] = "{\"k\":1}";
	struct frame_writer w;
	size_t body;

	frame_writer_init(&w);
	ck_assert_int_eq(proto_put_welcome(&w, "w", UINT_MAX, config,
	    UINT64_MAX, true, 0.000123456789012345), 0);
	body = w.len - 4;	/* the length prefix */
	ck_assert_uint_le(body - strlen(config) - strlen("w"),
	    PROTO_WELCOME_EXTRA);
	frame_writer_free(&w);
}
END_TEST

START_TEST(roundtrip_master_messages)
{
	struct frame_writer w;
	struct msg m;
	const cJSON *hb, *sample;

	frame_writer_init(&w);

	ck_assert_int_eq(proto_put_welcome(&w, NASTY, 3,
	    "{\"x\":{\"y\":[1,2]}}", 5000, true, 0.1), 0);
	/* The ratio as written in plba.yml, not 0.10000000000000001. */
	ck_assert_ptr_nonnull(memmem(w.buf + w.start, w.len,
	    ",\"trace_sample\":0.1,", 19));
	take(&w, false, &m);
	ck_assert_int_eq(m.type, MSG_WELCOME);
	ck_assert_str_eq(m.worker, NASTY);
	ck_assert_int_eq(m.instance, 3);
	ck_assert(cJSON_IsObject(m.config));
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(m.config, "x"), "y")), 2);
	hb = cJSON_GetObjectItemCaseSensitive(m.root, "heartbeat_ms");
	ck_assert(cJSON_IsNumber(hb));
	ck_assert(hb->valuedouble == 5000.0);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m.root, "trace")));
	sample = cJSON_GetObjectItemCaseSensitive(m.root, "trace_sample");
	ck_assert(cJSON_IsNumber(sample) && sample->valuedouble == 0.1);
	msg_clear(&m);

	/* Without configuration, "config" is JSON null: no object to read. */
	ck_assert_int_eq(proto_put_welcome(&w, "w", 4294967295u, NULL, 0, false,
	    0.5), 0);
	take(&w, false, &m);
	ck_assert_str_eq(m.worker, "w");
	ck_assert_int_eq(m.instance, 4294967295LL);
	ck_assert(!cJSON_IsObject(m.config));
	/* Tracing off: no ratio to apply. */
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(m.root,
	    "trace_sample"));
	msg_clear(&m);

	ck_assert_int_eq(proto_put_tracing(&w, true, 0.1), 0);
	take(&w, false, &m);
	ck_assert_int_eq(m.type, MSG_TRACING);
	ck_assert(m.trace && m.trace_sample == 0.1);
	msg_clear(&m);
	ck_assert_int_eq(proto_put_tracing(&w, false, 1), 0);
	take(&w, false, &m);
	ck_assert(!m.trace && m.trace_sample == 1);
	msg_clear(&m);

	ck_assert_int_eq(proto_put_published(&w, NASTY, UINT64_MAX), 0);
	take(&w, false, &m);
	ck_assert_int_eq(m.type, MSG_PUBLISHED);
	ck_assert_str_eq(m.ref, NASTY);
	/* Ids travel as strings: no precision lost to doubles. */
	ck_assert_str_eq(m.id, "18446744073709551615");
	msg_clear(&m);
	ck_assert_int_eq(proto_put_published(&w, "r", 1), 0);
	take(&w, false, &m);
	ck_assert_str_eq(m.id, "1");
	msg_clear(&m);

	ck_assert_int_eq(proto_put_rejected(&w, NASTY, "no such queue"), 0);
	take(&w, false, &m);
	ck_assert_int_eq(m.type, MSG_REJECTED);
	ck_assert_str_eq(m.ref, NASTY);
	ck_assert_str_eq(m.error, "no such queue");
	msg_clear(&m);
	ck_assert_int_eq(proto_put_rejected(&w, "r", NASTY), 0);
	take(&w, false, &m);
	ck_assert_str_eq(m.error, NASTY);
	msg_clear(&m);

	ck_assert_int_eq(proto_put_task(&w, 9007199254740993ULL, NASTY, 4,
	    TASK_JSON, strlen(TASK_JSON)), 0);
	take(&w, false, &m);
	ck_assert_int_eq(m.type, MSG_TASK);
	ck_assert_str_eq(m.id, "9007199254740993");
	ck_assert_str_eq(m.queue, NASTY);
	ck_assert_int_eq(m.attempt, 4);
	check_task_json(&m);
	msg_clear(&m);

	ck_assert_int_eq(proto_put_stop(&w, true), 0);
	take(&w, false, &m);
	ck_assert_int_eq(m.type, MSG_STOP);
	ck_assert(m.force);
	msg_clear(&m);
	ck_assert_int_eq(proto_put_stop(&w, false), 0);
	take(&w, false, &m);
	ck_assert(!m.force);
	msg_clear(&m);

	ck_assert_int_eq(proto_put_done(&w, 77, NASTY, false, NASTY), 0);
	take(&w, false, &m);
	ck_assert_int_eq(m.type, MSG_DONE);
	ck_assert_str_eq(m.id, "77");
	ck_assert_str_eq(m.queue, NASTY);
	ck_assert(!m.acked);
	ck_assert_str_eq(m.error, NASTY);
	msg_clear(&m);
	ck_assert_int_eq(proto_put_done(&w, 78, "q", true, NULL), 0);
	take(&w, false, &m);
	ck_assert(m.acked);
	ck_assert_ptr_null(m.error);
	msg_clear(&m);
	frame_writer_free(&w);
}
END_TEST

/*
 * The largest id and attempt the encoder takes still make one valid
 * frame: the numbers must not push "queue" out of a fixed buffer.
 */
START_TEST(roundtrip_task_largest_numbers)
{
	struct frame_writer w;
	struct msg m;

	frame_writer_init(&w);
	ck_assert_int_eq(proto_put_task(&w, UINT64_MAX, "q", 4294967295u,
	    "{\"name\":\"n\"}", 12), 0);
	take(&w, false, &m);
	ck_assert_str_eq(m.id, "18446744073709551615");
	ck_assert_str_eq(m.queue, "q");
	ck_assert_int_eq(m.attempt, 4294967295LL);
	msg_clear(&m);
	ck_assert_int_eq(proto_put_task(&w, 10000000000000000000ULL, "q", 1,
	    "{\"name\":\"n\"}", 12), 0);
	take(&w, false, &m);
	ck_assert_str_eq(m.id, "10000000000000000000");
	ck_assert_int_eq(m.attempt, 1);
	msg_clear(&m);
	frame_writer_free(&w);
}
END_TEST

/* Several messages queued on one writer come out in order. */
START_TEST(roundtrip_sequence)
{
	static const enum msg_type want[] = { MSG_HELLO, MSG_STATUS, MSG_PUBLISH,
		MSG_HEARTBEAT, MSG_ACK, MSG_READY };
	struct frame_writer w;
	struct frame_reader r;
	struct msg m;
	const char *data;
	size_t len, i;
	char err[256];

	frame_writer_init(&w);
	ck_assert_int_eq(proto_put_hello(&w, 1, true), 0);
	ck_assert_int_eq(proto_put_status(&w, "busy"), 0);
	ck_assert_int_eq(proto_put_publish(&w, "r", "q", TASK_JSON,
	    strlen(TASK_JSON), false), 0);
	ck_assert_int_eq(proto_put_simple(&w, "heartbeat"), 0);
	ck_assert_int_eq(proto_put_ack(&w, "1"), 0);
	ck_assert_int_eq(proto_put_simple(&w, "ready"), 0);
	frame_reader_init(&r, 4096);
	/* Fed in two halves, split in the middle of some frame. */
	ck_assert_int_eq(frame_feed(&r, w.buf + w.start, w.len / 2), 0);
	ck_assert_int_eq(frame_feed(&r, w.buf + w.start + w.len / 2,
	    w.len - w.len / 2), 0);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		ck_assert_int_eq(frame_next(&r, &data, &len), 1);
		ck_assert_int_eq(msg_decode(&m, data, len, true, err,
		    sizeof(err)), 0);
		ck_assert_int_eq(m.type, want[i]);
		msg_clear(&m);
	}
	ck_assert_int_eq(frame_next(&r, &data, &len), 0);
	frame_reader_free(&r);
	frame_writer_free(&w);
}
END_TEST

/* --- json_quote ------------------------------------------------------------------ */

static const struct quote {
	const char	*in;
	const char	*out;
} quotes[] = {
	{ "", "\"\"" },
	{ "abc", "\"abc\"" },
	{ "a\"b", "\"a\\\"b\"" },
	{ "a\\b", "\"a\\\\b\"" },
	{ "\\\"", "\"\\\\\\\"\"" },
	{ "\n", "\"\\u000a\"" },
	{ "\t\r\b\f", "\"\\u0009\\u000d\\u0008\\u000c\"" },
	{ "\x01\x1f", "\"\\u0001\\u001f\"" },
	{ " ~/", "\" ~/\"" },
	{ "\x7f", "\"\x7f\"" },
	{ "\xc3\xa9\xe2\x9c\x93\xf0\x9f\x98\x80", "\"\xc3\xa9\xe2\x9c\x93"
	    "\xf0\x9f\x98\x80\"" },
	/* Not UTF-8: a frame must be, so each such byte is U+FFFD. */
	{ "caf\xe9", "\"caf\xef\xbf\xbd\"" },
	{ "\xc3", "\"\xef\xbf\xbd\"" },
	{ "\xed\xa0\x80!", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd!\"" },
	{ "\xff\xc3\xa9", "\"\xef\xbf\xbd\xc3\xa9\"" },
};

START_TEST(quote_cases)
{
	const struct quote *q = &quotes[_i];
	char out[128];
	size_t n;

	memset(out, '#', sizeof(out));
	n = json_quote(out, sizeof(out), q->in);
	ck_assert_uint_eq(n, strlen(q->out));
	ck_assert_mem_eq(out, q->out, n);
	/* Nothing written past what it says. */
	ck_assert_int_eq(out[n], '#');
	/* Asking with no room gives the same length. */
	ck_assert_uint_eq(json_quote(NULL, 0, q->in), n);
}
END_TEST

START_TEST(quote_truncates_to_cap)
{
	char out[8];
	size_t n;

	memset(out, '#', sizeof(out));
	n = json_quote(out, 4, "abc\"def");
	ck_assert_uint_eq(n, 10);
	ck_assert_mem_eq(out, "\"abc", 4);
	ck_assert_mem_eq(out + 4, "####", 4);

	/* Cut inside an escape: still only cap bytes. */
	memset(out, '#', sizeof(out));
	n = json_quote(out, 3, "\x01");
	ck_assert_uint_eq(n, 8);
	ck_assert_mem_eq(out, "\"\\u#####", 8);
}
END_TEST

/* Every byte but NUL, quoted, parses back to itself. */
START_TEST(quote_parses_back)
{
	char in[256], *out;
	cJSON *v;
	size_t i, n;

	for (i = 1; i < 256; i++)
		in[i - 1] = (char)(i < 128 ? i : 'z');
	in[255] = '\0';
	n = json_quote(NULL, 0, in);
	out = malloc(n + 1);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(json_quote(out, n, in), n);
	out[n] = '\0';
	v = cJSON_Parse(out);
	ck_assert_ptr_nonnull(v);
	ck_assert(cJSON_IsString(v));
	ck_assert_str_eq(v->valuestring, in);
	cJSON_Delete(v);
	free(out);

	n = json_quote(NULL, 0, NASTY);
	out = malloc(n + 1);
	ck_assert_ptr_nonnull(out);
	json_quote(out, n, NASTY);
	out[n] = '\0';
	v = cJSON_Parse(out);
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v->valuestring, NASTY);
	cJSON_Delete(v);
	free(out);
}
END_TEST


/* --- raw member text --------------------------------------------------- */

static const struct {
	const char	*json;
	const char	*key;
	const char	*want;	/* NULL: not found */
} members[] = {
	{ "{\"a\":1,\"task\":{\"name\":\"x\"}}", "task", "{\"name\":\"x\"}" },
	{ " { \"task\" : [1, {\"b\":\"}]\"}] , \"z\":2 } ", "task",
	    "[1, {\"b\":\"}]\"}]" },
	{ "{\"s\":\"task\\\":\",\"task\":\"v\\\"w\"}", "task", "\"v\\\"w\"" },
	{ "{\"x\":{\"task\":1},\"task\":true}", "task", "true" },
	/* Runs of backslashes before a quote: even, it closes; odd, not. */
	{ "{\"s\":\"a\\\\\",\"task\":1}", "task", "1" },
	{ "{\"s\":\"\\\\\\\"\",\"task\":2,\"x\":\"\\\\\\\\\"}", "task", "2" },
	{ "{\"s\":\"\\\",\"task\":3}", "task", NULL },
	{ "{\"task\":-1.5e3}", "task", "-1.5e3" },
	{ "{\"task\":null }", "task", "null" },
	{ "{\"other\":1}", "task", NULL },
	{ "{\"t\\u0061sk\":1}", "task", NULL },
	{ "[\"task\",1]", "task", NULL },
	{ "{}", "task", NULL },
};

START_TEST(member_text)
{
	const char *v = NULL;
	size_t vlen = 0;
	int rc = json_member_text(members[_i].json, strlen(members[_i].json),
	    members[_i].key, &v, &vlen);

	if (members[_i].want == NULL) {
		ck_assert_int_eq(rc, -1);
		return;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(vlen, strlen(members[_i].want));
	ck_assert_int_eq(memcmp(v, members[_i].want, vlen), 0);
}
END_TEST

/* exact: TEXT reprinted after the fix-up, as cJSON prints it. */
static void
exact(const char *text, const char *want)
{
	cJSON *o = cJSON_Parse(text);
	char *out;

	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(json_exact_numbers(o, text, strlen(text)), 0);
	out = cJSON_PrintUnformatted(o);
	ck_assert_str_eq(out, want);
	free(out);
	cJSON_Delete(o);
}

/* Numbers of 16 significant digits or more print as written; shorter
 * ones, and digits in strings, as cJSON prints them. */
START_TEST(exact_numbers)
{
	exact("[9007199254740993]", "[9007199254740993]");
	exact("{\"id\": 123456789012345678, \"n\": 1.50}",
	    "{\"id\":123456789012345678,\"n\":1.5}");
	exact("[-0.000012345678901234567, 12345678901234567890123, 1e2]",
	    "[-0.000012345678901234567,12345678901234567890123,100]");
	exact("[\"1234567890123456789\", \"a\\\"12345678901234567\", "
	    "12345678901234567]",
	    "[\"1234567890123456789\",\"a\\\"12345678901234567\","
	    "12345678901234567]");
	exact("{\"a\":[1,{\"b\":[2,1234567890123456.5]}],\"c\":3}",
	    "{\"a\":[1,{\"b\":[2,1234567890123456.5]}],\"c\":3}");
	/* 15 digits come back from cJSON's print unchanged. */
	exact("[123456789012345]", "[123456789012345]");
}
END_TEST

/* Wherever the long number falls against the 16-byte steps of the first
 * look, it is found. */
START_TEST(exact_numbers_any_offset)
{
	char text[128], want[128];
	int pad;

	for (pad = 0; pad < 48; pad++) {
		snprintf(text, sizeof(text), "[%*s12345678901234.56]", pad, "");
		exact(text, "[12345678901234.56]");
		snprintf(text, sizeof(text), "[%*s\"x\",9007199254740993,1]",
		    pad, "");
		exact(text, "[\"x\",9007199254740993,1]");
		/* 15 digits: left to cJSON, which prints them as they are. */
		snprintf(text, sizeof(text), "[%*s900719925474099]", pad, "");
		snprintf(want, sizeof(want), "[900719925474099]");
		exact(text, want);
	}
}
END_TEST

START_TEST(publish_keeps_task_text)
{
	const char *f = "{\"type\":\"publish\",\"ref\":\"7\",\"queue\":\"q\","
	    "\"task\": {\"name\":\"n\", \"payload\":{\"x\":[1,2.50]}} }";
	char err[128];
	struct msg m;

	ck_assert_int_eq(msg_decode(&m, f, strlen(f), true, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(m.task_raw);
	ck_assert_int_eq(strncmp(m.task_raw,
	    "{\"name\":\"n\", \"payload\":{\"x\":[1,2.50]}}", m.task_raw_len), 0);
	ck_assert_uint_eq(m.task_raw_len,
	    strlen("{\"name\":\"n\", \"payload\":{\"x\":[1,2.50]}}"));
	msg_clear(&m);
}
END_TEST

/*
 * Plain metadata at the end of a task at the end of its frame is cut out
 * of the parse (proto.c's meta_cut); anything else goes to cJSON whole.
 * Either way a message must decode to the same task, metadata and error
 * as a plain cJSON parse gives.
 */
#define PUB	"{\"type\":\"publish\",\"ref\":\"r\",\"queue\":\"q\",\"task\":"
static const struct {
	const char	*frame;
	bool		 from_child;
	bool		 cut;		/* metadata kept as text */
	const char	*task;		/* the tree without metadata; NULL: an error */
	const char	*err;
	const char	*key, *value;	/* a metadata lookup; value NULL: absent */
} metas[] = {
	/* libplba's form */
	{ PUB "{\"name\":\"n\",\"payload\":1,\"metadata\":{\"traceparent\":\"tp\"}}}",
	  true, true, "{\"name\":\"n\",\"payload\":1}", NULL, "traceparent", "tp" },
	{ PUB " { \"name\" : \"n\" , \"metadata\" : { \"a\" : \"b\" , \"c\" : \"d\" } "
	  "} } ", true, true, "{\"name\":\"n\"}", NULL, "c", "d" },
	{ PUB "{\"name\":\"n\",\"payload\":[1,{}],\"metadata\":{\"a\":\"b\"}}}",
	  true, true, "{\"name\":\"n\",\"payload\":[1,{}]}", NULL, "a", "b" },
	{ PUB "{\"name\":\"n\",\"payload\":\"}\",\"metadata\":{\"a\":\"b\"}}}",
	  true, true, "{\"name\":\"n\",\"payload\":\"}\"}", NULL, "a", "b" },
	{ PUB "{\"name\":\"n\",\"metadata\":{}}}", true, true, "{\"name\":\"n\"}",
	  NULL, "a", NULL },
	{ PUB "{\"name\":\"n\",\"metadata\":{\"\":\"x\",\"k\":\"{,:}\"}}}", true, true,
	  "{\"name\":\"n\"}", NULL, "k", "{,:}" },
	/* the only member: the task then lacks its name, as before */
	{ PUB "{\"metadata\":{\"a\":\"b\"}}}", true, true, NULL,
	  "publish: \"task\" needs a string \"name\"", NULL, NULL },
	/* a task frame from the master */
	{ "{\"type\":\"task\",\"id\":\"1\",\"queue\":\"q\",\"attempt\":1,\"task\":"
	  "{\"name\":\"n\",\"metadata\":{\"traceparent\":\"tp\"}}}", false, true,
	  "{\"name\":\"n\"}", NULL, "traceparent", "tp" },
	/* elsewhere in the task, or in another form: parsed whole */
	{ PUB "{\"metadata\":{\"a\":\"b\"},\"name\":\"n\"}}", true, false,
	  "{\"name\":\"n\"}", NULL, "a", "b" },
	{ PUB "{\"name\":\"n\",\"metadata\":{\"a\":\"\\u0062\"}}}", true, false,
	  "{\"name\":\"n\"}", NULL, "a", "b" },
	{ PUB "{\"name\":\"n\",\"metadata\":{\"a\":\"b\\\"}\"}}}", true, false,
	  "{\"name\":\"n\"}", NULL, "a", "b\"}" },
	{ PUB "{\"name\":\"n\",\"metadata\":{\"a\":\"b\\tc\"}}}", true, false,
	  "{\"name\":\"n\"}", NULL, "a", "b\tc" },
	{ "{\"ref\":\"r\",\"type\":\"publish\",\"queue\":\"q\",\"task\":{\"name\":\"n\","
	  "\"metadata\":{\"a\":\"b\"}}}", true, false, "{\"name\":\"n\"}", NULL,
	  "a", "b" },
	/* cJSON takes the first of two; any \u before might spell one */
	{ PUB "{\"name\":\"n\",\"metadata\":{\"a\":\"c\"},\"metadata\":{\"a\":\"b\"}}}",
	  true, false, NULL, NULL, "a", "c" },
	{ PUB "{\"met\\u0061data\":{\"a\":\"c\"},\"name\":\"n\",\"metadata\":{\"a\":\"b\"}}}",
	  true, false, NULL, NULL, "a", "c" },
	{ PUB "{\"name\":\"n\",\"metadata\":{\"a\":\"b\"},\"met\\u0061data\":{\"a\":\"c\"}}}",
	  true, false, NULL, NULL, "a", "b" },
	{ PUB "{\"name\":\"n\",\"payload\":{\"metadata\":1},\"metadata\":{\"a\":\"b\"}}}",
	  true, false, NULL, NULL, "a", "b" },
	/* a key that ends like "metadata" but is not it, in a bad frame */
	{ PUB "{\"name\":\"n\",\\u00adata\":{\"a\":\"b\"}}}", true, false, NULL,
	  "invalid JSON", NULL, NULL },
	/* the object the metadata ends is not the task: parsed again whole */
	{ "{\"type\":\"publish\",\"ref\":\"r\",\"task\":{\"name\":\"n\"},\"queue\":\"q\","
	  "\"x\":{\"y\":1,\"metadata\":{\"a\":\"b\"}}}", true, false,
	  "{\"name\":\"n\"}", NULL, "a", NULL },
	/* what is not cut still fails as it did */
	{ PUB "{\"name\":\"n\",\"metadata\":{\"a\":1}}}", true, false, NULL,
	  "publish: \"task\" \"metadata\" values must be strings", NULL, NULL },
	/* a fault outside the metadata is still found */
	{ PUB "{\"name\":\"n\",\"payload\":[1,,2],\"metadata\":{\"a\":\"b\"}}}",
	  true, false, NULL, "invalid JSON", NULL, NULL },
	{ PUB "{ ,\"metadata\":{\"a\":\"b\"}}}", true, false, NULL,
	  "invalid JSON", NULL, NULL },
	{ PUB "{\"name\":\"n\" \"metadata\":{\"a\":\"b\"}}}", true, false, NULL,
	  "invalid JSON", NULL, NULL },
	{ PUB "{\"name\":\"n\",,\"metadata\":{\"a\":\"b\"}}}", true, false, NULL,
	  "invalid JSON", NULL, NULL },
	{ PUB "{\"name\":\"n\",\"metadata\":{\"a\":\"b\"}},}", true, false, NULL,
	  "invalid JSON", NULL, NULL },
	{ PUB "[\"name\",\"metadata\":{\"a\":\"b\"}]}", true, false, NULL,
	  "invalid JSON", NULL, NULL },
	{ PUB "{\"name\":\"n\",\"metadata\":{\"a\":\"b\",}}}", true, false, NULL,
	  "invalid JSON", NULL, NULL },
	{ PUB "{\"name\":\"n\",\"metadata\":{\"a\" \"b\"}}}", true, false, NULL,
	  "invalid JSON", NULL, NULL },
};

START_TEST(plain_metadata)
{
	char err[128], buf[64];
	struct msg m;
	cJSON *want, *whole, *meta;
	int rc;

	rc = msg_decode(&m, metas[_i].frame, strlen(metas[_i].frame),
	    metas[_i].from_child, err, sizeof(err));
	if (metas[_i].err != NULL) {
		ck_assert_int_eq(rc, -1);
		ck_assert_str_eq(err, metas[_i].err);
		return;
	}
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert(metas[_i].cut == (m.meta != NULL));
	if (metas[_i].cut)
		ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(m.task,
		    "metadata"));
	/* The text a publish passes on keeps its metadata. */
	if (m.type == MSG_PUBLISH && metas[_i].value != NULL)
		ck_assert_ptr_nonnull(memmem(m.task_raw, m.task_raw_len,
		    "metadata", 8));
	if (metas[_i].task != NULL) {
		want = cJSON_Parse(metas[_i].task);
		whole = cJSON_Duplicate(m.task, true);
		cJSON_DeleteItemFromObjectCaseSensitive(whole, "metadata");
		ck_assert(cJSON_Compare(want, whole, true));
		cJSON_Delete(want);
		cJSON_Delete(whole);
	}
	rc = msg_meta_get(&m, metas[_i].key, buf, sizeof(buf));
	if (metas[_i].value == NULL)
		ck_assert_int_eq(rc, -1);
	else {
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(buf, metas[_i].value);
	}
	/* The whole tree, as cJSON would have built it. */
	ck_assert_int_eq(msg_task_whole(&m), 0);
	meta = cJSON_GetObjectItemCaseSensitive(m.task, "metadata");
	ck_assert(metas[_i].value == NULL || cJSON_IsObject(meta));
	if (metas[_i].value != NULL)
		ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(meta,
		    metas[_i].key)->valuestring, metas[_i].value);
	msg_clear(&m);
}
END_TEST

START_TEST(meta_value_too_long)
{
	const char *f = PUB "{\"name\":\"n\",\"metadata\":{\"a\":\"0123456789\"}}}";
	char err[128], buf[11];
	struct msg m;

	ck_assert_int_eq(msg_decode(&m, f, strlen(f), true, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(m.meta);
	/* Ten bytes and the NUL: one byte short, then room. */
	ck_assert_int_eq(msg_meta_get(&m, "a", buf, sizeof(buf) - 1), -1);
	ck_assert_int_eq(msg_meta_get(&m, "a", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "0123456789");
	msg_clear(&m);
}
END_TEST

/* A task {"name":"n","KEY":V} where V is depth arrays, one in another. */
static char *
nested_task(const char *key, int depth)
{
	char *t = malloc(64 + 2 * (size_t)depth), *p;

	ck_assert_ptr_nonnull(t);
	p = t + sprintf(t, "{\"name\":\"n\",\"%s\":", key);
	memset(p, '[', (size_t)depth);
	memset(p + depth, ']', (size_t)depth);
	strcpy(p + 2 * depth, "}");
	return t;
}

/* A member nests at most PROTO_TASK_DEPTH deep, as a tree and as text;
 * past cJSON's limit the text still says which member. */
START_TEST(task_depth)
{
	static const struct { const char *key; int depth; bool deep; } c[] = {
		{ "payload", 1, false }, { "payload", 256, false },
		{ "payload", 257, true }, { "p", 257, true },
		{ "payload", 1001, true },
	};
	const char *key;
	size_t i, klen;
	cJSON *t, *v;
	char *text;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		text = nested_task(c[i].key, c[i].depth);
		ck_assert_int_eq(proto_text_too_deep(text, strlen(text), &key,
		    &klen), c[i].deep);
		if (c[i].deep)
			ck_assert(klen == strlen(c[i].key) &&
			    memcmp(key, c[i].key, klen) == 0);
		if ((t = cJSON_Parse(text)) != NULL) {
			ck_assert(proto_task_too_deep(t) == NULL ? !c[i].deep :
			    strcmp(proto_task_too_deep(t), c[i].key) == 0);
			cJSON_Delete(t);
		} else
			ck_assert_int_gt(c[i].depth, 998);
		free(text);
	}
	/* [[1]] is 2 deep; a scalar 0. */
	v = cJSON_Parse("[[1]]");
	ck_assert(!json_deeper(v, 2) && json_deeper(v, 1));
	cJSON_Delete(v);
	v = cJSON_Parse("1");
	ck_assert(!json_deeper(v, 0));
	cJSON_Delete(v);
	/* Brackets in strings are not levels; a body not an object has no
	 * member to name. */
	text = malloc(600);
	ck_assert_ptr_nonnull(text);
	memcpy(text, "{\"p\":\"\\\"", 8);	/* {"p":"\" */
	memset(text + 8, '[', 300);
	memcpy(text + 308, "\"}", 2);
	ck_assert(!proto_text_too_deep(text, 310, &key, &klen));
	free(text);
	text = malloc(600);
	memset(text, '[', 300);
	memset(text + 300, ']', 300);
	ck_assert(proto_text_too_deep(text, 600, &key, &klen) && key == NULL);
	free(text);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("proto");
	TCase *dec = tcase_create("decode");
	TCase *rej = tcase_create("reject");
	TCase *enc = tcase_create("encode");
	TCase *quo = tcase_create("json_quote");

	tcase_add_test(dec, decode_hello);
	tcase_add_test(dec, exact_numbers);
	tcase_add_test(dec, exact_numbers_any_offset);
	tcase_add_test(dec, decode_ready_heartbeat);
	tcase_add_test(dec, decode_status);
	tcase_add_test(dec, decode_health);
	tcase_add_test(dec, decode_publish);
	tcase_add_test(dec, decode_ack_nack);
	tcase_add_test(dec, decode_trace);
	tcase_add_test(dec, decode_welcome);
	tcase_add_test(dec, decode_published_rejected);
	tcase_add_test(dec, decode_task);
	tcase_add_test(dec, decode_stop);
	tcase_add_test(dec, decode_tracing);
	tcase_add_test(dec, decode_uses_length);
	tcase_add_test(dec, trailing_bytes_rejected);
	tcase_add_test(dec, control_characters_found_anywhere);
	tcase_add_test(dec, invalid_utf8_found_anywhere);
	tcase_add_test(dec, put_keeps_frames_utf8);
	tcase_add_test(dec, type_names_and_words);
	tcase_add_test(dec, task_depth);
	suite_add_tcase(s, dec);

	tcase_add_loop_test(rej, rejected_with_reason, 0,
	    (int)(sizeof(rejects) / sizeof(rejects[0])));
	tcase_add_test(rej, reject_reason_bounded);
	suite_add_tcase(s, rej);

	tcase_add_test(enc, roundtrip_child_messages);
	tcase_add_test(enc, roundtrip_master_messages);
	tcase_add_test(enc, welcome_extra_bounds_the_frame);
	tcase_add_test(enc, roundtrip_task_largest_numbers);
	tcase_add_test(enc, roundtrip_sequence);
	suite_add_tcase(s, enc);

	tcase_add_loop_test(quo, quote_cases, 0,
	    (int)(sizeof(quotes) / sizeof(quotes[0])));
	tcase_add_test(quo, quote_truncates_to_cap);
	tcase_add_test(quo, quote_parses_back);
	tcase_add_loop_test(quo, member_text, 0,
	    (int)(sizeof(members) / sizeof(members[0])));
	tcase_add_test(quo, publish_keeps_task_text);
	tcase_add_loop_test(quo, plain_metadata, 0,
	    sizeof(metas) / sizeof(metas[0]));
	tcase_add_test(quo, meta_value_too_long);
	suite_add_tcase(s, quo);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
