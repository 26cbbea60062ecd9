#include "config.h"

#include <sys/resource.h>

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "queue.h"
#include "runtime.h"
#include "status.h"
#include "store.h"
#include "trace_export.h"
#include "traces.h"
#include "worker.h"

const double metrics_bucket_ms[METRICS_BUCKETS] = {
	1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 5000, 30000
};

void
histogram_add(struct histogram *h, uint64_t ms)
{
	size_t i;

	for (i = 0; i < METRICS_BUCKETS && (double)ms > metrics_bucket_ms[i]; i++)
		;
	h->counts[i]++;
	h->total++;
	h->sum_ms += (double)ms;
}

/* A growing text buffer; on allocation failure it stays NULL. */
struct buf {
	char	*s;
	size_t	 len;
	size_t	 cap;
	bool	 failed;
};

static void
bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = true;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		if ((p = realloc(b->s, b->cap * 2 + (size_t)n + 64)) == NULL) {
			b->failed = true;
			return;
		}
		b->s = p;
		b->cap = b->cap * 2 + (size_t)n + 64;
	}
}

static char *
done(struct buf *b)
{
	if (b->failed) {
		free(b->s);
		return NULL;
	}
	return b->s;
}

static void
binit(struct buf *b)
{
	memset(b, 0, sizeof(*b));
	b->cap = 4096;
	if ((b->s = malloc(b->cap)) == NULL)
		b->failed = true;
	else
		b->s[0] = '\0';
}

static void
help(struct buf *b, const char *name, const char *type, const char *text)
{
	bprintf(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

/* A metric of one series without labels. */
static void
single(struct buf *b, const char *name, const char *type, const char *text,
    uint64_t value)
{
	help(b, name, type, text);
	bprintf(b, "%s %llu\n", name, (unsigned long long)value);
}

/* labels: "" or pairs each followed by a comma, such as `queue="q",`. */
static void
histogram_print(struct buf *b, const char *name, const char *labels,
    const struct histogram *h)
{
	uint64_t cum = 0;
	size_t k;
	int n = (int)strlen(labels);

	for (k = 0; k < METRICS_BUCKETS; k++) {
		cum += h->counts[k];
		bprintf(b, "%s_bucket{%sle=\"%g\"} %llu\n", name, labels,
		    metrics_bucket_ms[k] / 1000.0, (unsigned long long)cum);
	}
	bprintf(b, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, labels,
	    (unsigned long long)h->total);
	/* Without the trailing comma, and without braces when empty. */
	if (n > 0) {
		bprintf(b, "%s_sum{%.*s} %g\n", name, n - 1, labels,
		    h->sum_ms / 1000.0);
		bprintf(b, "%s_count{%.*s} %llu\n", name, n - 1, labels,
		    (unsigned long long)h->total);
	} else {
		bprintf(b, "%s_sum %g\n", name, h->sum_ms / 1000.0);
		bprintf(b, "%s_count %llu\n", name,
		    (unsigned long long)h->total);
	}
}

/* Counters of every exporter there has been: they never go back, across
 * reloads that replace the exporter or turn tracing off. */
static void
trace_metrics(struct buf *b, struct runtime *rt)
{
	struct trace_export_stats ts;

	if (!traces_stats(rt, &ts))
		return;
	single(b, "plba_trace_spans_exported_total", "counter",
	    "Span records written to the file or accepted by the collector.",
	    ts.exported);
	single(b, "plba_trace_spans_dropped_total", "counter",
	    "Span records lost: buffer full, collector down, invalid.",
	    ts.dropped);
	single(b, "plba_trace_batches_failed_total", "counter",
	    "OTLP batches given up after retries.", ts.failed_batches);
}

/* The durable queues' database, when some queue is durable. */
static void
store_metrics(struct buf *b, struct store *store)
{
	struct store_stats st;

	store_stats(store, mono_ms(), &st);
	single(b, "plba_durable_commits_total", "counter",
	    "Transactions committed to the durable queues' database.",
	    st.commits);
	single(b, "plba_durable_commit_failures_total", "counter",
	    "Transactions that failed and were rolled back.", st.failures);
	help(b, "plba_durable_commit_seconds", "histogram",
	    "Time from handing a transaction to the writer to its end.");
	histogram_print(b, "plba_durable_commit_seconds", "", st.commit_ms);
	help(b, "plba_durable_writing_seconds", "gauge",
	    "How long the commit in progress has run; 0 when none is.");
	bprintf(b, "plba_durable_writing_seconds %g\n",
	    (double)st.writing_ms / 1000.0);
	single(b, "plba_durable_waiting_bytes", "gauge",
	    "Changes journaled and not yet committed.", st.waiting_bytes);
}

static unsigned
shown(struct runtime *rt, const struct worker *w)
{
	return w->def != NULL || status_removed_stopping(rt, w) ?
	    worker_nshown(w) : 0;
}

char *
metrics_build(struct runtime *rt, const struct snapshot *snap)
{
	static const char *const hnames[] = { "ok", "degraded", "unhealthy" };
	struct queue_stats st;
	struct buf b;
	size_t i, k;
	unsigned j;
	const char *detail;
	char label[256];

	binit(&b);
	help(&b, "plba_health", "gauge", "Runtime health: 1 for the current value.");
	for (k = 0; k < 3; k++)
		bprintf(&b, "plba_health{health=\"%s\"} %d\n", hnames[k],
		    snap->health == (enum health)k);
	help(&b, "plba_ready", "gauge", "1 when every critical worker has a ready instance.");
	bprintf(&b, "plba_ready %d\n", snap->ready);

	/* The instances /status shows: a version that a reload replaced is
	 * left out, or its series would repeat the labels of the one that
	 * replaces it, which shows its instances instead. */
	help(&b, "plba_instance_up", "gauge", "1 when the instance has a running process.");
	for (i = 0; i < rt->nworkers; i++)
		for (j = 0; j < shown(rt, rt->workers[i]); j++)
			bprintf(&b, "plba_instance_up{worker=\"%s\",instance=\"%u\"} %d\n",
			    rt->workers[i]->name, j,
			    worker_shown(rt->workers[i], j)->pid > 0);
	help(&b, "plba_instance_health", "gauge", "Instance health: 1 for the current value.");
	for (i = 0; i < rt->nworkers; i++)
		for (j = 0; j < shown(rt, rt->workers[i]); j++) {
			enum health h = instance_health(
			    worker_shown(rt->workers[i], j), &detail);

			for (k = 0; k < 3; k++)
				bprintf(&b, "plba_instance_health{worker=\"%s\","
				    "instance=\"%u\",health=\"%s\"} %d\n",
				    rt->workers[i]->name, j, hnames[k], h == (enum health)k);
		}
	help(&b, "plba_instance_restarts_total", "counter", "Restarts of the instance.");
	for (i = 0; i < rt->nworkers; i++)
		for (j = 0; j < shown(rt, rt->workers[i]); j++)
			bprintf(&b, "plba_instance_restarts_total{worker=\"%s\","
			    "instance=\"%u\"} %u\n", rt->workers[i]->name, j,
			    worker_shown(rt->workers[i], j)->restarts);
	help(&b, "plba_worker_failed", "gauge", "1 when the worker exhausted max_restarts.");
	for (i = 0; i < rt->nworkers; i++)
		if (rt->workers[i]->def != NULL)
			bprintf(&b, "plba_worker_failed{worker=\"%s\"} %d\n",
		    rt->workers[i]->name, rt->workers[i]->hist.failed);

#define QUEUE_METRIC(name, type, text, field) do {			\
	help(&b, name, type, text);					\
	for (i = 0; i < rt->nqueues; i++) {				\
		queue_stats(rt->queues[i].q, &st);			\
		bprintf(&b, name "{queue=\"%s\"} %llu\n",		\
		    queue_name(rt->queues[i].q),			\
		    (unsigned long long)st.field);			\
	}								\
} while (0)
	QUEUE_METRIC("plba_queue_depth", "gauge", "Tasks waiting for a consumer.", depth);
	QUEUE_METRIC("plba_queue_in_flight", "gauge", "Tasks held by consumers.", in_flight);
	QUEUE_METRIC("plba_queue_dead", "gauge", "Tasks in the dead-letter list.", dead);
	QUEUE_METRIC("plba_queue_capacity", "gauge", "Depth at which publishers wait.", capacity);
	QUEUE_METRIC("plba_queue_bytes", "gauge", "Bytes of the tasks waiting for a consumer.", bytes);
	QUEUE_METRIC("plba_queue_max_bytes", "gauge", "Bytes waiting at which publishers wait (0: no limit).", max_bytes);
	QUEUE_METRIC("plba_queue_dead_max", "gauge", "Dead letters kept at most.", dead_max);
	QUEUE_METRIC("plba_queue_dead_bytes", "gauge", "Bytes of the dead letters.", dead_bytes);
	QUEUE_METRIC("plba_queue_dead_max_bytes", "gauge",
	    "Bytes of dead letters kept at most (0: no limit).", dead_max_bytes);
	QUEUE_METRIC("plba_queue_dead_dropped_total", "counter",
	    "Oldest dead letters dropped past dead_max or dead_max_bytes.", dead_dropped);
	QUEUE_METRIC("plba_queue_published_total", "counter", "Tasks published.", published);
	QUEUE_METRIC("plba_queue_acked_total", "counter", "Tasks acked.", acked);
	QUEUE_METRIC("plba_queue_nacked_total", "counter", "Tasks nacked.", nacked);
	QUEUE_METRIC("plba_queue_redelivered_total", "counter",
	    "Tasks delivered again after a nack or a lost consumer.", redelivered);
#undef QUEUE_METRIC

	help(&b, "plba_queue_task_duration_seconds", "histogram",
	    "Time from dispatch to ack.");
	for (i = 0; i < rt->nqueues; i++) {
		snprintf(label, sizeof(label), "queue=\"%s\",",
		    queue_name(rt->queues[i].q));
		histogram_print(&b, "plba_queue_task_duration_seconds", label,
		    &rt->queues[i].hist);
	}
	if (rt->store != NULL)
		store_metrics(&b, rt->store);
	trace_metrics(&b, rt);
	return done(&b);
}

static unsigned
open_fds(void)
{
	struct dirent *e;
	unsigned n = 0;
	DIR *d;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n > 0 ? n - 1 : 0;	/* less the one opendir holds */
}

static long
rss_bytes(void)
{
	long pages = 0, size;
	FILE *f;

	if ((f = fopen("/proc/self/statm", "re")) == NULL)
		return 0;
	if (fscanf(f, "%ld %ld", &size, &pages) != 2)
		pages = 0;
	fclose(f);
	return pages * sysconf(_SC_PAGESIZE);
}

char *
metrics_http(const char *base, const uint64_t by_code[600])
{
	struct rusage ru;
	struct rlimit rl;
	struct buf b;
	int code;

	binit(&b);
	bprintf(&b, "%s", base != NULL ? base : "");
	single(&b, "plba_log_lines_dropped_total", "counter",
	    "Log lines lost because the log's destination could not keep up.",
	    log_dropped_total());
	help(&b, "plba_http_requests_total", "counter", "HTTP requests answered, by status code.");
	for (code = 100; code < 600; code++)
		if (by_code[code] > 0)
			bprintf(&b, "plba_http_requests_total{code=\"%d\"} %llu\n",
			    code, (unsigned long long)__atomic_load_n(&by_code[code],
			    __ATOMIC_RELAXED));
	getrusage(RUSAGE_SELF, &ru);
	help(&b, "process_cpu_seconds_total", "counter", "Master CPU time.");
	bprintf(&b, "process_cpu_seconds_total %g\n",
	    (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	help(&b, "process_resident_memory_bytes", "gauge", "Master resident memory.");
	bprintf(&b, "process_resident_memory_bytes %ld\n", rss_bytes());
	help(&b, "process_open_fds", "gauge", "Master open file descriptors.");
	bprintf(&b, "process_open_fds %u\n", open_fds());
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		help(&b, "process_max_fds", "gauge", "Master file descriptor limit.");
		bprintf(&b, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
	}
	return done(&b);
}
