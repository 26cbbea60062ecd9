#ifndef PLBA_TRACE_H
#define PLBA_TRACE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <plba/worker.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The seed's TraceService.  A span is one step of a trace (W3C Trace
 * Context): a name, attributes, events and a status, from start to end.
 * Ended spans go to the master, which hands them to the transport of
 * platform.trace; a worker never talks to a collector itself.
 *
 * Each thread has a current span: a span started while another is current
 * becomes its child and the current one until it ends.  Publishing while a
 * span is current puts its traceparent in the task's metadata, and a queue
 * worker resumes that trace around its handler, so one mail's journey is
 * one trace.  When platform.trace.transport is none every call here is a
 * cheap no-op and start functions return a shared inert span.
 */
typedef struct plba_span plba_span;

/* A new trace: a root span, current from now on.  Never NULL. */
plba_span	*plba_trace_start(plba_worker *, const char *name);
/* A child of this thread's current span (a root when there is none). */
plba_span	*plba_span_start(plba_worker *, const char *name);
/* A span whose parent is a remote one, given as a traceparent header
 * value ("00-<trace id>-<span id>-<flags>"); an invalid or missing value
 * starts a new trace.  An unsampled parent (flags 00) makes the whole
 * subtree unrecorded, as W3C asks. */
plba_span	*plba_trace_resume(plba_worker *, const char *traceparent,
		    const char *name);
/* This thread's current span, or NULL. */
plba_span	*plba_span_current(plba_worker *);

void		 plba_span_set_str(plba_span *, const char *key, const char *value);
void		 plba_span_set_int(plba_span *, const char *key, long long value);
void		 plba_span_set_double(plba_span *, const char *key, double value);
void		 plba_span_set_bool(plba_span *, const char *key, bool value);
/* A point in time inside the span, e.g. "order created". */
void		 plba_span_event(plba_span *, const char *name);
/* The step failed (printf-style message) or succeeded. */
void		 plba_span_error(plba_span *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
void		 plba_span_ok(plba_span *);
/* Writes the span's traceparent (55 characters and a NUL); returns 0,
 * or -1 when len is too small. */
int		 plba_span_traceparent(const plba_span *, char *buf, size_t len);
/* Ends the span: it is sent to the master and freed; its parent becomes
 * current again.  Spans end in the reverse order they started. */
void		 plba_span_end(plba_span *);

/* A trace message: an event on the current span (seed: write trace
 * messages).  A no-op without a current span. */
void		 plba_trace_message(plba_worker *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif

#endif
