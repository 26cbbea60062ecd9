/*
 * Hands span records to the configured trace transport (platform.trace),
 * off the master's event loop.  The loop thread only copies a record into a
 * bounded buffer under a mutex; one exporter thread per exporter does all
 * the I/O: appending JSON lines to a file, or POSTing OTLP/HTTP JSON to a
 * collector with libcurl.  A slow or dead collector costs dropped spans,
 * counted in the stats, never a stalled supervisor.
 *
 * A record, as the master receives it from a worker (or records itself):
 *   {"trace_id":"<32 hex>","span_id":"<16 hex>","parent_span_id":"<16 hex>",
 *    "name":"mail.parse","kind":"internal"|"server"|"client"|"producer"|
 *    "consumer","start_ns":"<decimal>","end_ns":"<decimal>",
 *    "attributes":{"key":string|number|bool,...},
 *    "events":[{"name":"...","time_ns":"<decimal>","attributes":{...}}],
 *    "status":{"code":"unset"|"ok"|"error","message":"..."}}
 * parent_span_id is absent (or "") for a root.  A record whose ids are not
 * hex of the right length (or all zeros), whose name is missing or empty,
 * or whose start_ns/end_ns are not decimal strings is invalid: it is
 * dropped and counted (invalid, and dropped), never exported.  An unknown
 * kind is exported as SPAN_KIND_UNSPECIFIED, a missing one as INTERNAL;
 * a bad event is left out of its span.
 *
 * File transport: one JSON object per line, the record (re-serialised on
 * one line) plus a member
 *   "resource":{"service.name":"<platform.name>","worker":"<w>","instance":N}
 * replacing any "resource" the record had.  Spans the master records itself
 * have worker "plba-master" and instance -1.
 *
 * OTLP transport: POST of an ExportTraceServiceRequest in the OTLP/HTTP JSON
 * encoding; see otlp_encode() in otlp.h.  Resource attributes are service.name,
 * worker (string) and instance (int).
 */
#ifndef PLBA_MASTER_TRACE_EXPORT_H
#define PLBA_MASTER_TRACE_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct settings;
struct task_span;
struct trace_exporter;

/* Records buffered at most (including a batch being sent), whichever first. */
#define TRACE_EXPORT_MAX_RECORDS	10000
#define TRACE_EXPORT_MAX_BYTES		(16u << 20)
/* Of which the log, where records go one after the other (and stay, after
 * their export, until the log comes round to them again). */
#define TRACE_EXPORT_LOG_BYTES		(8u << 20)
/* An OTLP batch leaves at this many spans, or this long after its first. */
#define TRACE_EXPORT_BATCH		512
#define TRACE_EXPORT_BATCH_BYTES	(4u << 20)
#define TRACE_EXPORT_DELAY_MS		1000
#define TRACE_EXPORT_CONNECT_TIMEOUT_MS	2000
#define TRACE_EXPORT_TIMEOUT_MS		5000
/* A batch failing with a connection error, 5xx or 429 is tried this often,
 * waiting 200ms, then twice as long each time (at most 10s, or what the
 * collector's Retry-After says, capped the same). */
#define TRACE_EXPORT_TRIES		3
#define TRACE_EXPORT_BACKOFF_MS		200
#define TRACE_EXPORT_BACKOFF_MAX_MS	10000

/* The worker name of spans the master records itself (instance -1). */
#define TRACE_EXPORT_MASTER		"plba-master"

struct trace_export_stats {
	uint64_t	submitted;	/* records handed to submit */
	uint64_t	exported;	/* written to the file or accepted by the collector */
	uint64_t	dropped;	/* lost: buffer full, invalid, failed batch, shutdown */
	uint64_t	failed_batches;	/* batches given up (after retries, or a 4xx) */
	uint64_t	retries;	/* batches sent again */
	uint64_t	invalid;	/* of dropped: records that are not valid spans */
	uint64_t	queued;		/* buffered now, including a batch in flight */
	uint64_t	errors;		/* times last_error was set: a change means news */
	char		last_error[256];/* "" until something fails */
};

/*
 * Builds the exporter that settings->trace asks for and starts its thread.
 * TRACE_NONE: returns NULL with err set to "" (nothing is built, and every
 * function below accepts NULL).  TRACE_FILE opens settings->trace.file for
 * appending; TRACE_OTLP checks that settings->trace.endpoint is an http or
 * https URL.  On error returns NULL with the reason in err
 * ("platform.trace.file: /x/y: No such file or directory").  Resource
 * service.name is settings->name.  Nothing is kept from settings.  Call from
 * the loop thread; the new thread blocks every signal.
 */
struct trace_exporter *trace_exporter_new(const struct settings *,
		    char *err, size_t errlen);

/*
 * Copies a record (len bytes, not necessarily NUL-terminated) and the name
 * of the worker that sent it into the buffer, and returns.  When the buffer
 * is full, or the exporter is stopping, the record is dropped and counted.
 * worker NULL means TRACE_EXPORT_MASTER.  Never blocks on I/O: the mutex is
 * only ever held briefly.
 */
void	trace_exporter_submit(struct trace_exporter *, const char *record_json,
	    size_t len, const char *worker, int instance);

/*
 * The same in two steps, for the loop: _stage copies the record without
 * taking the mutex (into a block reused from earlier records); the thread
 * sees what was staged, and the counters count it, at the next _flush,
 * which takes the mutex and wakes the thread once for all of it.  The loop
 * flushes once per iteration.  Staged records count against the bounds
 * as they stood at the last flush.  _free flushes first.  Loop thread only.
 */
uint64_t trace_exporter_stage(struct trace_exporter *, const char *record_json,
	    size_t len, const char *worker, int instance);
void	trace_exporter_flush(struct trace_exporter *);
/* A record span_text_check() found SPAN_TEXT_VALID: not checked again. */
uint64_t trace_exporter_stage_valid(struct trace_exporter *,
	    const char *record_json, size_t len, const char *worker,
	    int instance);
/*
 * A record of a trace frame whose text begins as libplba's do: staged
 * unchecked, for the exporter thread to check.  When the frame turns out
 * not to be JSON (msg_decode() fails on it), the record is dropped as
 * invalid and its sender (worker, instance, pid) waits for the loop in
 * trace_exporter_offender().
 */
uint64_t trace_exporter_stage_frame(struct trace_exporter *,
	    const char *record_json, size_t len, const char *worker,
	    int instance, int pid);
/* What a trace frame begins with; the record follows, then '}'. */
#define TRACE_FRAME_HEAD	"{\"type\":\"trace\",\"record\":"

#define TRACE_EXPORT_OFFENDERS	8
struct trace_offender {
	char		 worker[72];
	int		 instance;
	int		 pid;
	char		 why[256];	/* as msg_decode() said */
};
/* Takes one offender found since, if any; cheap when there is none. */
bool	trace_exporter_offender(struct trace_exporter *,
	    struct trace_offender *);

/*
 * The stages return where the record went in the exporter's log, or 0
 * when it did not go there (dropped, or in a block of its own).  A record
 * stays in the log after its export until later records take its bytes:
 * _logged finds it there while it does, for the /traces ring, which need
 * not copy it.  Loop thread only; not for an exporter retired (whose
 * records are dropped and their bytes used again).
 */
struct trace_logged {
	const char	*json;		/* NUL-terminated, len bytes */
	size_t		 len;
	/* Or, json NULL, a span of the master's (task_span.h). */
	const struct task_span *task_span;
	const char	*worker;
	int		 instance;
	bool		 valid;		/* staged with _stage_valid */
};
bool	trace_exporter_logged(const struct trace_exporter *, uint64_t at,
	    struct trace_logged *);
/*
 * A span of the master's own, staged as its fields (copied, strings too)
 * with worker TRACE_EXPORT_MASTER and instance -1: the exporter thread
 * prints it.  Returns as the stages above.
 */
uint64_t trace_exporter_stage_task_span(struct trace_exporter *,
	    const struct task_span *);

/* On SIGUSR1: asks the thread to reopen the trace file (file transport
 * only; otherwise nothing).  Failure keeps the old file and sets last_error. */
void	trace_exporter_reopen(struct trace_exporter *);

/* A consistent copy of the counters and the last error.  NULL: all zero. */
void	trace_exporter_stats(struct trace_exporter *, struct trace_export_stats *);

/*
 * Stops accepting records and lets the thread export what is buffered for
 * at most deadline_ms (a transfer still running then is aborted; what is
 * left is dropped), without waiting for it: for an exporter replaced by a
 * reload.  A second call can only bring the deadline closer.  NULL is a
 * no-op.  _done says when the thread has finished; the counters stay
 * readable until _free.
 */
void	trace_exporter_retire(struct trace_exporter *, unsigned deadline_ms);
bool	trace_exporter_done(struct trace_exporter *);

/*
 * Retires the exporter as above, joins the thread, closes the file and
 * frees everything.  NULL is a no-op.  This is the only call that waits,
 * and for no longer than deadline_ms plus a moment (nothing, once _done).
 */
void	trace_exporter_free(struct trace_exporter *, unsigned deadline_ms);
/* The same, with the final counters copied to st (when not NULL): what
 * the last moments cost is known only once the thread is done. */
void	trace_exporter_close(struct trace_exporter *, unsigned deadline_ms,
	    struct trace_export_stats *st);

#endif
