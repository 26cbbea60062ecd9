/* Durable queues' store: what a queue did comes back after a reopen, or
 * after the process died without closing it. */
#include "config.h"

#include "unit.h"
#include <sys/wait.h>

#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue.h"
#include "store.h"

static char dir[] = "/tmp/plba-store.XXXXXX";

static void
setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
	strcpy(dir, "/tmp/plba-store.XXXXXX");
}

static struct store *
open_ok(void)
{
	char err[512] = "";
	struct store *st = store_open(dir, err, sizeof(err));

	ck_assert_msg(st != NULL, "store_open: %s", err);
	return st;
}

/* A fresh queue named jobs, attached to st with what it stored. */
static struct queue *
attach_ok(struct store *st, unsigned max_attempts)
{
	struct queue *q = queue_new("jobs", 100, max_attempts);
	char err[512] = "";

	ck_assert_ptr_nonnull(q);
	ck_assert_msg(store_attach(st, q, 0, err, sizeof(err)) == 0,
	    "store_attach: %s", err);
	return q;
}

static uint64_t
pub(struct queue *q, const char *body)
{
	uint64_t id = queue_publish(q, body, strlen(body), 0);

	ck_assert_uint_ne(id, 0);
	return id;
}

static struct queue_stats
stats(const struct queue *q)
{
	struct queue_stats s;

	queue_stats(q, &s);
	return s;
}

/*
 * Opens the store again after the caller closed it: jobs is back with
 * depth tasks ready, and its next publish gets id next.
 */
static void
reopened_holds(uint64_t depth, uint64_t next)
{
	struct store *st = open_ok();
	struct queue *q = attach_ok(st, 3);

	ck_assert_uint_eq(stats(q).depth, depth);
	ck_assert_uint_eq(pub(q, "{}"), next);
	store_close(st);
	queue_free(q);
}

START_TEST(round_trip)
{
	struct store *st = open_ok();
	struct queue *q = attach_ok(st, 3);
	struct qconsumer *c = queue_attach(q, NULL, 2);
	struct qtask *t1, *t2, *t;
	const struct qtask *d;

	pub(q, "{\"n\":1}");
	pub(q, "{\"n\":2}");
	pub(q, "{\"n\":3}");
	t1 = queue_dispatch(q, NULL, 0);
	t2 = queue_dispatch(q, NULL, 0);
	ck_assert_int_eq(queue_ack(q, c, t1->id, 0, NULL), 0);
	ck_assert_int_eq(queue_nack(q, c, t2->id, false, "bad"), 1);
	ck_assert(store_pending(st));
	ck_assert_int_eq(store_commit(st), 0);
	ck_assert(!store_pending(st));
	store_close(st);
	queue_free(q);

	st = open_ok();
	q = attach_ok(st, 3);
	/* The load itself left nothing to write. */
	ck_assert(!store_pending(st));
	ck_assert_uint_eq(stats(q).depth, 1);
	ck_assert_uint_eq(stats(q).dead, 1);
	ck_assert_uint_eq(queue_next_id(q), 4);
	c = queue_attach(q, NULL, 1);
	t = queue_dispatch(q, NULL, 0);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(t->id, 3);
	ck_assert_uint_eq(t->attempt, 1);
	ck_assert_str_eq(t->body, "{\"n\":3}");
	d = queue_dead_next(q, NULL);
	ck_assert_uint_eq(d->id, 2);
	ck_assert_str_eq(d->last_error, "bad");
	ck_assert_str_eq(d->body, "{\"n\":2}");
	store_close(st);
	queue_free(q);
}
END_TEST

/* Delivered and never acked: like a lost consumer, attempt + 1 or dead. */
START_TEST(in_flight_counts_as_delivered)
{
	struct store *st = open_ok();
	struct queue *q = attach_ok(st, 2);
	struct qconsumer *c = queue_attach(q, NULL, 8);
	struct qtask *t;

	pub(q, "{\"n\":1}");
	pub(q, "{\"n\":2}");
	t = queue_dispatch(q, NULL, 0);
	ck_assert_int_eq(queue_nack(q, c, t->id, true, "later"), 0);
	/* n=2 first delivery, n=1 second: both in flight at the "crash". */
	ck_assert_ptr_nonnull(queue_dispatch(q, NULL, 0));
	ck_assert_ptr_nonnull(queue_dispatch(q, NULL, 0));
	store_close(st);
	queue_free(q);

	st = open_ok();
	q = attach_ok(st, 2);
	ck_assert_uint_eq(stats(q).depth, 1);
	ck_assert_uint_eq(stats(q).dead, 1);
	queue_attach(q, NULL, 1);
	t = queue_dispatch(q, NULL, 0);
	ck_assert_str_eq(t->body, "{\"n\":2}");
	ck_assert_uint_eq(t->attempt, 2);
	ck_assert_ptr_nonnull(strstr(t->last_error, "in flight"));
	ck_assert_str_eq(queue_dead_next(q, NULL)->body, "{\"n\":1}");
	store_close(st);
	queue_free(q);
}
END_TEST

/* A process that dies holds nothing: what it committed is there, what
 * it had not is not, and the next opener gets the lock. */
START_TEST(death_without_close)
{
	struct store *st;
	struct queue *q;
	pid_t pid;
	int status;

	if ((pid = fork()) == 0) {
		st = open_ok();
		q = attach_ok(st, 3);
		pub(q, "{\"n\":1}");
		pub(q, "{\"n\":2}");
		if (store_commit(st) != 0)
			_exit(1);
		pub(q, "{\"n\":3}");
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	st = open_ok();
	q = attach_ok(st, 3);
	ck_assert_uint_eq(stats(q).depth, 2);
	/* The id counter was committed with the publishes. */
	ck_assert_uint_eq(queue_next_id(q), 3);
	store_close(st);
	queue_free(q);
}
END_TEST

START_TEST(ids_never_reused)
{
	struct store *st = open_ok();
	struct queue *q = attach_ok(st, 3);
	struct qconsumer *c = queue_attach(q, NULL, 8);
	struct qtask *t;

	pub(q, "{}");
	pub(q, "{}");
	while ((t = queue_dispatch(q, NULL, 0)) != NULL)
		ck_assert_int_eq(queue_ack(q, c, t->id, 0, NULL), 0);
	store_close(st);
	queue_free(q);
	reopened_holds(0, 3);
}
END_TEST

/*
 * A detached queue is freed while the store goes on: nothing it does
 * afterwards is written, and a queue of its name attached later starts
 * from the rows left and the ids already stored.
 */
START_TEST(detach_leaves_the_rest)
{
	struct store *st = open_ok();
	struct queue *q = attach_ok(st, 3);
	struct queue *other = queue_new("other", 10, 3);
	char err[512] = "";

	ck_assert_ptr_nonnull(other);
	ck_assert_int_eq(store_attach(st, other, 0, err, sizeof(err)), 0);
	pub(q, "{\"kept\":1}");
	pub(other, "{}");
	ck_assert_int_eq(store_commit(st), 0);
	ck_assert(!store_pending(st));
	store_detach(st, q);
	ck_assert(!queue_journaled(q));
	pub(q, "{\"unwritten\":1}");
	ck_assert(!store_pending(st));
	queue_free(q);
	pub(other, "{}");
	ck_assert(store_pending(st));
	ck_assert_int_eq(store_commit(st), 0);

	q = attach_ok(st, 3);
	ck_assert_uint_eq(stats(q).depth, 1);
	/* Id 1 was stored; the publish after the detach never was. */
	ck_assert_uint_eq(pub(q, "{}"), 2);
	store_close(st);
	queue_free(q);
	queue_free(other);
}
END_TEST

/* What the stored callback was told, in order. */
static uint64_t told_batch[8];
static bool told_stored[8];
static size_t ntold;

static void
record_stored(void *arg, uint64_t batch, bool stored)
{
	(void)arg;
	ck_assert_uint_lt(ntold, 8);
	told_batch[ntold] = batch;
	told_stored[ntold++] = stored;
}

/* The writer thread is through: its eventfd says so, within 10 s. */
static void
await_writer(struct store *st)
{
	struct pollfd pfd = { .fd = store_fd(st), .events = POLLIN };

	ck_assert_int_eq(poll(&pfd, 1, 10000), 1);
	store_reap(st);
}

/*
 * Batches are committed off the caller's thread and reported in order,
 * each once: by store_reap() after the eventfd, or by store_commit(),
 * which waits for the one in flight before it commits the next.
 */
START_TEST(batches_reported_in_order)
{
	struct store *st = open_ok();
	struct queue *q = attach_ok(st, 3);

	ntold = 0;
	store_on_stored(st, record_stored, NULL);
	ck_assert_uint_eq(store_batch(st), 1);
	pub(q, "{\"n\":1}");
	store_flush(st);
	/* Journaled now: the next batch. */
	ck_assert_uint_eq(store_batch(st), 2);
	await_writer(st);
	ck_assert_uint_eq(ntold, 1);
	ck_assert_uint_eq(told_batch[0], 1);
	ck_assert(told_stored[0]);
	ck_assert(!store_pending(st));

	pub(q, "{\"n\":2}");
	store_flush(st);
	pub(q, "{\"n\":3}");
	ck_assert(store_pending(st));
	ck_assert_int_eq(store_commit(st), 0);
	ck_assert_uint_eq(ntold, 3);
	ck_assert_uint_eq(told_batch[1], 2);
	ck_assert_uint_eq(told_batch[2], 3);
	ck_assert(told_stored[1] && told_stored[2]);
	ck_assert(!store_pending(st));
	/* Reaped by store_commit(): the eventfd's news is old, and harmless. */
	store_reap(st);
	ck_assert_uint_eq(ntold, 3);
	store_close(st);
	queue_free(q);
	reopened_holds(3, 4);
}
END_TEST

/* A batch keeps copies: a queue freed before its batch is written loses
 * nothing it journaled. */
START_TEST(batch_outlives_its_queue)
{
	struct store *st = open_ok();
	struct queue *q = attach_ok(st, 3);

	pub(q, "{\"n\":1}");
	pub(q, "{\"n\":2}");
	store_detach(st, q);
	queue_free(q);
	store_flush(st);
	await_writer(st);
	store_close(st);
	reopened_holds(2, 3);
}
END_TEST

/* What the loaded callback was told. */
static struct queue *loaded_q;
static const char *loaded_err;
static size_t nloaded;

static void
record_loaded(void *arg, struct queue *q, const char *err)
{
	(void)arg;
	loaded_q = q;
	loaded_err = err;
	nloaded++;
}

/*
 * store_load() reads on the writer, after the batch journaled before
 * it: here a queue of the same name going, with its id counter, and a
 * dead letter.  Until reported, the queue has nothing and no journal.
 */
START_TEST(load_after_what_came_before)
{
	struct store *st = open_ok();
	struct queue *q = attach_ok(st, 1);
	struct qconsumer *c = queue_attach(q, NULL, 8);
	struct qtask *t;

	pub(q, "{\"n\":1}");
	pub(q, "{\"n\":2}");
	t = queue_dispatch(q, NULL, 0);
	ck_assert_int_eq(queue_nack(q, c, t->id, false, "bad"), 1);
	t = queue_dispatch(q, NULL, 0);
	ck_assert_int_eq(queue_ack(q, c, t->id, 0, NULL), 0);
	ck_assert_int_eq(store_commit(st), 0);
	pub(q, "{\"n\":3}");
	t = queue_dispatch(q, NULL, 0);
	ck_assert_int_eq(queue_ack(q, c, t->id, 0, NULL), 0);
	/* Not committed yet: id 3 was used, and the counter says so. */
	store_detach(st, q);
	queue_free(q);

	nloaded = 0;
	store_on_loaded(st, record_loaded, NULL);
	q = queue_new("jobs", 100, 1);
	ck_assert_int_eq(store_load(st, q), 0);
	ck_assert(store_loading(st, q));
	ck_assert(!queue_journaled(q));
	/* The detach's batch goes first, then the load. */
	store_flush(st);
	await_writer(st);
	ck_assert_uint_eq(nloaded, 0);
	ck_assert(store_loading(st, q));
	store_flush(st);
	await_writer(st);
	ck_assert_uint_eq(nloaded, 1);
	ck_assert_ptr_eq(loaded_q, q);
	ck_assert_ptr_null(loaded_err);
	ck_assert(!store_loading(st, q));
	ck_assert(queue_journaled(q));
	ck_assert_uint_eq(stats(q).dead, 1);
	ck_assert_str_eq(queue_dead_next(q, NULL)->last_error, "bad");
	ck_assert_uint_eq(pub(q, "{}"), 4);
	store_close(st);
	queue_free(q);
	reopened_holds(1, 5);
}
END_TEST

/* A queue detached while it loads is never reported, nor touched. */
START_TEST(load_cancelled_by_detach)
{
	struct store *st = open_ok();
	struct queue *q = attach_ok(st, 3);
	struct queue *other = queue_new("other", 10, 3);

	pub(q, "{}");
	ck_assert_int_eq(store_commit(st), 0);
	nloaded = 0;
	store_on_loaded(st, record_loaded, NULL);
	/* Detached while waiting for the writer... */
	ck_assert_int_eq(store_load(st, other), 0);
	store_detach(st, other);
	ck_assert(!store_loading(st, other));
	store_flush(st);
	ck_assert(!store_pending(st));
	/* ... and while the writer reads it. */
	ck_assert_int_eq(store_load(st, other), 0);
	store_flush(st);
	store_detach(st, other);
	queue_free(other);
	await_writer(st);
	ck_assert_uint_eq(nloaded, 0);
	/* Nothing was attached for it: the store goes on. */
	pub(q, "{}");
	ck_assert_int_eq(store_commit(st), 0);
	store_close(st);
	queue_free(q);
	reopened_holds(2, 3);
}
END_TEST

/* Past 16 MiB waiting for the writer, the store says it is behind. */
START_TEST(behind_past_a_bound)
{
	struct store *st = open_ok();
	struct queue *q = attach_ok(st, 3);
	size_t size = 1 << 20;
	char *body = malloc(size + 1);
	int i;

	ck_assert_ptr_nonnull(body);
	memset(body, 'x', size);
	body[size] = '\0';
	for (i = 0; i < 15; i++)
		pub(q, body);
	ck_assert(!store_behind(st));
	pub(q, body);
	pub(q, body);
	ck_assert(store_behind(st));
	ck_assert_int_eq(store_commit(st), 0);
	ck_assert(!store_behind(st));
	free(body);
	store_close(st);
	queue_free(q);
}
END_TEST

START_TEST(second_opener_refused)
{
	struct store *st = open_ok();
	char err[512] = "";

	ck_assert_ptr_null(store_open(dir, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "in use by another plba-master"));
	store_close(st);
	st = open_ok();
	store_close(st);
}
END_TEST

START_TEST(unusable_dir)
{
	char path[256], err[512] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/file", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fclose(f);
	snprintf(path, sizeof(path), "%s/file/state", dir);
	ck_assert_ptr_null(store_open(path, err, sizeof(err)));
	ck_assert_msg(strstr(err, "Not a directory") != NULL, "%s", err);
}
END_TEST

/* A queue with no journal never calls one: the in-memory path. */
START_TEST(in_memory_untouched)
{
	struct queue *q = queue_new("mem", 10, 1);

	ck_assert(!queue_journaled(q));
	pub(q, "{}");
	queue_free(q);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, in_flight_counts_as_delivered);
	tcase_add_test(tc, death_without_close);
	tcase_add_test(tc, ids_never_reused);
	tcase_add_test(tc, detach_leaves_the_rest);
	tcase_add_test(tc, batches_reported_in_order);
	tcase_add_test(tc, batch_outlives_its_queue);
	tcase_add_test(tc, load_after_what_came_before);
	tcase_add_test(tc, load_cancelled_by_detach);
	tcase_add_test(tc, behind_past_a_bound);
	tcase_add_test(tc, second_opener_refused);
	tcase_add_test(tc, unusable_dir);
	tcase_add_test(tc, in_memory_untouched);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
