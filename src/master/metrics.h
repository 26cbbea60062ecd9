/*
 * /metrics in the Prometheus text format: built by the loop with each
 * snapshot, plus the HTTP request counters that the civetweb threads keep.
 */
#ifndef PLBA_MASTER_METRICS_H
#define PLBA_MASTER_METRICS_H

#include <stdint.h>

struct runtime;
struct snapshot;

/* Durations (ms) at which the task duration histogram has its buckets. */
#define METRICS_BUCKETS	12
extern const double metrics_bucket_ms[METRICS_BUCKETS];

/* A queue's task durations, from dispatch to ack. */
struct histogram {
	uint64_t	counts[METRICS_BUCKETS + 1];	/* the last is +Inf */
	uint64_t	total;
	double		sum_ms;
};

void	 histogram_add(struct histogram *, uint64_t ms);
char	*metrics_build(struct runtime *, const struct snapshot *);
/* The snapshot's text plus HTTP requests by code; malloc'ed or NULL. */
char	*metrics_http(const char *base, const uint64_t by_code[600]);

#endif
