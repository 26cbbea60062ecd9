/*
 * libplba's child runtime: the worker side of the protocol, run inside
 * each instance.  A channel thread reads fd 3, answers the master, sends
 * heartbeats and turns stop requests and SIGTERM into a stop; the main
 * thread runs the worker's start() or the queue worker's handler loop.
 */
#ifndef PLBA_CHILD_H
#define PLBA_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "registry.h"

struct plba_worker;
struct plba_span;

/* For trace.c: whether the master collects traces, which new traces are
 * recorded (a tracectx_sample() bound), and the way spans go. */
bool	child_tracing(struct plba_worker *);
uint64_t child_trace_sample(struct plba_worker *);
int	child_send_trace(struct plba_worker *, const char *json, size_t len);
/* A span resumed from a traceparent, of the given kind ("consumer"). */
struct plba_span *trace_resume_kind(struct plba_worker *, const char *traceparent,
	    const char *name, const char *kind);
/*
 * A consumer span's plba.queue, plba.task.name, plba.task.id and
 * plba.task.attempt, first among its attributes, as four calls of
 * plba_span_set_str() and _int() would set them.  The strings are the
 * task's: they must outlive the span.
 */
void	trace_span_set_task(struct plba_span *, const char *queue,
	    const char *name, const char *id, unsigned attempt);
/* Its plba.task.outcome, last among its attributes: a word of the
 * library's own ("ack", ...), a literal with nothing to escape. */
void	trace_span_set_outcome(struct plba_span *, const char *outcome);

/* Runs one worker to its end; returns the process exit status.  healths
 * (may be NULL) are the module's health contributors. */
int	child_run(const struct reg_worker *, const struct plba_registry *healths);

#endif
