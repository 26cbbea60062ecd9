/*
 * Named task queues held by the master (the seed's TaskQueue and
 * InMemoryTaskQueue), as a pure data structure: no I/O, no clock of its
 * own.  The channel code publishes into it, asks it which task goes to
 * which consumer instance, and reports acks, nacks and lost consumers.
 *
 * Delivery is at least once: a task stays in flight, held by one consumer,
 * until that consumer acks it; a nack with retry, or the consumer's loss,
 * puts it back with attempt + 1, and past max_attempts it moves to the
 * dead-letter list with its last error.
 */
#ifndef PLBA_MASTER_QUEUE_H
#define PLBA_MASTER_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct queue;
struct qconsumer;
struct qtask;

/*
 * What a durable queue writes down: each hook is called after the change
 * it reports, with the task as it now is.  An in-memory queue has none,
 * and pays one test of a NULL pointer per change.
 */
struct queue_journal {
	void	*arg;
	void	(*publish)(void *arg, const struct queue *, const struct qtask *);
	/* Handed to a consumer: in flight. */
	void	(*dispatch)(void *arg, const struct queue *, const struct qtask *);
	/* Back on the ready list, with its new attempt and last error. */
	void	(*requeue)(void *arg, const struct queue *, const struct qtask *);
	/* Moved to the dead-letter list, with its last error. */
	void	(*bury)(void *arg, const struct queue *, const struct qtask *);
	/* Acked: gone.  The task is freed right after the call. */
	void	(*ack)(void *arg, const struct queue *, const struct qtask *);
	/* The oldest dead letter, dropped to keep the list within dead_max:
	 * gone too, and freed right after the call. */
	void	(*drop)(void *arg, const struct queue *, const struct qtask *);
};

/*
 * A task's trace context (W3C traceparent in its metadata), read once by
 * the publisher and kept with the task, so that the master's spans on it
 * (dispatch, redelivery, timeout, dead-lettering) need not scan its body
 * again.  The queue only keeps it.  A task restored from a journal, or
 * published without one, is QTRACE_UNKNOWN: its body was not looked at.
 */
enum qtrace_state {
	QTRACE_UNKNOWN = 0,
	QTRACE_NONE,		/* no valid, sampled traceparent */
	QTRACE_SAMPLED		/* trace_id and span_id hold it */
};

/* The ids in hex, as they came and as every span prints them again. */
struct qtrace {
	char		  trace_id[32];	/* no NUL */
	char		  span_id[16];	/* the publisher's span: the parent */
	uint8_t		  state;	/* enum qtrace_state */
};

struct qtask {
	uint64_t	  id;		/* unique within the queue, from 1 */
	char		 *body;		/* the task object's JSON text, NUL-terminated */
	size_t		  len;
	unsigned	  attempt;	/* 1 on first delivery */
	char		 *last_error;	/* from the last nack or loss, or NULL;
					 * at most QUEUE_ERROR_MAX bytes */
	uint64_t	  published_at;	/* ms, caller's clock */
	uint64_t	  dispatched_at;/* ms, when handed to its holder */
	uint64_t	  origin;	/* who wants a done notice, or 0 */
	struct qtrace	  trace;
	struct qconsumer *holder;	/* while in flight */
	struct qtask	 *next;		/* ready, dead or held list link */
};

struct queue_stats {
	uint64_t	depth;		/* ready, waiting for a consumer */
	uint64_t	bytes;		/* of the ready tasks' bodies and errors */
	uint64_t	max_bytes;	/* 0: no limit */
	uint64_t	in_flight;
	uint64_t	dead;		/* in the dead-letter list now */
	uint64_t	published;	/* counters since start */
	uint64_t	acked;
	uint64_t	nacked;
	uint64_t	redelivered;	/* put back after a nack or a loss */
	uint64_t	capacity;
	uint64_t	dead_max;
	uint64_t	dead_bytes;	/* of the dead letters' bodies and errors */
	uint64_t	dead_max_bytes;	/* 0: no limit */
	uint64_t	dead_dropped;	/* oldest dead letters dropped, since start */
};

/* How many dead letters a queue keeps unless told otherwise. */
#define QUEUE_DEAD_MAX_DEFAULT	10000
/* How many bytes of ready tasks make a queue full unless told otherwise. */
#define QUEUE_MAX_BYTES_DEFAULT	(256u << 20)
/* The same for the dead letters' bytes. */
#define QUEUE_DEAD_MAX_BYTES_DEFAULT	(256u << 20)
/*
 * The bytes of a task's last error the queue keeps, "..." included: the
 * text is a child's, up to a frame long, and is kept with the task as
 * long as the task, across restarts for a durable queue.
 */
#define QUEUE_ERROR_MAX		4096

struct queue	*queue_new(const char *name, uint64_t capacity, unsigned max_attempts);
/* Frees the queue, its tasks and its consumers. NULL is a no-op. */
void		 queue_free(struct queue *);
const char	*queue_name(const struct queue *);
void		 queue_set_limits(struct queue *, uint64_t capacity, unsigned max_attempts);
/*
 * Keeps at most dead_max (at least 1) dead letters from now on, dropping
 * the oldest, through the journal, when there are more: at once, and
 * whenever a task is dead-lettered.  The task dead-lettered last is
 * always kept.
 */
void		 queue_set_dead_max(struct queue *, uint64_t dead_max);
/* The ready tasks' bytes (bodies and errors) at which the queue is full
 * too; 0: no limit. */
void		 queue_set_max_bytes(struct queue *, uint64_t max_bytes);
/*
 * Keeps the dead letters' bytes, bodies and errors, within max_bytes (0:
 * no limit) from now on, as queue_set_dead_max() keeps their count: a
 * consumer that fails every large task must not grow the master by
 * dead_max of them.
 */
void		 queue_set_dead_max_bytes(struct queue *, uint64_t max_bytes);

/* Sets (or, with NULL, removes) the journal; the struct must outlive
 * the queue or the next call. */
void		 queue_set_journal(struct queue *, const struct queue_journal *);
bool		 queue_journaled(const struct queue *);
/*
 * Puts back a task read from a journal, with the id, attempt and last
 * error it had (cut to QUEUE_ERROR_MAX, as a nack's is), on the ready
 * list or the dead-letter list, and moves the id counter past it.  Not
 * reported to the journal, and not held to dead_max: queue_set_dead_max()
 * once the journal is set does that.
 * Returns 0, or -1 when out of memory.
 */
int		 queue_restore(struct queue *, uint64_t id, const char *body,
		    size_t len, unsigned attempt, const char *error, bool dead,
		    uint64_t now);
unsigned	 queue_max_attempts(const struct queue *);
/* The id the next publish gets. */
uint64_t	 queue_next_id(const struct queue *);
/* Moves the id counter to at least next, so ids are never reused. */
void		 queue_reserve_ids(struct queue *, uint64_t next);

/* True when depth >= capacity, or the ready tasks' bytes >= max_bytes:
 * publishers must wait. */
bool		 queue_full(const struct queue *);
/*
 * Appends a task (body copied).  Never refuses for capacity: callers
 * check queue_full() first and hold the publisher; tasks put back by
 * nacks and losses may take depth past capacity.  Returns the new task's
 * id, or 0 when out of memory.
 */
uint64_t	 queue_publish(struct queue *, const char *body, size_t len, uint64_t now);
/* The same, for a publisher (origin, not 0) that wants a done notice. */
uint64_t	 queue_publish_from(struct queue *, const char *body, size_t len,
		    uint64_t now, uint64_t origin);
/* The same, with the task's trace context (copied; NULL: unknown). */
uint64_t	 queue_publish_traced(struct queue *, const char *body, size_t len,
		    uint64_t now, uint64_t origin, const struct qtrace *);
/*
 * Called when a task with an origin is finished: acked, or moved to the
 * dead-letter list (its last_error says why).  The task is still valid
 * during the call; the callback must not touch the queue.
 */
typedef void	 queue_done_fn(void *arg, struct queue *, const struct qtask *,
		    bool acked);
void		 queue_on_done(struct queue *, queue_done_fn *, void *arg);

/* A consumer instance holding at most prefetch unacked tasks. */
struct qconsumer *queue_attach(struct queue *, void *owner, unsigned prefetch);
void		*queue_consumer_owner(const struct qconsumer *);
unsigned	 queue_consumer_inflight(const struct qconsumer *);
/* A paused consumer gets no new task (it is stopping) but keeps its own. */
void		 queue_consumer_pause(struct qconsumer *, bool paused);
/*
 * Removes a consumer.  Every task it held goes back to the queue with
 * attempt + 1 and reason as last error, or to the dead-letter list past
 * max_attempts.  Returns how many tasks it held.
 */
size_t		 queue_detach(struct queue *, struct qconsumer *, const char *reason);

/*
 * Picks the next ready task and a consumer with a free slot, round-robin
 * over consumers so dispatch is fair, and marks it in flight.  Returns
 * NULL when no task is ready or no consumer has room.
 */
struct qtask	*queue_dispatch(struct queue *, struct qconsumer **to, uint64_t now);

/* Acks a task the consumer holds; returns -1 when it holds no such task.
 * *held_ms (may be NULL) receives how long it was in flight. */
int		 queue_ack(struct queue *, struct qconsumer *, uint64_t id,
		    uint64_t now, uint64_t *held_ms);
/* Nacks a task the consumer holds: with retry it goes back (or, past
 * max_attempts, to the dead-letter list), without it goes straight to the
 * dead-letter list.  The error is copied, cut to QUEUE_ERROR_MAX.
 * Returns -1 when the consumer holds no such task, 0 when requeued, 1
 * when dead-lettered. */
int		 queue_nack(struct queue *, struct qconsumer *, uint64_t id,
		    bool retry, const char *error);
/* The task the consumer has held longest, for task_timeout; or NULL. */
struct qtask	*queue_oldest_held(const struct qconsumer *);

void		 queue_stats(const struct queue *, struct queue_stats *);
/* What a task counts for in bytes and dead_bytes: its body and its last
 * error. */
size_t		 queue_task_bytes(const struct qtask *);
/* Nothing queued, in flight or dead, and no consumer attached. */
bool		 queue_empty(const struct queue *);
/* A task id in its string form (the protocol's and the API's), or 0 when
 * the string is not one. */
uint64_t	 queue_id_parse(const char *);
/*
 * An operator's second chance: puts the dead letters with the given ids
 * (ascending; all of them when nids is 0) back at the tail of the ready
 * list, in
 * the order they died, with attempt 1.  They may take depth past
 * capacity, as nacks do.  Calls each (unless NULL) on every task put
 * back.  Returns how many; the caller dispatches.
 */
typedef void	 queue_each_fn(void *arg, const struct qtask *);
size_t		 queue_dead_retry(struct queue *, const uint64_t *ids, size_t nids,
		    queue_each_fn *each, void *arg);
/* Deletes them instead; returns how many. */
size_t		 queue_dead_purge(struct queue *, const uint64_t *ids, size_t nids);
/*
 * Deletes the ready tasks with the given ids (ascending; all of them
 * when nids is 0), never those in flight, which are their consumers'.
 * Each gets why as its last error, is passed to each (unless NULL) and,
 * if its publisher wants a done notice, reported not acked; then it is
 * gone, from the journal too.  Returns how many.
 */
size_t		 queue_ready_purge(struct queue *, const uint64_t *ids, size_t nids,
		    const char *why, queue_each_fn *each, void *arg);
/* The task dead-lettered last, or NULL. */
const struct qtask *queue_dead_last(const struct queue *);
/* Dead-lettered tasks, oldest first: call with NULL to start. */
const struct qtask *queue_dead_next(const struct queue *, const struct qtask *prev);
/* Ready tasks, the next to be dispatched first: call with NULL to start. */
const struct qtask *queue_ready_next(const struct queue *, const struct qtask *prev);
/*
 * Tasks in flight, one consumer's after another's, each consumer's
 * oldest dispatch first: call with NULL to start.  t->holder says who
 * holds each.
 */
const struct qtask *queue_held_next(const struct queue *, const struct qtask *prev);

#endif
