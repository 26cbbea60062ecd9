/*
 * The master's side of tracing: span records arriving from children go to
 * the exporter (file or OTLP, off the loop) and into a bounded ring of
 * recent spans that GET /traces/{id} reads; and the master records on a
 * task's trace what only it sees (enqueue, dispatch, redelivery after a
 * lost consumer, task_timeout, dead-lettering).  With transport none none
 * of this is built.
 */
#ifndef PLBA_MASTER_TRACES_H
#define PLBA_MASTER_TRACES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct runtime;
struct msg;
struct settings;

/*
 * Spans kept for GET /traces/{id}, whatever the transport: the latest,
 * as many as fit both bounds.  A span holds what business code put in
 * it, so its size is bounded only by platform.ipc.max_frame; one over
 * TRACE_RING_SPAN_MAX is exported but not kept.
 */
#define TRACE_RING_SPANS	20000
#define TRACE_RING_BYTES	(32u << 20)
#define TRACE_RING_SPAN_MAX	(1u << 20)

int	 traces_open(struct runtime *);
/*
 * On SIGHUP, before anything else of next is applied: a new transport,
 * destination or service name replaces the exporter, the old one draining
 * on its own thread meanwhile.  Returns 1 when what instances are told
 * (channel_send_tracing, once next is the runtime's settings)
 * changed (tracing on or off, the sample ratio), else 0; -1, having
 * logged why and changed nothing, when next's exporter cannot be built
 * (a trace file that cannot be opened).
 */
int	 traces_reload(struct runtime *, const struct settings *next);
void	 traces_close(struct runtime *);
bool	 traces_on(const struct runtime *);
/* platform.trace.sample when tracing is on: what children are told. */
double	 traces_sample(const struct runtime *);
/* A record from a child (or the master), as JSON text.  The exporter
 * sees it at the next traces_flush(). */
void	 traces_record(struct runtime *, const char *json, size_t len,
	    const char *worker, int instance);
/*
 * A frame from a child that is a trace record in libplba's form: taken
 * (true) without msg_decode().  False: decode it as any other frame.
 * A frame taken may still turn out not to be JSON: its sender (pid) is
 * then named by traces_offender(), soon after.
 */
bool	 traces_frame(struct runtime *, const char *frame, size_t len,
	    const char *worker, int instance, int pid);
/* Hands what was recorded to the exporter: once per loop iteration. */
void	 traces_flush(struct runtime *);
struct trace_offender;
/* A child whose trace frame was found not to be JSON, if there is one. */
bool	 traces_offender(struct runtime *, struct trace_offender *);
struct qtrace;
/*
 * Reads the traceparent in a task's metadata into *trace, once, when the
 * task is published: QTRACE_SAMPLED with the ids, or QTRACE_NONE.
 */
void	 traces_task_context(const char *task_body, size_t len,
	    struct qtrace *trace);
void	 traces_task_context_msg(const struct msg *, struct qtrace *trace);
/*
 * A span of the master's own on the trace a task carries, if any.  trace
 * is the task's context (queue.h); when it is QTRACE_UNKNOWN (a task
 * restored from a journal) it is read from task_body first, and kept.
 */
void	 traces_task_span(struct runtime *, struct qtrace *trace,
	    const char *task_body, const char *name, const char *queue,
	    uint64_t task_id, unsigned attempt, const char *detail, bool error);
/* {"trace_id": ..., "spans": [...]}, or NULL when nothing is held. */
char	*traces_lookup(struct runtime *, const char *trace_id);
/* SIGUSR1 */
void	 traces_reopen(struct runtime *);
struct trace_export_stats;
/* The exporters' counters, of those a reload replaced too; false (and
 * all zero) when tracing has never been on. */
bool	 traces_stats(struct runtime *, struct trace_export_stats *);
/* Logs new drops now and then, from the loop. */
void	 traces_report(struct runtime *);

#endif
