/*
 * Durable queues: one SQLite database, STATE_DIR/queues.db in WAL mode,
 * that journals every change of the queues attached to it (publish,
 * dispatch, requeue, dead letter, ack) and gives them back after a
 * restart.  The queues themselves stay in memory (queue.c); the store
 * only writes down what they do, through queue.c's journal hooks.
 *
 * Writes are batched: the first change opens a transaction, and
 * store_commit(), called once per loop iteration before replies go out,
 * ends it.  A publish to a durable queue is confirmed only after that.
 */
#ifndef PLBA_MASTER_STORE_H
#define PLBA_MASTER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct queue;

/*
 * Opens (creating it, and state_dir, 0700, when missing) the database
 * and takes its lock: two masters on one state_dir would deliver the
 * same tasks.  NULL with a message in err when it cannot.
 */
struct store	*store_open(const char *state_dir, char *err, size_t errlen);
/* Commits what is pending, detaches every queue and closes; NULL is a
 * no-op.  Call it before the queues are freed. */
void		 store_close(struct store *);
/*
 * Loads the queue's rows (every task confirmed and not acked, and its
 * dead letters) into q, which must be empty, and journals q's changes
 * from now on.  A task that was in flight when the master died counts as
 * delivered and lost: it comes back with attempt + 1, or goes to the
 * dead-letter list past max_attempts, as after a consumer's death.
 * Returns -1 with a message in err.
 */
int		 store_attach(struct store *, struct queue *, uint64_t now,
		    char *err, size_t errlen);
/*
 * Stops journaling q, which the caller is about to free.  Its rows stay
 * (there are none once it is empty) and so does its id counter, so a
 * queue of the same name attached later never reuses an id.  Call it
 * only while no transaction is open, so that q's last writes are
 * committed or their failure already reported.
 */
void		 store_detach(struct store *, struct queue *);
/* True while a transaction is open. */
bool		 store_pending(const struct store *);
/*
 * Ends the open transaction, if any.  Returns 0 when it is committed
 * (or there was none), -1 when a write or the commit failed: the
 * transaction is then rolled back, logged, and none of its publishes may
 * be confirmed.
 */
int		 store_commit(struct store *);
/* The database's path, for messages. */
const char	*store_path(const struct store *);

#endif
