/* queue-consumer: the consuming side of bench/queue, a libplba queue worker.
 *
 *   queue-consumer STATE N throughput|latency [WORK]
 *   queue-consumer --calibrate USEC
 *
 * STATE is the file shared (mmap) with bench/queue-producer; the layout is
 * struct bench_state, identical in both files.  Every task is acked at once
 * (the handler returns PLBA_TASK_OK; libplba then writes the ack).
 *
 * Tasks named "warm" (the producer's warm-up) only count in warm_handled
 * and warm_inst[instance].  The measured tasks ("t"):
 *
 * throughput: counted (no payload access).  The instance whose handler
 *   counts the N-th task reads CLOCK_MONOTONIC (t_end) and writes STATE.result:
 *   so the measured interval is the producer's first publish call to the
 *   handler of the last task, i.e. publish -> last ack less one ack write.
 * latency: the handler takes the producer's CLOCK_MONOTONIC stamp "t" out of
 *   the payload, then reads the clock just before returning (so just before
 *   libplba writes the ack) and stores (now - t) in the shared array.  The
 *   instance that stores the N-th sample sorts a copy and writes the
 *   percentiles to STATE.result.
 *
 * WORK (bench/trace --work): the handler of each measured task first runs
 * a fixed loop of WORK steps, the stand-in for a handler that does
 * something.  A count of steps, not a time, so that every consumer of
 * every setting does the same work however busy the box is.
 * --calibrate prints the steps that take USEC microseconds of this
 * process's CPU, measured once for all of them.
 *
 * STATE.result is one line of key=value pairs, written to a temporary file
 * and renamed, so a reader sees all of it or nothing.
 *
 * Build: cc -O2 -I include -o queue-consumer queue-consumer.c -L build/.libs -lplba
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


#include "queue-state.h"

static struct bench_state *st;
static int64_t *lat;
static uint64_t n;
static const char *state_path;
static bool latency;

static uint64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
static uint64_t work;
static volatile uint64_t work_sink;

/* steps of a xorshift: a dependency chain the compiler cannot shorten. */
static uint64_t
spin(uint64_t steps)
{
	uint64_t x = 88172645463325252u;

	while (steps-- > 0) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	return x;
}

/* The steps of spin() in usec of CPU: the fastest of a few tries, the one
 * least disturbed by the rest of the box. */
static uint64_t
calibrate(uint64_t usec)
{
	const uint64_t steps = UINT64_C(1) << 22;
	uint64_t best = UINT64_MAX, t0, t;
	int i;

	for (i = 0; i < 7; i++) {
		t0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		work_sink = spin(steps);
		if ((t = clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0) < best)
			best = t;
	}
	return (uint64_t)((double)steps * (double)usec * 1000.0 /
	    (double)(best > 0 ? best : 1) + 0.5);
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The nearest-rank percentile of sorted v[0..n-1]. */
static int64_t
pct(const int64_t *v, uint64_t cnt, double p)
{
	uint64_t k = (uint64_t)(p / 100.0 * (double)cnt + 0.999999);

	if (k < 1)
		k = 1;
	if (k > cnt)
		k = cnt;
	return v[k - 1];
}

static void
write_result(void)
{
	char tmp[4096], path[4096], line[2048];
	int64_t *v;
	uint64_t i;
	double sum = 0;
	int len, fd, k;

	len = snprintf(line, sizeof(line), "n=%llu t_start=%llu t_end=%llu",
	    (unsigned long long)n, (unsigned long long)atomic_load(&st->t_start),
	    (unsigned long long)atomic_load(&st->t_end));
	len += snprintf(line + len, sizeof(line) - (size_t)len, " per_instance=");
	for (k = 0; k < MAX_CONS && atomic_load(&st->inst[k]) > 0; k++)
		len += snprintf(line + len, sizeof(line) - (size_t)len, "%s%llu",
		    k > 0 ? "," : "",
		    (unsigned long long)atomic_load(&st->inst[k]));
	if (latency && (v = malloc(n * sizeof(*v))) != NULL) {
		memcpy(v, lat, n * sizeof(*v));
		qsort(v, n, sizeof(*v), cmp64);
		for (i = 0; i < n; i++)
			sum += (double)v[i];
		len += snprintf(line + len, sizeof(line) - (size_t)len,
		    " min_ns=%lld p50_ns=%lld p90_ns=%lld p99_ns=%lld "
		    "p999_ns=%lld max_ns=%lld mean_ns=%.0f",
		    (long long)v[0], (long long)pct(v, n, 50),
		    (long long)pct(v, n, 90), (long long)pct(v, n, 99),
		    (long long)pct(v, n, 99.9), (long long)v[n - 1],
		    sum / (double)n);
		free(v);
	}
	snprintf(line + len, sizeof(line) - (size_t)len, "\n");
	snprintf(tmp, sizeof(tmp), "%s.result.tmp", state_path);
	snprintf(path, sizeof(path), "%s.result", state_path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1 ||
	    write(fd, line, strlen(line)) != (ssize_t)strlen(line) ||
	    close(fd) == -1 || rename(tmp, path) == -1)
		fprintf(stderr, "queue-consumer: %s: %s\n", path, strerror(errno));
}

static enum plba_task_result
handle(plba_worker *w, plba_task *t, void *arg)
{
	unsigned inst = plba_worker_instance(w) % MAX_CONS;
	const char *name = plba_task_name(t), *p;
	uint64_t slot, now, sent;
	int64_t d = 0;

	(void)arg;
	if (name[0] == 'w') {	/* "warm" */
		atomic_fetch_add(&st->warm_inst[inst], 1);
		atomic_fetch_add(&st->warm_handled, 1);
		return PLBA_TASK_OK;
	}
	if (latency) {
		p = strstr(plba_task_payload(t), "\"t\":");
		sent = p != NULL ? strtoull(p + 4, NULL, 10) : 0;
		now = clock_ns(CLOCK_MONOTONIC);
		d = (int64_t)(now - sent);
	}
	if (work > 0)
		work_sink = spin(work);
	atomic_fetch_add(&st->inst[inst], 1);
	slot = atomic_fetch_add(&st->claimed, 1);
	if (slot >= n) {		/* a redelivery: not expected here */
		atomic_fetch_add(&st->extra, 1);
		return PLBA_TASK_OK;
	}
	if (!latency) {
		if (slot == n - 1) {
			atomic_store(&st->t_end, clock_ns(CLOCK_MONOTONIC));
			write_result();
		}
		return PLBA_TASK_OK;
	}
	lat[slot] = d;
	if (atomic_fetch_add(&st->stored, 1) == n - 1) {
		atomic_store(&st->t_end, now);
		write_result();
	}
	return PLBA_TASK_OK;
}

int
main(int argc, char *argv[])
{
	if (argc == 3 && strcmp(argv[1], "--calibrate") == 0) {
		printf("%llu\n", (unsigned long long)calibrate(
		    strtoull(argv[2], NULL, 10)));
		return 0;
	}
	if (argc < 4) {
		fprintf(stderr, "usage: queue-consumer STATE N "
		    "throughput|latency [WORK]\n"
		    "       queue-consumer --calibrate USEC\n");
		return 2;
	}
	if (argc > 4)
		work = strtoull(argv[4], NULL, 10);
	state_path = argv[1];
	n = strtoull(argv[2], NULL, 10);
	latency = strcmp(argv[3], "latency") == 0;
	if (n == 0) {
		fprintf(stderr, "queue-consumer: bad arguments\n");
		return 2;
	}
	st = state_map(state_path, n);
	lat = (int64_t *)((char *)st + STATE_HDR);
	return plba_queue_worker_main(handle, NULL);
}
