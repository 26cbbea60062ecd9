/* trace-producer: bench/queue-producer with every publish inside a span,
 * for bench/trace.
 *
 *   trace-producer STATE QUEUE N NCONS throughput|latency [RATE]
 *
 * The very same program as queue-producer.c (it is compiled in, unchanged),
 * except that each plba_publish_async() call, warm-up included, becomes
 *
 *   span = plba_trace_start(w, "publish");    a new trace, current span
 *   plba_publish_async(...);                  carries its traceparent
 *   plba_span_end(span);                      the record goes to the master
 *
 * so every task starts a trace of its own, which the master (plba.enqueue,
 * plba.dispatch) and the consumer (a consumer span around the handler)
 * continue.  With platform.trace.transport none both calls are no-ops, and
 * this program against queue-producer measures what the no-op costs.
 *
 * Build: cc -O2 -I include -o trace-producer trace-producer.c -L build/.libs -lplba
 * (from bench/, or with -I bench, so that queue-producer.c is found).
 */
#define _GNU_SOURCE
#include <plba/plba.h>

static int
traced_publish_async(plba_worker *w, const char *queue, const char *name,
    const char *payload_json)
{
	plba_span *span = plba_trace_start(w, "publish");
	int rc = plba_publish_async(w, queue, name, payload_json);

	plba_span_end(span);
	return rc;
}

#define plba_publish_async traced_publish_async
#include "queue-producer.c"
