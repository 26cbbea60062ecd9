/*
 * POST /queues/Q/tasks as src/master/http.c's do_publish handles it: the
 * body checked as body_json() does (UTF-8 without NUL, one whole JSON
 * value, no \u0000, finite numbers, long numbers kept as their text), a
 * caller's traceparent header added to the
 * task's metadata, then the wrapper {"type":"publish","ref":"http",
 * "queue":Q,"task":BODY} printed and checked by msg_decode, the same checks
 * a child's publish gets.  The input is three parts split at the first
 * two newlines: the queue name as split() leaves it (1 to 127 bytes, no
 * '/'), the traceparent header (empty: none) and the body.
 *
 * Checks besides memory errors:
 *   - a rejected body gets a reason that starts with "publish: ", which
 *     do_publish strips before answering;
 *   - a body is refused for its depth before it is parsed, and what the
 *     text check passes the tree check passes too;
 *   - msg_decode accepts exactly the bodies the documented task rules
 *     accept (an object with a string "name"; "metadata", when present
 *     and not null, an object of strings);
 *   - what do_publish queues (the task printed again) reaches a consumer
 *     as a task frame that decodes on the child's side, unchanged.
 *
 * The path splitter and the stop body (split, parse_stop) are static in
 * http.c and not reached from here; see README.md.
 */
#include "config.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "frame.h"
#include "proto.h"
#include "json_exact.h"
#include "tracectx.h"
#include "utf8.h"

#include "fuzz.h"

/*
 * The task rules of plba-protocol(7), written out independently.  A
 * number too large for a double prints as null (cJSON), so "metadata":
 * 1e999 is taken as null, the way the printed wrapper has it.
 */
static bool
task_acceptable(const cJSON *task)
{
	const cJSON *meta, *e;

	if (!cJSON_IsObject(task) ||
	    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(task, "name")))
		return false;
	meta = cJSON_GetObjectItemCaseSensitive(task, "metadata");
	if (meta == NULL || cJSON_IsNull(meta) ||
	    (cJSON_IsNumber(meta) && !isfinite(meta->valuedouble)))
		return true;
	if (!cJSON_IsObject(meta))
		return false;
	for (e = meta->child; e != NULL; e = e->next)
		if (!cJSON_IsString(e))
			return false;
	return true;
}

/* What split() and body_json() want of a name and a body: UTF-8, no NUL. */
static bool
valid_utf8(const char *s, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i += k)
		if ((k = utf8_seq((const unsigned char *)s + i, n - i)) == 0)
			return false;
	return true;
}

/* The consumer's side of a queued task: the frame channel_pump sends. */
static void
check_delivery(const char *queue, const char *text, const cJSON *want)
{
	struct frame_writer w;
	struct msg t;
	char err[256];
	uint32_t be;

	frame_writer_init(&w);
	if (proto_put_task(&w, 1, queue, 1, text, strlen(text)) == -1) {
		frame_writer_free(&w);
		return;
	}
	memcpy(&be, w.buf + w.start, sizeof(be));
	FUZZ_ASSERT(ntohl(be) == w.len - FRAME_HEADER, "task frame length");
	if (msg_decode(&t, w.buf + w.start + FRAME_HEADER, w.len - FRAME_HEADER,
	    false, err, sizeof(err)) == -1)
		FUZZ_ASSERT(0, "the consumer cannot decode the task: %s", err);
	FUZZ_ASSERT(msg_task_whole(&t) == 0, "plain metadata does not parse");
	FUZZ_ASSERT(t.type == MSG_TASK && strcmp(t.queue, queue) == 0,
	    "delivered to another queue");
	FUZZ_ASSERT(fuzz_json_same(t.task, want), "the task changed on its way");
	msg_clear(&t);
	frame_writer_free(&w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl, *key;
	char queue[128], *tp = NULL, *btext = NULL, *task = NULL, *queued, err[256];
	cJSON *body, *wrap, *want = NULL;
	struct msg m;
	size_t qlen, klen;
	bool acceptable;
	int rc;

	/* The queue name, as split() hands it to new_action. */
	if ((nl = memchr(p, '\n', size)) == NULL)
		return 0;
	qlen = (size_t)(nl - p);
	if (qlen == 0 || qlen >= sizeof(queue) || memchr(p, '/', qlen) != NULL ||
	    !valid_utf8(p, qlen))
		return 0;
	memcpy(queue, p, qlen);
	queue[qlen] = '\0';
	p = nl + 1;
	/* The header: civetweb gives a C string without CR or LF. */
	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
		return 0;
	if (nl > p && (tp = fuzz_cstr((const uint8_t *)p, (size_t)(nl - p))) == NULL)
		return 0;
	p = nl + 1;
	/* read_body's buffer: the bytes, then a NUL. */
	if ((btext = fuzz_cstr((const uint8_t *)p, (size_t)(end - p))) == NULL)
		goto out;

	/* From here to msg_decode, what do_publish does: body_json() first,
	 * whose refusals are each a 400 of its own. */
	/* Refused for its depth first, from the text, as do_publish does:
	 * what is left parses and nests as the wrapper allows. */
	if (proto_text_too_deep(btext, (size_t)(end - p), &key, &klen))
		goto out;
	if (!valid_utf8(btext, (size_t)(end - p)) ||
	    memmem(btext, (size_t)(end - p), "\\u0000", 6) != NULL ||
	    (body = cJSON_ParseWithLengthOpts(btext, (size_t)(end - p) + 1, NULL,
	    true)) == NULL)
		goto out;
	if (!json_finite(body)) {
		cJSON_Delete(body);
		goto out;
	}
	/* Long numbers queued as sent. */
	if (json_exact_numbers(body, btext, (size_t)(end - p)) == -1) {
		cJSON_Delete(body);
		goto out;
	}
	if (tp != NULL && cJSON_IsObject(body)) {
		struct tracectx ctx;
		char canonical[TRACEPARENT_LEN + 1];
		cJSON *meta = cJSON_GetObjectItemCaseSensitive(body, "metadata");

		if (tracectx_parse(tp, &ctx) == 0 &&
		    (meta == NULL || (cJSON_IsObject(meta) &&
		    cJSON_GetObjectItemCaseSensitive(meta, "traceparent") == NULL))) {
			if (meta == NULL)
				meta = cJSON_AddObjectToObject(body, "metadata");
			tracectx_format(&ctx, canonical);
			cJSON_AddStringToObject(meta, "traceparent", canonical);
		}
	}
	acceptable = task_acceptable(body);
	wrap = cJSON_CreateObject();
	cJSON_AddStringToObject(wrap, "type", "publish");
	cJSON_AddStringToObject(wrap, "ref", "http");
	cJSON_AddStringToObject(wrap, "queue", queue);
	cJSON_AddItemToObject(wrap, "task", body);
	task = cJSON_PrintUnformatted(wrap);
	cJSON_Delete(wrap);
	if (task == NULL)
		goto out;
	rc = msg_decode(&m, task, strlen(task), true, err, sizeof(err));

	if (rc == -1) {
		/* do_publish answers err + strlen("publish: "). */
		FUZZ_ASSERT(strncmp(err, "publish: ", 9) == 0,
		    "reason \"%s\" does not start with \"publish: \"", err);
		FUZZ_ASSERT(!acceptable, "an acceptable task was refused: %s", err);
		goto out;
	}
	FUZZ_ASSERT(acceptable, "an unacceptable task was accepted");
	FUZZ_ASSERT(proto_task_too_deep(m.task) == NULL,
	    "the text and the tree disagree on the task's depth");
	FUZZ_ASSERT(m.type == MSG_PUBLISH && strcmp(m.ref, "http") == 0 &&
	    strcmp(m.queue, queue) == 0, "the wrapper's members changed");
	/* What do_publish hands to queue_publish. */
	queued = m.task_raw != NULL ? strndup(m.task_raw, m.task_raw_len) :
	    cJSON_PrintUnformatted(m.task);
	FUZZ_ASSERT(msg_task_whole(&m) == 0, "plain metadata does not parse");
	free(task);
	if ((task = queued) != NULL) {
		if ((want = cJSON_Parse(task)) != NULL) {
			FUZZ_ASSERT(fuzz_json_same(want, m.task),
			    "the queued text is not the task");
			check_delivery(queue, task, want);
		}
	}
	cJSON_Delete(want);
	msg_clear(&m);
out:
	free(task);
	free(btext);
	free(tp);
	return 0;
}
