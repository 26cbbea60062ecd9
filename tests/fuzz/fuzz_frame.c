/*
 * The worker protocol as a child or a hostile peer can send it: a byte
 * stream fed to the frame reader in pieces of varying size, every frame
 * decoded in both directions.  Besides memory errors, it checks:
 *   - the reader yields the same frames, whatever the piece sizes, as a
 *     reference that parses the whole stream at once;
 *   - json_member_text finds the member the parsed tree has;
 *   - a publish's task, passed through as raw text the way channel.c does
 *     (strndup of task_raw), is the task that was validated, and the task
 *     frame the master would deliver with it decodes on the child's side;
 *   - every decoded message re-encodes to a frame that decodes the same;
 *   - a task whose plain metadata was cut out of the parse is the task
 *     cJSON finds in the whole frame, which it accepts;
 *   - json_exact_numbers, as libplba applies it to a task frame, leaves a
 *     tree that prints as JSON and reads back as the frame's values.
 * The first input byte seeds the piece sizes; the rest is the stream.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "frame.h"
#include "proto.h"
#include "json_exact.h"

#include "fuzz.h"

#define MAX_FRAME	4096

/* --- reference framing ------------------------------------------------ */

struct ref {
	const uint8_t	*data;
	size_t		 pos;		/* start of the next frame */
	size_t		 fed;		/* bytes given to the reader so far */
};

/* Same contract as frame_next, over the bytes fed so far. */
static int
ref_next(struct ref *r, const uint8_t **body, size_t *len)
{
	uint32_t n;

	if (r->fed - r->pos < FRAME_HEADER)
		return 0;
	n = (uint32_t)r->data[r->pos] << 24 | (uint32_t)r->data[r->pos + 1] << 16 |
	    (uint32_t)r->data[r->pos + 2] << 8 | r->data[r->pos + 3];
	if (n == 0 || n > MAX_FRAME)
		return -1;
	if (r->fed - r->pos - FRAME_HEADER < n)
		return 0;
	*body = r->data + r->pos + FRAME_HEADER;
	*len = n;
	r->pos += FRAME_HEADER + n;
	return 1;
}

static uint32_t
rng(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* --- helpers -------------------------------------------------------------- */

static bool
same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Decodes the single frame the writer holds. */
static int
decode_written(struct frame_writer *w, bool from_child, struct msg *out)
{
	char err[256];
	uint32_t be;
	const char *p = w->buf + w->start;

	FUZZ_ASSERT(w->len >= FRAME_HEADER, "writer holds %zu bytes", w->len);
	memcpy(&be, p, sizeof(be));
	FUZZ_ASSERT(ntohl(be) == w->len - FRAME_HEADER,
	    "length prefix %u for %zu body bytes", ntohl(be), w->len - FRAME_HEADER);
	if (msg_decode(out, p + FRAME_HEADER, w->len - FRAME_HEADER, from_child,
	    err, sizeof(err)) == -1) {
		fprintf(stderr, "re-encoded frame: %.*s\n",
		    (int)(w->len - FRAME_HEADER), p + FRAME_HEADER);
		FUZZ_ASSERT(0, "re-encoded frame does not decode: %s", err);
	}
	FUZZ_ASSERT(msg_task_whole(out) == 0, "plain metadata does not parse");
	return 0;
}

/* A string that proto_put_published/proto_put_task can carry as a number. */
static bool
canonical_u64(const char *s, uint64_t *v)
{
	char buf[32], *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	snprintf(buf, sizeof(buf), "%" PRIu64, *v);
	return strcmp(buf, s) == 0;
}

static bool
same_json(const cJSON *a, const cJSON *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return fuzz_json_same(a, b);
}

/* --- the checks ------------------------------------------------------------ */

/* Bytes below 0x20 other than JSON's white space: nowhere valid in JSON. */
static bool
has_control_byte(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' &&
		    p[i] != '\r')
			return true;
	return false;
}

/* Whether two members of an object share a (decoded) name. */
static bool
has_duplicate_names(const cJSON *o)
{
	const cJSON *a, *b;

	for (a = o->child; a != NULL; a = a->next)
		for (b = a->next; b != NULL; b = b->next)
			if (strcmp(a->string, b->string) == 0)
				return true;
	return false;
}

/*
 * What channel.c's handle_publish queues for a publish, and what the
 * consumer then receives: the raw task text through strndup, else the
 * tree printed.  Both must be the task msg_decode validated.
 */
static void
check_publish_passthrough(const struct msg *m, const char *body, size_t len)
{
	struct frame_writer w;
	struct msg t;
	cJSON *back;
	const char *key;
	size_t klen;
	char *text;

	/* Known: control bytes that cJSON takes and JSON does not, in a
	 * string or as white space (fuzz_regress nul_in_string,
	 * control_byte_as_space), and a key spelled with escapes before
	 * the plain one (fuzz_regress escaped_duplicate_task). */
	if (fuzz_skip_known() && (has_control_byte(body, len) ||
	    has_duplicate_names(m->root)))
		return;
	if (m->task_raw != NULL)
		text = strndup(m->task_raw, m->task_raw_len);
	else
		text = cJSON_PrintUnformatted(m->task);
	if (text == NULL)
		return;
	/* handle_publish reads a task's depth from the tree, do_publish
	 * from the text: the two must agree. */
	FUZZ_ASSERT(proto_text_too_deep(text, strlen(text), &key, &klen) ==
	    (proto_task_too_deep(m->task) != NULL),
	    "the text and the tree disagree on the task's depth");
	back = cJSON_Parse(text);
	if (back == NULL || !fuzz_json_same(back, m->task)) {
		char *want = cJSON_PrintUnformatted(m->task);

		fprintf(stderr, "validated task: %s\nqueued task:    %s\n",
		    want != NULL ? want : "?", text);
		free(want);
		FUZZ_ASSERT(0, "the task queued is not the task validated");
	}
	cJSON_Delete(back);
	/* The delivery the consumer gets must pass its own checks. */
	frame_writer_init(&w);
	if (proto_put_task(&w, 1, m->queue, 1, text, strlen(text)) == 0) {
		decode_written(&w, false, &t);
		FUZZ_ASSERT(t.type == MSG_TASK, "delivered as %s", msg_type_name(t.type));
		msg_clear(&t);
	}
	frame_writer_free(&w);
	free(text);
}

/* Re-encodes m with the proto_put_* of its type, decodes it again and
 * compares member by member. */
static void
check_roundtrip(const struct msg *m, bool from_child)
{
	struct frame_writer w;
	struct msg b;
	char *text = NULL;
	uint64_t u;
	int rc = 1;

	frame_writer_init(&w);
	switch (m->type) {
	case MSG_HELLO:
		rc = proto_put_hello(&w, (long)m->pid, m->tracing_updates);
		break;
	case MSG_READY:
	case MSG_HEARTBEAT:
		rc = proto_put_simple(&w, msg_type_name(m->type));
		break;
	case MSG_STATUS:
		rc = proto_put_status(&w, m->status);
		break;
	case MSG_HEALTH:
		rc = proto_put_health(&w, m->health, m->detail);
		break;
	case MSG_PUBLISH:
		if ((text = cJSON_PrintUnformatted(m->task)) != NULL)
			rc = proto_put_publish(&w, m->ref, m->queue, text, strlen(text),
			    m->track);
		break;
	case MSG_ACK:
		rc = proto_put_ack(&w, m->id);
		break;
	case MSG_NACK:
		rc = proto_put_nack(&w, m->id, m->error, m->retry);
		break;
	case MSG_TRACE:
		if ((text = cJSON_PrintUnformatted(m->record)) != NULL)
			rc = proto_put_trace(&w, text, strlen(text));
		break;
	case MSG_WELCOME:
		if (m->instance > UINT_MAX)
			break;
		if (m->config != NULL && (text = cJSON_PrintUnformatted(m->config)) == NULL)
			break;
		rc = proto_put_welcome(&w, m->worker, (unsigned)m->instance, text,
		    1000, m->trace, m->trace_sample);
		break;
	case MSG_PUBLISHED:
		if (canonical_u64(m->id, &u) && u != 0)
			rc = proto_put_published(&w, m->ref, u);
		break;
	case MSG_REJECTED:
		rc = proto_put_rejected(&w, m->ref, m->error != NULL ? m->error : "");
		break;
	case MSG_TASK:
		if (m->attempt > UINT_MAX || !canonical_u64(m->id, &u))
			break;
		if ((text = cJSON_PrintUnformatted(m->task)) != NULL)
			rc = proto_put_task(&w, u, m->queue, (unsigned)m->attempt,
			    text, strlen(text));
		break;
	case MSG_STOP:
		rc = proto_put_stop(&w, m->force);
		break;
	case MSG_TRACING:
		rc = proto_put_tracing(&w, m->trace, m->trace_sample);
		break;
	case MSG_DONE:
		if (canonical_u64(m->id, &u))
			rc = proto_put_done(&w, u, m->queue, m->acked, m->error);
		break;
	case MSG_INVALID:
		FUZZ_ASSERT(0, "decoded as MSG_INVALID");
	}
	free(text);
	if (rc != 0) {
		frame_writer_free(&w);
		return;
	}
	decode_written(&w, from_child, &b);
	FUZZ_ASSERT(b.type == m->type, "%s came back as %s",
	    msg_type_name(m->type), msg_type_name(b.type));
	FUZZ_ASSERT(b.pid == m->pid && b.protocol == m->protocol, "hello members");
	FUZZ_ASSERT(same_str(b.status, m->status), "status");
	FUZZ_ASSERT(same_str(b.health, m->health), "health");
	if (m->type == MSG_HEALTH)
		FUZZ_ASSERT(same_str(b.detail, m->detail != NULL ? m->detail : ""),
		    "detail");
	FUZZ_ASSERT(same_str(b.ref, m->ref), "ref");
	FUZZ_ASSERT(same_str(b.queue, m->queue), "queue");
	FUZZ_ASSERT(same_json(b.task, m->task), "task");
	FUZZ_ASSERT(same_str(b.id, m->id), "id");
	if (m->type == MSG_NACK || m->type == MSG_REJECTED)
		FUZZ_ASSERT(same_str(b.error, m->error != NULL ? m->error : ""),
		    "error");
	FUZZ_ASSERT(b.retry == m->retry && b.force == m->force &&
	    b.track == m->track && b.acked == m->acked &&
	    b.tracing_updates == m->tracing_updates, "booleans");
	/* welcome sends its ratio only with tracing on. */
	if (m->type == MSG_TRACING || (m->type == MSG_WELCOME && m->trace))
		FUZZ_ASSERT(b.trace == m->trace &&
		    b.trace_sample == m->trace_sample, "tracing");
	if (m->type == MSG_DONE)
		FUZZ_ASSERT(same_str(b.error, m->error), "error");
	FUZZ_ASSERT(same_json(b.record, m->record), "record");
	FUZZ_ASSERT(same_str(b.worker, m->worker), "worker");
	FUZZ_ASSERT(b.instance == m->instance, "instance");
	FUZZ_ASSERT(same_json(b.config, m->config), "config");
	FUZZ_ASSERT(b.attempt == m->attempt, "attempt");
	msg_clear(&b);
	frame_writer_free(&w);
}

/* The required members of each type are there once decoded. */
static void
check_members(const struct msg *m)
{
	switch (m->type) {
	case MSG_HELLO:
		FUZZ_ASSERT(m->protocol == PROTO_VERSION, "protocol %lld", m->protocol);
		break;
	case MSG_STATUS:
		FUZZ_ASSERT(m->status != NULL && proto_status_valid(m->status), "status");
		break;
	case MSG_HEALTH:
		FUZZ_ASSERT(m->health != NULL && proto_health_valid(m->health), "health");
		break;
	case MSG_PUBLISH:
		FUZZ_ASSERT(m->ref != NULL && m->queue != NULL &&
		    cJSON_IsObject(m->task), "publish members");
		FUZZ_ASSERT(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(m->task,
		    "name")), "task name");
		break;
	case MSG_ACK:
	case MSG_NACK:
		FUZZ_ASSERT(m->id != NULL, "id");
		break;
	case MSG_TRACE:
		FUZZ_ASSERT(cJSON_IsObject(m->record), "record");
		break;
	case MSG_WELCOME:
		FUZZ_ASSERT(m->worker != NULL && m->instance >= 0, "welcome members");
		FUZZ_ASSERT(m->config == NULL || cJSON_IsObject(m->config), "config");
		break;
	case MSG_PUBLISHED:
		FUZZ_ASSERT(m->ref != NULL && m->id != NULL, "published members");
		break;
	case MSG_REJECTED:
		FUZZ_ASSERT(m->ref != NULL, "ref");
		break;
	case MSG_TASK:
		FUZZ_ASSERT(m->id != NULL && m->queue != NULL && m->attempt >= 1 &&
		    cJSON_IsObject(m->task), "task members");
		break;
	case MSG_DONE:
		FUZZ_ASSERT(m->id != NULL && m->queue != NULL, "done members");
		break;
	case MSG_TRACING:
		FUZZ_ASSERT(m->trace_sample >= 0 && m->trace_sample <= 1,
		    "trace_sample %g", m->trace_sample);
		break;
	default:
		break;
	}
}

/* json_member_text against the tree, for the keys the protocol uses. */
static void
check_member_text(const char *body, size_t len)
{
	static const char *const keys[] = {
		"type", "task", "record", "config", "ref", "queue", "id", "x",
	};
	const char *end = NULL, *v;
	cJSON *root, *want, *got;
	size_t i, vlen;
	bool dups;

	root = cJSON_ParseWithLengthOpts(body, len, &end, false);
	while (root != NULL && end < body + len &&
	    (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
		end++;
	/* json_member_text's contract is RFC 8259 JSON, which has no raw
	 * control bytes; msg_decode refuses frames with them first. */
	if (root == NULL || end != body + len || !cJSON_IsObject(root) ||
	    has_control_byte(body, len)) {
		cJSON_Delete(root);
		return;
	}
	dups = has_duplicate_names(root);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (json_member_text(body, len, keys[i], &v, &vlen) == -1)
			continue;
		FUZZ_ASSERT(v >= body && vlen <= len && v + vlen <= body + len,
		    "value of \"%s\" outside the frame", keys[i]);
		end = NULL;
		got = cJSON_ParseWithLengthOpts(v, vlen, &end, false);
		FUZZ_ASSERT(got != NULL && end == v + vlen,
		    "text found for \"%s\" is not one JSON value: %.*s", keys[i],
		    (int)vlen, v);
		want = cJSON_GetObjectItemCaseSensitive(root, keys[i]);
		if (!dups)
			FUZZ_ASSERT(same_json(got, want),
			    "text found for \"%s\" is not its value: %.*s", keys[i],
			    (int)vlen, v);
		cJSON_Delete(got);
	}
	cJSON_Delete(root);
}

/*
 * Plain metadata is cut out before the parse (proto.c's meta_cut): the
 * frame must still be one cJSON accepts whole, and the task with its
 * metadata parsed back must be the task cJSON finds in it.
 */
static void
check_meta_cut(struct msg *m, const char *body, size_t len)
{
	const char *end = NULL;
	cJSON *root, *task;

	root = cJSON_ParseWithLengthOpts(body, len, &end, false);
	FUZZ_ASSERT(root != NULL, "a frame cJSON refuses passed with its "
	    "metadata cut out");
	task = cJSON_GetObjectItemCaseSensitive(root, "task");
	FUZZ_ASSERT(msg_task_whole(m) == 0, "plain metadata does not parse");
	FUZZ_ASSERT(fuzz_json_same(task, m->task), "the task with its metadata "
	    "cut out is not the task cJSON finds");
	cJSON_Delete(root);
}

/* The numbers kept as their text print as JSON that reads back to the
 * values the frame's parse gave: no token went to the wrong number. */
static void
check_exact_numbers(const struct msg *m, const char *body, size_t len)
{
	cJSON *copy, *back;
	char *text, *want, *got;

	if ((copy = cJSON_Duplicate(m->root, true)) == NULL)
		return;
	if (json_exact_numbers(copy, body, len) == 0 &&
	    (text = cJSON_PrintUnformatted(copy)) != NULL) {
		back = cJSON_Parse(text);
		FUZZ_ASSERT(back != NULL, "exact numbers print no JSON: %s", text);
		/* Printed by cJSON both, so equal exactly when the values are
		 * (cJSON_Compare would trip on duplicate member names). */
		want = cJSON_PrintUnformatted(m->root);
		got = cJSON_PrintUnformatted(back);
		FUZZ_ASSERT(want == NULL || got == NULL || strcmp(want, got) == 0,
		    "exact numbers changed a value: %s", text);
		free(want);
		free(got);
		cJSON_Delete(back);
		free(text);
	}
	cJSON_Delete(copy);
}

static void
check_frame(const char *body, size_t len)
{
	struct msg m;
	char err[256];
	int dir;

	for (dir = 0; dir < 2; dir++) {
		memset(err, 0, sizeof(err));
		if (msg_decode(&m, body, len, dir == 0, err, sizeof(err)) == -1) {
			FUZZ_ASSERT(m.root == NULL, "a failed decode keeps its tree");
			FUZZ_ASSERT(err[0] != '\0', "a failed decode gives no reason");
			continue;
		}
		FUZZ_ASSERT(m.root != NULL && m.type != MSG_INVALID, "decoded nothing");
		if (m.meta != NULL)
			check_meta_cut(&m, body, len);
		FUZZ_ASSERT(msg_task_whole(&m) == 0, "plain metadata does not parse");
		check_members(&m);
		if (m.type == MSG_PUBLISH)
			check_publish_passthrough(&m, body, len);
		check_roundtrip(&m, dir == 0);
		if (m.meta == NULL)
			check_exact_numbers(&m, body, len);
		msg_clear(&m);
	}
	check_member_text(body, len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_reader r;
	struct ref ref;
	const uint8_t *rbody;
	const char *body;
	size_t len, rlen, piece;
	uint32_t seed;
	int rc, want;

	if (size < 1)
		return 0;
	seed = (uint32_t)data[0] * 2654435761u | 1;
	data++;
	size--;
	frame_reader_init(&r, MAX_FRAME);
	memset(&ref, 0, sizeof(ref));
	ref.data = data;
	while (ref.fed < size) {
		/* Mostly small pieces, sometimes everything left. */
		piece = (rng(&seed) & 7) == 0 ? size - ref.fed : 1 + rng(&seed) % 64;
		if (piece > size - ref.fed)
			piece = size - ref.fed;
		FUZZ_ASSERT(frame_feed(&r, data + ref.fed, piece) == 0, "feed failed");
		ref.fed += piece;
		for (;;) {
			rc = frame_next(&r, &body, &len);
			want = ref_next(&ref, &rbody, &rlen);
			FUZZ_ASSERT(rc == want, "frame_next %d, reference %d", rc, want);
			if (rc != 1)
				break;
			FUZZ_ASSERT(len == rlen && memcmp(body, rbody, len) == 0,
			    "frame of %zu bytes differs from the reference", len);
			check_frame(body, len);
		}
		if (rc == -1)
			break;
		FUZZ_ASSERT(frame_pending(&r) == ref.fed - ref.pos,
		    "%zu pending, %zu expected", frame_pending(&r), ref.fed - ref.pos);
		if (frame_pending(&r) == 0 && (rng(&seed) & 1))
			frame_reader_trim(&r);
	}
	frame_reader_free(&r);
	return 0;
}
