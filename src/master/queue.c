/*
 * Named task queues held by the master: a ready FIFO, per-consumer
 * in-flight lists and a dead-letter FIFO, all threaded through qtask.next.
 *
 * The hot path (publish, dispatch, ack) is O(1) or O(prefetch).  Fairness
 * comes from a second FIFO, of consumers that can take a task now (attached,
 * not paused, with a free slot): dispatch serves its head and puts it back at
 * the tail while it still has room, and a consumer whose slot frees up joins
 * at the tail.  That FIFO is the round-robin cursor, and since a consumer
 * leaves it on detach, the cursor can never point at a freed consumer.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"
#include "utf8.h"

/* What follows a cut error, so a reader can tell. */
#define ERROR_CUT	"..."

struct qconsumer {
	struct queue	 *q;		/* pause needs it to rejoin the rotation */
	void		 *owner;
	unsigned	  prefetch;
	unsigned	  inflight;
	bool		  paused;
	bool		  ready;	/* linked in the queue's ready-consumer FIFO */
	struct qtask	 *held;		/* oldest dispatched first */
	struct qtask	 *held_tail;
	struct qconsumer *prev, *next;		/* every attached consumer */
	struct qconsumer *rprev, *rnext;	/* consumers with room */
};

struct tasklist {
	struct qtask	*head;
	struct qtask	*tail;
	uint64_t	 len;
	uint64_t	 bytes;		/* of the bodies and errors */
};

struct queue {
	char		 *name;
	uint64_t	  capacity;
	unsigned	  max_attempts;
	uint64_t	  max_bytes;	/* of the ready tasks; 0: no limit */
	uint64_t	  dead_max;
	uint64_t	  dead_max_bytes;	/* 0: no limit */
	uint64_t	  dead_dropped;
	uint64_t	  next_id;
	struct tasklist	  ready;
	struct tasklist	  dead;
	uint64_t	  in_flight;
	uint64_t	  published;
	uint64_t	  acked;
	uint64_t	  nacked;
	uint64_t	  redelivered;
	struct qconsumer *consumers;
	struct qconsumer *rhead, *rtail;
	const struct queue_journal *jn;	/* NULL: in memory only */
	queue_done_fn	 *done;
	void		 *done_arg;
};

/* Tells a durable queue's journal what just changed. */
#define JOURNAL(q, hook, t) do {					\
	if ((q)->jn != NULL)						\
		(q)->jn->hook((q)->jn->arg, (q), (t));			\
} while (0)

static void
list_append(struct tasklist *l, struct qtask *t)
{
	t->next = NULL;
	if (l->tail != NULL)
		l->tail->next = t;
	else
		l->head = t;
	l->tail = t;
	l->len++;
	l->bytes += queue_task_bytes(t);
}

static struct qtask *
list_shift(struct tasklist *l)
{
	struct qtask *t = l->head;

	if (t == NULL)
		return NULL;
	l->head = t->next;
	if (l->head == NULL)
		l->tail = NULL;
	l->len--;
	l->bytes -= queue_task_bytes(t);
	t->next = NULL;
	return t;
}

/* The body is copied into the task's own allocation, so a task costs one
 * malloc on the hot path. */
static struct qtask *
task_new(const char *body, size_t len)
{
	struct qtask *t;

	if (len > SIZE_MAX - sizeof(*t) - 1)
		return NULL;
	if ((t = malloc(sizeof(*t) + len + 1)) == NULL)
		return NULL;
	memset(t, 0, sizeof(*t));
	t->body = (char *)(t + 1);
	if (len > 0)
		memcpy(t->body, body, len);
	t->body[len] = '\0';
	t->len = len;
	return t;
}

static void
task_free(struct qtask *t)
{
	if (t == NULL)
		return;
	/* The body shares the task's allocation. */
	free(t->last_error);
	free(t);
}

static void
chain_free(struct qtask *t)
{
	struct qtask *next;

	for (; t != NULL; t = next) {
		next = t->next;
		task_free(t);
	}
}

/*
 * A copy of an error, cut to QUEUE_ERROR_MAX bytes at a character
 * boundary, or NULL when out of memory.  The text is a child's and may
 * be a frame long; kept whole, dead_max of them would hold gigabytes
 * that no byte limit saw.  A byte that starts no valid sequence is
 * passed as one character: cutting is not checking.
 */
static char *
error_copy(const char *error)
{
	const unsigned char *u = (const unsigned char *)error;
	size_t len = strnlen(error, QUEUE_ERROR_MAX + 1), cut = 0, n;
	char *s;

	if (len <= QUEUE_ERROR_MAX)
		return strdup(error);
	for (;;) {
		if ((n = utf8_seq(u + cut, len - cut)) == 0)
			n = 1;
		if (cut + n > QUEUE_ERROR_MAX - (sizeof(ERROR_CUT) - 1))
			break;
		cut += n;
	}
	if ((s = malloc(cut + sizeof(ERROR_CUT))) == NULL)
		return NULL;
	memcpy(s, error, cut);
	memcpy(s + cut, ERROR_CUT, sizeof(ERROR_CUT));
	return s;
}

/* A NULL or unallocatable error leaves the task with no last error: losing
 * the message is better than losing the task or its place.  The task must
 * be on no list, whose bytes count the error. */
static void
set_error(struct qtask *t, const char *error)
{
	free(t->last_error);
	t->last_error = error != NULL ? error_copy(error) : NULL;
}

static void
ready_remove(struct queue *q, struct qconsumer *c)
{
	if (!c->ready)
		return;
	if (c->rprev != NULL)
		c->rprev->rnext = c->rnext;
	else
		q->rhead = c->rnext;
	if (c->rnext != NULL)
		c->rnext->rprev = c->rprev;
	else
		q->rtail = c->rprev;
	c->rprev = c->rnext = NULL;
	c->ready = false;
}

/* Joins the tail of the ready-consumer FIFO, if it can take a task: the
 * consumer served longest ago goes first, which is what keeps it fair. */
static void
ready_offer(struct queue *q, struct qconsumer *c)
{
	if (c->ready || c->paused || c->inflight >= c->prefetch)
		return;
	c->rnext = NULL;
	c->rprev = q->rtail;
	if (q->rtail != NULL)
		q->rtail->rnext = c;
	else
		q->rhead = c;
	q->rtail = c;
	c->ready = true;
}

/* Unlinks the task with this id from the consumer's held list, or NULL.
 * Linear, but a consumer holds at most prefetch tasks. */
static struct qtask *
held_take(struct queue *q, struct qconsumer *c, uint64_t id)
{
	struct qtask *t, *prev = NULL;

	if (c == NULL || c->q != q)
		return NULL;
	for (t = c->held; t != NULL; prev = t, t = t->next)
		if (t->id == id)
			break;
	if (t == NULL)
		return NULL;
	if (prev != NULL)
		prev->next = t->next;
	else
		c->held = t->next;
	if (c->held_tail == t)
		c->held_tail = prev;
	t->next = NULL;
	t->holder = NULL;
	c->inflight--;
	q->in_flight--;
	ready_offer(q, c);
	return t;
}

/*
 * The dead-letter list is bounded like everything else a child can make
 * the master hold: a consumer that fails every task would otherwise grow
 * it until memory runs out.  The oldest go first.
 */
static void
trim_dead(struct queue *q)
{
	struct qtask *t;

	/* The newest is kept whatever its size: it says what fails now. */
	while (q->dead.len > q->dead_max || (q->dead_max_bytes > 0 &&
	    q->dead.bytes > q->dead_max_bytes && q->dead.len > 1)) {
		t = list_shift(&q->dead);
		JOURNAL(q, drop, t);
		task_free(t);
		q->dead_dropped++;
	}
}

static void
bury(struct queue *q, struct qtask *t)
{
	list_append(&q->dead, t);
	JOURNAL(q, bury, t);
	if (t->origin != 0 && q->done != NULL)
		q->done(q->done_arg, q, t, false);
	trim_dead(q);
}

/*
 * Puts a task that was delivered and not acked back at the tail of the
 * ready FIFO, or into the dead-letter list once it has been delivered
 * max_attempts times.  Returns 0 when requeued, 1 when dead-lettered.
 */
static int
retry_or_bury(struct queue *q, struct qtask *t, const char *error)
{
	set_error(t, error);
	if (t->attempt >= q->max_attempts) {
		bury(q, t);
		return 1;
	}
	t->attempt++;
	list_append(&q->ready, t);
	q->redelivered++;
	JOURNAL(q, requeue, t);
	return 0;
}

/* Creates an empty queue (name copied); NULL when out of memory.
 * A max_attempts of 0 is taken as 1: every task is delivered once. */
struct queue *
queue_new(const char *name, uint64_t capacity, unsigned max_attempts)
{
	struct queue *q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		goto fail;
	if ((q->name = strdup(name != NULL ? name : "")) == NULL)
		goto fail;
	q->next_id = 1;
	q->dead_max = QUEUE_DEAD_MAX_DEFAULT;
	q->dead_max_bytes = QUEUE_DEAD_MAX_BYTES_DEFAULT;
	q->max_bytes = QUEUE_MAX_BYTES_DEFAULT;
	queue_set_limits(q, capacity, max_attempts);
	return q;
fail:
	queue_free(q);
	return NULL;
}

void
queue_free(struct queue *q)
{
	struct qconsumer *c, *next;

	if (q == NULL)
		return;
	for (c = q->consumers; c != NULL; c = next) {
		next = c->next;
		chain_free(c->held);
		free(c);
	}
	chain_free(q->ready.head);
	chain_free(q->dead.head);
	free(q->name);
	free(q);
}

void
queue_on_done(struct queue *q, queue_done_fn *fn, void *arg)
{
	q->done = fn;
	q->done_arg = arg;
}

/* The returned name lives as long as the queue. */
const char *
queue_name(const struct queue *q)
{
	return q->name;
}

/* New limits apply from the next publish, nack or loss: nothing already
 * queued moves, even if the queue is now over capacity. */
void
queue_set_limits(struct queue *q, uint64_t capacity, unsigned max_attempts)
{
	q->capacity = capacity;
	q->max_attempts = max_attempts > 0 ? max_attempts : 1;
}

void
queue_set_dead_max(struct queue *q, uint64_t dead_max)
{
	q->dead_max = dead_max > 0 ? dead_max : 1;
	trim_dead(q);
}

void
queue_set_dead_max_bytes(struct queue *q, uint64_t max_bytes)
{
	q->dead_max_bytes = max_bytes;
	trim_dead(q);
}

void
queue_set_max_bytes(struct queue *q, uint64_t max_bytes)
{
	q->max_bytes = max_bytes;
}

/* Checked before a publish, not with its size: a task of any size goes
 * into a queue below the limit, so none waits for ever, and the bytes
 * held stay under max_bytes plus one task.  A task put back counts its
 * error too: it is held as long as the body, and a consumer wrote it. */
bool
queue_full(const struct queue *q)
{
	return q->ready.len >= q->capacity ||
	    (q->max_bytes != 0 && q->ready.bytes >= q->max_bytes);
}

uint64_t
queue_publish(struct queue *q, const char *body, size_t len, uint64_t now)
{
	return queue_publish_from(q, body, len, now, 0);
}

uint64_t
queue_publish_from(struct queue *q, const char *body, size_t len, uint64_t now,
    uint64_t origin)
{
	return queue_publish_traced(q, body, len, now, origin, NULL);
}

uint64_t
queue_publish_traced(struct queue *q, const char *body, size_t len,
    uint64_t now, uint64_t origin, const struct qtrace *trace)
{
	struct qtask *t;

	if ((t = task_new(body, len)) == NULL)
		return 0;
	if (trace != NULL)
		t->trace = *trace;
	t->id = q->next_id++;
	t->attempt = 1;
	t->published_at = now;
	t->origin = origin;
	list_append(&q->ready, t);
	q->published++;
	JOURNAL(q, publish, t);
	return t->id;
}

void
queue_set_journal(struct queue *q, const struct queue_journal *jn)
{
	q->jn = jn;
}

bool
queue_journaled(const struct queue *q)
{
	return q->jn != NULL;
}

/* Not counted as published: the counters are since this start. */
int
queue_restore(struct queue *q, uint64_t id, const char *body, size_t len,
    unsigned attempt, const char *error, bool dead, uint64_t now)
{
	struct qtask *t;

	if ((t = task_new(body, len)) == NULL)
		return -1;
	t->id = id;
	t->attempt = attempt > 0 ? attempt : 1;
	t->published_at = now;
	/* A journal written before errors were cut may hold a long one. */
	if (error != NULL && (t->last_error = error_copy(error)) == NULL) {
		task_free(t);
		return -1;
	}
	list_append(dead ? &q->dead : &q->ready, t);
	queue_reserve_ids(q, id + 1);
	return 0;
}

unsigned
queue_max_attempts(const struct queue *q)
{
	return q->max_attempts;
}

uint64_t
queue_next_id(const struct queue *q)
{
	return q->next_id;
}

void
queue_reserve_ids(struct queue *q, uint64_t next)
{
	if (next > q->next_id)
		q->next_id = next;
}

/* Owned by the queue until queue_detach() or queue_free(); NULL when out
 * of memory.  A prefetch of 0 is taken as 1, or it would never be served. */
struct qconsumer *
queue_attach(struct queue *q, void *owner, unsigned prefetch)
{
	struct qconsumer *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->q = q;
	c->owner = owner;
	c->prefetch = prefetch > 0 ? prefetch : 1;
	c->next = q->consumers;
	if (q->consumers != NULL)
		q->consumers->prev = c;
	q->consumers = c;
	ready_offer(q, c);
	return c;
}

void *
queue_consumer_owner(const struct qconsumer *c)
{
	return c->owner;
}

unsigned
queue_consumer_inflight(const struct qconsumer *c)
{
	return c->inflight;
}

/* Unpausing puts the consumer at the back of the rotation, behind those
 * that kept working. */
void
queue_consumer_pause(struct qconsumer *c, bool paused)
{
	c->paused = paused;
	if (paused)
		ready_remove(c->q, c);
	else
		ready_offer(c->q, c);
}

size_t
queue_detach(struct queue *q, struct qconsumer *c, const char *reason)
{
	struct qtask *t, *next;
	size_t n = 0;

	if (c == NULL || c->q != q)
		return 0;
	ready_remove(q, c);
	for (t = c->held; t != NULL; t = next) {
		next = t->next;
		t->holder = NULL;
		q->in_flight--;
		retry_or_bury(q, t, reason);
		n++;
	}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		q->consumers = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	free(c);
	return n;
}

/* The task stays owned by the queue: the pointer is good until the task
 * is acked, nacked, or its holder detached. */
struct qtask *
queue_dispatch(struct queue *q, struct qconsumer **to, uint64_t now)
{
	struct qconsumer *c = q->rhead;
	struct qtask *t;

	if (c == NULL || q->ready.head == NULL)
		return NULL;
	t = list_shift(&q->ready);
	ready_remove(q, c);
	t->holder = c;
	t->dispatched_at = now;
	if (c->held_tail != NULL)
		c->held_tail->next = t;
	else
		c->held = t;
	c->held_tail = t;
	c->inflight++;
	q->in_flight++;
	ready_offer(q, c);
	JOURNAL(q, dispatch, t);
	if (to != NULL)
		*to = c;
	return t;
}

int
queue_ack(struct queue *q, struct qconsumer *c, uint64_t id, uint64_t now,
    uint64_t *held_ms)
{
	struct qtask *t;

	if ((t = held_take(q, c, id)) == NULL)
		return -1;
	if (held_ms != NULL)
		*held_ms = now > t->dispatched_at ? now - t->dispatched_at : 0;
	q->acked++;
	JOURNAL(q, ack, t);
	if (t->origin != 0 && q->done != NULL)
		q->done(q->done_arg, q, t, true);
	task_free(t);
	return 0;
}

int
queue_nack(struct queue *q, struct qconsumer *c, uint64_t id, bool retry,
    const char *error)
{
	struct qtask *t;

	if ((t = held_take(q, c, id)) == NULL)
		return -1;
	q->nacked++;
	if (retry)
		return retry_or_bury(q, t, error);
	set_error(t, error);
	bury(q, t);
	return 1;
}

/* The task whose task_timeout falls first: searched by dispatch time
 * rather than taken from the list head, so it follows the caller's clock. */
struct qtask *
queue_oldest_held(const struct qconsumer *c)
{
	struct qtask *t, *oldest = NULL;

	for (t = c->held; t != NULL; t = t->next)
		if (oldest == NULL || t->dispatched_at < oldest->dispatched_at)
			oldest = t;
	return oldest;
}

void
queue_stats(const struct queue *q, struct queue_stats *st)
{
	st->depth = q->ready.len;
	st->bytes = q->ready.bytes;
	st->max_bytes = q->max_bytes;
	st->in_flight = q->in_flight;
	st->dead = q->dead.len;
	st->published = q->published;
	st->acked = q->acked;
	st->nacked = q->nacked;
	st->redelivered = q->redelivered;
	st->capacity = q->capacity;
	st->dead_max = q->dead_max;
	st->dead_bytes = q->dead.bytes;
	st->dead_max_bytes = q->dead_max_bytes;
	st->dead_dropped = q->dead_dropped;
}

size_t
queue_task_bytes(const struct qtask *t)
{
	return t->len + (t->last_error != NULL ? strlen(t->last_error) : 0);
}

uint64_t
queue_id_parse(const char *s)
{
	unsigned long long v;
	char *end;

	/* strtoull alone would take " 7", "+7" and "-7". */
	if (s[0] < '1' || s[0] > '9')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return 0;
	return v;
}

/* Whether id is one of ids (ascending); every id when there are none.
 * A search: a request may name a thousand ids of a long list. */
static bool
picked(uint64_t id, const uint64_t *ids, size_t nids)
{
	size_t lo = 0, hi = nids, mid;

	if (nids == 0)
		return true;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ids[mid] == id)
			return true;
		if (ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/*
 * Takes the picked dead letters out of the list, in order, and queues
 * them again or deletes them.  One walk of the list: this is an
 * operator's action, never the hot path.
 */
static size_t
dead_release(struct queue *q, const uint64_t *ids, size_t nids, bool retry,
    queue_each_fn *each, void *arg)
{
	struct tasklist keep = { 0 }, taken = { 0 };
	struct qtask *t;
	size_t n;

	while ((t = list_shift(&q->dead)) != NULL)
		list_append(picked(t->id, ids, nids) ? &taken : &keep, t);
	q->dead = keep;
	n = (size_t)taken.len;
	while ((t = list_shift(&taken)) != NULL) {
		if (!retry) {
			JOURNAL(q, drop, t);
			task_free(t);
			continue;
		}
		/* A fresh start; its publisher heard of its end already. */
		t->attempt = 1;
		t->origin = 0;
		list_append(&q->ready, t);
		JOURNAL(q, requeue, t);
		if (each != NULL)
			each(arg, t);
	}
	return n;
}

size_t
queue_dead_retry(struct queue *q, const uint64_t *ids, size_t nids,
    queue_each_fn *each, void *arg)
{
	return dead_release(q, ids, nids, true, each, arg);
}

size_t
queue_dead_purge(struct queue *q, const uint64_t *ids, size_t nids)
{
	return dead_release(q, ids, nids, false, NULL, NULL);
}

size_t
queue_ready_purge(struct queue *q, const uint64_t *ids, size_t nids,
    const char *why, queue_each_fn *each, void *arg)
{
	struct tasklist keep = { 0 };
	struct qtask *t;
	size_t n = 0;

	while ((t = list_shift(&q->ready)) != NULL) {
		if (!picked(t->id, ids, nids)) {
			list_append(&keep, t);
			continue;
		}
		set_error(t, why);
		if (each != NULL)
			each(arg, t);
		if (t->origin != 0 && q->done != NULL)
			q->done(q->done_arg, q, t, false);
		JOURNAL(q, drop, t);
		task_free(t);
		n++;
	}
	q->ready = keep;
	return n;
}

/* The returned tasks live until the next change to the queue: the oldest
 * dead letters are dropped past dead_max. */
const struct qtask *
queue_dead_last(const struct queue *q)
{
	return q->dead.tail;
}

const struct qtask *
queue_dead_next(const struct queue *q, const struct qtask *prev)
{
	return prev == NULL ? q->dead.head : prev->next;
}

const struct qtask *
queue_ready_next(const struct queue *q, const struct qtask *prev)
{
	return prev == NULL ? q->ready.head : prev->next;
}

const struct qtask *
queue_held_next(const struct queue *q, const struct qtask *prev)
{
	const struct qconsumer *c;

	if (prev != NULL && prev->next != NULL)
		return prev->next;
	c = prev == NULL ? q->consumers : prev->holder->next;
	while (c != NULL && c->held == NULL)
		c = c->next;
	return c != NULL ? c->held : NULL;
}

bool
queue_empty(const struct queue *q)
{
	return q->ready.len == 0 && q->in_flight == 0 && q->dead.len == 0 &&
	    q->consumers == NULL;
}
