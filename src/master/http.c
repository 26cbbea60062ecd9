#include "config.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <arpa/inet.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <civetweb.h>
#include <cjson/cJSON.h>

#include "channel.h"
#include "conf.h"
#include "dashboard.h"
#include "civet_sockets.h"
#include "http.h"
#include "http_watchdog.h"
#include "json_exact.h"
#include "log.h"
#include "metrics.h"
#include "proto.h"
#include "queue.h"
#include "runtime.h"
#include "status.h"
#include "store.h"
#include "tracectx.h"
#include "utf8.h"
#include "traces.h"
#include "worker.h"

/* Bodies are capped here: civetweb's own limit covers headers only. */
#define BODY_MAX		(1u << 20)
/* How long a request may hold a thread once its headers are in, in ms. */
#define REQUEST_HOLD_MS		10000u
/* How long a request waits for the loop before it gives up. */
#define ACTION_DEADLINE_MS	5000
#define NOT_STORED	"not stored: the durable queue's database write failed"
#define NOT_KNOWN_STORED	"not known to be stored: the durable queue's " \
	"database did not finish writing it in time, and it may still be stored"
/* How long a reader waits for a fresh snapshot before it takes the one
 * there is. */
#define FRESH_WAIT_MS		100
#define DEAD_LIST_MAX		1000
/* Tasks GET /queues/NAME/tasks lists by default and at most, and the task
 * bytes (bodies and errors) it and GET /queues/NAME/dead carry at most: a
 * look at a full queue must not copy it on the loop. */
#define TASK_LIST_DEFAULT	100
#define TASK_LIST_MAX		1000
#define TASK_LIST_BYTES		(8u << 20)

enum action_kind { ACT_START, ACT_STOP, ACT_RELOAD, ACT_RESTART, ACT_PUBLISH,
	ACT_DEAD, ACT_DEAD_RETRY, ACT_DEAD_PURGE, ACT_TRACE, ACT_TASKS,
	ACT_TASKS_PURGE };

/* How deep a body parsed on a civetweb thread may nest: cJSON recurses
 * once a level, and those threads have 100 KiB of stack, which some 700
 * levels fill. */
#define THREAD_JSON_DEPTH	64
/* Ids a dead-letter retry or purge names at most in one request. */
#define DEAD_IDS_MAX		1000

/* A request handed to the loop; freed by whichever side lets go last. */
struct action {
	struct action	*next;
	enum action_kind kind;
	char		*name;		/* worker or queue */
	char		*body;		/* publish: the task JSON */
	size_t		 body_len;
	char		*traceparent;	/* publish: the request's header */
	bool		 force;
	bool		 reload_after;	/* reload: the files are sound */
	uint64_t	 timeout_ms;	/* stop: 0 for platform.stop_timeout */
	uint64_t	*ids;		/* dead retry, purges: NULL for all */
	size_t		 nids;
	unsigned	 limit;		/* tasks: how many at most */
	int		 refs;
	bool		 done;
	bool		 on_disk_wait;	/* under mu: answered once its batch is in */
	int		 code;		/* HTTP status */
	char		*answer;	/* JSON */
};

struct http {
	struct runtime	*rt;
	struct mg_context *ctx;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct snapshot	*snap;
	struct action	*head, *tail;	/* waiting for the loop */
	int		 efd;
	struct io	 io;
	int		 stale;		/* the runtime changed since the snapshot */
	bool		 closing;	/* under mu: take no more actions */
	uint64_t	 generation;	/* of the snapshot, under mu */
	char		*token;		/* NULL: no token required */
	int		 refresh;	/* a reader found the snapshot old */
	int		 reload_due;	/* an accepted reload has been answered */
	uint64_t	*by_code;	/* the runtime's http_answers */
	struct held_actions *held;	/* loop only: answers waiting for the disk */
	struct held_actions *held_tail;
	struct watchdog	*watchdog;
	bool		 loopback;	/* every listener is on the loopback */
};

/* Actions that changed a durable queue, answered once their batch is in. */
struct held_actions {
	struct held_actions *next;
	struct action	*list;
	uint64_t	 batch;
};

/* --- loop side ------------------------------------------------------------- */

static void
rebuild(struct runtime *rt)
{
	struct http *h = rt->http;
	struct snapshot *s;

	__atomic_store_n(&h->stale, 0, __ATOMIC_RELEASE);
	if ((s = snapshot_build(rt)) == NULL)
		return;
	s->metrics_text = metrics_build(rt, s);
	http_publish(rt, s);
}

/*
 * Snapshots are built when someone asks, not whenever something changes:
 * with a thousand instances a build costs the loop a millisecond or two,
 * which a busy runtime nobody is watching should not pay.
 */
void
http_dirty(struct runtime *rt)
{
	struct http *h = rt->http;

	if (h != NULL)
		__atomic_store_n(&h->stale, 1, __ATOMIC_RELEASE);
}

void
http_refresh(struct runtime *rt)
{
	if (rt->http != NULL)
		rebuild(rt);
}

void
http_publish(struct runtime *rt, struct snapshot *s)
{
	struct http *h = rt->http;
	struct snapshot *old;

	pthread_mutex_lock(&h->mu);
	old = h->snap;
	h->snap = s;
	h->generation++;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	snapshot_unref(old);
}

static char *
error_json(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
error_json(const char *fmt, ...)
{
	char msg[512];
	cJSON *o;
	char *s;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "error", msg);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* How many bytes at s, at most len, are valid UTF-8 without a NUL. */
static size_t
utf8_span(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, n;

	for (i = 0; i < len; i += n)
		if ((n = u[i] != 0 && u[i] < 0x80 ? 1 :
		    utf8_seq(u + i, len - i)) == 0)
			break;
	return i;
}

/*
 * A request body of len bytes (and read_body's NUL) as JSON in *out, or
 * why not, for a 400; notjson is the endpoint's word for a body that is
 * not JSON.  cJSON alone would change what the client sent without a
 * word: it stops at the end of the first value and ignores the rest, cuts
 * a string at a NUL (a raw one or \u0000), passes bytes that are not
 * UTF-8 into answers that are then not JSON, and turns 1e999 into null.
 * Each is refused.
 */
static const char *
body_json(const char *body, size_t len, const char *notjson, cJSON **out)
{
	size_t ok = utf8_span(body, len);
	const char *p;

	if (ok < len)
		return body[ok] == '\0' ? notjson : "the body is not valid UTF-8";
	/* The NUL counted in: cJSON tells the end of the text from trailing
	 * data by finding its terminator within the length. */
	if ((*out = cJSON_ParseWithLengthOpts(body, len + 1, NULL, true)) == NULL)
		return notjson;
	/* In valid JSON a backslash is in a string and starts an escape. */
	for (p = body; (p = memchr(p, '\\', len - (size_t)(p - body))) != NULL;
	    p += 2)
		if (strncmp(p + 1, "u0000", 5) == 0)
			break;
	if (p == NULL && json_finite(*out))
		return NULL;
	cJSON_Delete(*out);
	*out = NULL;
	return p != NULL ? "\\u0000 is not supported in strings" :
	    "a number in the body is out of range";
}

/* A queued task as a tree that prints its text's numbers as they are. */
static cJSON *
task_json(const struct qtask *t)
{
	cJSON *task;

	if ((task = cJSON_ParseWithLength(t->body, t->len)) != NULL &&
	    json_exact_numbers(task, t->body, t->len) == -1) {
		cJSON_Delete(task);
		task = NULL;
	}
	return task;
}

static void
do_publish(struct runtime *rt, struct action *a)
{
	struct rqueue *rq = runtime_find_queue(rt, a->name);
	struct qtrace trace = { .state = QTRACE_UNKNOWN };
	char err[256], *task, *wrapped, num[32];
	const char *why, *key;
	cJSON *wrap, *body;
	struct msg m;
	size_t klen;
	uint64_t id;

	if (rq == NULL) {
		a->code = 404;
		a->answer = error_json("no queue named \"%s\"", a->name);
		return;
	}
	if (rq->removed) {
		a->code = 404;
		a->answer = error_json("queue \"%s\" was removed from the "
		    "configuration; it takes no more tasks", a->name);
		return;
	}
	/* Parsed here, not on the request's thread: the loop's stack takes a
	 * task as deep as a child's publish may be (THREAD_JSON_DEPTH).  Its
	 * depth is read from the text first: past cJSON's limit a body would
	 * be "not valid JSON", and it is one reason however deep.  The
	 * checks a child's publish gets follow. */
	if (proto_text_too_deep(a->body, a->body_len, &key, &klen)) {
		a->code = 400;
		/* Not an object: the levels are the body's own. */
		a->answer = key == NULL ? error_json("the body is nested "
		    "more than %d deep", PROTO_TASK_DEPTH + 1) :
		    error_json("%s is nested more than %d deep", klen == 7 &&
		    memcmp(key, "payload", 7) == 0 ? "the payload" :
		    "a member of the task", PROTO_TASK_DEPTH);
		return;
	}
	if ((why = body_json(a->body, a->body_len, "the body is not valid JSON",
	    &body)) != NULL) {
		a->code = 400;
		a->answer = error_json("%s", why);
		return;
	}
	/* Queued as sent: cJSON would print an id past 2^53 rounded. */
	if (json_exact_numbers(body, a->body, a->body_len) == -1) {
		cJSON_Delete(body);
		a->code = 500;
		a->answer = error_json("out of memory");
		return;
	}
	/* A caller's traceparent header continues its trace, unless the
	 * task names one itself. It goes on as version 00, the one we
	 * understand (W3C Trace Context): a later version's extra fields
	 * are the caller's, and may be any bytes. */
	if (a->traceparent != NULL && cJSON_IsObject(body)) {
		struct tracectx ctx;
		char canonical[TRACEPARENT_LEN + 1];
		cJSON *meta = cJSON_GetObjectItemCaseSensitive(body, "metadata");

		if (tracectx_parse(a->traceparent, &ctx) == 0 &&
		    (meta == NULL || (cJSON_IsObject(meta) &&
		    cJSON_GetObjectItemCaseSensitive(meta, "traceparent") == NULL))) {
			if (meta == NULL)
				meta = cJSON_AddObjectToObject(body, "metadata");
			tracectx_format(&ctx, canonical);
			cJSON_AddStringToObject(meta, "traceparent", canonical);
		}
	}
	wrap = cJSON_CreateObject();
	cJSON_AddStringToObject(wrap, "type", "publish");
	cJSON_AddStringToObject(wrap, "ref", "http");
	cJSON_AddStringToObject(wrap, "queue", a->name);
	cJSON_AddItemToObject(wrap, "task", body);
	task = cJSON_PrintUnformatted(wrap);
	cJSON_Delete(wrap);
	if (task == NULL || msg_decode(&m, task, strlen(task), true, err,
	    sizeof(err)) == -1) {
		free(task);
		a->code = 400;
		/* The client sent the task, not the wrapper: its own words. */
		a->answer = error_json("%s", task == NULL ? "out of memory" :
		    strncmp(err, "publish: ", 9) == 0 ? err + 9 : err);
		return;
	}
	/* Held to the limit a worker's publish frame is held to, so that
	 * its task frame is only a few dozen bytes over max_frame too. */
	if (strlen(task) > rt->settings->ipc.max_frame) {
		msg_clear(&m);
		free(task);
		a->code = 413;
		a->answer = error_json("the task is over platform.ipc.max_frame "
		    "(%zu bytes) as a publish frame",
		    (size_t)rt->settings->ipc.max_frame);
		return;
	}
	/* Queued as cJSON printed it in the wrapper; the tree may lack the
	 * metadata (proto.h), and the text is there in every usual case. */
	wrapped = task;
	task = m.task_raw != NULL ? strndup(m.task_raw, m.task_raw_len) :
	    cJSON_PrintUnformatted(m.task);
	free(wrapped);
	msg_clear(&m);
	if (rq->loading) {
		free(task);
		a->code = 503;
		a->answer = error_json("queue \"%s\" is durable, and its "
		    "tasks are still being read from its database: try again "
		    "later", a->name);
		return;
	}
	if (queue_full(rq->q)) {
		struct queue_stats st;

		free(task);
		queue_stats(rq->q, &st);
		a->code = 503;
		/* Which limit: the cure differs (consumers, or smaller tasks). */
		a->answer = st.depth >= st.capacity ?
		    error_json("queue \"%s\" is full: %" PRIu64 " task%s "
		    "wait%s, its capacity", a->name, st.depth,
		    st.depth == 1 ? "" : "s", st.depth == 1 ? "s" : "") :
		    error_json("queue \"%s\" is full: its waiting tasks take "
		    "%" PRIu64 " bytes, its max_bytes %" PRIu64, a->name,
		    st.bytes, st.max_bytes);
		return;
	}
	if (rq->durable && store_behind(rt->store)) {
		free(task);
		a->code = 503;
		a->answer = error_json("queue \"%s\" is durable, and its "
		    "database is behind: try again later", a->name);
		return;
	}
	if (task != NULL && traces_on(rt))
		traces_task_context(task, strlen(task), &trace);
	id = task != NULL ? queue_publish_traced(rq->q, task, strlen(task),
	    mono_ms(), 0, &trace) : 0;
	if (id != 0)
		traces_task_span(rt, &trace, task, "plba.enqueue", a->name, id,
		    1, "published over HTTP", false);
	free(task);
	if (id == 0) {
		a->code = 500;
		a->answer = error_json("out of memory");
		return;
	}
	channel_pump(rt, rq->q);
	snprintf(num, sizeof(num), "%" PRIu64, id);
	wrap = cJSON_CreateObject();
	cJSON_AddStringToObject(wrap, "id", num);
	cJSON_AddStringToObject(wrap, "queue", a->name);
	a->answer = cJSON_PrintUnformatted(wrap);
	cJSON_Delete(wrap);
	a->code = 202;
}

/*
 * GET /queues/NAME/dead: the newest dead letters that fit in
 * DEAD_LIST_MAX and TASK_LIST_BYTES, oldest first.  The list runs oldest
 * first, one way only, so the newest DEAD_LIST_MAX are gathered and
 * their bytes counted back from the last: what fails now is what is
 * shown.  The count next to the list tells a client it got only part.
 */
static void
do_dead(struct runtime *rt, struct action *a)
{
	struct rqueue *rq = runtime_find_queue(rt, a->name);
	const struct qtask *t = NULL, *newest[DEAD_LIST_MAX];
	struct queue_stats st;
	cJSON *o, *arr, *e, *task;
	char num[32];
	uint64_t skip, i = 0;
	size_t n = 0, first, left = TASK_LIST_BYTES;

	if (rq == NULL) {
		a->code = 404;
		a->answer = error_json("no queue named \"%s\"", a->name);
		return;
	}
	queue_stats(rq->q, &st);
	skip = st.dead > DEAD_LIST_MAX ? st.dead - DEAD_LIST_MAX : 0;
	while ((t = queue_dead_next(rq->q, t)) != NULL && n < DEAD_LIST_MAX)
		if (i++ >= skip)
			newest[n++] = t;
	for (first = n; first > 0 &&
	    queue_task_bytes(newest[first - 1]) <= left; first--)
		left -= queue_task_bytes(newest[first - 1]);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "queue", a->name);
	cJSON_AddNumberToObject(o, "dead", (double)st.dead);
	arr = cJSON_AddArrayToObject(o, "tasks");
	for (; first < n; first++) {
		t = newest[first];
		e = cJSON_CreateObject();
		snprintf(num, sizeof(num), "%" PRIu64, t->id);
		cJSON_AddStringToObject(e, "id", num);
		cJSON_AddNumberToObject(e, "attempt", t->attempt);
		cJSON_AddStringToObject(e, "error",
		    t->last_error != NULL ? t->last_error : "");
		if ((task = task_json(t)) != NULL)
			cJSON_AddItemToObject(e, "task", task);
		cJSON_AddItemToArray(arr, e);
	}
	a->answer = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	a->code = 200;
}

/* A listing of a queue's tasks being built, within its limits. */
struct listing {
	cJSON		*tasks;
	unsigned	 n, limit;
	size_t		 bytes_left;
	uint64_t	 now;
};

/* Adds one task; false once the listing is full. */
static bool
list_task(struct listing *l, const struct qtask *t)
{
	const struct instance *in;
	cJSON *e, *task;
	char num[32], who[160];
	size_t bytes = queue_task_bytes(t);

	if (l->n == l->limit || bytes > l->bytes_left)
		return false;
	l->n++;
	l->bytes_left -= bytes;
	e = cJSON_CreateObject();
	snprintf(num, sizeof(num), "%" PRIu64, t->id);
	cJSON_AddStringToObject(e, "id", num);
	cJSON_AddStringToObject(e, "state", t->holder != NULL ? "in_flight" :
	    "queued");
	cJSON_AddNumberToObject(e, "attempt", t->attempt);
	if (t->holder != NULL) {
		in = queue_consumer_owner(t->holder);
		snprintf(who, sizeof(who), "%s.%u", in->worker->name, in->index);
		cJSON_AddStringToObject(e, "instance", who);
		cJSON_AddNumberToObject(e, "held_ms", (double)(l->now >
		    t->dispatched_at ? l->now - t->dispatched_at : 0));
	}
	cJSON_AddNumberToObject(e, "age_ms", (double)(l->now > t->published_at ?
	    l->now - t->published_at : 0));
	if (t->last_error != NULL)
		cJSON_AddStringToObject(e, "error", t->last_error);
	if ((task = task_json(t)) != NULL)
		cJSON_AddItemToObject(e, "task", task);
	cJSON_AddItemToArray(l->tasks, e);
	return true;
}

/*
 * GET /queues/NAME/tasks: what its consumers hold now, then what waits,
 * the next to go first.  Dead letters have their own list.
 */
static void
do_tasks(struct runtime *rt, struct action *a)
{
	struct rqueue *rq = runtime_find_queue(rt, a->name);
	struct listing l = { .limit = a->limit, .bytes_left = TASK_LIST_BYTES,
	    .now = mono_ms() };
	const struct qtask *t;
	struct queue_stats st;
	cJSON *o;

	if (rq == NULL) {
		a->code = 404;
		a->answer = error_json("no queue named \"%s\"", a->name);
		return;
	}
	queue_stats(rq->q, &st);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "queue", a->name);
	cJSON_AddNumberToObject(o, "in_flight", (double)st.in_flight);
	cJSON_AddNumberToObject(o, "depth", (double)st.depth);
	cJSON_AddNumberToObject(o, "waiting_publishers", (double)rq->nparked);
	l.tasks = cJSON_AddArrayToObject(o, "tasks");
	for (t = queue_held_next(rq->q, NULL); t != NULL &&
	    list_task(&l, t); t = queue_held_next(rq->q, t))
		;
	for (t = l.n < l.limit ? queue_ready_next(rq->q, NULL) : NULL;
	    t != NULL && list_task(&l, t); t = queue_ready_next(rq->q, t))
		;
	a->answer = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	a->code = 200;
}

struct retried {
	struct runtime	*rt;
	const char	*queue;
};

/* A retry is the master's own act on the task: it goes on its trace. */
static void
trace_retry(void *arg, const struct qtask *t)
{
	struct retried *r = arg;
	struct qtrace trace = t->trace;

	traces_task_span(r->rt, &trace, t->body, "plba.retry", r->queue, t->id,
	    t->attempt, "queued again from the dead letters", false);
}

/* A purge of queued tasks ends their traces. */
static void
trace_purge(void *arg, const struct qtask *t)
{
	struct retried *r = arg;
	struct qtrace trace = t->trace;

	traces_task_span(r->rt, &trace, t->body, "plba.purge", r->queue, t->id,
	    t->attempt, t->last_error, true);
}

/*
 * POST /queues/NAME/dead/retry, .../dead/purge and .../tasks/purge, an
 * operator's: dead letters queued again or deleted, and queued tasks
 * deleted, such as those left in a queue a reload removed.
 */
static void
do_queue_change(struct runtime *rt, struct action *a)
{
	struct retried r = { rt, a->name };
	struct rqueue *rq = runtime_find_queue(rt, a->name);
	const char *counted = "purged", *what = "dead letter", *done = "deleted";
	cJSON *o;
	size_t n;

	if (rq == NULL) {
		a->code = 404;
		a->answer = error_json("no queue named \"%s\"", a->name);
		return;
	}
	switch (a->kind) {
	case ACT_DEAD_RETRY:
		/* Nobody would take them: the queue waits only to be empty. */
		if (rq->removed) {
			a->code = 409;
			a->answer = error_json("queue \"%s\" was removed from the "
			    "configuration: its dead letters can be purged, not "
			    "retried", a->name);
			return;
		}
		n = queue_dead_retry(rq->q, a->ids, a->nids,
		    traces_on(rt) ? trace_retry : NULL, &r);
		counted = "requeued";
		done = "queued again";
		break;
	case ACT_TASKS_PURGE:
		n = queue_ready_purge(rq->q, a->ids, a->nids,
		    "deleted from the queue by an operator",
		    traces_on(rt) ? trace_purge : NULL, &r);
		what = "queued task";
		break;
	default:
		n = queue_dead_purge(rq->q, a->ids, a->nids);
		break;
	}
	if (n > 0) {
		log_info("queue %s: %zu %s%s %s over HTTP", a->name, n, what,
		    n == 1 ? "" : "s", done);
		/* Tasks to dispatch, or room for waiting publishers. */
		channel_pump(rt, rq->q);
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "queue", a->name);
	cJSON_AddNumberToObject(o, counted, (double)n);
	a->answer = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	a->code = 200;
}

static char *
ok_json(const char *state)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	cJSON_AddBoolToObject(o, "ok", true);
	if (state != NULL)
		cJSON_AddStringToObject(o, "state", state);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/*
 * POST /actions/reload: the files are checked while the client waits, so
 * it hears what is wrong with them; a sound configuration is applied once
 * the answer is out (action_unref), since applying it may restart this
 * very server, and civetweb writes nothing once it is stopping.
 */
static void
note_change(void *arg, enum reload_change what, const char *name)
{
	static const char *const where[][2] = {
		[RELOAD_WORKER_ADDED] = { "workers", "added" },
		[RELOAD_WORKER_CHANGED] = { "workers", "changed" },
		[RELOAD_WORKER_SCALED] = { "workers", "scaled" },
		[RELOAD_WORKER_REMOVED] = { "workers", "removed" },
		[RELOAD_QUEUE_ADDED] = { "queues", "added" },
		[RELOAD_QUEUE_REMOVED] = { "queues", "removed" },
	};
	cJSON *list = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(arg, where[what][0]),
	    where[what][1]);
	cJSON *item = cJSON_CreateString(name);

	if (!cJSON_AddItemToArray(list, item))
		cJSON_Delete(item);
}

/* {"ok", "state", "workers": {added, changed, scaled, removed}, "queues": {added,
 * removed}}: what the reload about to run will do. */
static cJSON *
reload_plan(struct runtime *rt)
{
	cJSON *o = cJSON_CreateObject(), *w, *q;

	cJSON_AddBoolToObject(o, "ok", true);
	cJSON_AddStringToObject(o, "state", runtime_state_name(rt));
	w = cJSON_AddObjectToObject(o, "workers");
	cJSON_AddArrayToObject(w, "added");
	cJSON_AddArrayToObject(w, "changed");
	cJSON_AddArrayToObject(w, "scaled");
	cJSON_AddArrayToObject(w, "removed");
	q = cJSON_AddObjectToObject(o, "queues");
	cJSON_AddArrayToObject(q, "added");
	cJSON_AddArrayToObject(q, "removed");
	return o;
}

static void
do_reload(struct runtime *rt, struct action *a)
{
	struct conf_errors errs = { 0 };
	cJSON *o, *list;
	size_t i;

	log_info("reload asked for over HTTP");
	o = reload_plan(rt);
	if (runtime_reload_check(rt, &errs, note_change, o) == 0) {
		a->reload_after = true;
		a->code = 202;
		a->answer = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		return;
	}
	cJSON_Delete(o);
	for (i = 0; i < errs.n; i++)
		log_error("%s", errs.msgs[i]);
	log_error("configuration rejected; keeping the running one");
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "error",
	    "configuration rejected; keeping the running one");
	list = cJSON_AddArrayToObject(o, "errors");
	for (i = 0; i < errs.n; i++)
		cJSON_AddItemToArray(list, cJSON_CreateString(errs.msgs[i]));
	a->answer = cJSON_PrintUnformatted(o);
	a->code = 422;
	cJSON_Delete(o);
	conf_errors_clear(&errs);
}

static void
run_action(struct runtime *rt, struct action *a)
{
	struct worker *w;

	switch (a->kind) {
	case ACT_START:
		runtime_start(rt);
		a->code = 202;
		a->answer = ok_json(runtime_state_name(rt));
		break;
	case ACT_STOP:
		runtime_stop_for(rt, a->force, a->timeout_ms);
		a->code = 202;
		a->answer = ok_json(runtime_state_name(rt));
		break;
	case ACT_RELOAD:
		do_reload(rt, a);
		break;
	case ACT_RESTART:
		if ((w = runtime_find_worker(rt, a->name)) == NULL) {
			a->code = 404;
			a->answer = error_json("no worker named \"%s\"", a->name);
			break;
		}
		worker_rolling_restart(w);
		a->code = 202;
		a->answer = ok_json(NULL);
		break;
	case ACT_PUBLISH:
		do_publish(rt, a);
		break;
	case ACT_DEAD:
		do_dead(rt, a);
		break;
	case ACT_TASKS:
		do_tasks(rt, a);
		break;
	case ACT_DEAD_RETRY:
	case ACT_DEAD_PURGE:
	case ACT_TASKS_PURGE:
		do_queue_change(rt, a);
		break;
	case ACT_TRACE:
		if (!traces_on(rt)) {
			a->code = 404;
			a->answer = error_json("tracing is off "
			    "(platform.trace.transport: none)");
		} else if ((a->answer = traces_lookup(rt, a->name)) != NULL)
			a->code = 200;
		else {
			a->code = 404;
			a->answer = error_json("no spans held for trace %s (the "
			    "master keeps the last %d spans of all traces)",
			    a->name, TRACE_RING_SPANS);
		}
		break;
	}
	if (a->answer == NULL) {
		a->code = 500;
		a->answer = NULL;
	}
}

/* The durable publishes of a batch are not known to be stored: why. */
static void
unconfirm_durable(struct runtime *rt, struct action *list, const char *why)
{
	struct action *a;
	struct rqueue *rq;

	for (a = list; a != NULL; a = a->next) {
		if (a->kind != ACT_PUBLISH || a->code != 202 ||
		    (rq = runtime_find_queue(rt, a->name)) == NULL || !rq->durable)
			continue;
		free(a->answer);
		a->code = 503;
		a->answer = error_json("%s", why);
	}
}

static void
action_unref(struct http *h, struct action *a)
{
	static const uint64_t one = 1;

	if (__atomic_sub_fetch(&a->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	/* Last to let go of an accepted reload: its answer is out (or
	 * given up on), so the reload may restart this server now. */
	if (a->reload_after) {
		__atomic_store_n(&h->reload_due, 1, __ATOMIC_RELEASE);
		(void)!write(h->efd, &one, sizeof(one));
	}
	free(a->name);
	free(a->body);
	free(a->traceparent);
	free(a->ids);
	free(a->answer);
	free(a);
}

/* Called with mu held, which it lets go: the actions' answers are ready,
 * their requests may go out. */
static void
finish(struct http *h, struct action *list)
{
	struct action *a;

	for (a = list; a != NULL; a = a->next)
		a->done = true;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	while ((a = list) != NULL) {
		list = a->next;
		action_unref(h, a);
	}
}

static int
hold(struct http *h, struct action *list, uint64_t batch)
{
	struct held_actions *ha;
	struct action *a;

	if ((ha = malloc(sizeof(*ha))) == NULL)
		return -1;
	pthread_mutex_lock(&h->mu);
	for (a = list; a != NULL; a = a->next)
		a->on_disk_wait = true;
	pthread_mutex_unlock(&h->mu);
	ha->next = NULL;
	ha->list = list;
	ha->batch = batch;
	if (h->held_tail != NULL)
		h->held_tail->next = ha;
	else
		h->held = ha;
	h->held_tail = ha;
	return 0;
}

static void
on_actions(struct loop *l, struct io *io, uint32_t events)
{
	struct runtime *rt = io->arg;
	struct http *h = rt->http;
	struct action *a, *list;
	uint64_t n, changes;

	(void)!read(h->efd, &n, sizeof(n));
	if (__atomic_exchange_n(&h->reload_due, 0, __ATOMIC_ACQ_REL))
		runtime_reload_soon(rt);
	pthread_mutex_lock(&h->mu);
	list = h->head;
	h->head = h->tail = NULL;
	pthread_mutex_unlock(&h->mu);
	if (__atomic_exchange_n(&h->refresh, 0, __ATOMIC_ACQ_REL) && list == NULL) {
		rebuild(rt);
		return;
	}
	changes = store_changes(rt->store);
	for (a = list; a != NULL; a = a->next)
		run_action(rt, a);
	/* The effect of an action is in the very next answer. */
	reconcile_now(rt);
	rebuild(rt);
	/* A 202 for a durable queue means stored: answered once it is. */
	if (store_changes(rt->store) != changes) {
		if (hold(h, list, store_batch(rt->store)) == 0)
			return;
		/* No memory to hold them till then, and the loop does not
		 * wait for the disk: they are not known to be stored. */
		unconfirm_durable(rt, list, NOT_KNOWN_STORED);
	}
	pthread_mutex_lock(&h->mu);
	finish(h, list);
}

void
http_stored(struct runtime *rt, uint64_t batch, bool stored)
{
	struct http *h = rt->http;
	struct held_actions *ha;

	while (h != NULL && (ha = h->held) != NULL && ha->batch <= batch) {
		if ((h->held = ha->next) == NULL)
			h->held_tail = NULL;
		if (!stored)
			unconfirm_durable(rt, ha->list, NOT_STORED);
		pthread_mutex_lock(&h->mu);
		finish(h, ha->list);
		free(ha);
	}
}

/* --- civetweb side ----------------------------------------------------------- */

static void
count(struct http *h, int code)
{
	if (code >= 100 && code < 600)
		__atomic_add_fetch(&h->by_code[code], 1, __ATOMIC_RELAXED);
}

static int
reply(struct http *h, struct mg_connection *c, int code, const char *type,
    const char *body, const char *extra)
{
	size_t len = body != NULL ? strlen(body) : 0;

	mg_printf(c, "HTTP/1.1 %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    /* Said, so that a client does not send its next request
	     * down a connection about to close (start_with). */
	    "Connection: close\r\n"
	    "%s"
	    "\r\n", code, mg_get_response_code_text(c, code), type, len,
	    extra != NULL ? extra : "");
	/* HEAD gets the headers, and the length the body would have. */
	if (len > 0 && strcmp(mg_get_request_info(c)->request_method, "HEAD") != 0)
		mg_write(c, body, len);
	count(h, code);
	return code;
}

static int
reply_json(struct http *h, struct mg_connection *c, int code, const char *body)
{
	return reply(h, c, code, "application/json", body, NULL);
}

static int
reply_error(struct http *h, struct mg_connection *c, int code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
reply_error(struct http *h, struct mg_connection *c, int code, const char *fmt, ...)
{
	char msg[512], *s;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s = error_json("%s", msg);
	rc = reply(h, c, code, "application/json", s,
	    code == 401 ? "WWW-Authenticate: Bearer\r\n" : NULL);
	free(s);
	return rc;
}

/*
 * The snapshot to answer from.  When the runtime changed since it was
 * built, or it is over a second old (its uptime ages), the reader asks the
 * loop for a fresh one and waits a moment for it; a loop too busy to
 * answer in time gets the old one served.
 */
static struct snapshot *
current(struct http *h)
{
	struct snapshot *s;
	struct timespec ts;
	uint64_t one = 1, gen;
	bool old;

	pthread_mutex_lock(&h->mu);
	s = snapshot_ref(h->snap);
	old = s == NULL || __atomic_load_n(&h->stale, __ATOMIC_ACQUIRE) ||
	    mono_ms() - s->built_ms > 1000;
	if (old) {
		gen = h->generation;
		if (!__atomic_exchange_n(&h->refresh, 1, __ATOMIC_ACQ_REL))
			(void)!write(h->efd, &one, sizeof(one));
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += FRESH_WAIT_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (h->generation == gen &&
		    pthread_cond_timedwait(&h->cv, &h->mu, &ts) != ETIMEDOUT)
			;
		if (h->generation != gen) {
			snapshot_unref(s);
			s = snapshot_ref(h->snap);
		}
	}
	pthread_mutex_unlock(&h->mu);
	return s;
}

/* Whether a Host header names the loopback: localhost or 127.x.x.x, with
 * or without a port. */
static bool
loopback_host(const char *host)
{
	char name[64];
	const char *colon = strrchr(host, ':');
	size_t len = colon != NULL ? (size_t)(colon - host) : strlen(host);
	struct in_addr a;

	if (colon != NULL && (colon[1] == '\0' ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1)))
		return false;
	if (len >= sizeof(name))
		return false;
	memcpy(name, host, len);
	name[len] = '\0';
	if (strcasecmp(name, "localhost") == 0)
		return true;
	return inet_pton(AF_INET, name, &a) == 1 &&
	    (ntohl(a.s_addr) >> 24) == 127;
}

/*
 * The host a request is for: the authority of a target in absolute form
 * (http://host:port/path), which RFC 9112 3.2.2 puts before the Host
 * header, else the Host header (NULL when there is none).  civetweb hands
 * on an absolute target only when its port is the listener's.
 */
static const char *
request_host(struct mg_connection *c, char *buf, size_t size)
{
	const char *uri = mg_get_request_info(c)->request_uri, *auth, *end;
	size_t len;

	if (uri == NULL || uri[0] == '/' || (auth = strstr(uri, "://")) == NULL)
		return mg_get_header(c, "Host");
	auth += 3;
	end = auth + strcspn(auth, "/");
	/* Too long for a name of the loopback: it names something else. */
	len = (size_t)(end - auth) < size ? (size_t)(end - auth) : size - 1;
	memcpy(buf, auth, len);
	buf[len] = '\0';
	return buf;
}

/* How many Host header lines the request has. */
static int
host_headers(struct mg_connection *c)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	int i, n = 0;

	for (i = 0; i < ri->num_headers; i++)
		if (strcasecmp(ri->http_headers[i].name, "Host") == 0)
			n++;
	return n;
}

/*
 * A loopback listener is reachable by any web page the machine's browser
 * shows: a name of the page's own site that resolves to 127.0.0.1 (DNS
 * rebinding) makes its reads same-origin, and reads need no token; and
 * without a token a form or a no-cors fetch on any site posts to
 * 127.0.0.1 unseen.  A browser names what it asked for in Host and where
 * a POST comes from in Origin, and a page can forge neither; curl and
 * plbactl send no Origin.  With a token a POST is safe from pages, which
 * cannot send Authorization.  Returns why the request is refused, or NULL.
 */
static const char *
browser_refusal(struct http *h, struct mg_connection *c, const char *host,
    const char *method)
{
	const char *origin;
	bool token;

	if (h->loopback && host != NULL && !loopback_host(host))
		return host == mg_get_header(c, "Host") ?
		    "the Host header must name the loopback (localhost or "
		    "127.x.x.x), where this server listens" :
		    "the request target must name the loopback (localhost or "
		    "127.x.x.x), where this server listens";
	pthread_mutex_lock(&h->mu);
	token = h->token != NULL;
	pthread_mutex_unlock(&h->mu);
	if (token || strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
		return NULL;
	origin = mg_get_header(c, "Origin");
	if (origin != NULL && (host == NULL ||
	    strncasecmp(origin, "http://", 7) != 0 ||
	    strcasecmp(origin + 7, host) != 0))
		return "a request from another origin needs a token "
		    "(platform.http.token_file)";
	return NULL;
}

/* Compares without an early exit, so timing tells nothing of the token. */
static bool
token_ok(struct http *h, struct mg_connection *c)
{
	const char *auth = mg_get_header(c, "Authorization");
	size_t tl, gl, i;
	unsigned char diff;

	/* Under mu: a reload may replace the token. */
	pthread_mutex_lock(&h->mu);
	if (h->token == NULL) {
		pthread_mutex_unlock(&h->mu);
		return true;
	}
	/* The scheme is case-insensitive (RFC 7235). */
	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0) {
		pthread_mutex_unlock(&h->mu);
		return false;
	}
	auth += 7;
	tl = strlen(h->token);
	gl = strlen(auth);
	diff = tl != gl;
	for (i = 0; i < tl; i++)
		diff |= (unsigned char)h->token[i] ^
		    (unsigned char)(i < gl ? auth[i] : 0);
	pthread_mutex_unlock(&h->mu);
	return diff == 0;
}

/*
 * Reads the body, at most BODY_MAX bytes, into a string of *lenp bytes and
 * a NUL (the body may hold NULs of its own); NULL with *code set otherwise.
 * A body cut short (the client gone before its Content-Length or its last
 * chunk, or cut by the watchdog) is refused, never taken for what
 * arrived of it: an empty purge body means "all".
 */
static char *
read_body(struct mg_connection *c, size_t *lenp, int *code)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	size_t len = 0, cap = 4096;
	char *buf, *p;
	int n;

	if (ri->content_length > (long long)BODY_MAX) {
		*code = 413;
		return NULL;
	}
	if ((buf = malloc(cap + 1)) == NULL) {
		*code = 500;
		return NULL;
	}
	while ((n = mg_read(c, buf + len, cap - len)) > 0) {
		len += (size_t)n;
		if (len == cap) {
			if (cap >= BODY_MAX + 1) {
				free(buf);
				*code = 413;
				return NULL;
			}
			cap *= 2;
			if ((p = realloc(buf, cap + 1)) == NULL) {
				free(buf);
				*code = 500;
				return NULL;
			}
			buf = p;
		}
	}
	if (n < 0 || (ri->content_length >= 0 &&
	    len != (size_t)ri->content_length)) {
		free(buf);
		*code = 400;
		return NULL;
	}
	if (len > BODY_MAX) {
		free(buf);
		*code = 413;
		return NULL;
	}
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

/* Whether the JSON text at s, len bytes, nests at most THREAD_JSON_DEPTH
 * deep; exact for valid JSON and for the prefix cJSON would parse. */
static bool
shallow(const char *s, size_t len)
{
	int depth = 0;
	bool str = false;
	size_t i;

	for (i = 0; i < len; i++)
		if (str && s[i] == '\\')
			i++;
		else if (s[i] == '"')
			str = !str;
		else if (!str && (s[i] == '[' || s[i] == '{') &&
		    ++depth > THREAD_JSON_DEPTH)
			return false;
		else if (!str && (s[i] == ']' || s[i] == '}'))
			depth--;
	return true;
}

/* Hands an action to the loop and waits for its answer. */
static int
submit(struct http *h, struct mg_connection *c, struct action *a)
{
	struct timespec ts;
	uint64_t one = 1;
	int rc = 0, code;
	bool disk;

	a->refs = 2;
	pthread_mutex_lock(&h->mu);
	if (h->closing) {
		pthread_mutex_unlock(&h->mu);
		a->refs = 1;
		action_unref(h, a);
		return reply_error(h, c, 503, "the HTTP server is restarting");
	}
	if (h->tail != NULL)
		h->tail->next = a;
	else
		h->head = a;
	h->tail = a;
	pthread_mutex_unlock(&h->mu);
	(void)!write(h->efd, &one, sizeof(one));

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ACTION_DEADLINE_MS / 1000;
	pthread_mutex_lock(&h->mu);
	while (!a->done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&h->cv, &h->mu, &ts);
	disk = a->on_disk_wait;
	pthread_mutex_unlock(&h->mu);
	if (!a->done) {
		action_unref(h, a);
		return reply_error(h, c, 503, disk ? NOT_KNOWN_STORED :
		    "the master did not answer in time");
	}
	code = a->answer != NULL ? reply_json(h, c, a->code, a->answer) :
	    reply_error(h, c, 500, "out of memory");
	action_unref(h, a);
	return code;
}

static struct action *
new_action(enum action_kind kind, const char *name)
{
	struct action *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->kind = kind;
	if (name != NULL && (a->name = strdup(name)) == NULL) {
		free(a);
		return NULL;
	}
	return a;
}

/*
 * Splits "/a/b/c", as sent, into at most 4 segments, each percent-decoded
 * on its own: decoded whole, a %2F would split a name, and a %00 end it
 * and so name another resource.  Returns how many, -1 for a path that is
 * none of ours, -2 for a segment that decodes to a NUL or to bytes that
 * are not UTF-8, which no name has.
 */
static int
split(const char *uri, char seg[4][128])
{
	int n = 0, len;
	const char *p = uri, *q;

	while (*p == '/')
		p++;
	while (*p != '\0') {
		if (n == 4)
			return -1;
		q = strchrnul(p, '/');
		if (q == p || (len = mg_url_decode(p, (int)(q - p), seg[n],
		    sizeof(seg[0]), 0)) < 0)
			return -1;
		if (utf8_span(seg[n++], (size_t)len) < (size_t)len)
			return -2;
		p = *q == '/' ? q + 1 : q;
	}
	return n;
}

static int
get_snapshot_field(struct http *h, struct mg_connection *c,
    const char *section, const char *name)
{
	struct snapshot *s = current(h);
	cJSON *node;
	char *text;
	int code;

	if (s == NULL)
		return reply_error(h, c, 503, "starting");
	node = cJSON_GetObjectItemCaseSensitive(s->status, section);
	if (name != NULL)
		node = cJSON_GetObjectItemCaseSensitive(node, name);
	if (node == NULL) {
		snapshot_unref(s);
		return reply_error(h, c, 404, "no %s named \"%s\"",
		    strcmp(section, "workers") == 0 ? "worker" : "queue", name);
	}
	text = cJSON_PrintUnformatted(node);
	code = text != NULL ? reply_json(h, c, 200, text) :
	    reply_error(h, c, 500, "out of memory");
	free(text);
	snapshot_unref(s);
	return code;
}

static int
get(struct http *h, struct mg_connection *c, char seg[4][128], int n)
{
	struct snapshot *s;
	int code;

	if (n == 1 && strcmp(seg[0], "livez") == 0)
		return reply(h, c, 200, "text/plain", "ok\n", NULL);
	if (n == 0)
		return reply(h, c, 200, "text/html; charset=utf-8",
		    dashboard_html, "Content-Security-Policy: default-src 'self'; "
		    "style-src 'unsafe-inline'; script-src 'unsafe-inline'\r\n");
	if (n >= 1 && (strcmp(seg[0], "workers") == 0 ||
	    strcmp(seg[0], "queues") == 0) && n <= 2)
		return get_snapshot_field(h, c, seg[0], n == 2 ? seg[1] : NULL);
	if ((s = current(h)) == NULL)
		return reply_error(h, c, 503, "starting");
	if (n == 1 && strcmp(seg[0], "readyz") == 0)
		code = s->ready ? reply(h, c, 200, "text/plain", "ok\n", NULL) :
		    reply(h, c, 503, "text/plain", "not ready\n", NULL);
	else if (n == 1 && strcmp(seg[0], "health") == 0)
		code = reply_json(h, c, s->health == HEALTH_UNHEALTHY ? 503 : 200,
		    s->health_text);
	else if (n == 1 && strcmp(seg[0], "status") == 0)
		code = reply_json(h, c, 200, s->status_text);
	else if (n == 1 && strcmp(seg[0], "metrics") == 0) {
		char *text = metrics_http(s->metrics_text, h->by_code);

		code = reply(h, c, 200, "text/plain; version=0.0.4; charset=utf-8",
		    text != NULL ? text : s->metrics_text, NULL);
		free(text);
	} else
		code = reply_error(h, c, 404, "no such resource");
	snapshot_unref(s);
	return code;
}

/* Paths and the methods they take, for 404 against 405. */
static const char *
allowed(char seg[4][128], int n)
{
	if (n == 0)
		return "GET";
	if (n == 1 && (strcmp(seg[0], "health") == 0 || strcmp(seg[0], "livez") == 0 ||
	    strcmp(seg[0], "readyz") == 0 || strcmp(seg[0], "status") == 0 ||
	    strcmp(seg[0], "metrics") == 0 || strcmp(seg[0], "workers") == 0 ||
	    strcmp(seg[0], "queues") == 0))
		return "GET";
	if (n == 2 && (strcmp(seg[0], "workers") == 0 || strcmp(seg[0], "queues") == 0))
		return "GET";
	if (n == 3 && strcmp(seg[0], "queues") == 0 && strcmp(seg[2], "dead") == 0)
		return "GET";
	if (n == 2 && strcmp(seg[0], "traces") == 0)
		return "GET";
	if (n == 3 && strcmp(seg[0], "queues") == 0 && strcmp(seg[2], "tasks") == 0)
		return "GET, POST";
	if (n == 4 && strcmp(seg[0], "queues") == 0 && strcmp(seg[2], "dead") == 0 &&
	    (strcmp(seg[3], "retry") == 0 || strcmp(seg[3], "purge") == 0))
		return "POST";
	if (n == 4 && strcmp(seg[0], "queues") == 0 && strcmp(seg[2], "tasks") == 0 &&
	    strcmp(seg[3], "purge") == 0)
		return "POST";
	if (n == 2 && strcmp(seg[0], "actions") == 0 &&
	    (strcmp(seg[1], "start") == 0 || strcmp(seg[1], "stop") == 0 ||
	    strcmp(seg[1], "reload") == 0))
		return "POST";
	if (n == 3 && strcmp(seg[0], "workers") == 0 && strcmp(seg[2], "restart") == 0)
		return "POST";
	return NULL;
}

/* The first member of object o not named in known (NULL-terminated), or
 * NULL: a typo such as {"forse": true} must not pass as an empty body. */
static const char *
unknown_member(const cJSON *o, const char *const *known)
{
	const cJSON *e;
	size_t i;

	cJSON_ArrayForEach(e, o) {
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(e->string, known[i]) == 0)
				break;
		if (known[i] == NULL)
			return e->string;
	}
	return NULL;
}

static int
parse_stop(struct http *h, struct mg_connection *c, const char *body,
    size_t len, struct action *a)
{
	static const char *const usage = "the body must be a JSON object "
	    "such as {\"force\": false, \"timeout\": \"10s\"}";
	static const char *const stop_members[] = { "force", "timeout", NULL };
	cJSON *o, *force, *timeout;
	const char *why;
	uint64_t ms;
	int code;

	if (strspn(body, " \t\r\n") == len)
		return 0;
	if ((why = shallow(body, len) ? body_json(body, len, usage, &o) :
	    usage) != NULL)
		return reply_error(h, c, 400, "%s", why);
	if (!cJSON_IsObject(o) ||
	    (why = unknown_member(o, stop_members)) != NULL) {
		code = cJSON_IsObject(o) ? reply_error(h, c, 400, "unknown "
		    "member \"%s\": %s", why, usage) :
		    reply_error(h, c, 400, "%s", usage);
		cJSON_Delete(o);
		return code;
	}
	force = cJSON_GetObjectItemCaseSensitive(o, "force");
	timeout = cJSON_GetObjectItemCaseSensitive(o, "timeout");
	if (force != NULL && !cJSON_IsBool(force)) {
		cJSON_Delete(o);
		return reply_error(h, c, 400, "\"force\" must be true or false");
	}
	a->force = cJSON_IsTrue(force);
	/* Under a day, as a number or a string alike. */
	if (cJSON_IsNumber(timeout) && timeout->valuedouble >= 0 &&
	    timeout->valuedouble < 86400)
		a->timeout_ms = (uint64_t)(timeout->valuedouble * 1000);
	else if (cJSON_IsString(timeout) &&
	    conf_parse_duration(timeout->valuestring, &ms) == 0 &&
	    ms < 86400 * 1000)
		a->timeout_ms = ms;
	else if (timeout != NULL && !cJSON_IsNull(timeout)) {
		cJSON_Delete(o);
		return reply_error(h, c, 400, "\"timeout\" must be seconds or "
		    "a duration such as \"10s\"");
	}
	cJSON_Delete(o);
	return 0;
}

/* Start, reload and restart take no body: none, or an empty object.
 * Anything else is a request for something they do not do. */
static int
parse_no_body(struct http *h, struct mg_connection *c, const char *body,
    size_t len)
{
	static const char *const usage = "this action takes no body "
	    "(none, or {})";
	static const char *const none[] = { NULL };
	const char *why;
	cJSON *o;
	int code = 0;

	if (strspn(body, " \t\r\n") == len)
		return 0;
	if ((why = shallow(body, len) ? body_json(body, len, usage, &o) :
	    usage) != NULL)
		return reply_error(h, c, 400, "%s", why);
	if (!cJSON_IsObject(o))
		code = reply_error(h, c, 400, "%s", usage);
	else if ((why = unknown_member(o, none)) != NULL)
		code = reply_error(h, c, 400, "unknown member \"%s\": %s", why,
		    usage);
	cJSON_Delete(o);
	return code;
}

static int
id_order(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/*
 * The body of a dead-letter retry or purge: empty for every dead letter,
 * or {"ids": ["3", "7"]}.  Ids are strings, as everywhere in the API.
 */
static int
parse_dead_ids(struct http *h, struct mg_connection *c, const char *body,
    size_t len, struct action *a)
{
	static const char *const usage = "the body must be empty or "
	    "{\"ids\": [\"ID\", ...]}, with 1 to 1000 task ids as strings";
	static const char *const ids_members[] = { "ids", NULL };
	cJSON *o, *ids, *id;
	const char *why;
	int n;

	if (strspn(body, " \t\r\n") == len)
		return 0;
	if ((why = shallow(body, len) ? body_json(body, len, usage, &o) :
	    usage) != NULL)
		return reply_error(h, c, 400, "%s", why);
	ids = cJSON_GetObjectItemCaseSensitive(o, "ids");
	n = cJSON_GetArraySize(ids);
	if (!cJSON_IsObject(o) || !cJSON_IsArray(ids) || n < 1 ||
	    n > DEAD_IDS_MAX || unknown_member(o, ids_members) != NULL) {
		cJSON_Delete(o);
		return reply_error(h, c, 400, "%s", usage);
	}
	if ((a->ids = calloc((size_t)n, sizeof(*a->ids))) == NULL) {
		cJSON_Delete(o);
		return reply_error(h, c, 500, "out of memory");
	}
	cJSON_ArrayForEach(id, ids) {
		if (!cJSON_IsString(id) ||
		    (a->ids[a->nids++] = queue_id_parse(id->valuestring)) == 0) {
			cJSON_Delete(o);
			return reply_error(h, c, 400, "%s", usage);
		}
	}
	cJSON_Delete(o);
	qsort(a->ids, a->nids, sizeof(*a->ids), id_order);
	return 0;
}

static int
post(struct http *h, struct mg_connection *c, char seg[4][128], int n)
{
	struct action *a;
	const char *tp;
	char *body;
	size_t len, tplen;
	int code = 0;

	if (!token_ok(h, c))
		return reply_error(h, c, 401, "a valid bearer token is required");
	if ((body = read_body(c, &len, &code)) == NULL) {
		switch (code) {
		case 400:
			return reply_error(h, c, 400, "the body ended before "
			    "it was complete");
		case 413:
			return reply_error(h, c, 413, "the body is over %u "
			    "bytes", BODY_MAX);
		}
		return reply_error(h, c, 500, "out of memory");
	}
	if (n == 4 && strcmp(seg[2], "tasks") == 0)
		a = new_action(ACT_TASKS_PURGE, seg[1]);
	else if (n == 4)
		a = new_action(strcmp(seg[3], "retry") == 0 ? ACT_DEAD_RETRY :
		    ACT_DEAD_PURGE, seg[1]);
	else if (n == 3 && strcmp(seg[0], "queues") == 0)
		a = new_action(ACT_PUBLISH, seg[1]);
	else if (n == 3)
		a = new_action(ACT_RESTART, seg[1]);
	else if (strcmp(seg[1], "start") == 0)
		a = new_action(ACT_START, NULL);
	else if (strcmp(seg[1], "reload") == 0)
		a = new_action(ACT_RELOAD, NULL);
	else
		a = new_action(ACT_STOP, NULL);
	if (a == NULL) {
		free(body);
		return reply_error(h, c, 500, "out of memory");
	}
	switch (a->kind) {
	case ACT_STOP:
		code = parse_stop(h, c, body, len, a);
		break;
	case ACT_DEAD_RETRY:
	case ACT_DEAD_PURGE:
	case ACT_TASKS_PURGE:
		code = parse_dead_ids(h, c, body, len, a);
		break;
	case ACT_START:
	case ACT_RELOAD:
	case ACT_RESTART:
		code = parse_no_body(h, c, body, len);
		break;
	case ACT_PUBLISH:
		a->body = body;
		a->body_len = len;
		body = NULL;
		/* Less the white space around it, which is the header's
		 * (RFC 9110), not the value's. */
		if ((tp = mg_get_header(c, "traceparent")) != NULL) {
			for (tplen = strlen(tp); tplen > 0 &&
			    (tp[tplen - 1] == ' ' || tp[tplen - 1] == '\t');
			    tplen--)
				;
			if ((a->traceparent = strndup(tp, tplen)) == NULL)
				code = reply_error(h, c, 500, "out of memory");
		}
		break;
	default:
		break;
	}
	free(body);
	if (code != 0) {
		a->refs = 1;
		action_unref(h, a);
		return code;
	}
	return submit(h, c, a);
}

/* Whether method is one of allow's, "GET, POST" say. */
static bool
method_in(const char *method, const char *allow)
{
	size_t len = strlen(method);
	const char *p;

	for (p = allow; (p = strstr(p, method)) != NULL; p += len)
		if ((p == allow || p[-1] == ' ') &&
		    (p[len] == '\0' || p[len] == ','))
			return true;
	return false;
}

/*
 * ?limit=N of a task listing; other parameters are ignored, as a
 * cache-busting one from a browser should be.
 */
static bool
parse_limit(const char *query, unsigned *limit)
{
	char v[16], *end;
	unsigned long n;
	int len;

	*limit = TASK_LIST_DEFAULT;
	if (query == NULL ||
	    (len = mg_get_var(query, strlen(query), "limit", v, sizeof(v))) == -1)
		return true;
	if (len < 0 || v[0] < '0' || v[0] > '9')
		return false;
	errno = 0;
	n = strtoul(v, &end, 10);
	/* By the length: a %00 in the value would end it early. */
	if (end != v + len || errno != 0 || n < 1 || n > TASK_LIST_MAX)
		return false;
	*limit = (unsigned)n;
	return true;
}

static int
handler(struct mg_connection *c, void *arg)
{
	struct http *h = arg;
	const struct mg_request_info *ri = mg_get_request_info(c);
	const char *method = ri->request_method, *allow, *why, *host;
	char seg[4][128], hdr[64], hostbuf[256];
	struct action *a;
	int n;

	watchdog_watch(h->watchdog, c);
	/* RFC 9112 3.2: and the Host checks below would pass it. */
	if ((n = host_headers(c)) == 0 && ri->http_version != NULL &&
	    strcmp(ri->http_version, "1.1") == 0)
		return reply_error(h, c, 400, "an HTTP/1.1 request needs a "
		    "Host header");
	/* Which one would count is a guess that two parties may make
	 * differently (RFC 9112 3.2 says 400). */
	if (n > 1)
		return reply_error(h, c, 400, "a request may have one Host "
		    "header only");
	host = request_host(c, hostbuf, sizeof(hostbuf));
	if ((why = browser_refusal(h, c, host, method)) != NULL)
		return reply_error(h, c, 403, "%s", why);
	n = split(ri->local_uri != NULL ? ri->local_uri : "/", seg);
	if (n == -2)
		return reply_error(h, c, 400, "the path is not valid");
	if (n < 0 || (allow = allowed(seg, n)) == NULL)
		return reply_error(h, c, 404, "no such resource");
	if (strcmp(method, "HEAD") == 0 && strncmp(allow, "GET", 3) == 0)
		method = "GET";
	if (!method_in(method, allow)) {
		/* HEAD goes wherever GET does, and the header says so. */
		if (strncmp(allow, "GET", 3) == 0)
			snprintf(hdr, sizeof(hdr), "Allow: GET, HEAD%s\r\n",
			    allow + 3);
		else
			snprintf(hdr, sizeof(hdr), "Allow: %s\r\n", allow);
		return reply(h, c, 405, "application/json",
		    "{\"error\":\"method not allowed\"}", hdr) ;
	}
	if (strcmp(method, "POST") == 0)
		return post(h, c, seg, n);
	if (n == 3 && strcmp(seg[2], "tasks") == 0) {
		if ((a = new_action(ACT_TASKS, seg[1])) == NULL)
			return reply_error(h, c, 500, "out of memory");
		if (!parse_limit(ri->query_string, &a->limit)) {
			free(a->name);
			free(a);
			return reply_error(h, c, 400, "\"limit\" must be a "
			    "whole number from 1 to %d", TASK_LIST_MAX);
		}
		return submit(h, c, a);
	}
	if (n == 3 || (n == 2 && strcmp(seg[0], "traces") == 0)) {
		a = new_action(n == 3 ? ACT_DEAD : ACT_TRACE, seg[1]);
		if (a == NULL)
			return reply_error(h, c, 500, "out of memory");
		return submit(h, c, a);
	}
	return get(h, c, seg, n);
}

/*
 * Requests civetweb refuses before any handler (a request line it cannot
 * parse, headers over max_request_size, an HTTP version it does not
 * speak) get JSON like every other error.  Its own page would echo the
 * version from the request line into the status line, CR LF and all.
 */
static int
on_http_error(struct mg_connection *c, int code, const char *msg)
{
	struct http *h = mg_get_user_data(mg_get_context(c));
	const char *why;
	char body[128];
	int len;

	(void)msg;	/* may carry the request's own bytes */
	switch (code) {
	case 400:
		why = "the request is not valid HTTP/1.1";
		break;
	case 413:
	case 431:
		why = "the request line and headers are over 16384 bytes";
		break;
	case 505:
		why = "only HTTP/1.0 and HTTP/1.1 are spoken here";
		break;
	default:
		why = "the request cannot be answered";
		break;
	}
	len = snprintf(body, sizeof(body), "{\"error\":\"%s\"}", why);
	mg_printf(c, "HTTP/1.1 %d %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %d\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Connection: close\r\n"
	    "\r\n%s", code, mg_get_response_code_text(c, code), len, body);
	count(h, code);
	return 0;
}

static void
on_close(const struct mg_connection *c)
{
	struct http *h = mg_get_user_data(mg_get_context(c));

	watchdog_forget(h->watchdog, c);
}

/* civetweb's own messages (bad requests it answers itself) are not ours
 * to print from its threads; they are dropped. */
static int
on_log(const struct mg_connection *c, const char *msg)
{
	(void)c;
	(void)msg;
	return 1;
}

/*
 * civetweb's threads run at a lower priority than the event loop: under a
 * flood of requests they compete with supervision for this box's CPUs,
 * and a restart must not wait behind a dashboard.
 */
static void *
on_thread(const struct mg_context *ctx, int thread_type)
{
	(void)ctx;
	(void)thread_type;
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), 10);
	return NULL;
}

char *
http_read_token(const char *path, const char **why)
{
	char buf[4096], *token;
	FILE *f;
	size_t n;

	if ((f = fopen(path, "re")) == NULL) {
		*why = strerror(errno);
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0') {
		*why = "its first line, the token, is empty";
		return NULL;
	}
	if ((token = strdup(buf)) == NULL)
		*why = "out of memory";
	return token;
}

static int
start_with(struct runtime *rt, const struct settings *s)
{
	struct mg_callbacks cb;
	struct http *h;
	char ports[1024] = "";
	const char *why;
	size_t i;
	const char *opts[] = {
		"listening_ports", ports,
		"num_threads", "8",
		"request_timeout_ms", "10000",
		/* civetweb gives a connection a thread for as long as it is
		 * open: eight dashboards polling every 2 s over keep-alive
		 * would hold every thread for good, /livez shut out.  A new
		 * connection on the loopback costs less than that. */
		"enable_keep_alive", "no",
		"enable_directory_listing", "no",
		"max_request_size", "16384",
		"access_control_allow_origin", "",
		/* Headers and body go out in two writes: without this each
		 * answer waits ~40 ms for the client's delayed ACK. */
		"tcp_nodelay", "1",
		/* split() decodes each segment: civetweb would decode the
		 * whole path into a C string, which a %00 cuts short. */
		"decode_url", "no",
		/* A target in absolute form naming this listener's port goes
		 * to the handler, which checks its host as it would Host;
		 * with the check civetweb would close the connection unless
		 * the host were its authentication_domain. */
		"enable_auth_domain_check", "no",
		NULL
	};

	if (s->http.tls_cert != NULL) {
		log_error("platform.http.tls_cert: HTTPS is not available in "
		    "this build; put a TLS-terminating reverse proxy in front "
		    "of a loopback listener");
		return -1;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return -1;
	h->rt = rt;
	h->by_code = rt->http_answers;
	h->loopback = settings_http_loopback_only(s);
	rt->http = h;
	pthread_mutex_init(&h->mu, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&h->cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	h->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (h->efd == -1 || io_add(rt->loop, &h->io, h->efd, EPOLLIN,
	    on_actions, rt) == -1) {
		log_error("http: eventfd: %s", strerror(errno));
		return -1;
	}
	if (s->http.token_file != NULL &&
	    (h->token = http_read_token(s->http.token_file, &why)) == NULL) {
		log_error("platform.http.token_file: %s: %s", s->http.token_file,
		    why);
		return -1;
	}
	for (i = 0; s->http.listen[i] != NULL; i++) {
		if (i > 0)
			strncat(ports, ",", sizeof(ports) - strlen(ports) - 1);
		strncat(ports, s->http.listen[i], sizeof(ports) - strlen(ports) - 1);
	}
	rebuild(rt);
	memset(&cb, 0, sizeof(cb));
	cb.log_message = on_log;
	cb.init_thread = on_thread;
	cb.connection_close = on_close;
	cb.http_error = on_http_error;
	if ((h->watchdog = watchdog_start(REQUEST_HOLD_MS)) == NULL) {
		log_error("http: cannot start a thread: %s", strerror(errno));
		return -1;
	}
	mg_init_library(0);
	if ((h->ctx = mg_start(&cb, h, opts)) == NULL) {
		log_error("platform.http.listen: cannot listen on %s (in use, "
		    "or not an address of this host; IPv6 and Unix sockets "
		    "are not available in this build)", ports);
		return -1;
	}
	mg_set_request_handler(h->ctx, "/", handler, h);
	log_info("http: listening on %s%s", ports,
	    h->token != NULL ? " (token required for actions)" : "");
	return 0;
}

int
http_start(struct runtime *rt)
{
	return start_with(rt, rt->settings);
}

void
http_reload(struct runtime *rt, const struct settings *prev,
    const struct settings *next)
{
	struct http *h = rt->http;
	char *token, *old;
	const char *why;

	if (rt->no_http)
		return;
	if (settings_http_same(prev, next)) {
		/* Off since a reload whose listener did not start: the
		 * address may be free now. */
		if (h == NULL && next->http.enabled) {
			if (start_with(rt, next) == -1) {
				http_stop(rt);
				log_error("http: the HTTP server is still off");
			}
			return;
		}
		/* The same file may hold a new token: rotation. */
		if (h == NULL || next->http.token_file == NULL)
			return;
		if ((token = http_read_token(next->http.token_file,
		    &why)) == NULL) {
			log_error("platform.http.token_file: %s: %s; keeping the "
			    "token read before", next->http.token_file, why);
			return;
		}
		pthread_mutex_lock(&h->mu);
		old = h->token;
		h->token = token;
		pthread_mutex_unlock(&h->mu);
		if (old == NULL || strcmp(old, token) != 0)
			log_info("http: token read again from %s",
			    next->http.token_file);
		free(old);
		return;
	}
	log_info("http: platform.http changed; restarting the HTTP server");
	http_stop(rt);
	if (!next->http.enabled) {
		log_info("http: off");
		return;
	}
	if (start_with(rt, next) == 0)
		return;
	http_stop(rt);
	if (prev->http.enabled && start_with(rt, prev) == 0) {
		log_error("http: the new platform.http does not start; serving "
		    "the previous one until a reload that does");
		return;
	}
	http_stop(rt);
	log_error("http: the HTTP server is off until a reload that starts it");
}

void
http_stop(struct runtime *rt)
{
	struct http *h = rt->http;
	struct held_actions *ha;
	struct action *a, *list;

	if (h == NULL)
		return;
	/* Answers waiting for the disk: the disk is waited for now, as
	 * long as a request would have waited. */
	if (h->held != NULL)
		(void)store_drain(rt->store, ACTION_DEADLINE_MS);
	while ((ha = h->held) != NULL) {
		h->held = ha->next;
		unconfirm_durable(rt, ha->list, NOT_KNOWN_STORED);
		pthread_mutex_lock(&h->mu);
		finish(h, ha->list);
		free(ha);
	}
	h->held_tail = NULL;
	/* A thread waiting for the loop would hold mg_stop() up to its
	 * deadline, and the loop is here: answer them now. */
	pthread_mutex_lock(&h->mu);
	h->closing = true;
	list = h->head;
	h->head = h->tail = NULL;
	for (a = list; a != NULL; a = a->next) {
		a->code = 503;
		a->answer = error_json("the HTTP server is restarting");
	}
	finish(h, list);
	if (h->ctx != NULL) {
		civet_wake_listener(h->ctx);
		mg_stop(h->ctx);	/* joins every civetweb thread */
	}
	watchdog_stop(h->watchdog);
	if (h->efd != -1 && h->io.fd != -1)
		io_del(rt->loop, &h->io);
	if (h->efd > 0)
		close(h->efd);
	while ((a = h->head) != NULL) {
		h->head = a->next;
		action_unref(h, a);
	}
	snapshot_unref(h->snap);
	free(h->token);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv);
	free(h);
	rt->http = NULL;
}
