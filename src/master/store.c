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

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "queue.h"
#include "store.h"

#define STORE_FILE	"queues.db"
#define LOCK_FILE	"queues.lock"
#define SCHEMA_VERSION	1
/* Why a task that was in flight when the master died is retried. */
#define LOST_IN_FLIGHT	"plba-master died while the task was in flight"

struct attached {
	struct queue	*q;
	uint64_t	 saved_next;	/* next id as last committed */
};

struct store {
	sqlite3		*db;
	char		*path;
	int		 lockfd;
	bool		 txn;		/* BEGIN done, COMMIT due */
	bool		 failed;	/* a write of this transaction failed */
	struct queue_journal jn;
	struct attached	*queues;
	size_t		 nqueues;
	sqlite3_stmt	*begin, *commit, *rollback;
	sqlite3_stmt	*insert;	/* a published task */
	sqlite3_stmt	*update;	/* state, attempt and error */
	sqlite3_stmt	*delete;	/* an acked task */
	sqlite3_stmt	*next_id;	/* a queue's id counter */
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

/* The one place a write's failure is noticed: the transaction is then
 * doomed, and its first error is the one logged. */
static void
step_done(struct store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE && !st->failed) {
		log_error("%s: %s", st->path, sqlite3_errmsg(st->db));
		st->failed = true;
	}
	sqlite3_reset(s);
}

static void
begin(struct store *st)
{
	if (st->txn)
		return;
	st->txn = true;
	st->failed = false;
	step_done(st, st->begin);
}

/* --- journal hooks: every change of an attached queue ---------------------- */

static const char *
state_name(bool dead, bool held)
{
	return dead ? "dead" : held ? "held" : "ready";
}

static void
j_publish(void *arg, const struct queue *q, const struct qtask *t)
{
	struct store *st = arg;
	sqlite3_stmt *s = st->insert;

	begin(st);
	sqlite3_bind_text(s, 1, queue_name(q), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)t->id);
	sqlite3_bind_int64(s, 3, t->attempt);
	sqlite3_bind_text(s, 4, t->body, (int)t->len, SQLITE_STATIC);
	step_done(st, s);
}

static void
set_state(struct store *st, const struct queue *q, const struct qtask *t,
    const char *state)
{
	sqlite3_stmt *s = st->update;

	begin(st);
	sqlite3_bind_text(s, 1, queue_name(q), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)t->id);
	sqlite3_bind_text(s, 3, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, t->attempt);
	if (t->last_error != NULL)
		sqlite3_bind_text(s, 5, t->last_error, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 5);
	step_done(st, s);
}

static void
j_dispatch(void *arg, const struct queue *q, const struct qtask *t)
{
	set_state(arg, q, t, state_name(false, true));
}

static void
j_requeue(void *arg, const struct queue *q, const struct qtask *t)
{
	set_state(arg, q, t, state_name(false, false));
}

static void
j_bury(void *arg, const struct queue *q, const struct qtask *t)
{
	set_state(arg, q, t, state_name(true, false));
}

/* Acked, or a dead letter dropped past dead_max: the row goes. */
static void
j_delete(void *arg, const struct queue *q, const struct qtask *t)
{
	struct store *st = arg;
	sqlite3_stmt *s = st->delete;

	begin(st);
	sqlite3_bind_text(s, 1, queue_name(q), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)t->id);
	step_done(st, s);
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

struct store *
store_open(const char *state_dir, char *err, size_t errlen)
{
	struct store *st;
	char lock[PATH_MAX];

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	st->lockfd = -1;
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
	/* Only the loop's thread uses it: no mutexes. */
	if (sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		set_err(err, errlen, "%s: %s", st->path,
		    st->db != NULL ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	if (setup_db(st, err, errlen) == -1)
		goto fail;
	return st;
fail:
	store_close(st);
	return NULL;
}

void
store_close(struct store *st)
{
	size_t i;

	if (st == NULL)
		return;
	if (st->db != NULL)
		(void)store_commit(st);
	for (i = 0; i < st->nqueues; i++)
		queue_set_journal(st->queues[i].q, NULL);
	free(st->queues);
	sqlite3_finalize(st->begin);
	sqlite3_finalize(st->commit);
	sqlite3_finalize(st->rollback);
	sqlite3_finalize(st->insert);
	sqlite3_finalize(st->update);
	sqlite3_finalize(st->delete);
	sqlite3_finalize(st->next_id);
	sqlite3_close(st->db);
	if (st->lockfd != -1)
		close(st->lockfd);
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
requeue_held(struct store *st, struct queue *q, int *back, int *buried)
{
	const char *name = queue_name(q);

	*buried = exec_q(st, "UPDATE tasks SET state = 'dead', error = ?3 "
	    "WHERE queue = ?1 AND state = 'held' AND attempt >= ?2", name,
	    queue_max_attempts(q), LOST_IN_FLIGHT);
	*back = exec_q(st, "UPDATE tasks SET state = 'ready', "
	    "attempt = attempt + 1, error = ?3 WHERE queue = ?1 AND "
	    "state = 'held'", name, 0, LOST_IN_FLIGHT);
	return *buried == -1 || *back == -1 ? -1 : 0;
}

static int
load_tasks(struct store *st, struct queue *q, uint64_t now, uint64_t *nready,
    uint64_t *ndead)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, "SELECT id, state, attempt, error, body "
	    "FROM tasks WHERE queue = ?1 ORDER BY id", -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, queue_name(q), -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *state = (const char *)sqlite3_column_text(s, 1);
		const char *error = (const char *)sqlite3_column_text(s, 3);
		const char *body = (const char *)sqlite3_column_text(s, 4);
		bool dead = state != NULL && strcmp(state, "dead") == 0;
		sqlite3_int64 attempt = sqlite3_column_int64(s, 2);

		if (body == NULL)
			continue;
		if (queue_restore(q, (uint64_t)sqlite3_column_int64(s, 0), body,
		    (size_t)sqlite3_column_bytes(s, 4),
		    attempt > 0 && attempt < UINT_MAX ? (unsigned)attempt : 1,
		    error, dead, now) == -1) {
			rc = SQLITE_NOMEM;
			break;
		}
		(*(dead ? ndead : nready))++;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
load_next_id(struct store *st, struct queue *q, uint64_t *saved)
{
	sqlite3_stmt *s;
	int rc;

	*saved = 0;
	if (sqlite3_prepare_v2(st->db, "SELECT next_id FROM queues WHERE "
	    "name = ?1", -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, queue_name(q), -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*saved = (uint64_t)sqlite3_column_int64(s, 0);
		queue_reserve_ids(q, *saved);
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_attach(struct store *st, struct queue *q, uint64_t now, char *err,
    size_t errlen)
{
	struct attached *a;
	uint64_t nready = 0, ndead = 0, saved;
	int back = 0, buried = 0;

	a = realloc(st->queues, (st->nqueues + 1) * sizeof(*a));
	if (a == NULL) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	st->queues = a;
	/* Its own transaction: a failure must not undo other queues' writes. */
	if (st->txn && store_commit(st) == -1) {
		set_err(err, errlen, "%s: cannot commit", st->path);
		return -1;
	}
	begin(st);
	if (st->failed || requeue_held(st, q, &back, &buried) == -1 ||
	    load_tasks(st, q, now, &nready, &ndead) == -1 ||
	    load_next_id(st, q, &saved) == -1) {
		set_err(err, errlen, "%s: queue %s: %s", st->path, queue_name(q),
		    sqlite3_errmsg(st->db));
		step_done(st, st->rollback);
		st->txn = false;
		return -1;
	}
	if (store_commit(st) == -1) {
		set_err(err, errlen, "%s: queue %s: cannot commit", st->path,
		    queue_name(q));
		return -1;
	}
	a = &st->queues[st->nqueues++];
	a->q = q;
	a->saved_next = saved;
	queue_set_journal(q, &st->jn);
	if (nready + ndead > 0)
		log_info("queue %s: %" PRIu64 " tasks back from %s (%d of them "
		    "in flight when the master stopped), %" PRIu64 " dead letters"
		    "%s", queue_name(q), nready, st->path, back, ndead,
		    buried > 0 ? ", some of them lost in flight" : "");
	return 0;
}

void
store_detach(struct store *st, struct queue *q)
{
	size_t i;

	for (i = 0; i < st->nqueues; i++) {
		if (st->queues[i].q != q)
			continue;
		queue_set_journal(q, NULL);
		st->queues[i] = st->queues[--st->nqueues];
		return;
	}
}

/* --- batching ---------------------------------------------------------------- */

bool
store_pending(const struct store *st)
{
	return st != NULL && st->txn;
}

/* Each queue's id counter, once per transaction rather than per publish. */
static void
save_next_ids(struct store *st)
{
	size_t i;

	for (i = 0; i < st->nqueues; i++) {
		struct attached *a = &st->queues[i];
		uint64_t next = queue_next_id(a->q);

		if (next <= a->saved_next)
			continue;
		sqlite3_bind_text(st->next_id, 1, queue_name(a->q), -1,
		    SQLITE_STATIC);
		sqlite3_bind_int64(st->next_id, 2, (sqlite3_int64)next);
		step_done(st, st->next_id);
	}
}

int
store_commit(struct store *st)
{
	size_t i;
	int rc;

	if (st == NULL || !st->txn)
		return 0;
	save_next_ids(st);
	st->txn = false;
	if (!st->failed) {
		rc = sqlite3_step(st->commit);
		sqlite3_reset(st->commit);
		if (rc == SQLITE_DONE) {
			for (i = 0; i < st->nqueues; i++)
				st->queues[i].saved_next =
				    queue_next_id(st->queues[i].q);
			return 0;
		}
		log_error("%s: commit: %s", st->path, sqlite3_errmsg(st->db));
	}
	/* A failed COMMIT may have rolled back already. */
	if (!sqlite3_get_autocommit(st->db)) {
		sqlite3_step(st->rollback);
		sqlite3_reset(st->rollback);
	}
	st->failed = false;
	return -1;
}
