#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "proto.h"
#include "utf8.h"

static const struct {
	const char	*name;
	enum msg_type	 type;
	bool		 from_child;
} types[] = {
	{ "hello",	MSG_HELLO,	true },
	{ "ready",	MSG_READY,	true },
	{ "status",	MSG_STATUS,	true },
	{ "health",	MSG_HEALTH,	true },
	{ "heartbeat",	MSG_HEARTBEAT,	true },
	{ "publish",	MSG_PUBLISH,	true },
	{ "ack",	MSG_ACK,	true },
	{ "nack",	MSG_NACK,	true },
	{ "trace",	MSG_TRACE,	true },
	{ "welcome",	MSG_WELCOME,	false },
	{ "published",	MSG_PUBLISHED,	false },
	{ "rejected",	MSG_REJECTED,	false },
	{ "task",	MSG_TASK,	false },
	{ "stop",	MSG_STOP,	false },
	{ "done",	MSG_DONE,	false },
	{ "tracing",	MSG_TRACING,	false },
};

const char *
msg_type_name(enum msg_type t)
{
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == t)
			return types[i].name;
	return "invalid";
}

bool
proto_status_valid(const char *s)
{
	return strcmp(s, "starting") == 0 || strcmp(s, "idle") == 0 ||
	    strcmp(s, "busy") == 0 || strcmp(s, "stopping") == 0 ||
	    strcmp(s, "stopped") == 0;
}

bool
proto_health_valid(const char *s)
{
	return strcmp(s, "ok") == 0 || strcmp(s, "degraded") == 0 ||
	    strcmp(s, "unhealthy") == 0;
}

void
msg_clear(struct msg *m)
{
	cJSON_Delete(m->root);
	memset(m, 0, sizeof(*m));
}

/* Member checkers: each records the first problem and returns -1. */
struct ctx {
	struct msg	*m;
	char		*err;
	size_t		 errlen;
};

static int
bad(struct ctx *c, const char *member, const char *what)
{
	snprintf(c->err, c->errlen, "%s: \"%s\" %s", msg_type_name(c->m->type),
	    member, what);
	return -1;
}

/* A member, or NULL when it is absent or null: plba-protocol(7) lets an
 * optional member be either. */
static cJSON *
member(struct ctx *c, const char *name)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(c->m->root, name);

	return cJSON_IsNull(v) ? NULL : v;
}

static int
get_string(struct ctx *c, const char *name, bool required, const char **out)
{
	cJSON *v = member(c, name);

	*out = NULL;
	if (v == NULL)
		return required ? bad(c, name, "is missing") : 0;
	if (!cJSON_IsString(v))
		return bad(c, name, "must be a string");
	*out = v->valuestring;
	return 0;
}

static int
get_int(struct ctx *c, const char *name, bool required, long long *out)
{
	cJSON *v = member(c, name);
	double d;

	if (v == NULL)
		return required ? bad(c, name, "is missing") : 0;
	if (!cJSON_IsNumber(v))
		return bad(c, name, "must be a number");
	d = v->valuedouble;
	if (d != floor(d) || d < -9007199254740992.0 || d > 9007199254740992.0)
		return bad(c, name, "must be an integer");
	*out = (long long)d;
	return 0;
}

static int
get_bool(struct ctx *c, const char *name, bool def, bool *out)
{
	cJSON *v = member(c, name);

	*out = def;
	if (v == NULL)
		return 0;
	if (!cJSON_IsBool(v))
		return bad(c, name, "must be true or false");
	*out = cJSON_IsTrue(v);
	return 0;
}

/* A sampling ratio, from 0 to 1; 1 when absent. */
static int
get_ratio(struct ctx *c, const char *name, double *out)
{
	cJSON *v = member(c, name);

	*out = 1;
	if (v == NULL)
		return 0;
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 1))
		return bad(c, name, "must be a number from 0 to 1");
	*out = v->valuedouble;
	return 0;
}

/* The tracing members of welcome and tracing. */
static int
get_tracing(struct ctx *c, bool required)
{
	if (required && member(c, "trace") == NULL)
		return bad(c, "trace", "is missing");
	if (get_bool(c, "trace", false, &c->m->trace) == -1)
		return -1;
	return get_ratio(c, "trace_sample", &c->m->trace_sample);
}

static int
get_object(struct ctx *c, const char *name, bool required, cJSON **out)
{
	cJSON *v = member(c, name);

	*out = NULL;
	if (v == NULL)
		return required ? bad(c, name, "is missing") : 0;
	if (!cJSON_IsObject(v))
		return bad(c, name, "must be an object");
	*out = v;
	return 0;
}

/* A task is {name, payload, metadata}: name a string, metadata an object
 * of strings when present (it carries traceparent). */
static int
check_task(struct ctx *c, cJSON *task)
{
	cJSON *name = cJSON_GetObjectItemCaseSensitive(task, "name");
	cJSON *meta = cJSON_GetObjectItemCaseSensitive(task, "metadata");
	cJSON *e;

	if (!cJSON_IsString(name))
		return bad(c, "task", "needs a string \"name\"");
	if (meta != NULL && !cJSON_IsNull(meta)) {
		if (!cJSON_IsObject(meta))
			return bad(c, "task", "\"metadata\" must be an object");
		cJSON_ArrayForEach(e, meta)
			if (!cJSON_IsString(e))
				return bad(c, "task", "\"metadata\" values must be strings");
	}
	return 0;
}

static int
decode_members(struct ctx *c)
{
	struct msg *m = c->m;

	switch (m->type) {
	case MSG_HELLO:
		if (get_int(c, "protocol", true, &m->protocol) == -1 ||
		    get_int(c, "pid", false, &m->pid) == -1 ||
		    get_bool(c, "tracing_updates", false,
		    &m->tracing_updates) == -1)
			return -1;
		if (m->protocol != PROTO_VERSION)
			return bad(c, "protocol", "is not a supported version (1)");
		return 0;
	case MSG_READY:
	case MSG_HEARTBEAT:
		return 0;
	case MSG_STATUS:
		if (get_string(c, "status", true, &m->status) == -1)
			return -1;
		if (!proto_status_valid(m->status))
			return bad(c, "status", "must be starting, idle, busy, "
			    "stopping or stopped");
		return 0;
	case MSG_HEALTH:
		if (get_string(c, "health", true, &m->health) == -1 ||
		    get_string(c, "detail", false, &m->detail) == -1)
			return -1;
		if (!proto_health_valid(m->health))
			return bad(c, "health", "must be ok, degraded or unhealthy");
		return 0;
	case MSG_PUBLISH:
		if (get_string(c, "ref", true, &m->ref) == -1 ||
		    get_string(c, "queue", true, &m->queue) == -1 ||
		    get_object(c, "task", true, &m->task) == -1 ||
		    get_bool(c, "track", false, &m->track) == -1)
			return -1;
		return check_task(c, m->task);
	case MSG_ACK:
		return get_string(c, "id", true, &m->id);
	case MSG_NACK:
		if (get_string(c, "id", true, &m->id) == -1 ||
		    get_string(c, "error", false, &m->error) == -1)
			return -1;
		return get_bool(c, "retry", true, &m->retry);
	case MSG_TRACE:
		return get_object(c, "record", true, &m->record);
	case MSG_WELCOME:
		if (get_string(c, "worker", true, &m->worker) == -1 ||
		    get_int(c, "instance", true, &m->instance) == -1)
			return -1;
		/* The worker's own settings, of any kind (SPEC 5). */
		m->config = cJSON_GetObjectItemCaseSensitive(m->root, "config");
		if (cJSON_IsNull(m->config))
			m->config = NULL;
		if (m->instance < 0)
			return bad(c, "instance", "must not be negative");
		return get_tracing(c, false);
	case MSG_PUBLISHED:
		if (get_string(c, "ref", true, &m->ref) == -1)
			return -1;
		return get_string(c, "id", true, &m->id);
	case MSG_REJECTED:
		if (get_string(c, "ref", true, &m->ref) == -1)
			return -1;
		return get_string(c, "error", false, &m->error);
	case MSG_TASK:
		if (get_string(c, "id", true, &m->id) == -1 ||
		    get_string(c, "queue", true, &m->queue) == -1 ||
		    get_int(c, "attempt", true, &m->attempt) == -1 ||
		    get_object(c, "task", true, &m->task) == -1)
			return -1;
		if (m->attempt < 1)
			return bad(c, "attempt", "must be 1 or more");
		return check_task(c, m->task);
	case MSG_STOP:
		return get_bool(c, "force", false, &m->force);
	case MSG_TRACING:
		return get_tracing(c, true);
	case MSG_DONE: {
		const char *outcome;

		if (get_string(c, "id", true, &m->id) == -1 ||
		    get_string(c, "queue", true, &m->queue) == -1 ||
		    get_string(c, "outcome", true, &outcome) == -1 ||
		    get_string(c, "error", false, &m->error) == -1)
			return -1;
		m->acked = strcmp(outcome, "acked") == 0;
		if (!m->acked && strcmp(outcome, "dead") != 0)
			return bad(c, "outcome", "must be acked or dead");
		return 0;
	}
	case MSG_INVALID:
		break;
	}
	return -1;
}

static bool	meta_cut(struct msg *, const char *, size_t, const char **,
		    const char **);

/* JSON's white space. */
static inline bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Where the first byte is that a frame's text may not hold, or len: a
 * control character that JSON's white space does not allow, or a byte
 * that starts no valid UTF-8 sequence.  Every frame either way passes
 * here; a block of sixteen printable ASCII bytes is passed at a step
 * where SSE2 is there (every x86-64).
 */
size_t
proto_first_invalid(const char *data, size_t len)
{
	const unsigned char *u = (const unsigned char *)data;
	size_t i = 0, stop, n;

	while (i < len) {
		stop = len;
#ifdef __SSE2__
		if (i + 16 <= len) {
			const __m128i top = _mm_set1_epi8(0x1f);
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)
			    (data + i));

			/* Lanes at or below 0x1f are their own minimum with
			 * it; lanes of 0x80 and above have their top bit. */
			if ((_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(v,
			    top), v)) | _mm_movemask_epi8(v)) == 0) {
				i += 16;
				continue;
			}
			stop = i + 16;
		}
#endif
		while (i < stop) {
			if (u[i] >= 0x20 && u[i] < 0x80)
				i++;
			else if (u[i] < 0x20) {
				if (!is_ws((char)u[i]))
					return i;
				i++;
			} else if ((n = utf8_seq(u + i, len - i)) == 0)
				return i;
			else
				i += n;
		}
	}
	return len;
}

bool
json_finite(const cJSON *o)
{
	const cJSON *e;

	if (cJSON_IsNumber(o))
		return isfinite(o->valuedouble);
	for (e = o->child; e != NULL; e = e->next)
		if (!json_finite(e))
			return false;
	return true;
}

/* Stops at limit: the cost is the tree's size, not its depth times it,
 * and the recursion never goes further than that. */
bool
json_deeper(const cJSON *v, int limit)
{
	const cJSON *e;

	if (!cJSON_IsArray(v) && !cJSON_IsObject(v))
		return false;
	if (limit <= 0)
		return true;
	for (e = v->child; e != NULL; e = e->next)
		if (json_deeper(e, limit - 1))
			return true;
	return false;
}

const char *
proto_task_too_deep(const cJSON *task)
{
	const cJSON *e;

	for (e = task->child; e != NULL; e = e->next)
		if (json_deeper(e, PROTO_TASK_DEPTH))
			return e->string;
	return NULL;
}

/*
 * A container opened at depth 1 is a top-level member's value, and the
 * last string closed at depth 1 before it is that member's key.
 */
bool
proto_text_too_deep(const char *s, size_t len, const char **key,
    size_t *klen)
{
	const char *k = NULL, *kend = NULL;
	int depth = 0;
	bool str = false, object = false;
	size_t i;

	for (i = 0; i < len; i++) {
		if (str && s[i] == '\\')
			i++;
		else if (s[i] == '"') {
			if (depth == 1 && !str)
				k = s + i + 1;
			else if (depth == 1)
				kend = s + i;
			str = !str;
		} else if (!str && (s[i] == '[' || s[i] == '{')) {
			if (++depth == 1)
				object = s[i] == '{';
			if (depth > PROTO_TASK_DEPTH + 1) {
				*key = object && kend != NULL ? k : NULL;
				*klen = object && kend != NULL ?
				    (size_t)(kend - k) : 0;
				return true;
			}
		} else if (!str && (s[i] == ']' || s[i] == '}'))
			depth--;
	}
	return false;
}

/* A frame is one JSON value: nothing but white space may follow. */
static cJSON *
parse_object(const char *data, size_t len)
{
	const char *end = NULL;
	cJSON *root;

	root = cJSON_ParseWithLengthOpts(data, len, &end, false);
	while (root != NULL && end < data + len && is_ws(*end))
		end++;
	if (root != NULL && end != data + len) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

int
msg_decode(struct msg *m, const char *data, size_t len, bool from_child,
    char *err, size_t errlen)
{
	struct ctx c = { m, err, errlen };
	const char *from, *to;
	char stackbuf[4096], *heapbuf = NULL, *cut;
	size_t i, plen;
	cJSON *type, *task;

	memset(m, 0, sizeof(*m));
	/*
	 * RFC 8259 allows no raw control character in JSON, JSON's white
	 * space is four bytes, and a frame is UTF-8 (SPEC 5); cJSON is laxer
	 * on all three (it stops a string at a NUL, skips any byte below
	 * 0x20 and copies any other through).  A frame is held to the RFC,
	 * so the text passed on and the tree checked are the same JSON, and
	 * what the master shows of it (/status, task lists) stays JSON.
	 */
	if ((i = proto_first_invalid(data, len)) < len) {
		if ((unsigned char)data[i] < 0x20)
			snprintf(err, errlen, "invalid JSON: a control character "
			    "(0x%02x) at byte %zu", (unsigned char)data[i], i);
		else
			snprintf(err, errlen, "invalid UTF-8 at byte %zu", i);
		return -1;
	}
	/*
	 * Plain metadata is left out of the parse (meta_cut): as a tree it
	 * cost a traced task more than the task's spans did.  Unless the
	 * object it was cut from is the task cJSON finds, the frame is
	 * parsed again whole.
	 */
	if (meta_cut(m, data, len, &from, &to)) {
		plen = len - (size_t)(to - from);
		if (plen > sizeof(stackbuf) && (heapbuf = malloc(plen)) == NULL) {
			snprintf(err, errlen, "out of memory");
			memset(m, 0, sizeof(*m));
			return -1;
		}
		cut = heapbuf != NULL ? heapbuf : stackbuf;
		memcpy(cut, data, (size_t)(from - data));
		memcpy(cut + (from - data), to, (size_t)(data + len - to));
		m->root = parse_object(cut, plen);
		free(heapbuf);
		if (m->root != NULL && (task = cJSON_GetObjectItemCaseSensitive(
		    m->root, "task")) != NULL && task == m->root->child->prev)
			goto parsed;
		cJSON_Delete(m->root);
		m->meta = NULL;
		m->meta_len = 0;
	}
	m->root = parse_object(data, len);
parsed:
	if (m->root == NULL) {
		snprintf(err, errlen, "invalid JSON");
		return -1;
	}
	if (!cJSON_IsObject(m->root)) {
		snprintf(err, errlen, "a message must be a JSON object");
		goto fail;
	}
	type = cJSON_GetObjectItemCaseSensitive(m->root, "type");
	if (!cJSON_IsString(type)) {
		snprintf(err, errlen, "a message needs a string \"type\"");
		goto fail;
	}
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].from_child == from_child &&
		    strcmp(types[i].name, type->valuestring) == 0)
			m->type = types[i].type;
	if (m->type == MSG_INVALID) {
		snprintf(err, errlen, "unknown message type \"%.64s\"",
		    type->valuestring);
		goto fail;
	}
	if (decode_members(&c) == -1)
		goto fail;
	/* The task passes through the master as it came: no re-encoding. */
	if ((m->type == MSG_PUBLISH || m->type == MSG_TRACE) &&
	    json_member_text(data, len, m->type == MSG_PUBLISH ? "task" : "record",
	    &m->task_raw, &m->task_raw_len) == -1)
		m->task_raw = NULL;
	return 0;
fail:
	msg_clear(m);
	return -1;
}

/* --- raw member text ---------------------------------------------------- */

static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && is_ws(*p))
		p++;
	return p;
}

/*
 * p is at an opening quote; returns the position after the closing one.
 * memchr finds each quote (a quote is the closing one when an even number
 * of backslashes precede it): the master scans every task this way, twice
 * with tracing on, and a byte-at-a-time loop showed in its profile.
 */
static const char *
skip_string(const char *p, const char *end)
{
	const char *start = p + 1, *q, *b;

	for (p = start; p < end; p = q + 1) {
		if ((q = memchr(p, '"', (size_t)(end - p))) == NULL)
			return NULL;
		for (b = q; b > start && b[-1] == '\\'; b--)
			;
		if ((q - b) % 2 == 0)
			return q + 1;
	}
	return NULL;
}

static const char *
skip_value(const char *p, const char *end)
{
	int depth = 0;

	do {
		if (p >= end)
			return NULL;
		switch (*p) {
		case '"':
			if ((p = skip_string(p, end)) == NULL)
				return NULL;
			continue;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			depth--;
			break;
		default:
			if (depth == 0) {
				/* A scalar: up to the next delimiter. */
				while (p < end && *p != ',' && *p != '}' &&
				    *p != ']' && *p != ' ' && *p != '\n' &&
				    *p != '\t' && *p != '\r')
					p++;
				return p;
			}
			break;
		}
		p++;
	} while (depth > 0);
	return p;
}

int
json_member_text(const char *json, size_t len, const char *key,
    const char **value, size_t *vlen)
{
	const char *p = json, *end = json + len, *k, *ke, *v;
	size_t klen = strlen(key);

	p = skip_ws(p, end);
	if (p >= end || *p != '{')
		return -1;
	for (p = skip_ws(p + 1, end); p < end && *p == '"'; ) {
		k = p + 1;
		if ((ke = skip_string(p, end)) == NULL)
			return -1;
		p = skip_ws(ke, end);
		if (p >= end || *p != ':')
			return -1;
		v = skip_ws(p + 1, end);
		if ((p = skip_value(v, end)) == NULL)
			return -1;
		/* An escaped key may decode to the one asked for; the
		 * parsed tree knows, this scanner does not: give up. */
		if (memchr(k, '\\', (size_t)(ke - 1 - k)) != NULL)
			return -1;
		if ((size_t)(ke - 1 - k) == klen && memcmp(k, key, klen) == 0) {
			*value = v;
			*vlen = (size_t)(p - v);
			return 0;
		}
		p = skip_ws(p, end);
		if (p < end && *p == ',')
			p = skip_ws(p + 1, end);
	}
	return -1;
}

/* --- plain metadata ------------------------------------------------------ */

/* p moved back over white space, not before lo. */
static const char *
back_ws(const char *lo, const char *p)
{
	while (p > lo && is_ws(p[-1]))
		p--;
	return p;
}

/* Where the byte c is, just before p but for white space; or NULL. */
static const char *
back_past(const char *lo, const char *p, char c)
{
	p = back_ws(lo, p);
	return p > lo && p[-1] == c ? p - 1 : NULL;
}

/*
 * close is at a closing quote: the opening one, when the bytes between
 * have no quote, backslash or control character.  Read backwards, an
 * escaped quote looks like an opening one, but a backslash then comes
 * before it, where the caller wants white space or punctuation.
 */
static const char *
back_plain_string(const char *lo, const char *close)
{
	const char *q = close;	/* what is left to look at: [lo, q) */

#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'),
	    top = _mm_set1_epi8(0x1f);
	__m128i v;
	unsigned mask;

	for (; q - lo >= 16; q -= 16) {
		v = _mm_loadu_si128((const __m128i *)(const void *)(q - 16));
		mask = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(
		    _mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bs)),
		    _mm_cmpeq_epi8(_mm_min_epu8(v, top), v)));
		if (mask != 0) {
			q -= 16 - (31 - __builtin_clz(mask));
			return *q == '"' ? q : NULL;
		}
	}
#endif
	while (q > lo) {
		if (*--q == '"')
			return q;
		if (*q == '\\' || (unsigned char)*q < 0x20)
			return NULL;
	}
	return NULL;
}

/*
 * close is at the '}' of an object of plain strings: its '{', or NULL
 * when the text before is not such an object.
 */
static const char *
back_plain_object(const char *lo, const char *close)
{
	const char *p = close, *open;

	if ((open = back_past(lo, p, '{')) != NULL)
		return open;
	for (;;) {
		if ((p = back_past(lo, p, '"')) == NULL ||
		    (p = back_plain_string(lo, p)) == NULL ||	/* a value */
		    (p = back_past(lo, p, ':')) == NULL ||
		    (p = back_past(lo, p, '"')) == NULL ||
		    (p = back_plain_string(lo, p)) == NULL)	/* its key */
			return NULL;
		if ((open = back_past(lo, p, '{')) != NULL)
			return open;
		if ((p = back_past(lo, p, ',')) == NULL)
			return NULL;
	}
}

/*
 * The first "metadata" (as a key or a string) or \u in [p, p + n), or
 * NULL: either would keep a frame's metadata from being cut.  One pass,
 * sixteen places a step (SSE2); memmem for the two took 700 instructions
 * a frame.
 */
static const char *
find_metadata_or_u(const char *p, size_t n)
{
	size_t i = 0, k;

#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"'), m = _mm_set1_epi8('m'),
	    bs = _mm_set1_epi8('\\'), u = _mm_set1_epi8('u');
	__m128i here, next;
	unsigned mask;

	for (; i + 17 <= n; i += 16) {
		here = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		next = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 1));
		mask = (unsigned)_mm_movemask_epi8(_mm_or_si128(
		    _mm_and_si128(_mm_cmpeq_epi8(here, quote),
		    _mm_cmpeq_epi8(next, m)),
		    _mm_and_si128(_mm_cmpeq_epi8(here, bs),
		    _mm_cmpeq_epi8(next, u))));
		for (; mask != 0; mask &= mask - 1) {
			k = i + (size_t)__builtin_ctz(mask);
			if (p[k] == '\\' || (n - k >= 10 &&
			    memcmp(p + k, "\"metadata\"", 10) == 0))
				return p + k;
		}
	}
#endif
	for (; i + 1 < n; i++)
		if ((p[i] == '\\' && p[i + 1] == 'u') || (p[i] == '"' &&
		    n - i >= 10 && memcmp(p + i, "\"metadata\"", 10) == 0))
			return p + i;
	return NULL;
}

/*
 * Whether the frame ends the way libplba's publish and the master's task
 * frames end when the task carries plain metadata: the task the frame's
 * last member and the metadata the task's, `,"metadata":{…}}}`.  If so,
 * sets m's meta and the span [*from, *to) to leave out of the parse: the
 * member and the comma before it.
 *
 * Read backwards, so a task is not walked a second time.  The rest is
 * valid JSON exactly when the frame is: the span is a whole member, and
 * what comes before it ends a value, so if the rest parses, the object
 * closed by the second-to-last brace had the span as its last member.
 * msg_decode then checks that this object is the task cJSON found.  Any
 * "metadata" or \u earlier in the frame (another key that cJSON could
 * take for it) and any other form are left to cJSON.
 */
static bool
meta_cut(struct msg *m, const char *data, size_t len, const char **from,
    const char **to)
{
	const char *end = data + len, *p, *close, *open, *keyat;

	/* The tail first: a task without metadata fails there in a few
	 * steps, where a search of the whole frame would not. */
	if (!(len > 18 && (memcmp(data, "{\"type\":\"publish\",", 18) == 0 ||
	    memcmp(data, "{\"type\":\"task\",", 15) == 0)))
		return false;
	if ((p = back_past(data, end, '}')) == NULL ||	/* the frame's */
	    (p = back_past(data, p, '}')) == NULL ||		/* the task's */
	    (close = back_past(data, p, '}')) == NULL ||	/* the metadata's */
	    (open = back_plain_object(data, close)) == NULL ||
	    (p = back_past(data, open, ':')) == NULL)
		return false;
	p = back_ws(data, p);
	if (p - data < 10)
		return false;
	keyat = p - 10;
	/* "metadata", and the first of them, with no \u before it */
	if (memcmp(keyat, "\"metadata\"", 10) != 0 ||
	    find_metadata_or_u(data, (size_t)(keyat - data) + 10) != keyat)
		return false;
	if (back_past(data, keyat, '{') != NULL) {
		*from = keyat;		/* the task's only member */
	} else if ((p = back_past(data, keyat, ',')) != NULL) {
		*from = p;
		/* the end of a string, object, array, number, true, false
		 * or null */
		p = back_ws(data, p);
		if (p <= data || memchr("\"}]0123456789el", p[-1], 15) == NULL)
			return false;
	} else
		return false;
	*to = close + 1;
	m->meta = open;
	m->meta_len = (size_t)(close + 1 - open);
	return true;
}

int
meta_text_next(const char **pos, const char *end, const char **key,
    size_t *klen, const char **value, size_t *vlen)
{
	const char *p = *pos, *q;

	/* The text passed meta_cut: quotes end strings, nothing else does,
	 * and *pos is at the '{' or at the ',' before a member. */
	if (p >= end || *p == '}')
		return -1;
	p = skip_ws(p + 1, end);
	if (p >= end || *p != '"' ||
	    (q = memchr(p + 1, '"', (size_t)(end - p - 1))) == NULL)
		return -1;
	*key = p + 1;
	*klen = (size_t)(q - p - 1);
	p = skip_ws(q + 1, end);
	if (p >= end || *p != ':')
		return -1;
	p = skip_ws(p + 1, end);
	if (p >= end || *p != '"' ||
	    (q = memchr(p + 1, '"', (size_t)(end - p - 1))) == NULL)
		return -1;
	*value = p + 1;
	*vlen = (size_t)(q - p - 1);
	*pos = skip_ws(q + 1, end);
	return 0;
}

/* The value of key in plain metadata text. */
static int
meta_text_get(const char *meta, size_t len, const char *key,
    const char **value, size_t *vlen)
{
	const char *p = meta, *end = meta + len, *k;
	size_t klen, want = strlen(key);

	while (meta_text_next(&p, end, &k, &klen, value, vlen) == 0)
		if (klen == want && memcmp(k, key, klen) == 0)
			return 0;
	return -1;
}

int
msg_meta_get(const struct msg *m, const char *key, char *buf, size_t buflen)
{
	const cJSON *v;
	const char *s;
	size_t n;

	if (m->meta != NULL) {
		if (meta_text_get(m->meta, m->meta_len, key, &s, &n) == -1)
			return -1;
	} else {
		v = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(m->task, "metadata"), key);
		if (!cJSON_IsString(v))
			return -1;
		s = v->valuestring;
		n = strlen(s);
	}
	if (n >= buflen)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

int
msg_task_whole(struct msg *m)
{
	cJSON *meta;

	if (m->meta == NULL)
		return 0;
	/* It was the task's last member (meta_cut). */
	if ((meta = cJSON_ParseWithLength(m->meta, m->meta_len)) == NULL)
		return -1;
	if (!cJSON_AddItemToObject(m->task, "metadata", meta)) {
		cJSON_Delete(meta);
		return -1;
	}
	m->meta = NULL;
	m->meta_len = 0;
	return 0;
}

/* --- encoding -------------------------------------------------------------- */

size_t
json_quote(char *out, size_t cap, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0, k, seq;
	unsigned char ch;

#define PUT(x) do { if (n < cap) out[n] = (x); n++; } while (0)
	PUT('"');
	for (; *s != '\0'; s++) {
		ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\') {
			PUT('\\');
			PUT((char)ch);
		} else if (ch < 0x20) {
			PUT('\\');
			PUT('u');
			PUT('0');
			PUT('0');
			PUT(hex[ch >> 4]);
			PUT(hex[ch & 15]);
		} else if (ch < 0x80)
			PUT((char)ch);
		else if ((seq = utf8_seq((const unsigned char *)s, 4)) == 0) {
			/* A frame is UTF-8: what is not becomes U+FFFD
			 * (utf8_seq() stops at the NUL). */
			for (k = 0; k < 3; k++)
				PUT(UTF8_REPLACEMENT[k]);
		} else {
			for (k = 0; k < seq; k++)
				PUT(s[k]);
			s += seq - 1;
		}
	}
	PUT('"');
#undef PUT
	return n;
}

/* A quoted copy, malloc'ed, for the rare strings that do not fit the
 * stack buffers below. */
static char *
quote_alloc(const char *s, size_t *len)
{
	char *p;

	*len = json_quote(NULL, 0, s);
	if ((p = malloc(*len + 1)) == NULL)
		return NULL;
	json_quote(p, *len, s);
	p[*len] = '\0';
	return p;
}

/* A frame assembled from pieces without an intermediate copy: literal
 * JSON, raw JSON values passed through, and strings quoted on the way. */
struct parts {
	const char	*p[12];
	size_t		 l[12];
	char		*owned[4];
	size_t		 n;
	size_t		 nowned;
	bool		 failed;
};

static void
lit(struct parts *ps, const char *s)
{
	ps->p[ps->n] = s;
	ps->l[ps->n++] = strlen(s);
}

static void
raw(struct parts *ps, const char *s, size_t len)
{
	ps->p[ps->n] = s;
	ps->l[ps->n++] = len;
}

static void
str(struct parts *ps, const char *s)
{
	char *q;
	size_t len;

	if ((q = quote_alloc(s, &len)) == NULL) {
		ps->failed = true;
		q = (char *)"\"\"";
		len = 2;
	} else
		ps->owned[ps->nowned++] = q;
	raw(ps, q, len);
}

static int
finish(struct frame_writer *w, struct parts *ps)
{
	int rc = ps->failed ? -1 : frame_putv(w, ps->p, ps->l, ps->n);
	size_t i;

	for (i = 0; i < ps->nowned; i++)
		free(ps->owned[i]);
	return rc;
}

int
proto_put_hello(struct frame_writer *w, long pid, bool tracing_updates)
{
	char buf[128];
	int n = snprintf(buf, sizeof(buf),
	    "{\"type\":\"hello\",\"protocol\":%d,\"pid\":%ld%s}", PROTO_VERSION,
	    pid, tracing_updates ? ",\"tracing_updates\":true" : "");

	return frame_put(w, buf, (size_t)n);
}

int
proto_put_simple(struct frame_writer *w, const char *type)
{
	struct parts ps = { .n = 0 };

	lit(&ps, "{\"type\":");
	str(&ps, type);
	lit(&ps, "}");
	return finish(w, &ps);
}

int
proto_put_status(struct frame_writer *w, const char *status)
{
	struct parts ps = { .n = 0 };

	lit(&ps, "{\"type\":\"status\",\"status\":");
	str(&ps, status);
	lit(&ps, "}");
	return finish(w, &ps);
}

int
proto_put_health(struct frame_writer *w, const char *health, const char *detail)
{
	struct parts ps = { .n = 0 };

	lit(&ps, "{\"type\":\"health\",\"health\":");
	str(&ps, health);
	lit(&ps, ",\"detail\":");
	str(&ps, detail != NULL ? detail : "");
	lit(&ps, "}");
	return finish(w, &ps);
}

int
proto_put_publish(struct frame_writer *w, const char *ref, const char *queue,
    const char *task_json, size_t task_len, bool track)
{
	struct parts ps = { .n = 0 };

	lit(&ps, "{\"type\":\"publish\",\"ref\":");
	str(&ps, ref);
	lit(&ps, ",\"queue\":");
	str(&ps, queue);
	if (track)
		lit(&ps, ",\"track\":true");
	lit(&ps, ",\"task\":");
	raw(&ps, task_json, task_len);
	lit(&ps, "}");
	return finish(w, &ps);
}

int
proto_put_ack(struct frame_writer *w, const char *id)
{
	struct parts ps = { .n = 0 };

	lit(&ps, "{\"type\":\"ack\",\"id\":");
	str(&ps, id);
	lit(&ps, "}");
	return finish(w, &ps);
}

int
proto_put_nack(struct frame_writer *w, const char *id, const char *error,
    bool retry)
{
	struct parts ps = { .n = 0 };

	lit(&ps, "{\"type\":\"nack\",\"id\":");
	str(&ps, id);
	lit(&ps, ",\"error\":");
	str(&ps, error != NULL ? error : "");
	lit(&ps, retry ? ",\"retry\":true}" : ",\"retry\":false}");
	return finish(w, &ps);
}

int
proto_put_trace(struct frame_writer *w, const char *record_json, size_t len)
{
	struct parts ps = { .n = 0 };

	lit(&ps, "{\"type\":\"trace\",\"record\":");
	raw(&ps, record_json, len);
	lit(&ps, "}");
	return finish(w, &ps);
}

int
proto_put_welcome(struct frame_writer *w, const char *worker, unsigned instance,
    const char *config_json, uint64_t heartbeat_ms, bool tracing,
    double trace_sample)
{
	struct parts ps = { .n = 0 };
	char num[160];
	int len;

	len = snprintf(num, sizeof(num), ",\"instance\":%u,\"heartbeat_ms\":%"
	    PRIu64 ",\"trace\":%s", instance, heartbeat_ms,
	    tracing ? "true" : "false");
	/* 15 digits give back any ratio written with up to 15, as 0.1 is. */
	if (tracing)
		snprintf(num + len, sizeof(num) - (size_t)len,
		    ",\"trace_sample\":%.15g", trace_sample);
	lit(&ps, "{\"type\":\"welcome\",\"worker\":");
	str(&ps, worker);
	lit(&ps, num);
	lit(&ps, ",\"config\":");
	lit(&ps, config_json != NULL ? config_json : "null");
	lit(&ps, "}");
	return finish(w, &ps);
}

int
proto_put_published(struct frame_writer *w, const char *ref, uint64_t id)
{
	struct parts ps = { .n = 0 };
	char num[48];

	snprintf(num, sizeof(num), ",\"id\":\"%" PRIu64 "\"}", id);
	lit(&ps, "{\"type\":\"published\",\"ref\":");
	str(&ps, ref);
	lit(&ps, num);
	return finish(w, &ps);
}

int
proto_put_rejected(struct frame_writer *w, const char *ref, const char *error)
{
	struct parts ps = { .n = 0 };

	lit(&ps, "{\"type\":\"rejected\",\"ref\":");
	str(&ps, ref);
	lit(&ps, ",\"error\":");
	str(&ps, error);
	lit(&ps, "}");
	return finish(w, &ps);
}

int
proto_put_task(struct frame_writer *w, uint64_t id, const char *queue,
    unsigned attempt, const char *task_json, size_t task_len)
{
	struct parts ps = { .n = 0 };
	char num[128];

	snprintf(num, sizeof(num), "{\"type\":\"task\",\"id\":\"%" PRIu64
	    "\",\"attempt\":%u,\"queue\":", id, attempt);
	lit(&ps, num);
	str(&ps, queue);
	lit(&ps, ",\"task\":");
	raw(&ps, task_json, task_len);
	lit(&ps, "}");
	return finish(w, &ps);
}

int
proto_put_stop(struct frame_writer *w, bool force)
{
	const char *s = force ? "{\"type\":\"stop\",\"force\":true}" :
	    "{\"type\":\"stop\",\"force\":false}";

	return frame_put(w, s, strlen(s));
}

int
proto_put_tracing(struct frame_writer *w, bool tracing, double trace_sample)
{
	char buf[96];
	int n = snprintf(buf, sizeof(buf),
	    "{\"type\":\"tracing\",\"trace\":%s,\"trace_sample\":%.15g}",
	    tracing ? "true" : "false", trace_sample);

	return frame_put(w, buf, (size_t)n);
}

int
proto_put_done(struct frame_writer *w, uint64_t id, const char *queue,
    bool acked, const char *error)
{
	struct parts ps = { .n = 0 };
	char num[48];

	snprintf(num, sizeof(num), "{\"type\":\"done\",\"id\":\"%" PRIu64
	    "\",\"queue\":", id);
	lit(&ps, num);
	str(&ps, queue);
	lit(&ps, acked ? ",\"outcome\":\"acked\"" : ",\"outcome\":\"dead\"");
	if (error != NULL) {
		lit(&ps, ",\"error\":");
		str(&ps, error);
	}
	lit(&ps, "}");
	return finish(w, &ps);
}
