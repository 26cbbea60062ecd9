/* Task queues: ordering, prefetch, fairness, retries, dead letters, losses. */
#include "config.h"

#include "unit.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"

static uint64_t
pub(struct queue *q, const char *body, uint64_t now)
{
	uint64_t id = queue_publish(q, body, strlen(body), now);

	ck_assert_uint_ne(id, 0);
	return id;
}

static struct queue_stats
stats(const struct queue *q)
{
	struct queue_stats st;

	memset(&st, 0xa5, sizeof(st));
	queue_stats(q, &st);
	return st;
}

START_TEST(new_and_free)
{
	struct queue *q = queue_new("mail", 10, 3);
	struct queue_stats st;

	ck_assert_ptr_nonnull(q);
	ck_assert_str_eq(queue_name(q), "mail");
	st = stats(q);
	ck_assert_uint_eq(st.depth, 0);
	ck_assert_uint_eq(st.in_flight, 0);
	ck_assert_uint_eq(st.dead, 0);
	ck_assert_uint_eq(st.published, 0);
	ck_assert_uint_eq(st.acked, 0);
	ck_assert_uint_eq(st.nacked, 0);
	ck_assert_uint_eq(st.redelivered, 0);
	ck_assert_uint_eq(st.capacity, 10);
	ck_assert(!queue_full(q));
	ck_assert_ptr_null(queue_dead_next(q, NULL));
	queue_free(q);
	queue_free(NULL);
}
END_TEST

START_TEST(free_with_everything_in_it)
{
	struct queue *q = queue_new("q", 100, 1);
	struct qconsumer *a, *b, *to;
	struct qtask *t;
	int i;

	a = queue_attach(q, NULL, 2);
	b = queue_attach(q, NULL, 2);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	for (i = 0; i < 10; i++)
		pub(q, "{\"n\":1}", 0);
	for (i = 0; i < 3; i++)
		ck_assert_ptr_nonnull(queue_dispatch(q, &to, 0));
	t = queue_dispatch(q, &to, 0);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(queue_nack(q, to, t->id, false, "bad"), 1);
	/* Left: ready tasks, held tasks, a dead task and two consumers;
	 * valgrind checks that queue_free gets them all. */
	queue_free(q);
}
END_TEST

START_TEST(ids_count_from_one)
{
	struct queue *q = queue_new("q", 10, 3);
	struct queue *r = queue_new("r", 10, 3);

	ck_assert_uint_eq(pub(q, "a", 0), 1);
	ck_assert_uint_eq(pub(q, "b", 0), 2);
	ck_assert_uint_eq(pub(q, "c", 0), 3);
	/* Per queue, not global. */
	ck_assert_uint_eq(pub(r, "a", 0), 1);
	queue_free(q);
	queue_free(r);
}
END_TEST

START_TEST(fifo_order_and_body_copied)
{
	struct queue *q = queue_new("q", 100, 3);
	struct qconsumer *c = queue_attach(q, (void *)0x1234, 1), *to = NULL;
	char body[16];
	struct qtask *t;
	uint64_t ids[5];
	int i;

	ck_assert_ptr_eq(queue_consumer_owner(c), (void *)0x1234);
	for (i = 0; i < 5; i++) {
		snprintf(body, sizeof(body), "{\"i\":%d}", i);
		ids[i] = pub(q, body, 100 + i);
		/* The caller's buffer is its own again at once. */
		memset(body, 'x', sizeof(body));
	}
	for (i = 0; i < 5; i++) {
		snprintf(body, sizeof(body), "{\"i\":%d}", i);
		t = queue_dispatch(q, &to, 1000 + i);
		ck_assert_ptr_nonnull(t);
		ck_assert_ptr_eq(to, c);
		ck_assert_uint_eq(t->id, ids[i]);
		ck_assert_str_eq(t->body, body);
		ck_assert_uint_eq(t->len, strlen(body));
		ck_assert_uint_eq(t->published_at, 100 + i);
		ck_assert_uint_eq(t->dispatched_at, 1000 + i);
		ck_assert_uint_eq(t->attempt, 1);
		ck_assert_ptr_eq(t->holder, c);
		ck_assert_ptr_null(t->last_error);
		ck_assert_int_eq(queue_ack(q, c, t->id, 2000, NULL), 0);
	}
	ck_assert_ptr_null(queue_dispatch(q, &to, 0));
	queue_free(q);
}
END_TEST

START_TEST(body_with_nul_and_empty)
{
	struct queue *q = queue_new("q", 100, 3);
	struct qconsumer *c = queue_attach(q, NULL, 2), *to;
	struct qtask *t;

	ck_assert_uint_ne(queue_publish(q, "a\0b", 3, 0), 0);
	ck_assert_uint_ne(queue_publish(q, NULL, 0, 0), 0);
	t = queue_dispatch(q, &to, 0);
	ck_assert_uint_eq(t->len, 3);
	ck_assert_mem_eq(t->body, "a\0b", 4);
	t = queue_dispatch(q, &to, 0);
	ck_assert_uint_eq(t->len, 0);
	ck_assert_str_eq(t->body, "");
	(void)c;
	queue_free(q);
}
END_TEST

START_TEST(nothing_without_consumer_or_task)
{
	struct queue *q = queue_new("q", 100, 3);
	struct qconsumer *c, *to = (struct qconsumer *)0x1;

	pub(q, "a", 0);
	ck_assert_ptr_null(queue_dispatch(q, &to, 0));
	ck_assert_ptr_eq(to, (struct qconsumer *)0x1);
	c = queue_attach(q, NULL, 1);
	ck_assert_ptr_nonnull(queue_dispatch(q, NULL, 0));
	ck_assert_uint_eq(queue_consumer_inflight(c), 1);
	queue_free(q);

	q = queue_new("q", 100, 3);
	queue_attach(q, NULL, 1);
	ck_assert_ptr_null(queue_dispatch(q, &to, 0));
	queue_free(q);
}
END_TEST

START_TEST(prefetch_limit)
{
	struct queue *q = queue_new("q", 100, 3);
	struct qconsumer *c = queue_attach(q, NULL, 3), *to;
	struct qtask *t[3];
	int i;

	for (i = 0; i < 10; i++)
		pub(q, "x", 0);
	for (i = 0; i < 3; i++) {
		t[i] = queue_dispatch(q, &to, 0);
		ck_assert_ptr_nonnull(t[i]);
		ck_assert_uint_eq(queue_consumer_inflight(c), i + 1);
	}
	ck_assert_ptr_null(queue_dispatch(q, &to, 0));
	ck_assert_uint_eq(stats(q).depth, 7);
	ck_assert_uint_eq(stats(q).in_flight, 3);
	/* Acking the middle one frees exactly one slot. */
	ck_assert_int_eq(queue_ack(q, c, t[1]->id, 0, NULL), 0);
	ck_assert_uint_eq(queue_consumer_inflight(c), 2);
	ck_assert_ptr_nonnull(queue_dispatch(q, &to, 0));
	ck_assert_ptr_null(queue_dispatch(q, &to, 0));
	ck_assert_uint_eq(queue_consumer_inflight(c), 3);
	queue_free(q);
}
END_TEST

START_TEST(round_robin_three)
{
	struct queue *q = queue_new("q", 1000, 3);
	struct qconsumer *c[3], *to;
	struct qtask *t;
	bool got[3] = { false, false, false };
	int i, j;

	for (i = 0; i < 3; i++)
		c[i] = queue_attach(q, NULL, 1);
	for (i = 0; i < 3; i++)
		pub(q, "x", 0);
	for (i = 0; i < 3; i++) {
		t = queue_dispatch(q, &to, 0);
		ck_assert_ptr_nonnull(t);
		for (j = 0; j < 3; j++)
			if (to == c[j]) {
				ck_assert(!got[j]);
				got[j] = true;
			}
	}
	ck_assert(got[0] && got[1] && got[2]);
	queue_free(q);
}
END_TEST

START_TEST(round_robin_counts)
{
	struct queue *q = queue_new("q", 1000, 3);
	struct qconsumer *c[3], *to;
	struct qtask *t;
	unsigned count[3] = { 0, 0, 0 };
	int i, j;

	for (i = 0; i < 3; i++)
		c[i] = queue_attach(q, NULL, 1);
	for (i = 0; i < 300; i++)
		pub(q, "x", 0);
	/* Each task is acked as soon as it arrives. */
	while ((t = queue_dispatch(q, &to, 0)) != NULL) {
		for (j = 0; j < 3; j++)
			if (to == c[j])
				count[j]++;
		ck_assert_int_eq(queue_ack(q, to, t->id, 0, NULL), 0);
	}
	ck_assert_uint_eq(count[0], 100);
	ck_assert_uint_eq(count[1], 100);
	ck_assert_uint_eq(count[2], 100);
	ck_assert_uint_eq(stats(q).acked, 300);
	queue_free(q);
}
END_TEST

START_TEST(round_robin_with_prefetch)
{
	struct queue *q = queue_new("q", 1000, 3);
	struct qconsumer *c[4], *to;
	unsigned count[4] = { 0, 0, 0, 0 };
	int i, j;

	for (i = 0; i < 4; i++)
		c[i] = queue_attach(q, NULL, 8);
	for (i = 0; i < 40; i++)
		pub(q, "x", 0);
	/* With room everywhere, consecutive dispatches still rotate. */
	for (i = 0; i < 8; i++) {
		ck_assert_ptr_nonnull(queue_dispatch(q, &to, 0));
		for (j = 0; j < 4; j++)
			if (to == c[j])
				count[j]++;
	}
	for (j = 0; j < 4; j++)
		ck_assert_uint_eq(count[j], 2);
	/* Then each fills to its prefetch and no further. */
	while (queue_dispatch(q, &to, 0) != NULL)
		;
	for (j = 0; j < 4; j++)
		ck_assert_uint_eq(queue_consumer_inflight(c[j]), 8);
	ck_assert_uint_eq(stats(q).depth, 8);
	queue_free(q);
}
END_TEST

START_TEST(ack_unknown_or_foreign)
{
	struct queue *q = queue_new("q", 100, 3);
	struct queue *r = queue_new("r", 100, 3);
	struct qconsumer *a = queue_attach(q, NULL, 1);
	struct qconsumer *b = queue_attach(q, NULL, 1);
	struct qconsumer *rc = queue_attach(r, NULL, 1);
	struct qconsumer *to;
	struct queue_stats before, after;
	struct qtask *t;
	uint64_t held = 77;

	pub(q, "x", 0);
	t = queue_dispatch(q, &to, 10);
	ck_assert_ptr_eq(to, a);
	/* A consumer of another queue holding a task with the same id. */
	pub(r, "y", 0);
	ck_assert_ptr_eq(queue_dispatch(r, &to, 10), queue_oldest_held(rc));
	ck_assert_uint_eq(queue_oldest_held(rc)->id, t->id);
	before = stats(q);
	ck_assert_int_eq(queue_ack(q, a, 999, 20, &held), -1);
	ck_assert_int_eq(queue_ack(q, b, t->id, 20, &held), -1);
	ck_assert_int_eq(queue_ack(q, rc, t->id, 20, &held), -1);
	ck_assert_int_eq(queue_nack(q, b, t->id, true, "no"), -1);
	ck_assert_int_eq(queue_nack(q, b, t->id, false, "no"), -1);
	ck_assert_int_eq(queue_nack(q, a, 999, true, "no"), -1);
	ck_assert_uint_eq(held, 77);
	after = stats(q);
	ck_assert_mem_eq(&before, &after, sizeof(before));
	ck_assert_uint_eq(queue_consumer_inflight(a), 1);
	ck_assert_uint_eq(queue_consumer_inflight(b), 0);
	ck_assert_ptr_eq(t->holder, a);
	ck_assert_ptr_null(t->last_error);
	ck_assert_ptr_eq(queue_oldest_held(a), t);

	/* The real holder still can, once; then the id is unknown. */
	ck_assert_int_eq(queue_ack(q, a, t->id, 25, &held), 0);
	ck_assert_uint_eq(held, 15);
	ck_assert_int_eq(queue_ack(q, a, 1, 25, NULL), -1);
	ck_assert_uint_eq(stats(q).acked, 1);
	ck_assert_uint_eq(stats(r).in_flight, 1);
	ck_assert_uint_eq(queue_consumer_inflight(rc), 1);
	ck_assert_uint_eq(queue_detach(q, rc, "wrong queue"), 0);
	ck_assert_uint_eq(queue_consumer_inflight(rc), 1);
	queue_free(q);
	queue_free(r);
}
END_TEST

START_TEST(nack_retry_to_tail)
{
	struct queue *q = queue_new("q", 100, 5);
	struct qconsumer *c = queue_attach(q, NULL, 1), *to;
	struct qtask *t;
	uint64_t a, b, d;

	a = pub(q, "a", 0);
	b = pub(q, "b", 0);
	d = pub(q, "d", 0);
	t = queue_dispatch(q, &to, 0);
	ck_assert_uint_eq(t->id, a);
	ck_assert_uint_eq(t->attempt, 1);
	ck_assert_int_eq(queue_nack(q, c, a, true, "timeout talking to smtp"), 0);
	ck_assert_uint_eq(queue_consumer_inflight(c), 0);
	ck_assert_uint_eq(stats(q).depth, 3);

	t = queue_dispatch(q, &to, 0);
	ck_assert_uint_eq(t->id, b);
	ck_assert_int_eq(queue_ack(q, c, b, 0, NULL), 0);
	t = queue_dispatch(q, &to, 0);
	ck_assert_uint_eq(t->id, d);
	ck_assert_int_eq(queue_ack(q, c, d, 0, NULL), 0);
	t = queue_dispatch(q, &to, 0);
	ck_assert_uint_eq(t->id, a);
	ck_assert_uint_eq(t->attempt, 2);
	ck_assert_str_eq(t->body, "a");
	ck_assert_str_eq(t->last_error, "timeout talking to smtp");

	/* A NULL error clears the previous one rather than keep it. */
	ck_assert_int_eq(queue_nack(q, c, a, true, NULL), 0);
	t = queue_dispatch(q, &to, 0);
	ck_assert_uint_eq(t->attempt, 3);
	ck_assert_ptr_null(t->last_error);

	ck_assert_uint_eq(stats(q).nacked, 2);
	ck_assert_uint_eq(stats(q).redelivered, 2);
	ck_assert_uint_eq(stats(q).dead, 0);
	queue_free(q);
}
END_TEST

START_TEST(nack_error_is_copied)
{
	struct queue *q = queue_new("q", 100, 5);
	struct qconsumer *c = queue_attach(q, NULL, 1), *to;
	struct qtask *t;
	char err[16];

	pub(q, "a", 0);
	t = queue_dispatch(q, &to, 0);
	strcpy(err, "boom");
	queue_nack(q, c, t->id, true, err);
	strcpy(err, "XXXX");
	t = queue_dispatch(q, &to, 0);
	ck_assert_str_eq(t->last_error, "boom");
	queue_free(q);
}
END_TEST

/*
 * A consumer's error is kept cut to QUEUE_ERROR_MAX, at a character
 * boundary and marked, and counted in bytes and dead_bytes: dead letters
 * failed with a megabyte each must not hold dead_max megabytes that
 * dead_max_bytes never sees.
 */
START_TEST(nack_error_is_cut_and_counted)
{
	struct queue *q = queue_new("q", 100, 2);
	struct qconsumer *c = queue_attach(q, NULL, 10), *to;
	struct qtask *t;
	const struct qtask *d;
	size_t big = 1u << 20, i, kept;
	char *err;
	uint64_t id;

	/* Two-byte characters from the start: QUEUE_ERROR_MAX - 3 is odd, so
	 * the last whole one ends a byte before it. */
	ck_assert((QUEUE_ERROR_MAX - 3) % 2 == 1);
	ck_assert_ptr_nonnull(err = malloc(big + 1));
	for (i = 0; i < big; i += 2)
		memcpy(err + i, "\xc3\xa9", 2);
	err[big] = '\0';
	kept = QUEUE_ERROR_MAX - 4 + 3;

	/* With retry: back on the ready list, its error counted in bytes. */
	id = pub(q, "{}", 0);
	t = queue_dispatch(q, &to, 0);
	ck_assert_int_eq(queue_nack(q, c, id, true, err), 0);
	t = queue_dispatch(q, &to, 0);
	ck_assert_uint_eq(strlen(t->last_error), kept);
	ck_assert_int_eq(memcmp(t->last_error, err, kept - 3), 0);
	ck_assert_str_eq(t->last_error + kept - 3, "...");
	ck_assert_uint_eq(queue_task_bytes(t), 2 + kept);
	ck_assert_uint_eq(stats(q).bytes, 0);
	/* Past max_attempts, or without retry: dead_bytes counts it. */
	ck_assert_int_eq(queue_nack(q, c, id, true, err), 1);
	ck_assert_uint_eq(stats(q).dead_bytes, 2 + kept);
	ck_assert_uint_eq(stats(q).bytes, 0);

	/* dead_max_bytes holds the errors too: two fit, not three. */
	queue_set_dead_max_bytes(q, 3 * (2 + kept) - 1);
	for (i = 0; i < 2; i++) {
		id = pub(q, "{}", 0);
		queue_dispatch(q, &to, 0);
		ck_assert_int_eq(queue_nack(q, c, id, false, err), 1);
	}
	ck_assert_uint_eq(stats(q).dead, 2);
	ck_assert_uint_eq(stats(q).dead_bytes, 2 * (2 + kept));
	ck_assert_uint_eq(stats(q).dead_dropped, 1);

	/* Retried, they take their bytes to the ready list, and dispatch
	 * takes them off again. */
	ck_assert_uint_eq(queue_dead_retry(q, NULL, 0, NULL, NULL), 2);
	ck_assert_uint_eq(stats(q).dead_bytes, 0);
	ck_assert_uint_eq(stats(q).bytes, 2 * (2 + kept));
	while (queue_dispatch(q, &to, 0) != NULL)
		;
	ck_assert_uint_eq(stats(q).bytes, 0);

	/* One byte over is cut; exactly QUEUE_ERROR_MAX is kept whole. */
	memset(err, 'a', QUEUE_ERROR_MAX + 1);
	err[QUEUE_ERROR_MAX + 1] = '\0';
	id = pub(q, "{}", 0);
	queue_dispatch(q, &to, 0);
	queue_nack(q, c, id, false, err);
	d = queue_dead_last(q);
	ck_assert_uint_eq(strlen(d->last_error), QUEUE_ERROR_MAX);
	ck_assert_str_eq(d->last_error + QUEUE_ERROR_MAX - 3, "...");
	err[QUEUE_ERROR_MAX] = '\0';
	id = pub(q, "{}", 0);
	queue_dispatch(q, &to, 0);
	queue_nack(q, c, id, false, err);
	ck_assert_str_eq(queue_dead_last(q)->last_error, err);

	/* A journal's long error is cut as it is read back. */
	memset(err, 'b', big);
	err[big] = '\0';
	ck_assert_int_eq(queue_restore(q, 100, "{}", 2, 1, err, true, 0), 0);
	ck_assert_uint_eq(strlen(queue_dead_last(q)->last_error),
	    QUEUE_ERROR_MAX);
	free(err);
	queue_free(q);
}
END_TEST

START_TEST(dead_after_max_attempts)
{
	struct queue *q = queue_new("q", 100, 3);
	struct qconsumer *c = queue_attach(q, NULL, 1), *to;
	const struct qtask *d;
	struct qtask *t;
	char err[32];
	uint64_t id;
	unsigned i;

	id = pub(q, "{\"to\":\"x\"}", 0);
	for (i = 1; i <= 3; i++) {
		t = queue_dispatch(q, &to, 0);
		ck_assert_ptr_nonnull(t);
		ck_assert_uint_eq(t->id, id);
		ck_assert_uint_eq(t->attempt, i);
		snprintf(err, sizeof(err), "fail %u", i);
		ck_assert_int_eq(queue_nack(q, c, id, true, err), i < 3 ? 0 : 1);
	}
	ck_assert_ptr_null(queue_dispatch(q, &to, 0));
	ck_assert_uint_eq(stats(q).depth, 0);
	ck_assert_uint_eq(stats(q).dead, 1);
	ck_assert_uint_eq(stats(q).nacked, 3);
	ck_assert_uint_eq(stats(q).redelivered, 2);
	ck_assert_uint_eq(stats(q).in_flight, 0);
	d = queue_dead_next(q, NULL);
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(d->id, id);
	ck_assert_uint_eq(d->attempt, 3);
	ck_assert_str_eq(d->last_error, "fail 3");
	ck_assert_str_eq(d->body, "{\"to\":\"x\"}");
	ck_assert_ptr_null(d->holder);
	ck_assert_ptr_null(queue_dead_next(q, d));
	queue_free(q);
}
END_TEST

START_TEST(max_attempts_one)
{
	struct queue *q = queue_new("q", 100, 1);
	struct qconsumer *c = queue_attach(q, NULL, 1), *to;
	struct qtask *t;

	pub(q, "a", 0);
	t = queue_dispatch(q, &to, 0);
	ck_assert_int_eq(queue_nack(q, c, t->id, true, "e"), 1);
	ck_assert_uint_eq(stats(q).dead, 1);
	ck_assert_uint_eq(stats(q).redelivered, 0);
	queue_free(q);
}
END_TEST

START_TEST(nack_without_retry)
{
	struct queue *q = queue_new("q", 100, 5);
	struct qconsumer *c = queue_attach(q, NULL, 1), *to;
	const struct qtask *d;
	struct qtask *t;

	pub(q, "a", 0);
	pub(q, "b", 0);
	t = queue_dispatch(q, &to, 0);
	ck_assert_int_eq(queue_nack(q, c, t->id, false, "poison"), 1);
	t = queue_dispatch(q, &to, 0);
	ck_assert_str_eq(t->body, "b");
	ck_assert_int_eq(queue_nack(q, c, t->id, false, NULL), 1);
	ck_assert_ptr_null(queue_dispatch(q, &to, 0));
	d = queue_dead_next(q, NULL);
	ck_assert_str_eq(d->body, "a");
	ck_assert_uint_eq(d->attempt, 1);
	ck_assert_str_eq(d->last_error, "poison");
	d = queue_dead_next(q, d);
	ck_assert_str_eq(d->body, "b");
	ck_assert_ptr_null(d->last_error);
	ck_assert_ptr_null(queue_dead_next(q, d));
	ck_assert_uint_eq(stats(q).dead, 2);
	ck_assert_uint_eq(stats(q).nacked, 2);
	ck_assert_uint_eq(stats(q).redelivered, 0);
	queue_free(q);
}
END_TEST

START_TEST(detach_requeues)
{
	struct queue *q = queue_new("q", 100, 5);
	struct qconsumer *a = queue_attach(q, NULL, 3), *b, *to;
	struct qtask *t;
	uint64_t ids[4];
	int i;

	for (i = 0; i < 4; i++)
		ids[i] = pub(q, "x", 0);
	for (i = 0; i < 3; i++)
		ck_assert_ptr_eq(queue_dispatch(q, &to, 0)->holder, a);
	ck_assert_uint_eq(queue_detach(q, a, "instance 2 exited with status 1"), 3);
	ck_assert_uint_eq(stats(q).depth, 4);
	ck_assert_uint_eq(stats(q).in_flight, 0);
	ck_assert_uint_eq(stats(q).redelivered, 3);
	ck_assert_uint_eq(stats(q).nacked, 0);

	/* The task never delivered comes first; the lost ones follow in
	 * the order they were handed out. */
	b = queue_attach(q, NULL, 4);
	t = queue_dispatch(q, &to, 0);
	ck_assert_ptr_eq(to, b);
	ck_assert_uint_eq(t->id, ids[3]);
	ck_assert_uint_eq(t->attempt, 1);
	ck_assert_ptr_null(t->last_error);
	for (i = 0; i < 3; i++) {
		t = queue_dispatch(q, &to, 0);
		ck_assert_uint_eq(t->id, ids[i]);
		ck_assert_uint_eq(t->attempt, 2);
		ck_assert_str_eq(t->last_error, "instance 2 exited with status 1");
	}
	ck_assert_uint_eq(queue_detach(q, b, NULL), 4);
	ck_assert_uint_eq(stats(q).depth, 4);
	ck_assert_uint_eq(stats(q).redelivered, 7);
	queue_free(q);
}
END_TEST

START_TEST(detach_idle_consumer)
{
	struct queue *q = queue_new("q", 100, 5);
	struct qconsumer *a = queue_attach(q, NULL, 3);

	ck_assert_uint_eq(queue_detach(q, a, "bye"), 0);
	pub(q, "x", 0);
	ck_assert_ptr_null(queue_dispatch(q, NULL, 0));
	queue_free(q);
}
END_TEST

START_TEST(detach_dead_letters_exhausted)
{
	struct queue *q = queue_new("q", 100, 2);
	struct qconsumer *a = queue_attach(q, NULL, 2), *b, *to;
	const struct qtask *d;
	struct qtask *t;
	uint64_t old, fresh;

	old = pub(q, "old", 0);
	t = queue_dispatch(q, &to, 0);
	ck_assert_int_eq(queue_nack(q, a, old, true, "first"), 0);
	fresh = pub(q, "fresh", 0);
	/* a now holds old at its last attempt and fresh at its first. */
	ck_assert_uint_eq(queue_dispatch(q, &to, 0)->attempt, 2);
	ck_assert_uint_eq(queue_dispatch(q, &to, 0)->attempt, 1);
	ck_assert_uint_eq(queue_consumer_inflight(a), 2);
	ck_assert_uint_eq(queue_detach(q, a, "killed by SIGKILL"), 2);

	ck_assert_uint_eq(stats(q).dead, 1);
	ck_assert_uint_eq(stats(q).depth, 1);
	ck_assert_uint_eq(stats(q).in_flight, 0);
	d = queue_dead_next(q, NULL);
	ck_assert_uint_eq(d->id, old);
	ck_assert_uint_eq(d->attempt, 2);
	ck_assert_str_eq(d->last_error, "killed by SIGKILL");
	ck_assert_ptr_null(queue_dead_next(q, d));

	b = queue_attach(q, NULL, 1);
	t = queue_dispatch(q, &to, 0);
	ck_assert_ptr_eq(to, b);
	ck_assert_uint_eq(t->id, fresh);
	ck_assert_uint_eq(t->attempt, 2);
	ck_assert_str_eq(t->last_error, "killed by SIGKILL");
	queue_free(q);
}
END_TEST

START_TEST(detach_keeps_rotation)
{
	struct queue *q = queue_new("q", 1000, 5);
	struct qconsumer *c[3], *to;
	unsigned count[3] = { 0, 0, 0 };
	struct qtask *t;
	int i, j;

	for (i = 0; i < 3; i++)
		c[i] = queue_attach(q, NULL, 1);
	for (i = 0; i < 100; i++)
		pub(q, "x", 0);
	/* Drop whichever consumer is next in line, and one that is not. */
	t = queue_dispatch(q, &to, 0);
	queue_ack(q, to, t->id, 0, NULL);
	for (j = 0; j < 3; j++)
		if (c[j] != to)
			break;
	ck_assert_uint_eq(queue_detach(q, c[j], "gone"), 0);
	c[j] = NULL;
	while ((t = queue_dispatch(q, &to, 0)) != NULL) {
		for (j = 0; j < 3; j++)
			if (to == c[j])
				count[j]++;
		ck_assert_int_eq(queue_ack(q, to, t->id, 0, NULL), 0);
	}
	ck_assert_uint_eq(count[0] + count[1] + count[2], 99);
	for (j = 0; j < 3; j++)
		if (c[j] != NULL)
			ck_assert(count[j] == 49 || count[j] == 50);
	queue_free(q);
}
END_TEST

START_TEST(paused_gets_nothing)
{
	struct queue *q = queue_new("q", 100, 5);
	struct qconsumer *a = queue_attach(q, NULL, 2);
	struct qconsumer *b = queue_attach(q, NULL, 2), *to;
	struct qtask *t, *held;
	int i;

	for (i = 0; i < 6; i++)
		pub(q, "x", 0);
	held = queue_dispatch(q, &to, 0);
	ck_assert_ptr_nonnull(held);
	ck_assert_ptr_eq(to, a);
	queue_consumer_pause(a, true);
	queue_consumer_pause(a, true);
	for (i = 0; i < 2; i++) {
		t = queue_dispatch(q, &to, 0);
		ck_assert_ptr_eq(to, b);
	}
	ck_assert_ptr_null(queue_dispatch(q, &to, 0));
	/* It keeps, and may still ack, what it holds. */
	ck_assert_uint_eq(queue_consumer_inflight(a), 1);
	ck_assert_int_eq(queue_ack(q, a, held->id, 0, NULL), 0);
	ck_assert_ptr_null(queue_dispatch(q, &to, 0));
	/* Everyone paused: nothing moves. */
	queue_consumer_pause(b, true);
	queue_ack(q, b, t->id, 0, NULL);
	ck_assert_ptr_null(queue_dispatch(q, &to, 0));
	queue_consumer_pause(a, false);
	queue_consumer_pause(a, false);
	t = queue_dispatch(q, &to, 0);
	ck_assert_ptr_eq(to, a);
	t = queue_dispatch(q, &to, 0);
	ck_assert_ptr_eq(to, a);
	ck_assert_ptr_null(queue_dispatch(q, &to, 0));
	ck_assert_uint_eq(stats(q).depth, 1);
	queue_free(q);
}
END_TEST

START_TEST(capacity_and_full)
{
	struct queue *q = queue_new("q", 3, 5);
	struct qconsumer *c = queue_attach(q, NULL, 2), *to;
	struct qtask *t;

	pub(q, "a", 0);
	pub(q, "b", 0);
	ck_assert(!queue_full(q));
	pub(q, "c", 0);
	ck_assert(queue_full(q));
	/* Publishing is never refused: holding publishers is the caller's. */
	pub(q, "d", 0);
	ck_assert_uint_eq(stats(q).depth, 4);
	ck_assert(queue_full(q));
	/* In-flight tasks do not count against capacity. */
	t = queue_dispatch(q, &to, 0);
	ck_assert(queue_full(q));
	queue_dispatch(q, &to, 0);
	ck_assert(!queue_full(q));
	/* Requeues may go past it. */
	queue_nack(q, c, t->id, true, "x");
	ck_assert(queue_full(q));
	ck_assert_uint_eq(stats(q).depth, 3);

	queue_set_limits(q, 10, 5);
	ck_assert(!queue_full(q));
	ck_assert_uint_eq(stats(q).capacity, 10);
	queue_set_limits(q, 2, 5);
	ck_assert(queue_full(q));
	queue_free(q);
}
END_TEST

/* max_bytes counts the ready bodies; a task of any size gets into a queue
 * below it, and dispatch makes room. */
START_TEST(max_bytes_and_full)
{
	struct queue *q = queue_new("q", 100, 1);
	struct qconsumer *c = queue_attach(q, NULL, 1), *to;
	struct qtask *t;

	ck_assert_uint_eq(stats(q).max_bytes, QUEUE_MAX_BYTES_DEFAULT);
	queue_set_max_bytes(q, 10);
	pub(q, "1234", 0);
	ck_assert(!queue_full(q));
	pub(q, "12345", 0);
	ck_assert_uint_eq(stats(q).bytes, 9);
	ck_assert(!queue_full(q));
	pub(q, "123456789012345", 0);		/* past it: one task may be */
	ck_assert_uint_eq(stats(q).bytes, 24);
	ck_assert(queue_full(q));
	t = queue_dispatch(q, &to, 0);
	ck_assert_uint_eq(stats(q).bytes, 20);
	ck_assert(queue_full(q));
	queue_nack(q, c, t->id, true, "again");	/* max_attempts 1: dead */
	t = queue_dispatch(q, &to, 0);
	ck_assert_uint_eq(stats(q).bytes, 15);
	ck_assert(queue_full(q));
	queue_ack(q, c, t->id, 0, NULL);
	t = queue_dispatch(q, &to, 0);
	ck_assert_uint_eq(stats(q).bytes, 0);
	ck_assert(!queue_full(q));
	/* A nack with retry puts the bytes back, with the error's. */
	queue_set_limits(q, 100, 2);
	queue_nack(q, c, t->id, true, "again");
	ck_assert_uint_eq(stats(q).bytes, 20);
	ck_assert(queue_full(q));
	/* 0 is no limit: only capacity counts. */
	queue_set_max_bytes(q, 0);
	ck_assert(!queue_full(q));
	queue_free(q);
}
END_TEST

START_TEST(set_limits_max_attempts)
{
	struct queue *q = queue_new("q", 100, 5);
	struct qconsumer *c = queue_attach(q, NULL, 1), *to;
	struct qtask *t;

	pub(q, "a", 0);
	t = queue_dispatch(q, &to, 0);
	ck_assert_int_eq(queue_nack(q, c, t->id, true, "1"), 0);
	t = queue_dispatch(q, &to, 0);
	/* A reload lowers the limit below what the task has used. */
	queue_set_limits(q, 100, 2);
	ck_assert_int_eq(queue_nack(q, c, t->id, true, "2"), 1);
	ck_assert_uint_eq(stats(q).dead, 1);
	queue_free(q);
}
END_TEST

START_TEST(stats_counters)
{
	struct queue *q = queue_new("q", 50, 2);
	struct qconsumer *a = queue_attach(q, NULL, 4), *to;
	struct qtask *t[4];
	struct queue_stats st;
	int i;

	for (i = 0; i < 6; i++)
		pub(q, "x", 0);
	for (i = 0; i < 4; i++)
		t[i] = queue_dispatch(q, &to, 0);
	queue_ack(q, a, t[0]->id, 0, NULL);
	queue_nack(q, a, t[1]->id, true, "r");		/* requeued */
	queue_nack(q, a, t[2]->id, false, "d");		/* dead */
	st = stats(q);
	ck_assert_uint_eq(st.published, 6);
	ck_assert_uint_eq(st.depth, 3);
	ck_assert_uint_eq(st.in_flight, 1);
	ck_assert_uint_eq(st.acked, 1);
	ck_assert_uint_eq(st.nacked, 2);
	ck_assert_uint_eq(st.redelivered, 1);
	ck_assert_uint_eq(st.dead, 1);
	ck_assert_uint_eq(st.capacity, 50);
	queue_detach(q, a, "lost");
	st = stats(q);
	ck_assert_uint_eq(st.depth, 4);
	ck_assert_uint_eq(st.in_flight, 0);
	ck_assert_uint_eq(st.redelivered, 2);
	ck_assert_uint_eq(st.nacked, 2);
	ck_assert_uint_eq(st.published, 6);
	queue_free(q);
}
END_TEST

START_TEST(oldest_held)
{
	struct queue *q = queue_new("q", 50, 2);
	struct qconsumer *a = queue_attach(q, NULL, 3), *to;
	struct qtask *t1, *t2, *t3;
	uint64_t held;

	ck_assert_ptr_null(queue_oldest_held(a));
	pub(q, "1", 0);
	pub(q, "2", 0);
	pub(q, "3", 0);
	t1 = queue_dispatch(q, &to, 100);
	t2 = queue_dispatch(q, &to, 200);
	t3 = queue_dispatch(q, &to, 300);
	ck_assert_ptr_eq(queue_oldest_held(a), t1);
	ck_assert_int_eq(queue_ack(q, a, t1->id, 450, &held), 0);
	ck_assert_uint_eq(held, 350);
	ck_assert_ptr_eq(queue_oldest_held(a), t2);
	ck_assert_int_eq(queue_nack(q, a, t2->id, true, "x"), 0);
	ck_assert_ptr_eq(queue_oldest_held(a), t3);
	t2 = queue_dispatch(q, &to, 500);
	ck_assert_ptr_eq(queue_oldest_held(a), t3);
	ck_assert_int_eq(queue_ack(q, a, t3->id, 600, NULL), 0);
	ck_assert_ptr_eq(queue_oldest_held(a), t2);
	ck_assert_int_eq(queue_ack(q, a, t2->id, 400, &held), 0);
	ck_assert_uint_eq(held, 0);	/* a clock gone backwards */
	ck_assert_ptr_null(queue_oldest_held(a));
	queue_free(q);
}
END_TEST

START_TEST(dead_next_iterates_in_order)
{
	struct queue *q = queue_new("q", 50, 1);
	struct qconsumer *a = queue_attach(q, NULL, 10), *to;
	const struct qtask *d;
	struct qtask *t;
	char err[16];
	uint64_t want = 1;
	int i, n = 0;

	for (i = 0; i < 10; i++)
		pub(q, "x", 0);
	while ((t = queue_dispatch(q, &to, 0)) != NULL) {
		snprintf(err, sizeof(err), "e%llu", (unsigned long long)t->id);
		queue_nack(q, a, t->id, t->id % 2 == 0, err);
	}
	for (d = queue_dead_next(q, NULL); d != NULL; d = queue_dead_next(q, d)) {
		snprintf(err, sizeof(err), "e%llu", (unsigned long long)want);
		ck_assert_uint_eq(d->id, want);
		ck_assert_str_eq(d->last_error, err);
		ck_assert_uint_eq(d->attempt, 1);
		want++;
		n++;
	}
	ck_assert_int_eq(n, 10);
	/* Dead tasks are kept across later traffic. */
	pub(q, "y", 0);
	t = queue_dispatch(q, &to, 0);
	queue_ack(q, a, t->id, 0, NULL);
	ck_assert_uint_eq(stats(q).dead, 10);
	queue_free(q);
}
END_TEST

/* A journal that records what it was told, for dead_max's drops. */
struct seen {
	uint64_t	buried[16], dropped[16];
	size_t		nburied, ndropped;
};

static void
j_none(void *arg, const struct queue *q, const struct qtask *t)
{
	(void)arg, (void)q, (void)t;
}

static void
j_bury(void *arg, const struct queue *q, const struct qtask *t)
{
	struct seen *s = arg;

	(void)q;
	s->buried[s->nburied++ % 16] = t->id;
}

static void
j_drop(void *arg, const struct queue *q, const struct qtask *t)
{
	struct seen *s = arg;

	(void)q;
	s->dropped[s->ndropped++ % 16] = t->id;
}

START_TEST(dead_max_drops_oldest)
{
	struct queue *q = queue_new("q", 100, 1);
	struct qconsumer *a = queue_attach(q, NULL, 10), *to;
	struct seen seen = { 0 };
	const struct queue_journal jn = { .arg = &seen, .publish = j_none,
	    .dispatch = j_none, .requeue = j_none, .bury = j_bury,
	    .ack = j_none, .drop = j_drop };
	const struct qtask *d;
	struct qtask *t;
	int i;

	ck_assert_uint_eq(stats(q).dead_max, QUEUE_DEAD_MAX_DEFAULT);
	queue_set_journal(q, &jn);
	queue_set_dead_max(q, 3);
	for (i = 0; i < 5; i++)
		pub(q, "x", 0);
	while ((t = queue_dispatch(q, &to, 0)) != NULL)
		ck_assert_int_eq(queue_nack(q, a, t->id, false, "e"), 1);
	/* Ids 1 and 2 went, oldest first, each through the journal. */
	ck_assert_uint_eq(stats(q).dead, 3);
	ck_assert_uint_eq(stats(q).dead_dropped, 2);
	ck_assert_uint_eq(seen.nburied, 5);
	ck_assert_uint_eq(seen.ndropped, 2);
	ck_assert_uint_eq(seen.dropped[0], 1);
	ck_assert_uint_eq(seen.dropped[1], 2);
	d = queue_dead_next(q, NULL);
	ck_assert_uint_eq(d->id, 3);
	ck_assert_uint_eq(queue_dead_last(q)->id, 5);
	/* Lowering it drops the surplus at once; 0 is taken as 1, so the
	 * task dead-lettered last is always there to be named. */
	queue_set_dead_max(q, 0);
	ck_assert_uint_eq(stats(q).dead_max, 1);
	ck_assert_uint_eq(stats(q).dead, 1);
	ck_assert_uint_eq(stats(q).dead_dropped, 4);
	ck_assert_uint_eq(seen.dropped[3], 4);
	ck_assert_uint_eq(queue_dead_last(q)->id, 5);
	/* Raising it drops nothing and brings nothing back. */
	queue_set_dead_max(q, 10);
	ck_assert_uint_eq(stats(q).dead, 1);
	ck_assert_uint_eq(stats(q).dead_dropped, 4);
	queue_free(q);
}
END_TEST

/* A consumer lost with more exhausted tasks than dead_max: the list still
 * holds dead_max, the newest. */
/* dead_max_bytes drops the oldest by their bodies' and errors' bytes, but
 * never the newest, however large. */
START_TEST(dead_max_bytes_drops_oldest)
{
	struct queue *q = queue_new("q", 100, 1);
	struct qconsumer *c = queue_attach(q, NULL, 100);
	struct queue_stats st;
	const struct qtask *d;
	char big[300];
	int i;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	queue_set_dead_max_bytes(q, 100);
	for (i = 0; i < 5; i++)
		ck_assert_uint_ne(queue_publish(q, "0123456789", 10, 0), 0);
	while (queue_dispatch(q, NULL, 0) != NULL)
		;
	for (i = 1; i <= 5; i++)
		ck_assert_int_eq(queue_nack(q, c, (uint64_t)i, false, "no"), 1);
	queue_stats(q, &st);
	ck_assert_uint_eq(st.dead, 5);
	ck_assert_uint_eq(st.dead_bytes, 60);		/* 10 + "no" each */
	ck_assert_uint_eq(st.dead_max_bytes, 100);
	/* Lowered: the oldest go first, to 30 bytes. */
	queue_set_dead_max_bytes(q, 30);
	queue_stats(q, &st);
	ck_assert_uint_eq(st.dead, 2);
	ck_assert_uint_eq(st.dead_bytes, 24);
	ck_assert_uint_eq(st.dead_dropped, 3);
	ck_assert_uint_eq(queue_dead_next(q, NULL)->id, 4);
	/* One larger than the limit: everything older goes, it stays. */
	ck_assert_uint_eq(queue_publish(q, big, strlen(big), 0), 6);
	ck_assert_ptr_nonnull(queue_dispatch(q, NULL, 0));
	ck_assert_int_eq(queue_nack(q, c, 6, false, "too big"), 1);
	queue_stats(q, &st);
	ck_assert_uint_eq(st.dead, 1);
	ck_assert_uint_eq(st.dead_bytes, strlen(big) + strlen("too big"));
	d = queue_dead_next(q, NULL);
	ck_assert_uint_eq(d->id, 6);
	/* 0: no limit. */
	queue_set_dead_max_bytes(q, 0);
	ck_assert_uint_eq(queue_publish(q, big, strlen(big), 0), 7);
	ck_assert_ptr_nonnull(queue_dispatch(q, NULL, 0));
	ck_assert_int_eq(queue_nack(q, c, 7, false, "too big"), 1);
	queue_stats(q, &st);
	ck_assert_uint_eq(st.dead, 2);
	queue_free(q);
}
END_TEST

START_TEST(dead_max_on_detach)
{
	struct queue *q = queue_new("q", 100, 1);
	struct qconsumer *a = queue_attach(q, NULL, 10), *to;
	int i;

	queue_set_dead_max(q, 2);
	for (i = 0; i < 6; i++)
		pub(q, "x", 0);
	while (queue_dispatch(q, &to, 0) != NULL)
		;
	ck_assert_uint_eq(queue_detach(q, a, "gone"), 6);
	ck_assert_uint_eq(stats(q).dead, 2);
	ck_assert_uint_eq(stats(q).dead_dropped, 4);
	ck_assert_uint_eq(queue_dead_next(q, NULL)->id, 5);
	ck_assert_uint_eq(queue_dead_last(q)->id, 6);
	queue_free(q);
}
END_TEST

/* Five dead letters; retry two by id, then the rest; purge by id. */
START_TEST(dead_retry_and_purge)
{
	struct queue *q = queue_new("q", 100, 3);
	struct qconsumer *a = queue_attach(q, NULL, 10), *to;
	struct seen seen = { 0 };
	const struct queue_journal jn = { .arg = &seen, .publish = j_none,
	    .dispatch = j_none, .requeue = j_none, .bury = j_bury,
	    .ack = j_none, .drop = j_drop };
	const uint64_t two[] = { 2, 4 }, missing[] = { 99 }, one[] = { 3 };
	struct qtask *t;
	int i;

	queue_set_journal(q, &jn);
	for (i = 0; i < 5; i++)
		pub(q, "x", 0);
	while ((t = queue_dispatch(q, &to, 0)) != NULL)
		ck_assert_int_eq(queue_nack(q, a, t->id, false, "bad"), 1);
	ck_assert_uint_eq(stats(q).dead, 5);
	ck_assert_uint_eq(queue_dead_retry(q, missing, 1, NULL, NULL), 0);
	/* In the order they died, with attempt 1. */
	ck_assert_uint_eq(queue_dead_retry(q, two, 2, NULL, NULL), 2);
	ck_assert_uint_eq(stats(q).dead, 3);
	ck_assert_uint_eq(stats(q).depth, 2);
	t = queue_dispatch(q, &to, 0);
	ck_assert_uint_eq(t->id, 2);
	ck_assert_uint_eq(t->attempt, 1);
	ck_assert_int_eq(queue_ack(q, a, t->id, 0, NULL), 0);
	t = queue_dispatch(q, &to, 0);
	ck_assert_uint_eq(t->id, 4);
	ck_assert_int_eq(queue_ack(q, a, t->id, 0, NULL), 0);
	/* Purge one: through the journal, not counted as a drop. */
	ck_assert_uint_eq(queue_dead_purge(q, one, 1), 1);
	ck_assert_uint_eq(seen.ndropped, 1);
	ck_assert_uint_eq(seen.dropped[0], 3);
	ck_assert_uint_eq(stats(q).dead_dropped, 0);
	ck_assert_uint_eq(queue_dead_next(q, NULL)->id, 1);
	ck_assert_uint_eq(queue_dead_last(q)->id, 5);
	/* The rest, all at once; the list works after being taken apart. */
	ck_assert_uint_eq(queue_dead_retry(q, NULL, 0, NULL, NULL), 2);
	ck_assert_ptr_null(queue_dead_next(q, NULL));
	ck_assert_ptr_null(queue_dead_last(q));
	t = queue_dispatch(q, &to, 0);
	ck_assert_int_eq(queue_nack(q, a, t->id, false, "again"), 1);
	ck_assert_uint_eq(queue_dead_last(q)->id, 1);
	ck_assert_uint_eq(queue_dead_purge(q, NULL, 0), 1);
	ck_assert_uint_eq(stats(q).dead, 0);
	queue_free(q);
}
END_TEST

START_TEST(id_parse)
{
	ck_assert_uint_eq(queue_id_parse("1"), 1);
	ck_assert_uint_eq(queue_id_parse("18446744073709551615"), UINT64_MAX);
	ck_assert_uint_eq(queue_id_parse("18446744073709551616"), 0);
	ck_assert_uint_eq(queue_id_parse("0"), 0);
	ck_assert_uint_eq(queue_id_parse("07"), 0);
	ck_assert_uint_eq(queue_id_parse(" 7"), 0);
	ck_assert_uint_eq(queue_id_parse("+7"), 0);
	ck_assert_uint_eq(queue_id_parse("-7"), 0);
	ck_assert_uint_eq(queue_id_parse("7x"), 0);
	ck_assert_uint_eq(queue_id_parse(""), 0);
}
END_TEST

/*
 * The model check: random operations against a plain reference model that
 * knows where every task is.  The queue chooses the consumer; the model
 * checks the choice was allowed and that the task was the ready head.
 */
#define M_MAXC		8
#define M_MAXT		20000

/* check's own assertions record every passing call through a file, which
 * makes millions of them slow (more so under valgrind): this one only
 * calls into check on failure. */
#define MC(e) do {							\
	if (!(e))							\
		ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #e);	\
} while (0)

enum where { M_READY, M_HELD, M_DEAD, M_ACKED };

struct mtask {
	enum where	 where;
	int		 holder;
	unsigned	 attempt;
	char		 err[24];
	bool		 has_err;
};

struct mcons {
	struct qconsumer *c;
	unsigned	  prefetch;
	bool		  paused;
	uint64_t	  held[64];
	unsigned	  n;
};

struct model {
	struct queue	*q;
	unsigned	 max_attempts;
	struct mtask	 t[M_MAXT + 1];
	uint64_t	 ntasks;
	uint64_t	 ready[M_MAXT * 8];	/* FIFO of ids, never wraps */
	size_t		 rhead, rtail;
	uint64_t	 dead[M_MAXT];
	size_t		 ndead;
	struct mcons	 cons[M_MAXC];
	uint64_t	 acked, nacked, redelivered;
	uint64_t	 rng;
};

static uint64_t
rnd(struct model *m, uint64_t n)
{
	/* xorshift64: reproducible from the seed. */
	m->rng ^= m->rng << 13;
	m->rng ^= m->rng >> 7;
	m->rng ^= m->rng << 17;
	return m->rng % n;
}

static void
m_release(struct model *m, int ci, uint64_t id)
{
	struct mcons *mc = &m->cons[ci];
	unsigned i;

	for (i = 0; i < mc->n; i++)
		if (mc->held[i] == id)
			break;
	MC(i < mc->n);
	memmove(&mc->held[i], &mc->held[i + 1],
	    (mc->n - i - 1) * sizeof(mc->held[0]));
	mc->n--;
}

static void
m_retry(struct model *m, uint64_t id, const char *err)
{
	struct mtask *mt = &m->t[id];

	mt->has_err = err != NULL;
	snprintf(mt->err, sizeof(mt->err), "%s", err != NULL ? err : "");
	mt->holder = -1;
	if (mt->attempt >= m->max_attempts) {
		mt->where = M_DEAD;
		m->dead[m->ndead++] = id;
		return;
	}
	mt->attempt++;
	mt->where = M_READY;
	m->ready[m->rtail++] = id;
	m->redelivered++;
}

static void
m_check(struct model *m)
{
	struct queue_stats st;
	const struct qtask *d;
	uint64_t id, n[4] = { 0, 0, 0, 0 }, held = 0;
	size_t i;
	unsigned prev_k;
	int ci, prev_ci;

	for (id = 1; id <= m->ntasks; id++)
		n[m->t[id].where]++;
	for (ci = 0; ci < M_MAXC; ci++) {
		if (m->cons[ci].c == NULL)
			continue;
		MC(queue_consumer_inflight(m->cons[ci].c) == m->cons[ci].n);
		MC(m->cons[ci].n <= m->cons[ci].prefetch);
		for (i = 0; i < m->cons[ci].n; i++) {
			struct mtask *mt = &m->t[m->cons[ci].held[i]];

			MC(mt->where == M_HELD);
			MC(mt->holder == ci);
		}
		held += m->cons[ci].n;
		if (m->cons[ci].n == 0)
			MC(queue_oldest_held(m->cons[ci].c) == NULL);
		else
			MC(queue_oldest_held(m->cons[ci].c) != NULL &&
			    queue_oldest_held(m->cons[ci].c)->id ==
			    m->cons[ci].held[0]);
	}
	/* Each task is in exactly one place, and the places add up. */
	MC(n[M_READY] == m->rtail - m->rhead);
	MC(n[M_HELD] == held);
	MC(n[M_DEAD] == m->ndead);
	MC(n[M_ACKED] == m->acked);
	queue_stats(m->q, &st);
	MC(st.published == m->ntasks);
	MC(st.depth + st.in_flight + st.dead + st.acked == st.published);
	MC(st.depth == n[M_READY]);
	MC(st.in_flight == n[M_HELD]);
	MC(st.dead == n[M_DEAD]);
	MC(st.acked == m->acked);
	MC(st.nacked == m->nacked);
	MC(st.redelivered == m->redelivered);
	MC(queue_full(m->q) == (st.depth >= st.capacity));
	i = 0;
	for (d = queue_dead_next(m->q, NULL); d != NULL;
	    d = queue_dead_next(m->q, d), i++) {
		struct mtask *mt = &m->t[d->id];

		MC(i < m->ndead);
		MC(d->id == m->dead[i]);
		MC(d->attempt == mt->attempt);
		if (mt->has_err)
			MC(d->last_error != NULL &&
			    strcmp(d->last_error, mt->err) == 0);
		else
			MC(d->last_error == NULL);
	}
	MC(i == m->ndead);
	/* The listing an operator sees: the ready FIFO in order, then every
	 * held task once, each consumer's in dispatch order. */
	prev_ci = -1;
	prev_k = 0;
	i = 0;
	for (d = queue_ready_next(m->q, NULL); d != NULL;
	    d = queue_ready_next(m->q, d), i++) {
		MC(m->rhead + i < m->rtail);
		MC(d->id == m->ready[m->rhead + i]);
		MC(m->t[d->id].where == M_READY && d->holder == NULL);
	}
	MC(i == m->rtail - m->rhead);
	i = 0;
	for (d = queue_held_next(m->q, NULL); d != NULL;
	    d = queue_held_next(m->q, d), i++) {
		struct mtask *mt = &m->t[d->id];
		const struct mcons *mc;
		unsigned k;

		MC(i < held);
		MC(mt->where == M_HELD && mt->holder >= 0);
		mc = &m->cons[mt->holder];
		MC(d->holder == mc->c);
		for (k = 0; k < mc->n && mc->held[k] != d->id; k++)
			;
		MC(k < mc->n);
		/* A consumer's tasks come together, from its oldest. */
		MC(k == (mt->holder == prev_ci ? prev_k + 1 : 0));
		prev_ci = mt->holder;
		prev_k = k;
	}
	MC(i == held);
}

static int
m_pick_consumer(struct model *m, bool with_tasks)
{
	int ci, start = (int)rnd(m, M_MAXC), k;

	for (k = 0; k < M_MAXC; k++) {
		ci = (start + k) % M_MAXC;
		if (m->cons[ci].c != NULL && (!with_tasks || m->cons[ci].n > 0))
			return ci;
	}
	return -1;
}

static void
m_dispatch(struct model *m, uint64_t now)
{
	struct qconsumer *to = NULL;
	struct mcons *mc = NULL;
	struct mtask *mt;
	struct qtask *t;
	bool room = false;
	int ci, who = -1;

	for (ci = 0; ci < M_MAXC; ci++)
		if (m->cons[ci].c != NULL && !m->cons[ci].paused &&
		    m->cons[ci].n < m->cons[ci].prefetch)
			room = true;
	t = queue_dispatch(m->q, &to, now);
	if (!room || m->rhead == m->rtail) {
		MC(t == NULL);
		return;
	}
	MC(t != NULL);
	for (ci = 0; ci < M_MAXC; ci++)
		if (m->cons[ci].c == to && to != NULL)
			who = ci;
	MC(who >= 0);
	mc = &m->cons[who];
	MC(!mc->paused);
	MC(mc->n < mc->prefetch);
	MC(t->id == m->ready[m->rhead]);
	m->rhead++;
	mt = &m->t[t->id];
	MC(mt->where == M_READY);
	MC(t->attempt == mt->attempt);
	MC(t->holder == to);
	MC(t->dispatched_at == now);
	if (mt->has_err)
		MC(t->last_error != NULL &&
		    strcmp(t->last_error, mt->err) == 0);
	else
		MC(t->last_error == NULL);
	mt->where = M_HELD;
	mt->holder = who;
	mc->held[mc->n++] = t->id;
}

static void
m_bury(struct model *m, uint64_t id, const char *err)
{
	struct mtask *mt = &m->t[id];

	mt->has_err = err != NULL;
	snprintf(mt->err, sizeof(mt->err), "%s", err != NULL ? err : "");
	mt->holder = -1;
	mt->where = M_DEAD;
	m->dead[m->ndead++] = id;
}

static void
m_publish(struct model *m, uint64_t now)
{
	char body[24];
	uint64_t id;

	if (m->ntasks >= M_MAXT)
		return;
	snprintf(body, sizeof(body), "{\"n\":%llu}",
	    (unsigned long long)m->ntasks + 1);
	id = queue_publish(m->q, body, strlen(body), now);
	MC(id == m->ntasks + 1);
	m->ntasks++;
	m->t[id].where = M_READY;
	m->t[id].holder = -1;
	m->t[id].attempt = 1;
	m->ready[m->rtail++] = id;
}

static void
m_ack(struct model *m, uint64_t now)
{
	struct mcons *mc;
	uint64_t id, held = 0;
	int ci;

	if ((ci = m_pick_consumer(m, true)) < 0)
		return;
	mc = &m->cons[ci];
	id = mc->held[rnd(m, mc->n)];
	MC(queue_ack(m->q, mc->c, id, now, &held) == 0);
	MC(held > 0);
	m_release(m, ci, id);
	m->t[id].where = M_ACKED;
	m->t[id].holder = -1;
	m->acked++;
}

static void
m_nack(struct model *m, uint64_t now)
{
	struct mcons *mc;
	const char *errp;
	char err[24];
	bool retry = rnd(m, 4) != 0;
	uint64_t id;
	int ci, rc, want;

	if ((ci = m_pick_consumer(m, true)) < 0)
		return;
	mc = &m->cons[ci];
	id = mc->held[rnd(m, mc->n)];
	snprintf(err, sizeof(err), "nack %llu", (unsigned long long)now);
	errp = rnd(m, 5) == 0 ? NULL : err;
	rc = queue_nack(m->q, mc->c, id, retry, errp);
	m_release(m, ci, id);
	m->nacked++;
	if (retry) {
		want = m->t[id].attempt >= m->max_attempts;
		m_retry(m, id, errp);
	} else {
		want = 1;
		m_bury(m, id, errp);
	}
	MC(rc == want);
}

/* Acks and nacks the holder does not hold change nothing. */
static void
m_bogus(struct model *m, uint64_t now)
{
	struct queue_stats before, after;
	struct qconsumer *c;
	uint64_t id;
	int ci, other;

	if ((ci = m_pick_consumer(m, false)) < 0)
		return;
	c = m->cons[ci].c;
	id = 1 + rnd(m, m->ntasks + 10);
	if (id <= m->ntasks && m->t[id].where == M_HELD &&
	    m->t[id].holder == ci) {
		/* Held here: try it from another consumer instead. */
		other = m_pick_consumer(m, false);
		if (other < 0 || other == ci)
			return;
		c = m->cons[other].c;
	}
	queue_stats(m->q, &before);
	switch (rnd(m, 3)) {
	case 0:
		MC(queue_ack(m->q, c, id, now, NULL) == -1);
		break;
	case 1:
		MC(queue_nack(m->q, c, id, true, "x") == -1);
		break;
	default:
		MC(queue_nack(m->q, c, id, false, "x") == -1);
		break;
	}
	queue_stats(m->q, &after);
	MC(memcmp(&before, &after, sizeof(before)) == 0);
}

static void
m_detach(struct model *m, uint64_t now)
{
	struct mcons *mc;
	char reason[24];
	unsigned i;
	int ci;

	if ((ci = m_pick_consumer(m, false)) < 0)
		return;
	mc = &m->cons[ci];
	snprintf(reason, sizeof(reason), "lost %llu", (unsigned long long)now);
	MC(queue_detach(m->q, mc->c, reason) == mc->n);
	/* Requeued oldest first, as the model's held list is ordered. */
	for (i = 0; i < mc->n; i++)
		m_retry(m, mc->held[i], reason);
	memset(mc, 0, sizeof(*mc));
}

static void
m_attach(struct model *m)
{
	struct mcons *mc;
	int ci;

	for (ci = 0; ci < M_MAXC; ci++)
		if (m->cons[ci].c == NULL)
			break;
	if (ci == M_MAXC)
		return;
	mc = &m->cons[ci];
	mc->prefetch = 1 + (unsigned)rnd(m, rnd(m, 4) == 0 ? 64 : 4);
	mc->c = queue_attach(m->q, mc, mc->prefetch);
	MC(mc->c != NULL);
	MC(queue_consumer_owner(mc->c) == mc);
	mc->paused = false;
	mc->n = 0;
}

static void
m_step(struct model *m, uint64_t now)
{
	uint64_t r = rnd(m, 100);
	int ci;

	if (r < 25)
		m_publish(m, now);
	else if (r < 55)
		m_dispatch(m, now);
	else if (r < 72)
		m_ack(m, now);
	else if (r < 84)
		m_nack(m, now);
	else if (r < 88)
		m_bogus(m, now);
	else if (r < 91)
		m_detach(m, now);
	else if (r < 95)
		m_attach(m);
	else if (r < 99) {
		if ((ci = m_pick_consumer(m, false)) < 0)
			return;
		m->cons[ci].paused = !m->cons[ci].paused;
		queue_consumer_pause(m->cons[ci].c, m->cons[ci].paused);
	} else {
		m->max_attempts = 1 + (unsigned)rnd(m, 4);
		queue_set_limits(m->q, 1 + rnd(m, 50), m->max_attempts);
	}
}

static void
model_run(uint64_t seed, int steps)
{
	struct model *m = calloc(1, sizeof(*m));
	struct qconsumer *to;
	struct qtask *t;
	uint64_t now;
	int ci;

	MC(m != NULL);
	m->rng = seed;
	m->max_attempts = 3;
	m->q = queue_new("model", 20, m->max_attempts);
	MC(m->q != NULL);
	for (now = 1; now <= (uint64_t)steps; now++) {
		m_step(m, now);
		m_check(m);
	}
	/* Detach everyone, then drain with one consumer: every task that
	 * is not dead must come out exactly once more and be acked. */
	for (ci = 0; ci < M_MAXC; ci++)
		if (m->cons[ci].c != NULL) {
			unsigned i;

			MC(queue_detach(m->q, m->cons[ci].c, "end") ==
			    m->cons[ci].n);
			for (i = 0; i < m->cons[ci].n; i++)
				m_retry(m, m->cons[ci].held[i], "end");
			memset(&m->cons[ci], 0, sizeof(m->cons[ci]));
		}
	m_check(m);
	m->cons[0].c = queue_attach(m->q, NULL, 1);
	m->cons[0].prefetch = 1;
	while ((t = queue_dispatch(m->q, &to, now)) != NULL) {
		MC(t->id == m->ready[m->rhead]);
		m->rhead++;
		m->t[t->id].where = M_ACKED;
		MC(queue_ack(m->q, to, t->id, now, NULL) == 0);
		m->acked++;
	}
	MC(m->rhead == m->rtail);
	m_check(m);
	MC(m->ntasks > 1000);
	MC(m->ndead > 0);
	MC(m->redelivered > 0);
	queue_free(m->q);
	free(m);
}

/* Done notices: one per finished tracked task, none for untracked ones,
 * none for a retry, the dead letter's error with it. */
struct done_log {
	int		 n;
	uint64_t	 id[8], origin[8];
	bool		 acked[8];
	char		 error[8][32];
};

static void
on_done(void *arg, struct queue *q, const struct qtask *t, bool acked)
{
	struct done_log *d = arg;

	ck_assert_str_eq(queue_name(q), "q");
	ck_assert_int_lt(d->n, 8);
	d->id[d->n] = t->id;
	d->origin[d->n] = t->origin;
	d->acked[d->n] = acked;
	snprintf(d->error[d->n], sizeof(d->error[0]), "%s",
	    t->last_error != NULL ? t->last_error : "");
	d->n++;
}

/* An operator's purge of queued tasks: those picked go, in-flight ones
 * stay with their consumer, and a tracked publisher hears why. */
static void
count_each(void *arg, const struct qtask *t)
{
	(void)t;
	(*(int *)arg)++;
}

START_TEST(ready_purge)
{
	struct queue *q = queue_new("q", 100, 2);
	struct qconsumer *c = queue_attach(q, NULL, 1), *to;
	struct done_log d = { .n = 0 };
	const uint64_t two_four[] = { 2, 4, 99 }, one[] = { 1 };
	const struct qtask *t;
	struct queue_stats st;
	int seen = 0;

	queue_on_done(q, on_done, &d);
	ck_assert_uint_eq(pub(q, "a", 0), 1);
	ck_assert_uint_eq(pub(q, "b", 0), 2);
	ck_assert_uint_eq(pub(q, "c", 0), 3);
	ck_assert_uint_eq(queue_publish_from(q, "d", 1, 0, 44), 4);
	ck_assert_uint_eq(pub(q, "e", 0), 5);
	ck_assert_uint_eq(queue_dispatch(q, &to, 0)->id, 1);
	/* Picked, tracked, and an id not queued: two go. */
	ck_assert_uint_eq(queue_ready_purge(q, two_four, 3, "purged", count_each,
	    &seen), 2);
	ck_assert_int_eq(seen, 2);
	ck_assert_int_eq(d.n, 1);
	ck_assert_uint_eq(d.id[0], 4);
	ck_assert(!d.acked[0]);
	ck_assert_str_eq(d.error[0], "purged");
	t = queue_ready_next(q, NULL);
	ck_assert_uint_eq(t->id, 3);
	ck_assert_uint_eq(queue_ready_next(q, t)->id, 5);
	ck_assert_ptr_null(queue_ready_next(q, queue_ready_next(q, t)));
	/* The one in flight is not the operator's to purge. */
	ck_assert_uint_eq(queue_ready_purge(q, one, 1, "purged", NULL, NULL), 0);
	/* All the rest. */
	ck_assert_uint_eq(queue_ready_purge(q, NULL, 0, "purged", NULL, NULL), 2);
	queue_stats(q, &st);
	ck_assert_uint_eq(st.depth, 0);
	ck_assert_uint_eq(st.bytes, 0);
	ck_assert_uint_eq(st.in_flight, 1);
	ck_assert_int_eq(queue_ack(q, c, 1, 0, NULL), 0);
	ck_assert(queue_empty(q) == false);
	queue_detach(q, c, "gone");
	ck_assert(queue_empty(q));
	queue_free(q);
}
END_TEST

START_TEST(done_notices)
{
	struct queue *q = queue_new("q", 100, 2);
	struct qconsumer *c = queue_attach(q, NULL, 10), *to;
	struct done_log d = { .n = 0 };
	uint64_t plain, acked, nacked, lost;

	queue_on_done(q, on_done, &d);
	plain = pub(q, "p", 0);
	acked = queue_publish_from(q, "a", 1, 0, 41);
	nacked = queue_publish_from(q, "n", 1, 0, 42);
	lost = queue_publish_from(q, "l", 1, 0, 43);
	while (queue_dispatch(q, &to, 0) != NULL)
		;
	ck_assert_int_eq(queue_ack(q, c, plain, 0, NULL), 0);
	ck_assert_int_eq(queue_ack(q, c, acked, 0, NULL), 0);
	ck_assert_int_eq(queue_nack(q, c, nacked, true, "try again"), 0);
	ck_assert_int_eq(d.n, 1);
	ck_assert_uint_eq(d.id[0], acked);
	ck_assert_uint_eq(d.origin[0], 41);
	ck_assert(d.acked[0]);

	/* The retried task's second attempt is its last. */
	ck_assert_ptr_nonnull(queue_dispatch(q, &to, 0));
	ck_assert_int_eq(queue_nack(q, c, nacked, true, "bad input"), 1);
	ck_assert_int_eq(d.n, 2);
	ck_assert_uint_eq(d.id[1], nacked);
	ck_assert(!d.acked[1]);
	ck_assert_str_eq(d.error[1], "bad input");

	/* A lost consumer: the task goes back, then is buried on its
	 * second loss. */
	ck_assert_uint_eq(queue_detach(q, c, "killed"), 1);
	ck_assert_int_eq(d.n, 2);
	c = queue_attach(q, NULL, 1);
	ck_assert_uint_eq(queue_dispatch(q, &to, 0)->id, lost);
	ck_assert_uint_eq(queue_detach(q, c, "killed again"), 1);
	ck_assert_int_eq(d.n, 3);
	ck_assert_uint_eq(d.origin[2], 43);
	ck_assert_str_eq(d.error[2], "killed again");
	queue_free(q);
}
END_TEST

START_TEST(model_check)
{
	static const uint64_t seeds[] = {
		0x9e3779b97f4a7c15ULL, 1, 0xdeadbeefULL, 20240601
	};

	model_run(seeds[_i], 10000);
}
END_TEST

/* A task's trace context (queue.h) is the publisher's, kept as it was
 * through dispatch, nack, loss and dead-lettering; restored and plainly
 * published tasks have none yet. */
START_TEST(trace_context_kept)
{
	struct queue *q = queue_new("q", 10, 3);
	struct qconsumer *a, *b, *to;
	struct qtrace tr, other;
	struct qtask *t;
	const struct qtask *d;
	int i;

	memset(&tr, 0, sizeof(tr));
	for (i = 0; i < 32; i++)
		tr.trace_id[i] = "0123456789abcdef"[i % 16];
	for (i = 0; i < 16; i++)
		tr.span_id[i] = "fedcba9876543210"[i];
	tr.state = QTRACE_SAMPLED;
	memset(&other, 0, sizeof(other));
	other.state = QTRACE_NONE;
	ck_assert_uint_eq(queue_publish_traced(q, "{}", 2, 1, 7, &tr), 1);
	memset(tr.trace_id, 'e', 32);	/* copied, not referred to */
	ck_assert_uint_eq(queue_publish_traced(q, "{}", 2, 1, 0, &other), 2);
	ck_assert_uint_eq(queue_publish_traced(q, "{}", 2, 1, 0, NULL), 3);
	ck_assert_uint_eq(queue_publish_from(q, "{}", 2, 1, 0), 4);
	ck_assert_int_eq(queue_restore(q, 10, "{}", 2, 2, "lost", false, 1), 0);
	a = queue_attach(q, "a", 10);
	t = queue_dispatch(q, &to, 2);
	ck_assert_uint_eq(t->id, 1);
	ck_assert_uint_eq(t->trace.state, QTRACE_SAMPLED);
	ck_assert_int_eq(memcmp(t->trace.trace_id,
	    "0123456789abcdef0123456789abcdef", 32), 0);
	ck_assert_int_eq(memcmp(t->trace.span_id, "fedcba9876543210", 16), 0);
	ck_assert_uint_eq(t->origin, 7);
	t = queue_dispatch(q, &to, 2);
	ck_assert_uint_eq(t->trace.state, QTRACE_NONE);
	t = queue_dispatch(q, &to, 2);
	ck_assert_uint_eq(t->trace.state, QTRACE_UNKNOWN);
	t = queue_dispatch(q, &to, 2);
	ck_assert_uint_eq(t->trace.state, QTRACE_UNKNOWN);
	t = queue_dispatch(q, &to, 2);
	ck_assert_uint_eq(t->id, 10);
	ck_assert_uint_eq(t->trace.state, QTRACE_UNKNOWN);
	/* A context filled in later (lazily) stays with the task. */
	t->trace = tr;
	/* Back by a nack, then by the loss of its holder: still there. */
	ck_assert_int_eq(queue_nack(q, a, 1, true, "again"), 0);
	ck_assert_uint_eq(queue_detach(q, a, "lost"), 4);
	b = queue_attach(q, "b", 10);
	while ((t = queue_dispatch(q, &to, 3)) != NULL)
		if (t->id == 1) {
			ck_assert_uint_eq(t->attempt, 2);
			ck_assert_uint_eq(t->trace.state, QTRACE_SAMPLED);
			ck_assert_int_eq(t->trace.trace_id[1], '1');
			ck_assert_int_eq(t->trace.span_id[15], '0');
		} else if (t->id == 10) {
			ck_assert_uint_eq(t->trace.state, QTRACE_SAMPLED);
			ck_assert_int_eq(t->trace.trace_id[0], 'e');
		}
	/* Dead-lettered: it keeps it too. */
	ck_assert_int_eq(queue_nack(q, b, 1, false, "fatal"), 1);
	d = queue_dead_last(q);
	ck_assert_uint_eq(d->id, 1);
	ck_assert_uint_eq(d->trace.state, QTRACE_SAMPLED);
	ck_assert_int_eq(d->trace.trace_id[31], 'f');
	queue_free(q);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("queue");
	TCase *basic = tcase_create("basic");
	TCase *fair = tcase_create("fairness");
	TCase *fail = tcase_create("failures");
	TCase *model = tcase_create("model");

	tcase_add_test(basic, new_and_free);
	tcase_add_test(basic, free_with_everything_in_it);
	tcase_add_test(basic, ids_count_from_one);
	tcase_add_test(basic, fifo_order_and_body_copied);
	tcase_add_test(basic, body_with_nul_and_empty);
	tcase_add_test(basic, nothing_without_consumer_or_task);
	tcase_add_test(basic, prefetch_limit);
	tcase_add_test(basic, capacity_and_full);
	tcase_add_test(basic, max_bytes_and_full);
	tcase_add_test(basic, stats_counters);
	tcase_add_test(basic, oldest_held);
	suite_add_tcase(s, basic);

	tcase_add_test(fair, round_robin_three);
	tcase_add_test(fair, round_robin_counts);
	tcase_add_test(fair, round_robin_with_prefetch);
	tcase_add_test(fair, paused_gets_nothing);
	tcase_add_test(fair, detach_keeps_rotation);
	suite_add_tcase(s, fair);

	tcase_add_test(fail, ack_unknown_or_foreign);
	tcase_add_test(fail, nack_retry_to_tail);
	tcase_add_test(fail, nack_error_is_copied);
	tcase_add_test(fail, nack_error_is_cut_and_counted);
	tcase_add_test(fail, dead_after_max_attempts);
	tcase_add_test(fail, max_attempts_one);
	tcase_add_test(fail, nack_without_retry);
	tcase_add_test(fail, detach_requeues);
	tcase_add_test(fail, detach_idle_consumer);
	tcase_add_test(fail, detach_dead_letters_exhausted);
	tcase_add_test(fail, set_limits_max_attempts);
	tcase_add_test(fail, dead_next_iterates_in_order);
	tcase_add_test(fail, dead_max_drops_oldest);
	tcase_add_test(fail, dead_max_on_detach);
	tcase_add_test(fail, dead_max_bytes_drops_oldest);
	tcase_add_test(fail, dead_retry_and_purge);
	tcase_add_test(basic, id_parse);
	tcase_add_test(fail, done_notices);
	tcase_add_test(fail, ready_purge);
	tcase_add_test(fail, trace_context_kept);
	suite_add_tcase(s, fail);

	tcase_add_loop_test(model, model_check, 0, 4);
	tcase_set_timeout(model, 60);
	suite_add_tcase(s, model);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
