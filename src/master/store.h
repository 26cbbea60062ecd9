/*
 * Durable queues: one SQLite database, STATE_DIR/queues.db in WAL mode,
 * that journals every change of the queues attached to it (publish,
 * dispatch, requeue, dead letter, ack) and gives them back after a
 * restart.  The queues themselves stay in memory (queue.c); the store
 * only writes down what they do, through queue.c's journal hooks.
 *
 * Writes are batched and made off the loop.  Changes are journaled into
 * a batch numbered store_batch(); store_flush(), once per loop iteration,
 * hands that batch to a writer thread, which commits it as one
 * transaction while the loop goes on, and a new batch begins.  Once the
 * writer is through, store_fd() is readable, and store_reap() tells the
 * stored callback whether that batch is on disk.  A publish to a durable
 * queue is confirmed only then.  While the writer is busy, changes gather
 * in the next batch: a slow disk makes transactions larger, and
 * store_behind() says when durable publishes should wait for it.
 */
#ifndef PLBA_MASTER_STORE_H
#define PLBA_MASTER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct histogram;
struct qtask;
struct store;
struct queue;

struct store_stats {
	uint64_t	 commits;
	uint64_t	 failures;	/* transactions rolled back */
	uint64_t	 waiting_bytes;	/* journaled, not yet committed */
	uint64_t	 writing_ms;	/* the commit in progress so far, or 0 */
	const struct histogram *commit_ms;	/* of each transaction */
};

/* Whether batch `batch`, and every batch before it, is committed. */
typedef void store_stored_fn(void *arg, uint64_t batch, bool stored);
typedef void store_loaded_fn(void *arg, struct queue *q, const char *err);
typedef void store_lost_fn(void *arg, struct queue *q, const struct qtask *t);

/*
 * Opens (creating it, and state_dir, 0700, when missing) the database
 * and takes its lock: two masters on one state_dir would deliver the
 * same tasks.  NULL with a message in err when it cannot.
 */
struct store	*store_open(const char *state_dir, char *err, size_t errlen);
/* Commits what is pending, without telling anyone, detaches every queue
 * and closes; NULL is a no-op.  Call it before the queues are freed. */
void		 store_close(struct store *);
/*
 * Loads the queue's rows (every task confirmed and not acked, and its
 * dead letters) into q, which must be empty, and journals q's changes
 * from now on.  A task that was in flight when the master died counts as
 * delivered and lost: it comes back with attempt + 1, or goes to the
 * dead-letter list past max_attempts, as after a consumer's death.
 * Returns -1 with a message in err.  It waits for the writer, 5 s at
 * most, and reads on the calling thread: for start.
 */
int		 store_attach(struct store *, struct queue *, uint64_t now,
		    char *err, size_t errlen);
/*
 * The same, without waiting: the writer reads the rows once what was
 * journaled before is committed, and store_reap() restores them into q
 * and tells the loaded callback.  Until then q takes nothing: the
 * caller holds publishes back (store_loading()).  -1 when out of memory.
 */
int		 store_load(struct store *, struct queue *);
/* Whether a store_load() of q is still to be reported. */
bool		 store_loading(const struct store *, const struct queue *);
/*
 * Stops journaling q, or loading it, before the caller frees it.  Its
 * rows stay (there are none once it is empty) and so does its id
 * counter, so a queue of the same name attached later never reuses an
 * id.  What q journaled before is still written: batches keep copies.
 */
void		 store_detach(struct store *, struct queue *);
/* Who is told, from store_reap() or store_commit(), of each batch. */
void		 store_on_stored(struct store *, store_stored_fn *, void *arg);
/* Who is told of each store_load(): err is NULL once q is loaded.  A
 * queue detached before that is not reported. */
void		 store_on_loaded(struct store *, store_loaded_fn *, void *arg);
/* Who is told, as a queue is loaded, of each task it puts on its
 * dead-letter list because it was in flight when the master died, with
 * its deliveries spent: a dead letter like any other, for the log and
 * the trace. */
void		 store_on_lost(struct store *, store_lost_fn *, void *arg);
/* The eventfd that is readable when the writer is through; -1 for NULL. */
int		 store_fd(const struct store *);
/* Reports the batch the writer is through with, if any. */
void		 store_reap(struct store *);
/* The number of the batch that changes journaled now go into. */
uint64_t	 store_batch(const struct store *);
/* How many changes were ever journaled: a caller's way to learn whether
 * what it did touched a durable queue. */
uint64_t	 store_changes(const struct store *);
/* True while some change is not known to be committed or failed. */
bool		 store_pending(struct store *);
/* True when so much waits for the writer that durable publishes should
 * wait too. */
bool		 store_behind(const struct store *);
/* Hands the open batch to the writer, unless it is busy with the last. */
void		 store_flush(struct store *);
/*
 * Waits for the writer, then commits the open batch on the calling
 * thread; both are reported to the stored callback.  Returns 0 when all
 * is committed (or there was nothing), -1 when either failed: that batch
 * was rolled back, logged, and none of its publishes may be confirmed.
 * It blocks the caller for as long as the disk takes: for start, reload
 * and exit.
 */
int		 store_commit(struct store *);
/*
 * Hands every change to the writer and waits for it, at most wait_ms in
 * all; 0 when nothing is left to write (committed or failed), -1 when
 * the disk has stalled.
 */
int		 store_drain(struct store *, uint64_t wait_ms);
/*
 * Gives up on a writer that store_drain() found stuck, at exit: what it
 * and the open batch hold is logged as not stored; store_commit() then
 * fails at once, and store_close() leaves the writer and the database
 * for the process's exit.
 */
void		 store_abandon(struct store *);
/*
 * For the heartbeat scan: logs, once each, a commit that has not ended
 * in 5 s, and the store falling behind and catching up.
 */
void		 store_watch(struct store *, uint64_t now);
void		 store_stats(struct store *, uint64_t now, struct store_stats *);
/* The database's path, for messages. */
const char	*store_path(const struct store *);

#endif
