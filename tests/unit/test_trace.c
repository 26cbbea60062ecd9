/*
 * W3C Trace Context and spans: traceparent parsing and formatting, ids,
 * nesting, and the records spans become.  The child runtime is replaced
 * by two stubs that capture what would be sent to the master.
 */
#include "config.h"

#include <sys/wait.h>

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "plba/trace.h"
#include "child.h"
#include "tracectx.h"
#include "unit.h"

/* --- stubs for the child runtime ------------------------------------------ */

static bool tracing = true;
static uint64_t sample_bound = TRACE_SAMPLE_ALL;
static cJSON *sent[64];
static char *sent_text[64];
static size_t nsent;

bool
child_tracing(struct plba_worker *w)
{
	(void)w;
	return tracing;
}

uint64_t
child_trace_sample(struct plba_worker *w)
{
	(void)w;
	return sample_bound;
}

int
child_send_trace(struct plba_worker *w, const char *json, size_t len)
{
	(void)w;
	ck_assert_uint_lt(nsent, 64);
	sent[nsent] = cJSON_ParseWithLength(json, len);
	ck_assert_ptr_nonnull(sent[nsent]);
	sent_text[nsent] = strndup(json, len);
	nsent++;
	return 0;
}

static const char *
str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void
drain(void)
{
	while (nsent > 0) {
		cJSON_Delete(sent[--nsent]);
		free(sent_text[nsent]);
	}
}

static void
reset(void)
{
	drain();
	tracing = true;
	sample_bound = TRACE_SAMPLE_ALL;
}

/* Any non-NULL pointer stands for the worker: the stubs ignore it. */
#define W	((plba_worker *)(void *)&tracing)

/* --- traceparent ------------------------------------------------------------ */

static const struct {
	const char	*text;
	int		 ok;
	int		 sampled;
} parents[] = {
	{ "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", 1, 1 },
	{ "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", 1, 0 },
	/* A future version may carry more fields after the flags. */
	{ "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", 1, 1 },
	{ "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", 1, 1 },
	/* Version 00 is exactly 55 characters. */
	{ "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", 0, 0 },
	{ "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", 0, 0 },
	{ "00-00000000000000000000000000000000-00f067aa0ba902b7-01", 0, 0 },
	{ "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", 0, 0 },
	{ "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", 0, 0 },
	{ "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", 0, 0 },
	{ "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902B7-01", 0, 0 },
	{ "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b\x01-01", 0, 0 },
	{ "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", 0, 0 },
	{ "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01", 0, 0 },
	{ "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x", 0, 0 },
	/* The digits' neighbours in ASCII, and bytes past it. */
	{ "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b:-01", 0, 0 },
	{ "00-4bf92f3577b34da6a3ce929d0e0e4736-/0f067aa0ba902b7-01", 0, 0 },
	{ "00-`bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", 0, 0 },
	{ "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0@", 0, 0 },
	{ "00-4bf92f3577b34da6a3ce929d0e0e47\xc3\xa9-00f067aa0ba902b7-01", 0, 0 },
	{ "00-ffffffffffffffffffffffffffffffff-0123456789abcdef-01", 1, 1 },
	{ "00-00000000000000000000000000000001-8000000000000000-03", 1, 1 },
	{ "", 0, 0 },
};

START_TEST(parse_traceparent)
{
	struct tracectx c;
	char back[TRACEPARENT_LEN + 1], tid[32], sid[16];
	int rc = tracectx_parse(parents[_i].text, &c);
	bool sampled;

	/* The master's form, ids kept in hex, judges alike. */
	ck_assert_int_eq(tracectx_parse_text(parents[_i].text, tid, sid,
	    &sampled) == 0, parents[_i].ok);
	if (parents[_i].ok) {
		ck_assert_int_eq(sampled, parents[_i].sampled);
		ck_assert_int_eq(memcmp(tid, parents[_i].text + 3, 32), 0);
		ck_assert_int_eq(memcmp(sid, parents[_i].text + 36, 16), 0);
	}

	ck_assert_int_eq(rc == 0, parents[_i].ok);
	if (!parents[_i].ok)
		return;
	ck_assert_int_eq(c.sampled, parents[_i].sampled);
	/* Formatting always writes version 00 with the same ids. */
	tracectx_format(&c, back);
	ck_assert_uint_eq(strlen(back), TRACEPARENT_LEN);
	ck_assert_int_eq(strncmp(back, "00-", 3), 0);
	ck_assert_int_eq(strncmp(back + 3, parents[_i].text + 3, 49), 0);
}
END_TEST

START_TEST(ids_random_and_nonzero)
{
	uint8_t a[16], b[16], zero[16] = { 0 };
	int i;

	for (i = 0; i < 1000; i++) {
		trace_random(a, sizeof(a));
		trace_random(b, sizeof(b));
		ck_assert(memcmp(a, b, sizeof(a)) != 0);
		ck_assert(memcmp(a, zero, sizeof(a)) != 0);
	}
}
END_TEST

/*
 * A fork copies the pool of random bytes: without care, the child's next
 * id would be the parent's next one.  The pool is drawn from first, so
 * that there is something to copy.
 */
START_TEST(ids_differ_after_fork)
{
	uint8_t mine[16], childs[16];
	int fds[2], status;
	pid_t pid;

	trace_random(mine, sizeof(mine));
	ck_assert_int_eq(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		trace_random(childs, sizeof(childs));
		_exit(write(fds[1], childs, sizeof(childs)) ==
		    (ssize_t)sizeof(childs) ? 0 : 1);
	}
	ck_assert_int_gt(pid, 0);
	trace_random(mine, sizeof(mine));
	ck_assert_int_eq(read(fds[0], childs, sizeof(childs)),
	    (ssize_t)sizeof(childs));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert(memcmp(mine, childs, sizeof(mine)) != 0);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

static void *
draw_id(void *out)
{
	trace_random(out, 16);
	return NULL;
}

/* Each thread draws from a pool of its own: never the same bytes. */
START_TEST(ids_differ_between_threads)
{
	uint8_t ids[8][16];
	pthread_t th[8];
	int i, j;

	for (i = 0; i < 8; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, draw_id,
		    ids[i]), 0);
	for (i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < 8; i++)
		for (j = i + 1; j < 8; j++)
			ck_assert(memcmp(ids[i], ids[j], 16) != 0);
}
END_TEST

/* --- spans -------------------------------------------------------------------- */

START_TEST(spans_nest_and_restore_current)
{
	plba_span *root, *child, *grandchild;

	reset();
	root = plba_trace_start(W, "root");
	ck_assert_ptr_eq(plba_span_current(W), root);
	child = plba_span_start(W, "child");
	grandchild = plba_span_start(W, "grandchild");
	ck_assert_ptr_eq(plba_span_current(W), grandchild);
	plba_span_end(grandchild);
	ck_assert_ptr_eq(plba_span_current(W), child);
	plba_span_end(child);
	plba_span_end(root);
	ck_assert_ptr_null(plba_span_current(W));

	ck_assert_uint_eq(nsent, 3);
	/* Ended innermost first; one trace; each the parent of the next. */
	ck_assert_str_eq(str(sent[0], "name"), "grandchild");
	ck_assert_str_eq(str(sent[2], "name"), "root");
	ck_assert_str_eq(str(sent[0], "trace_id"), str(sent[2], "trace_id"));
	ck_assert_str_eq(str(sent[0], "parent_span_id"), str(sent[1], "span_id"));
	ck_assert_str_eq(str(sent[1], "parent_span_id"), str(sent[2], "span_id"));
	ck_assert_ptr_null(str(sent[2], "parent_span_id"));
	ck_assert_uint_eq(strlen(str(sent[2], "trace_id")), 32);
	ck_assert_uint_eq(strlen(str(sent[2], "span_id")), 16);
	reset();
}
END_TEST

START_TEST(span_record_has_attributes_events_status)
{
	plba_span *s;
	const cJSON *a, *e, *st;
	char tp[64];

	reset();
	s = plba_trace_start(W, "mail parsed");
	plba_span_set_str(s, "mail.id", "<1@x>");
	plba_span_set_int(s, "lines", 3);
	plba_span_set_double(s, "ratio", 0.5);
	plba_span_set_bool(s, "dup", true);
	plba_span_event(s, "started");
	plba_trace_message(W, "step %d", 2);
	plba_span_error(s, "bad line %d", 7);
	ck_assert_int_eq(plba_span_traceparent(s, tp, sizeof(tp)), 0);
	ck_assert_int_eq(plba_span_traceparent(s, tp, 10), -1);
	plba_span_end(s);

	ck_assert_uint_eq(nsent, 1);
	a = cJSON_GetObjectItemCaseSensitive(sent[0], "attributes");
	ck_assert_str_eq(str(a, "mail.id"), "<1@x>");
	ck_assert(cJSON_GetObjectItemCaseSensitive(a, "lines")->valuedouble == 3);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "dup")));
	e = cJSON_GetObjectItemCaseSensitive(sent[0], "events");
	ck_assert_int_eq(cJSON_GetArraySize(e), 2);
	ck_assert_str_eq(str(cJSON_GetArrayItem(e, 1), "name"), "step 2");
	st = cJSON_GetObjectItemCaseSensitive(sent[0], "status");
	ck_assert_str_eq(str(st, "code"), "error");
	ck_assert_str_eq(str(st, "message"), "bad line 7");
	/* The traceparent names this span in this trace, sampled. */
	ck_assert_int_eq(strncmp(tp + 3, str(sent[0], "trace_id"), 32), 0);
	ck_assert_int_eq(strncmp(tp + 36, str(sent[0], "span_id"), 16), 0);
	ck_assert_str_eq(tp + 52, "-01");
	ck_assert(strtoull(str(sent[0], "end_ns"), NULL, 10) >=
	    strtoull(str(sent[0], "start_ns"), NULL, 10));
	reset();
}
END_TEST

/*
 * A record is printed exactly as cJSON would print it: the master writes
 * such records to a trace file as they stand.  Setting a key again
 * replaces its value and moves it last.
 */
START_TEST(records_print_as_cjson_would)
{
	plba_span *s;
	char *again, big[2000];
	const cJSON *a;

	reset();
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	s = plba_trace_start(W, "q\"\\\n\t\x01 caf\xc3\xa9");
	plba_span_set_str(s, "k\n", "v\x1f\b\f\r/");
	plba_span_set_int(s, "small", -2147483648LL);
	plba_span_set_int(s, "large", 4294967296LL);
	plba_span_set_double(s, "half", 0.5);
	plba_span_set_double(s, "whole", 3.0);
	plba_span_set_double(s, "third", 1.0 / 3);
	plba_span_set_double(s, "huge", 1e300);
	plba_span_set_double(s, "nan", 0.0 / 0.0);
	plba_span_set_bool(s, "t", true);
	plba_span_set_bool(s, "f", false);
	plba_span_set_str(s, "big", big);
	plba_span_set_str(s, "small", "replaced");
	plba_span_event(s, "e\"1");
	plba_span_event(s, "e2");
	plba_span_error(s, "bad \"%s\"", "x");
	plba_span_end(s);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_ptr_nonnull(again = cJSON_PrintUnformatted(sent[0]));
	ck_assert_str_eq(sent_text[0], again);
	free(again);
	a = cJSON_GetObjectItemCaseSensitive(sent[0], "attributes");
	ck_assert_str_eq(a->child->prev->string, "small");
	ck_assert_str_eq(str(a, "small"), "replaced");
	ck_assert_str_eq(str(a, "big"), big);

	/* No attributes or events: neither member. */
	s = plba_trace_start(W, "bare");
	plba_span_end(s);
	ck_assert_uint_eq(nsent, 2);
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(sent[1],
	    "attributes"));
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(sent[1], "events"));
	ck_assert_ptr_nonnull(again = cJSON_PrintUnformatted(sent[1]));
	ck_assert_str_eq(sent_text[1], again);
	free(again);

	/* A name longer than the span's own arena. */
	s = plba_trace_start(W, big);
	plba_span_set_str(s, "k", "v");
	plba_span_end(s);
	ck_assert_uint_eq(nsent, 3);
	ck_assert_str_eq(str(sent[2], "name"), big);
	ck_assert_str_eq(str(cJSON_GetObjectItemCaseSensitive(sent[2],
	    "attributes"), "k"), "v");
	reset();
}
END_TEST

/*
 * A consumer span's task attributes are kept as the task's strings, and
 * its outcome as the library's word, and printed with the record; a
 * handler that sets one of the task's keys makes them attributes like any
 * other.  Either way the record reads as the five sets one by one would
 * have made it.
 */
START_TEST(task_attrs_as_four_sets)
{
	static const char *const ops[][12] = {
		{ NULL },
		{ "x", NULL },
		{ "x", "plba.queue", NULL },
		{ "plba.task.id", "y", NULL },
		{ "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9",
		    "plba.task.attempt", NULL },
		{ "plba.task.outcome", "plba.task.name", "plba.task.outcome",
		    NULL },
	};
	plba_span *s[2];
	const char *a[2];
	size_t i, k, way;

	reset();
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		for (way = 0; way < 2; way++) {
			s[way] = trace_resume_kind(W, "00-4bf92f3577b34da6a3ce929"
			    "d0e0e4736-00f067aa0ba902b7-01", "process q\"1",
			    "consumer");
			if (way == 0)
				trace_span_set_task(s[way], "q\"1", NULL,
				    "30247", 3);
			else {
				plba_span_set_str(s[way], "plba.queue", "q\"1");
				plba_span_set_str(s[way], "plba.task.name", "");
				plba_span_set_str(s[way], "plba.task.id", "30247");
				plba_span_set_int(s[way], "plba.task.attempt", 3);
			}
			for (k = 0; ops[i][k] != NULL; k++)
				plba_span_set_str(s[way], ops[i][k], "v");
			if (way == 0)
				trace_span_set_outcome(s[way], "ack");
			else
				plba_span_set_str(s[way], "plba.task.outcome",
				    "ack");
			plba_span_ok(s[way]);
			plba_span_end(s[way]);
		}
		ck_assert_uint_eq(nsent, 2);
		for (way = 0; way < 2; way++)
			ck_assert_ptr_nonnull(a[way] = strstr(sent_text[way],
			    ",\"attributes\":"));
		ck_assert_str_eq(a[0], a[1]);
		if (i == 0)
			ck_assert_str_eq(a[0], ",\"attributes\":{\"plba.queue\":"
			    "\"q\\\"1\",\"plba.task.name\":\"\",\"plba.task.id\":"
			    "\"30247\",\"plba.task.attempt\":3,"
			    "\"plba.task.outcome\":\"ack\"},\"status\":"
			    "{\"code\":\"ok\"}}");
		drain();
	}
	/* Set after the outcome, the key replaces it, as any set would. */
	s[0] = trace_resume_kind(W, "00-4bf92f3577b34da6a3ce929d0e0e4736-"
	    "00f067aa0ba902b7-01", "process q", "consumer");
	trace_span_set_outcome(s[0], "ack");
	plba_span_set_str(s[0], "plba.task.outcome", "mine");
	plba_span_end(s[0]);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_ptr_nonnull(strstr(sent_text[0],
	    ",\"attributes\":{\"plba.task.outcome\":\"mine\"},"));
	reset();
}
END_TEST

/* Integers keep every digit: a double would round those past 2^53. */
START_TEST(ints_keep_every_digit)
{
	plba_span *s;

	reset();
	s = plba_trace_start(W, "ids");
	plba_span_set_int(s, "big", 9007199254740993LL);
	plba_span_set_int(s, "max", LLONG_MAX);
	plba_span_set_int(s, "min", LLONG_MIN);
	plba_span_end(s);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_ptr_nonnull(strstr(sent_text[0], "\"attributes\":{"
	    "\"big\":9007199254740993,\"max\":9223372036854775807,"
	    "\"min\":-9223372036854775808}"));
}
END_TEST

START_TEST(resume_continues_remote_trace)
{
	plba_span *s;

	reset();
	s = plba_trace_resume(W, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	    "process");
	plba_span_end(s);
	ck_assert_str_eq(str(sent[0], "trace_id"), "4bf92f3577b34da6a3ce929d0e0e4736");
	ck_assert_str_eq(str(sent[0], "parent_span_id"), "00f067aa0ba902b7");
	/* An invalid parent starts a new trace. */
	s = plba_trace_resume(W, "garbage", "process");
	plba_span_end(s);
	ck_assert_ptr_null(str(sent[1], "parent_span_id"));
	reset();
}
END_TEST

START_TEST(unsampled_is_not_recorded_but_propagates)
{
	plba_span *s, *c;
	char tp[64];

	reset();
	s = plba_trace_resume(W, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
	    "quiet");
	c = plba_span_start(W, "child");
	ck_assert_int_eq(plba_span_traceparent(c, tp, sizeof(tp)), 0);
	ck_assert_str_eq(tp + 52, "-00");
	plba_span_end(c);
	plba_span_end(s);
	ck_assert_uint_eq(nsent, 0);
	reset();
}
END_TEST

START_TEST(sample_bound_and_decision)
{
	uint8_t id[16];

	ck_assert_uint_eq(tracectx_sample_bound(1), TRACE_SAMPLE_ALL);
	ck_assert_uint_eq(tracectx_sample_bound(2), TRACE_SAMPLE_ALL);
	ck_assert_uint_eq(tracectx_sample_bound(0.0 / 0.0), TRACE_SAMPLE_ALL);
	ck_assert_uint_eq(tracectx_sample_bound(0), 0);
	ck_assert_uint_eq(tracectx_sample_bound(-1), 0);
	ck_assert_uint_eq(tracectx_sample_bound(0.5), UINT64_C(1) << 55);
	/* The largest double below 1 still leaves some traces out. */
	ck_assert_uint_lt(tracectx_sample_bound(1 - 0x1p-53), TRACE_SAMPLE_ALL);

	/* Only the last 56 bits count: the first 72 are left at random. */
	memset(id, 0xff, 9);
	memcpy(id + 9, "\x7f\xff\xff\xff\xff\xff\xff", 7);
	ck_assert(tracectx_sample(id, UINT64_C(1) << 55));
	memcpy(id + 9, "\x80\x00\x00\x00\x00\x00\x00", 7);
	ck_assert(!tracectx_sample(id, UINT64_C(1) << 55));
	memset(id, 0, 9);
	memset(id + 9, 0xff, 7);
	ck_assert(tracectx_sample(id, TRACE_SAMPLE_ALL));
	memset(id + 9, 0, 7);
	id[15] = 1;
	ck_assert(!tracectx_sample(id, 0));
	ck_assert(!tracectx_sample(id, 1));
	ck_assert(tracectx_sample(id, 2));
}
END_TEST

/* Whether a traceparent's trace id is below the bound of 0.5. */
static bool
below_half(const char *tp)
{
	/* Digit 18 of the id is the high half of byte 9. */
	return tp[3 + 18] < '8';
}

START_TEST(new_traces_are_sampled_by_their_id)
{
	plba_span *s, *c;
	char tp[64], ctp[64];
	int i, recorded = 0;

	reset();
	sample_bound = tracectx_sample_bound(0.5);
	for (i = 0; i < 2000; i++) {
		s = plba_trace_start(W, "root");
		ck_assert_int_eq(plba_span_traceparent(s, tp, sizeof(tp)), 0);
		/* The decision is the id's, and its children follow it. */
		ck_assert_str_eq(tp + 53, below_half(tp) ? "01" : "00");
		c = plba_span_start(W, "child");
		ck_assert_int_eq(plba_span_traceparent(c, ctp, sizeof(ctp)), 0);
		ck_assert_str_eq(ctp + 53, tp + 53);
		plba_span_end(c);
		plba_span_end(s);
		recorded += below_half(tp);
		ck_assert_uint_eq(nsent, below_half(tp) ? 2 : 0);
		drain();
	}
	/* 2000 draws of one half: 1000 with a deviation of 22. */
	ck_assert_int_gt(recorded, 800);
	ck_assert_int_lt(recorded, 1200);

	/* None new, but a context from elsewhere keeps its own decision. */
	sample_bound = tracectx_sample_bound(0);
	s = plba_trace_start(W, "dropped");
	plba_span_end(s);
	ck_assert_uint_eq(nsent, 0);
	s = plba_trace_resume(W, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	    "kept");
	plba_span_end(s);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_str_eq(str(sent[0], "trace_id"), "4bf92f3577b34da6a3ce929d0e0e4736");
	reset();
}
END_TEST

START_TEST(tracing_off_is_inert)
{
	plba_span *s;
	char tp[64];

	reset();
	tracing = false;
	s = plba_trace_start(W, "nothing");
	ck_assert_ptr_nonnull(s);
	plba_span_set_str(s, "k", "v");
	plba_span_error(s, "x");
	ck_assert_int_eq(plba_span_traceparent(s, tp, sizeof(tp)), -1);
	ck_assert_ptr_null(plba_span_current(W));
	plba_span_end(s);
	ck_assert_uint_eq(nsent, 0);
	reset();
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("trace");
	TCase *tp = tcase_create("traceparent");
	TCase *sp = tcase_create("spans");

	tcase_add_loop_test(tp, parse_traceparent, 0,
	    (int)(sizeof(parents) / sizeof(parents[0])));
	tcase_add_test(tp, ids_random_and_nonzero);
	tcase_add_test(tp, ids_differ_after_fork);
	tcase_add_test(tp, ids_differ_between_threads);
	suite_add_tcase(s, tp);
	tcase_add_test(sp, spans_nest_and_restore_current);
	tcase_add_test(sp, span_record_has_attributes_events_status);
	tcase_add_test(sp, records_print_as_cjson_would);
	tcase_add_test(sp, ints_keep_every_digit);
	tcase_add_test(sp, task_attrs_as_four_sets);
	tcase_add_test(sp, resume_continues_remote_trace);
	tcase_add_test(sp, unsampled_is_not_recorded_but_propagates);
	tcase_add_test(sp, tracing_off_is_inert);
	tcase_add_test(sp, new_traces_are_sampled_by_their_id);
	tcase_add_test(tp, sample_bound_and_decision);
	suite_add_tcase(s, sp);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
