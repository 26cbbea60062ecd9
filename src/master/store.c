/*
 * The durable queues' database.  One table holds every task of every
 * durable queue that is not acked, keyed by (queue, id), with its state
 * (ready, held: in flight, dead), attempt, last error and body; another
 * holds each queue's next id, so ids are never issued twice.
 *
 * WAL with synchronous=FULL: COMMIT returns once the WAL is fsynced, so
 * a confirmed task survives a crash of the machine too, as SPEC 6's
 * "committed to disk" says.  NORMAL would survive the master's own death
 * (the WAL is in the kernel before COMMIT returns) but may lose the last
 * transactions to a power loss; FULL costs one fsync per loop iteration,
 * not per task, since an iteration's writes share one transaction
 * (bench/queue measures both queues side by side).
 */
#include "config.h"

#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "queue.h"
#include "store.h"

#define STORE_FILE	"queues.db"
#define LOCK_FILE	"queues.lock"
#define SCHEMA_VERSION	1
/* Why a task that was in flight when the master died is retried. */
#define LOST_IN_FLIGHT	"plba-master died while the task was in flight"
/*
 * Changes waiting for the writer beyond which durable publishes wait
 * too: a disk that stalls must not grow the master without bound.
 */
#define BEHIND_BYTES	(16u << 20)
/* A commit that takes longer is logged when it ends; one still running
 * after STALLED_MS is logged then, once. */
#define SLOW_MS		1000
#define STALLED_MS	5000
/* How long attaching a queue waits for the writer. */
#define ATTACH_WAIT_MS	5000u
#define NO_ERROR	UINT32_MAX

enum op_kind { OP_INSERT, OP_STATE, OP_DELETE, OP_NEXT_ID };
/* A row's state, as OP_STATE carries it: an index in state_names. */
enum row_state { ROW_READY, ROW_HELD, ROW_DEAD };

/*
 * One change, as the writer applies it.  The queue's name, the error and
 * the body follow it in the batch, copied: the task may be freed, and the
 * queue removed, before the writer gets to it.
 */
struct op {
	uint64_t	 id;		/* OP_NEXT_ID: the queue's next id */
	uint32_t	 attempt;
	uint32_t	 name_len;
	uint32_t	 error_len;	/* NO_ERROR: none */
	uint32_t	 body_len;
	uint8_t		 kind;
	uint8_t		 state;		/* OP_STATE: an enum row_state */
};

/* One transaction's changes, in the order the queues made them. */
struct batch {
	char		*buf;
	size_t		 len;
	size_t		 cap;
	size_t		 nops;
	uint64_t	 seq;
	bool		 failed;	/* nomem while building, or a write */
	char		 err[256];	/* the first failure, for the loop's log */
};

struct attached {
	struct queue	*q;
	uint64_t	 saved_next;	/* next id as last handed to the writer */
};

/*
 * A queue's rows, read by the writer for the loop to restore, so that a
 * reload declaring a durable queue never waits for the disk.  The rows
 * are ops of `rows` (name_len 0, the error with its NUL); the queue is
 * the loop's alone, and the writer reads by the copied name.
 */
struct load {
	struct load	*next;
	struct queue	*q;		/* NULL once detached: rows dropped */
	char		*name;
	unsigned	 max_attempts;
	uint64_t	 after;		/* the batch committed before reading */
	struct batch	 rows;
	uint64_t	 saved_next;
	int		 back;		/* in flight at the crash, requeued */
	int		 buried;	/* ... and past max_attempts */
	uint64_t	*lost;		/* the buried ones' ids, ascending */
};

struct store {
	sqlite3		*db;
	char		*path;
	int		 lockfd;
	struct queue_journal jn;
	struct attached	*queues;
	size_t		 nqueues;
	size_t		 capqueues;
	sqlite3_stmt	*begin, *commit, *rollback;
	sqlite3_stmt	*insert;	/* a published task */
	sqlite3_stmt	*update;	/* state, attempt and error */
	sqlite3_stmt	*delete;	/* an acked task */
	sqlite3_stmt	*next_id;	/* a queue's id counter */
	uint64_t	 changes;	/* ever journaled */
	uint64_t	 commits;
	uint64_t	 failures;
	struct histogram commit_ms;
	uint64_t	 writing_since;	/* mono ms: `work` handed over */
	bool		 told_stalled;	/* about `work` */
	bool		 told_behind;
	store_stored_fn	*stored;
	void		*stored_arg;
	store_loaded_fn	*loaded;
	void		*loaded_arg;
	store_lost_fn	*lost;
	void		*lost_arg;
	struct load	*loads;		/* waiting for the writer, in order */

	/*
	 * The loop journals into `open`; `work` is the batch the writer
	 * thread commits, one at a time, while the loop goes on.  Whatever
	 * the loop journals meanwhile waits in `open` and goes in the next
	 * transaction, so a slow disk makes transactions larger, not the
	 * loop slower.
	 */
	struct batch	 open;
	struct batch	 work;
	struct load	*reading;	/* under mu: the writer's job, not `work` */
	int		 efd;		/* eventfd: `work` is through */
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	pthread_t	 thread;
	bool		 threaded;	/* else `work` is committed in place */
	bool		 busy;		/* under mu: `work` handed over, not reaped */
	bool		 finished;	/* under mu: the writer is through with it */
	bool		 quit;		/* under mu */
	bool		 abandoned;	/* the writer is stuck: leave it be */
};

static void	read_rows(struct store *, struct load *);
static void	load_free(struct load *);

static const char *const state_names[] = {
	[ROW_READY] = "ready", [ROW_HELD] = "held", [ROW_DEAD] = "dead"
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS queues ("
	"  name TEXT PRIMARY KEY,"
	"  next_id INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS tasks ("
	"  queue TEXT NOT NULL,"
	"  id INTEGER NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('ready', 'held', 'dead')),"
	"  attempt INTEGER NOT NULL,"
	"  error TEXT,"
	"  body TEXT NOT NULL,"
	"  PRIMARY KEY (queue, id)"
	") WITHOUT ROWID;";

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* --- batches: built by the loop -------------------------------------------- */

static size_t
op_size(const struct op *op)
{
	size_t n = sizeof(*op) + op->name_len + op->body_len +
	    (op->error_len != NO_ERROR ? op->error_len : 0);

	/* The next op's header stays aligned. */
	return (n + 7) & ~(size_t)7;
}

/* Appends op, then its name, error and body; false when out of memory. */
static bool
pack(struct batch *b, const struct op *op, const char *name,
    const char *error, const char *body)
{
	size_t need = op_size(op), cap;
	char *p;

	if (b->len + need > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + need)
			cap *= 2;
		if ((p = realloc(b->buf, cap)) == NULL)
			return false;
		b->buf = p;
		b->cap = cap;
	}
	p = b->buf + b->len;
	memcpy(p, op, sizeof(*op));
	p += sizeof(*op);
	memcpy(p, name, op->name_len);
	p += op->name_len;
	if (op->error_len != NO_ERROR) {
		memcpy(p, error, op->error_len);
		p += op->error_len;
	}
	if (op->body_len > 0)
		memcpy(p, body, op->body_len);
	b->len += need;
	b->nops++;
	return true;
}

/*
 * Appends one change.  Out of memory, the batch is doomed: its
 * transaction is not tried, and none of its publishes is confirmed.
 */
static void
journal(struct store *st, uint8_t kind, const struct queue *q, uint64_t id,
    uint32_t attempt, uint8_t state, const char *error, const char *body,
    size_t body_len)
{
	struct batch *b = &st->open;
	struct op op = { .id = id, .attempt = attempt, .kind = kind,
	    .state = state, .error_len = NO_ERROR };
	const char *name = queue_name(q);

	st->changes++;
	if (b->failed)
		return;
	op.name_len = (uint32_t)strlen(name);
	op.body_len = (uint32_t)body_len;
	if (error != NULL)
		op.error_len = (uint32_t)strnlen(error, NO_ERROR - 1);
	if (!pack(b, &op, name, error, body)) {
		snprintf(b->err, sizeof(b->err), "out of memory");
		b->failed = true;
	}
}

/*
 * Each queue's id counter, once per transaction rather than per publish,
 * and never a transaction of its own: after a failed commit, which
 * forgets what was saved, that would be retried at every turn.
 */
static void
journal_next_ids(struct store *st)
{
	size_t i;

	if (st->open.nops == 0)
		return;
	for (i = 0; i < st->nqueues; i++) {
		struct attached *a = &st->queues[i];
		uint64_t next = queue_next_id(a->q);

		if (next <= a->saved_next)
			continue;
		journal(st, OP_NEXT_ID, a->q, next, 0, 0, NULL, NULL, 0);
		a->saved_next = next;
	}
}

/* --- journal hooks: every change of an attached queue ---------------------- */

static void
j_publish(void *arg, const struct queue *q, const struct qtask *t)
{
	journal(arg, OP_INSERT, q, t->id, t->attempt, ROW_READY, NULL, t->body,
	    t->len);
}

static void
j_dispatch(void *arg, const struct queue *q, const struct qtask *t)
{
	journal(arg, OP_STATE, q, t->id, t->attempt, ROW_HELD, t->last_error,
	    NULL, 0);
}

static void
j_requeue(void *arg, const struct queue *q, const struct qtask *t)
{
	journal(arg, OP_STATE, q, t->id, t->attempt, ROW_READY, t->last_error,
	    NULL, 0);
}

static void
j_bury(void *arg, const struct queue *q, const struct qtask *t)
{
	journal(arg, OP_STATE, q, t->id, t->attempt, ROW_DEAD, t->last_error,
	    NULL, 0);
}

/* Acked, or a dead letter dropped past dead_max: the row goes. */
static void
j_delete(void *arg, const struct queue *q, const struct qtask *t)
{
	journal(arg, OP_DELETE, q, t->id, 0, 0, NULL, NULL, 0);
}

/* --- committing: the writer thread, or the loop while the writer is idle --- */

/* The one place a write's failure is noticed: the transaction is then
 * doomed, and its first error is the one logged. */
static void
step_done(struct store *st, struct batch *b, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE && !b->failed) {
		snprintf(b->err, sizeof(b->err), "%s", sqlite3_errmsg(st->db));
		b->failed = true;
	}
	sqlite3_reset(s);
}

static void
apply_op(struct store *st, struct batch *b, const struct op *op)
{
	const char *name = (const char *)(op + 1);
	const char *error = name + op->name_len;
	const char *body = error + (op->error_len != NO_ERROR ?
	    op->error_len : 0);
	sqlite3_stmt *s;

	switch (op->kind) {
	case OP_INSERT:
		s = st->insert;
		sqlite3_bind_int64(s, 3, op->attempt);
		sqlite3_bind_text(s, 4, body, (int)op->body_len, SQLITE_STATIC);
		break;
	case OP_STATE:
		s = st->update;
		sqlite3_bind_text(s, 3, state_names[op->state], -1,
		    SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, op->attempt);
		if (op->error_len != NO_ERROR)
			sqlite3_bind_text(s, 5, error, (int)op->error_len,
			    SQLITE_STATIC);
		else
			sqlite3_bind_null(s, 5);
		break;
	case OP_DELETE:
		s = st->delete;
		break;
	default:
		s = st->next_id;
		break;
	}
	sqlite3_bind_text(s, 1, name, (int)op->name_len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)op->id);
	step_done(st, b, s);
}

/* One transaction for the whole batch; on any failure, none of it. */
static void
apply(struct store *st, struct batch *b)
{
	const char *p = b->buf, *end = b->buf + b->len;
	const struct op *op;

	if (b->failed)
		return;
	step_done(st, b, st->begin);
	while (p < end && !b->failed) {
		op = (const struct op *)p;
		apply_op(st, b, op);
		p += op_size(op);
	}
	if (!b->failed && sqlite3_step(st->commit) != SQLITE_DONE) {
		snprintf(b->err, sizeof(b->err), "commit: %s",
		    sqlite3_errmsg(st->db));
		b->failed = true;
	}
	sqlite3_reset(st->commit);
	/* A failed COMMIT may have rolled back already. */
	if (b->failed && !sqlite3_get_autocommit(st->db)) {
		sqlite3_step(st->rollback);
		sqlite3_reset(st->rollback);
	}
}

/*
 * The job handed over, ld's rows or the batch in `work`, on the writer
 * or, without one, in place; then the loop is told, by the eventfd.
 */
static void
do_job(struct store *st, struct load *ld)
{
	static const uint64_t one = 1;

	if (ld != NULL)
		read_rows(st, ld);
	else
		apply(st, &st->work);
	pthread_mutex_lock(&st->mu);
	st->finished = true;
	pthread_cond_broadcast(&st->cv);
	pthread_mutex_unlock(&st->mu);
	(void)!write(st->efd, &one, sizeof(one));
}

static void *
writer_main(void *arg)
{
	struct store *st = arg;
	struct load *ld;

	pthread_mutex_lock(&st->mu);
	for (;;) {
		while (!st->quit && !(st->busy && !st->finished))
			pthread_cond_wait(&st->cv, &st->mu);
		if (st->quit)
			break;
		ld = st->reading;
		pthread_mutex_unlock(&st->mu);
		do_job(st, ld);
		pthread_mutex_lock(&st->mu);
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

/* Signals stay with the loop's thread. */
static void
start_writer(struct store *st)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&st->thread, NULL, writer_main, st);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	st->threaded = rc == 0;
	if (!st->threaded)
		log_warn("%s: no thread to write it (%s): its commits will hold "
		    "up the master", st->path, strerror(rc));
}

/* --- opening ----------------------------------------------------------------- */

/* mkdir -p, the last component 0700: it holds every task's payload. */
static int
make_dir(const char *dir)
{
	char buf[PATH_MAX], *p;

	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

static int
prepare(struct store *st, sqlite3_stmt **s, const char *sql)
{
	return sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    s, NULL) == SQLITE_OK ? 0 : -1;
}

/* A single-row, single-column query, such as a pragma's answer. */
static int
query_text(sqlite3 *db, const char *sql, char *out, size_t outlen)
{
	sqlite3_stmt *s;
	int rc = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW) {
		const unsigned char *v = sqlite3_column_text(s, 0);

		snprintf(out, outlen, "%s", v != NULL ? (const char *)v : "");
		rc = 0;
	}
	sqlite3_finalize(s);
	return rc;
}

static int
setup_db(struct store *st, char *err, size_t errlen)
{
	char mode[32], version[32];

	if (query_text(st->db, "PRAGMA journal_mode=WAL", mode,
	    sizeof(mode)) == -1 || strcmp(mode, "wal") != 0)
		goto fail;
	if (sqlite3_exec(st->db, "PRAGMA synchronous=FULL", NULL, NULL,
	    NULL) != SQLITE_OK)
		goto fail;
	if (query_text(st->db, "PRAGMA user_version", version,
	    sizeof(version)) == -1)
		goto fail;
	if (atoi(version) > SCHEMA_VERSION) {
		set_err(err, errlen, "%s: written by a newer plba-master "
		    "(schema %s, this one knows %d)", st->path, version,
		    SCHEMA_VERSION);
		return -1;
	}
	if (sqlite3_exec(st->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(st->db, "PRAGMA user_version=1", NULL, NULL,
	    NULL) != SQLITE_OK)
		goto fail;
	if (prepare(st, &st->begin, "BEGIN") == -1 ||
	    prepare(st, &st->commit, "COMMIT") == -1 ||
	    prepare(st, &st->rollback, "ROLLBACK") == -1 ||
	    prepare(st, &st->insert, "INSERT INTO tasks (queue, id, state, "
	    "attempt, error, body) VALUES (?1, ?2, 'ready', ?3, NULL, ?4)") == -1 ||
	    prepare(st, &st->update, "UPDATE tasks SET state = ?3, "
	    "attempt = ?4, error = ?5 WHERE queue = ?1 AND id = ?2") == -1 ||
	    prepare(st, &st->delete, "DELETE FROM tasks WHERE queue = ?1 "
	    "AND id = ?2") == -1 ||
	    prepare(st, &st->next_id, "INSERT INTO queues (name, next_id) "
	    "VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET "
	    "next_id = excluded.next_id") == -1)
		goto fail;
	return 0;
fail:
	set_err(err, errlen, "%s: %s", st->path, sqlite3_errmsg(st->db));
	return -1;
}

/*
 * The database holds every task's payload: 0600, and SQLite gives the
 * -wal and -shm files it makes the same mode.  Files an older master
 * made under the umask, a kill may have left its -wal and -shm, are
 * narrowed too.
 */
static int
private_files(const char *path, char *err, size_t errlen)
{
	static const char *const aside[] = { "-wal", "-shm" };
	char buf[PATH_MAX];
	size_t i;
	int fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1 ||
	    fchmod(fd, 0600) == -1) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	close(fd);
	for (i = 0; i < sizeof(aside) / sizeof(aside[0]); i++) {
		snprintf(buf, sizeof(buf), "%s%s", path, aside[i]);
		if (chmod(buf, 0600) == -1 && errno != ENOENT) {
			set_err(err, errlen, "%s: %s", buf, strerror(errno));
			return -1;
		}
	}
	return 0;
}

struct store *
store_open(const char *state_dir, char *err, size_t errlen)
{
	struct store *st;
	char lock[PATH_MAX];
	pthread_condattr_t ca;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	st->lockfd = -1;
	st->efd = -1;
	st->open.seq = 1;
	pthread_mutex_init(&st->mu, NULL);
	/* Waits with a deadline (settle()) ignore wall-clock jumps. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&st->cv, &ca);
	pthread_condattr_destroy(&ca);
	st->jn = (struct queue_journal){ .arg = st, .publish = j_publish,
	    .dispatch = j_dispatch, .requeue = j_requeue, .bury = j_bury,
	    .ack = j_delete, .drop = j_delete };
	if (make_dir(state_dir) == -1) {
		set_err(err, errlen, "%s: %s", state_dir, strerror(errno));
		goto fail;
	}
	if (asprintf(&st->path, "%s/%s", state_dir, STORE_FILE) == -1) {
		st->path = NULL;
		set_err(err, errlen, "out of memory");
		goto fail;
	}
	/* Not SQLite's own locks: those let a second master share the file. */
	snprintf(lock, sizeof(lock), "%s/%s", state_dir, LOCK_FILE);
	if ((st->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		set_err(err, errlen, "%s: %s", lock, strerror(errno));
		goto fail;
	}
	if (flock(st->lockfd, LOCK_EX | LOCK_NB) == -1) {
		set_err(err, errlen, "%s: %s", lock, errno == EWOULDBLOCK ?
		    "in use by another plba-master" : strerror(errno));
		goto fail;
	}
	if (private_files(st->path, err, errlen) == -1)
		goto fail;
	/* One thread at a time uses it, the writer or the loop while the
	 * writer is idle: no mutexes of SQLite's. */
	if (sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		set_err(err, errlen, "%s: %s", st->path,
		    st->db != NULL ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	if (setup_db(st, err, errlen) == -1)
		goto fail;
	if ((st->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		set_err(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	start_writer(st);
	return st;
fail:
	store_close(st);
	return NULL;
}

void
store_close(struct store *st)
{
	struct load *ld;
	size_t i;

	if (st == NULL)
		return;
	/* Nobody is left to be told. */
	st->stored = NULL;
	st->loaded = NULL;
	/*
	 * The writer is still in a system call and holds the database, the
	 * batch and st: all stay for the process's exit to take.  SQLite's
	 * WAL makes that as safe as a kill.
	 */
	if (st->abandoned)
		return;
	if (st->db != NULL)
		(void)store_commit(st);
	if (st->threaded) {
		pthread_mutex_lock(&st->mu);
		st->quit = true;
		pthread_cond_broadcast(&st->cv);
		pthread_mutex_unlock(&st->mu);
		pthread_join(st->thread, NULL);
	}
	for (i = 0; i < st->nqueues; i++)
		queue_set_journal(st->queues[i].q, NULL);
	while ((ld = st->loads) != NULL) {
		st->loads = ld->next;
		load_free(ld);
	}
	free(st->queues);
	free(st->open.buf);
	free(st->work.buf);
	sqlite3_finalize(st->begin);
	sqlite3_finalize(st->commit);
	sqlite3_finalize(st->rollback);
	sqlite3_finalize(st->insert);
	sqlite3_finalize(st->update);
	sqlite3_finalize(st->delete);
	sqlite3_finalize(st->next_id);
	sqlite3_close(st->db);
	if (st->efd != -1)
		close(st->efd);
	if (st->lockfd != -1)
		close(st->lockfd);
	pthread_cond_destroy(&st->cv);
	pthread_mutex_destroy(&st->mu);
	free(st->path);
	free(st);
}

const char *
store_path(const struct store *st)
{
	return st->path;
}

/* --- recovery ---------------------------------------------------------------- */

/* Runs one statement with the queue's name as ?1 and an optional integer
 * ?2 and text ?3; returns the rows it changed, or -1. */
static int
exec_q(struct store *st, const char *sql, const char *queue, int64_t i2,
    const char *t3)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	/* A parameter the statement does not use is refused, harmlessly. */
	sqlite3_bind_text(s, 1, queue, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, i2);
	sqlite3_bind_text(s, 3, t3, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? sqlite3_changes(st->db) : -1;
}

/*
 * Tasks in flight when the master died were delivered and not acked, as
 * when their consumer dies: they go back with attempt + 1, or to the
 * dead-letter list once delivered max_attempts times.
 */
static int
id_order(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The ids of those dead-lettered, for each to be logged and traced as a
 * dead letter is (store_on_lost()). */
static int
bury_held(struct store *st, struct load *ld)
{
	sqlite3_stmt *s;
	uint64_t *ids;
	size_t cap = 0;
	int rc;

	if (sqlite3_prepare_v2(st->db, "UPDATE tasks SET state = 'dead', "
	    "error = ?3 WHERE queue = ?1 AND state = 'held' AND attempt >= ?2 "
	    "RETURNING id", -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, ld->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, ld->max_attempts);
	sqlite3_bind_text(s, 3, LOST_IN_FLIGHT, -1, SQLITE_STATIC);
	ld->buried = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((size_t)ld->buried == cap) {
			cap = cap ? cap * 2 : 16;
			if ((ids = realloc(ld->lost, cap * sizeof(*ids))) == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			ld->lost = ids;
		}
		ld->lost[ld->buried++] = (uint64_t)sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	if (ld->buried > 1)
		qsort(ld->lost, (size_t)ld->buried, sizeof(*ld->lost), id_order);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
requeue_held(struct store *st, struct load *ld)
{
	if (bury_held(st, ld) == -1)
		return -1;
	ld->back = exec_q(st, "UPDATE tasks SET state = 'ready', "
	    "attempt = attempt + 1, error = ?3 WHERE queue = ?1 AND "
	    "state = 'held'", ld->name, 0, LOST_IN_FLIGHT);
	return ld->back == -1 ? -1 : 0;
}

static int
read_tasks(struct store *st, struct load *ld)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, "SELECT id, state, attempt, error, body "
	    "FROM tasks WHERE queue = ?1 ORDER BY id", -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, ld->name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *state = (const char *)sqlite3_column_text(s, 1);
		const char *error = (const char *)sqlite3_column_text(s, 3);
		const char *body = (const char *)sqlite3_column_text(s, 4);
		sqlite3_int64 attempt = sqlite3_column_int64(s, 2);
		struct op row = {
			.id = (uint64_t)sqlite3_column_int64(s, 0),
			.attempt = attempt > 0 && attempt < UINT_MAX ?
			    (uint32_t)attempt : 1,
			.state = state != NULL && strcmp(state, "dead") == 0 ?
			    ROW_DEAD : ROW_READY,
			.error_len = error != NULL ? (uint32_t)strnlen(error,
			    NO_ERROR - 2) + 1 : NO_ERROR,
		};

		if (body == NULL)
			continue;
		row.body_len = (uint32_t)sqlite3_column_bytes(s, 4);
		if (!pack(&ld->rows, &row, "", error, body)) {
			snprintf(ld->rows.err, sizeof(ld->rows.err),
			    "out of memory");
			ld->rows.failed = true;
			break;
		}
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
read_next_id(struct store *st, struct load *ld)
{
	sqlite3_stmt *s;
	int rc;

	ld->saved_next = 0;
	if (sqlite3_prepare_v2(st->db, "SELECT next_id FROM queues WHERE "
	    "name = ?1", -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, ld->name, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ld->saved_next = (uint64_t)sqlite3_column_int64(s, 0);
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * The queue's rows, in a transaction of their own: the writer's job, or
 * the loop's while the writer is idle.  Touches the database and ld, not
 * the queue.
 */
static void
read_rows(struct store *st, struct load *ld)
{
	if (sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK &&
	    requeue_held(st, ld) == 0 && read_tasks(st, ld) == 0 &&
	    read_next_id(st, ld) == 0 &&
	    sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return;
	if (!ld->rows.failed) {
		snprintf(ld->rows.err, sizeof(ld->rows.err), "%s",
		    sqlite3_errmsg(st->db));
		ld->rows.failed = true;
	}
	if (!sqlite3_get_autocommit(st->db))
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

static void
load_free(struct load *ld)
{
	if (ld == NULL)
		return;
	free(ld->name);
	free(ld->rows.buf);
	free(ld->lost);
	free(ld);
}

/* Room for one more attached queue is made here, where failing is
 * still simple, so that restore() cannot fail for it. */
static struct load *
load_new(struct store *st, struct queue *q)
{
	struct attached *a;
	struct load *ld;
	size_t cap;

	if (st->nqueues + 1 > st->capqueues) {
		cap = st->capqueues ? st->capqueues * 2 : 4;
		if ((a = realloc(st->queues, cap * sizeof(*a))) == NULL)
			return NULL;
		st->queues = a;
		st->capqueues = cap;
	}
	if ((ld = calloc(1, sizeof(*ld))) == NULL ||
	    (ld->name = strdup(queue_name(q))) == NULL) {
		free(ld);
		return NULL;
	}
	ld->q = q;
	ld->max_attempts = queue_max_attempts(q);
	return ld;
}

/* Both lists ascend by id: the queue's dead letters were restored so. */
static void
tell_lost(struct store *st, struct load *ld)
{
	const struct qtask *t = NULL;
	int i = 0;

	if (st->lost == NULL)
		return;
	while (i < ld->buried && (t = queue_dead_next(ld->q, t)) != NULL) {
		while (i < ld->buried && ld->lost[i] < t->id)
			i++;
		if (i < ld->buried && ld->lost[i] == t->id)
			st->lost(st->lost_arg, ld->q, t);
	}
}

/*
 * Puts the rows read into the queue, which journals from now on.  A
 * failure for want of memory leaves the queue with part of its tasks
 * and no journal: what it hands out comes back at the next start, as
 * at-least-once allows.
 */
static int
restore(struct store *st, struct load *ld, uint64_t now)
{
	const char *p = ld->rows.buf, *end = p + ld->rows.len;
	const struct op *row;
	uint64_t nready = 0, ndead = 0;

	if (ld->rows.failed)
		return -1;
	for (; p < end; p += op_size(row)) {
		const char *error, *body;

		row = (const struct op *)p;
		error = (const char *)(row + 1);
		body = error + (row->error_len != NO_ERROR ? row->error_len : 0);
		if (queue_restore(ld->q, row->id, body, row->body_len,
		    row->attempt, row->error_len != NO_ERROR ? error : NULL,
		    row->state == ROW_DEAD, now) == -1) {
			snprintf(ld->rows.err, sizeof(ld->rows.err),
			    "out of memory");
			ld->rows.failed = true;
			return -1;
		}
		(*(row->state == ROW_DEAD ? &ndead : &nready))++;
	}
	queue_reserve_ids(ld->q, ld->saved_next);
	st->queues[st->nqueues++] = (struct attached){ .q = ld->q,
	    .saved_next = ld->saved_next };
	queue_set_journal(ld->q, &st->jn);
	if (nready + ndead > 0)
		log_info("queue %s: %" PRIu64 " tasks back from %s (%d of them "
		    "in flight when the master stopped), %" PRIu64 " dead letters"
		    "%s", ld->name, nready, st->path, ld->back, ndead,
		    ld->buried > 0 ? ", some of them lost in flight" : "");
	tell_lost(st, ld);
	return 0;
}

int
store_attach(struct store *st, struct queue *q, uint64_t now, char *err,
    size_t errlen)
{
	struct load *ld;
	int rc;

	/*
	 * Its own transaction, with the writer idle: what is journaled
	 * before goes first, and a failure of either does not undo the other.
	 */
	if (store_drain(st, ATTACH_WAIT_MS) == -1) {
		set_err(err, errlen, "%s: its disk has not finished a commit in "
		    "%us", st->path, ATTACH_WAIT_MS / 1000);
		return -1;
	}
	if ((ld = load_new(st, q)) == NULL) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	read_rows(st, ld);
	if ((rc = restore(st, ld, now)) == -1)
		set_err(err, errlen, "%s: queue %s: %s", st->path, ld->name,
		    ld->rows.err);
	load_free(ld);
	return rc;
}

int
store_load(struct store *st, struct queue *q)
{
	struct load *ld, **tail;

	if ((ld = load_new(st, q)) == NULL)
		return -1;
	/* Read after what is journaled now, which may be a queue of that
	 * name going, with its id counter. */
	ld->after = st->open.nops > 0 || st->open.failed ? st->open.seq :
	    st->open.seq - 1;
	for (tail = &st->loads; *tail != NULL; tail = &(*tail)->next)
		continue;
	*tail = ld;
	return 0;
}

bool
store_loading(const struct store *st, const struct queue *q)
{
	const struct load *ld;

	if (st == NULL)
		return false;
	for (ld = st->loads; ld != NULL; ld = ld->next)
		if (ld->q == q)
			return true;
	return st->reading != NULL && st->reading->q == q;
}

void
store_detach(struct store *st, struct queue *q)
{
	struct load **p, *ld;
	size_t i;
	uint64_t next;

	for (p = &st->loads; (ld = *p) != NULL; ) {
		if (ld->q == q) {
			*p = ld->next;
			load_free(ld);
		} else
			p = &ld->next;
	}
	/* The writer reads by name and never looks at q. */
	if (st->reading != NULL && st->reading->q == q)
		st->reading->q = NULL;
	for (i = 0; i < st->nqueues; i++) {
		if (st->queues[i].q != q)
			continue;
		/* So that a queue of that name never reuses an id. */
		if ((next = queue_next_id(q)) > st->queues[i].saved_next)
			journal(st, OP_NEXT_ID, q, next, 0, 0, NULL, NULL, 0);
		queue_set_journal(q, NULL);
		st->queues[i] = st->queues[--st->nqueues];
		return;
	}
}

/* --- batching ---------------------------------------------------------------- */

void
store_on_stored(struct store *st, store_stored_fn *fn, void *arg)
{
	st->stored = fn;
	st->stored_arg = arg;
}

void
store_on_loaded(struct store *st, store_loaded_fn *fn, void *arg)
{
	st->loaded = fn;
	st->loaded_arg = arg;
}

void
store_on_lost(struct store *st, store_lost_fn *fn, void *arg)
{
	st->lost = fn;
	st->lost_arg = arg;
}

int
store_fd(const struct store *st)
{
	return st != NULL ? st->efd : -1;
}

uint64_t
store_batch(const struct store *st)
{
	return st != NULL ? st->open.seq : 0;
}

uint64_t
store_changes(const struct store *st)
{
	return st != NULL ? st->changes : 0;
}

bool
store_pending(struct store *st)
{
	bool busy;

	if (st == NULL)
		return false;
	if (st->open.nops > 0 || st->open.failed)
		return true;
	pthread_mutex_lock(&st->mu);
	busy = st->busy;
	pthread_mutex_unlock(&st->mu);
	return busy;
}

bool
store_behind(const struct store *st)
{
	return st != NULL && st->open.len > BEHIND_BYTES;
}

/*
 * The batch the writer is through with: its outcome goes to the log and
 * to the stored callback.  After a failure the id counters are written
 * again with the next batch, whatever they were.
 */
static int
finish_batch(struct store *st, struct batch *b)
{
	size_t i;
	uint64_t seq = b->seq, took = mono_ms() - st->writing_since;
	bool failed = b->failed;

	histogram_add(&st->commit_ms, took);
	if (st->told_stalled)
		log_info("%s: the commit finished after %.1fs", st->path,
		    (double)took / 1000);
	else if (took >= SLOW_MS)
		log_warn("%s: a commit took %.1fs (%zu changes)", st->path,
		    (double)took / 1000, b->nops);
	st->told_stalled = false;
	if (failed)
		st->failures++;
	else
		st->commits++;
	if (failed) {
		log_error("%s: %s", st->path, b->err);
		for (i = 0; i < st->nqueues; i++)
			st->queues[i].saved_next = 0;
	}
	b->len = 0;
	b->nops = 0;
	b->failed = false;
	b->err[0] = '\0';
	if (st->stored != NULL)
		st->stored(st->stored_arg, seq, !failed);
	return failed ? -1 : 0;
}

/* How long the commit in progress has run; 0 when there is none. */
static uint64_t
writing_ms(struct store *st, uint64_t now)
{
	uint64_t ms = 0;

	pthread_mutex_lock(&st->mu);
	if (st->busy && !st->finished && now > st->writing_since)
		ms = now - st->writing_since;
	pthread_mutex_unlock(&st->mu);
	return ms;
}

/* The rows the writer read: into their queue, unless it went meanwhile. */
static void
finish_load(struct store *st, struct load *ld)
{
	struct queue *q = ld->q;
	int rc = -1;

	if (st->told_stalled)
		log_info("%s: queue %s was read after %.1fs", st->path, ld->name,
		    (double)(mono_ms() - st->writing_since) / 1000);
	st->told_stalled = false;
	if (q != NULL)
		rc = restore(st, ld, mono_ms());
	if (q != NULL && st->loaded != NULL)
		st->loaded(st->loaded_arg, q, rc == 0 ? NULL : ld->rows.err);
	load_free(ld);
}

/* The job in the writer's hands, once it is through with it. */
static int
reap(struct store *st, bool wait)
{
	struct load *ld;
	bool done;

	pthread_mutex_lock(&st->mu);
	while (wait && st->busy && !st->finished && !st->abandoned)
		pthread_cond_wait(&st->cv, &st->mu);
	done = st->busy && st->finished;
	ld = st->reading;
	if (done) {
		st->busy = false;
		st->reading = NULL;
	}
	pthread_mutex_unlock(&st->mu);
	if (!done)
		return 0;
	if (ld == NULL)
		return finish_batch(st, &st->work);
	finish_load(st, ld);
	return 0;
}

void
store_reap(struct store *st)
{
	uint64_t n;

	if (st == NULL)
		return;
	(void)!read(st->efd, &n, sizeof(n));
	(void)reap(st, false);
}

/* `open` becomes `work`; what the loop journals next starts a new batch. */
static void
hand_over(struct store *st)
{
	struct batch spare = st->work;

	st->work = st->open;
	st->open = spare;
	st->open.seq = st->work.seq + 1;
	st->writing_since = mono_ms();
}

/*
 * A queue to read goes to the writer once the batches journaled before
 * it was asked for are committed, and before the batches after.
 */
static struct load *
next_load(struct store *st)
{
	struct load *ld = st->loads;

	if (ld == NULL || ld->after >= st->open.seq)
		return NULL;
	st->loads = ld->next;
	ld->next = NULL;
	st->writing_since = mono_ms();
	return ld;
}

void
store_flush(struct store *st)
{
	struct load *ld;

	if (st == NULL || st->abandoned)
		return;
	journal_next_ids(st);
	if (st->open.nops == 0 && !st->open.failed && st->loads == NULL)
		return;
	pthread_mutex_lock(&st->mu);
	if (st->busy) {
		/* Group commit: this waits for the one in flight. */
		pthread_mutex_unlock(&st->mu);
		return;
	}
	if ((ld = next_load(st)) == NULL) {
		if (st->open.nops == 0 && !st->open.failed) {
			pthread_mutex_unlock(&st->mu);
			return;
		}
		hand_over(st);
	}
	st->reading = ld;
	st->busy = true;
	st->finished = false;
	if (st->threaded)
		pthread_cond_broadcast(&st->cv);
	pthread_mutex_unlock(&st->mu);
	if (!st->threaded)
		do_job(st, ld);
}

/*
 * Waits at most wait_ms for the writer to be through with its batch, and
 * reports it; -1 when it is still writing: the disk has stalled.
 */
static int
settle(struct store *st, uint64_t wait_ms)
{
	struct timespec ts;
	int rc = 0;
	bool idle;

	if (st == NULL)
		return 0;
	if (st->abandoned)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(wait_ms / 1000);
	ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&st->mu);
	while (st->busy && !st->finished && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&st->cv, &st->mu, &ts);
	idle = !st->busy || st->finished;
	pthread_mutex_unlock(&st->mu);
	if (!idle)
		return -1;
	(void)reap(st, false);
	return 0;
}

int
store_drain(struct store *st, uint64_t wait_ms)
{
	uint64_t deadline = mono_ms() + wait_ms, now;

	if (st == NULL)
		return 0;
	if (!st->threaded) {
		(void)store_commit(st);
		return 0;
	}
	/* What each batch's report lets in (parked publishes) goes too. */
	for (;;) {
		store_flush(st);
		if (!store_pending(st))
			return 0;
		now = mono_ms();
		if (now >= deadline || settle(st, deadline - now) == -1)
			return -1;
	}
}

void
store_abandon(struct store *st)
{
	if (st == NULL || st->abandoned)
		return;
	log_error("%s: gave up on a commit that has not finished in %.0fs: "
	    "it and the changes after it (%llu bytes) are not known to be "
	    "stored",
	    st->path, (double)writing_ms(st, mono_ms()) / 1000,
	    (unsigned long long)(st->open.len + st->work.len));
	st->abandoned = true;
}

int
store_commit(struct store *st)
{
	int rc;

	if (st == NULL)
		return 0;
	if (st->abandoned)
		return -1;
	rc = reap(st, true);
	journal_next_ids(st);
	if (st->open.nops == 0 && !st->open.failed)
		return rc;
	/* The writer is idle and given nothing: this thread may write. */
	hand_over(st);
	apply(st, &st->work);
	return finish_batch(st, &st->work) == -1 ? -1 : rc;
}

void
store_watch(struct store *st, uint64_t now)
{
	uint64_t ms;

	if (st == NULL)
		return;
	if ((ms = writing_ms(st, now)) >= STALLED_MS && !st->told_stalled) {
		log_warn("%s: a commit has not finished in %.0fs; durable "
		    "publishes wait for the disk", st->path, (double)ms / 1000);
		st->told_stalled = true;
	}
	if (store_behind(st) != st->told_behind) {
		st->told_behind = !st->told_behind;
		if (st->told_behind)
			log_warn("%s: %u MiB of changes wait for the disk; "
			    "durable publishes wait until it catches up",
			    st->path, BEHIND_BYTES >> 20);
		else
			log_info("%s: caught up; durable publishes go in again",
			    st->path);
	}
}

void
store_stats(struct store *st, uint64_t now, struct store_stats *out)
{
	bool busy;

	pthread_mutex_lock(&st->mu);
	busy = st->busy;
	pthread_mutex_unlock(&st->mu);
	out->commits = st->commits;
	out->failures = st->failures;
	/* `work` stays as handed over until it is reaped: the loop's. */
	out->waiting_bytes = st->open.len + (busy ? st->work.len : 0);
	out->writing_ms = writing_ms(st, now);
	out->commit_ms = &st->commit_ms;
}
