/* queue-producer: the publishing side of bench/queue, a libplba worker.
 *
 *   queue-producer STATE QUEUE N NCONS throughput
 *   queue-producer STATE QUEUE N NCONS latency RATE
 *
 * STATE is a file shared (mmap) with bench/queue-consumer; its layout is
 * struct bench_state below and must match the copy in queue-consumer.c.
 *
 * 1. Warm-up: publishes bursts of tasks named "warm" until every one of the
 *    NCONS consumer instances has handled at least one, then waits until all
 *    warm-up tasks are handled.  So every consumer is connected, welcomed and
 *    fed before the clock starts, and no start-up time is measured.
 * 2. Records t_start (CLOCK_MONOTONIC ns) in STATE, just before the first
 *    measured publish.
 * 3. Publishes N tasks named "t" with plba_publish_async (up to libplba's
 *    window of 512 unconfirmed), each with a 100-byte JSON payload
 *    {"n":I,"t":NS,"p":"xxx..."} where NS is CLOCK_MONOTONIC just before the
 *    publish call.  throughput: as fast as possible.  latency: paced at RATE
 *    tasks/s on absolute deadlines (clock_nanosleep TIMER_ABSTIME); how late
 *    the producer was against its schedule is recorded in STATE.
 * 4. plba_publish_flush, records t_confirmed, writes STATE.producer (one
 *    line of key=value pairs, by rename), then idles until stopped (an exec
 *    worker that returns would be restarted and publish again).
 *
 * Build: cc -O2 -I include -o queue-producer queue-producer.c -L build/.libs -lplba
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <plba/plba.h>

#define PAYLOAD_LEN	100

#include "queue-state.h"

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct args {
	struct bench_state *st;
	const char	*path;
	const char	*queue;
	uint64_t	 n;
	unsigned	 ncons;
	bool		 latency;
	double		 rate;
};

/* A 100-byte JSON object (exactly PAYLOAD_LEN characters). */
static void
payload(char *buf, uint64_t i, uint64_t t)
{
	int len = snprintf(buf, PAYLOAD_LEN + 1, "{\"n\":%llu,\"t\":%llu,\"p\":\"",
	    (unsigned long long)i, (unsigned long long)t);

	memset(buf + len, 'x', (size_t)(PAYLOAD_LEN - 2 - len));
	memcpy(buf + PAYLOAD_LEN - 2, "\"}", 3);
}

static bool
all_warm(struct bench_state *st, unsigned ncons)
{
	unsigned i;

	for (i = 0; i < ncons; i++)
		if (atomic_load(&st->warm_inst[i]) == 0)
			return false;
	return true;
}

static int
warm_up(plba_worker *w, struct args *a)
{
	struct bench_state *st = a->st;
	uint64_t deadline = now_ns() + 30000000000ull, sent = 0;
	char buf[PAYLOAD_LEN + 1];
	int i;

	while (!all_warm(st, a->ncons)) {
		if (now_ns() > deadline || plba_worker_stopping(w)) {
			fprintf(stderr, "queue-producer: warm-up: not every "
			    "consumer got a task within 30 s\n");
			return -1;
		}
		/* A burst bigger than one instance's prefetch spreads. */
		for (i = 0; i < 256; i++) {
			payload(buf, sent++, now_ns());
			if (plba_publish_async(w, a->queue, "warm", buf) != PLBA_OK)
				return -1;
		}
		if (plba_publish_flush(w) != PLBA_OK)
			return -1;
		atomic_store(&st->warm_sent, sent);
		/* Let that burst drain before the next one. */
		while (atomic_load(&st->warm_handled) < sent) {
			if (now_ns() > deadline)
				break;
			plba_worker_sleep(w, 1);
		}
	}
	while (atomic_load(&st->warm_handled) < sent) {
		if (now_ns() > deadline || plba_worker_stopping(w)) {
			fprintf(stderr, "queue-producer: warm-up tasks not "
			    "handled within 30 s\n");
			return -1;
		}
		plba_worker_sleep(w, 1);
	}
	return 0;
}

/* STATE.producer: one line of key=value pairs, written whole (rename). */
static void
write_result(struct args *a, uint64_t lag_max, uint64_t late)
{
	struct bench_state *st = a->st;
	char tmp[4096], path[4096], line[512];
	FILE *f;

	snprintf(line, sizeof(line), "n=%llu t_start=%llu t_published=%llu "
	    "t_confirmed=%llu lag_max_ns=%llu late_over_100us=%llu\n",
	    (unsigned long long)a->n,
	    (unsigned long long)atomic_load(&st->t_start),
	    (unsigned long long)atomic_load(&st->t_published),
	    (unsigned long long)atomic_load(&st->t_confirmed),
	    (unsigned long long)lag_max, (unsigned long long)late);
	snprintf(tmp, sizeof(tmp), "%s.producer.tmp", a->path);
	snprintf(path, sizeof(path), "%s.producer", a->path);
	if ((f = fopen(tmp, "w")) == NULL || fputs(line, f) == EOF ||
	    fclose(f) == EOF || rename(tmp, path) == -1)
		fprintf(stderr, "queue-producer: %s: %s\n", path, strerror(errno));
}

static int
produce(plba_worker *w, void *arg)
{
	struct args *a = arg;
	struct bench_state *st = a->st;
	char buf[PAYLOAD_LEN + 1];
	uint64_t i, t, t0, due = 0, period = 0, lag, lag_max = 0, late = 0;
	struct timespec ts;
	int rc;

	if (warm_up(w, a) == -1)
		return 1;
	if (a->latency)
		period = (uint64_t)(1e9 / a->rate);
	t0 = now_ns();
	atomic_store(&st->t_start, t0);
	for (i = 0; i < a->n; i++) {
		if (a->latency) {
			due = t0 + i * period;
			ts.tv_sec = (time_t)(due / 1000000000u);
			ts.tv_nsec = (long)(due % 1000000000u);
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME,
			    &ts, NULL) == EINTR)
				;
		}
		t = now_ns();
		if (a->latency) {
			lag = t - due;
			if (lag > lag_max)
				lag_max = lag;
			if (lag > 100000)
				late++;
		}
		payload(buf, i, t);
		if ((rc = plba_publish_async(w, a->queue, "t", buf)) != PLBA_OK) {
			fprintf(stderr, "queue-producer: publish %llu: %s\n",
			    (unsigned long long)i, plba_strerror(rc));
			return 1;
		}
	}
	atomic_store(&st->t_published, now_ns());
	if ((rc = plba_publish_flush(w)) != PLBA_OK) {
		fprintf(stderr, "queue-producer: flush: %s\n", plba_strerror(rc));
		return 1;
	}
	atomic_store(&st->t_confirmed, now_ns());
	atomic_store(&st->lag_max, lag_max);
	atomic_store(&st->lag_over_100us, late);
	write_result(a, lag_max, late);
	while (!plba_worker_sleep(w, 60000))
		;
	return 0;
}

int
main(int argc, char *argv[])
{
	static struct plba_worker_ops ops = { .start = produce };
	struct args a = { 0 };

	if (argc < 6 || (strcmp(argv[5], "latency") == 0 && argc < 7)) {
		fprintf(stderr, "usage: queue-producer STATE QUEUE N NCONS "
		    "throughput | latency RATE\n");
		return 2;
	}
	a.path = argv[1];
	a.queue = argv[2];
	a.n = strtoull(argv[3], NULL, 10);
	a.ncons = (unsigned)atoi(argv[4]);
	a.latency = strcmp(argv[5], "latency") == 0;
	a.rate = a.latency ? atof(argv[6]) : 0;
	if (a.n == 0 || a.ncons == 0 || a.ncons > MAX_CONS ||
	    (a.latency && a.rate <= 0)) {
		fprintf(stderr, "queue-producer: bad arguments\n");
		return 2;
	}
	a.st = state_map(argv[1], a.n);
	a.st->magic = STATE_MAGIC;
	a.st->n = a.n;
	return plba_worker_main(&ops, &a);
}
