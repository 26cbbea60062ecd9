/*
 * What the exporter (trace_export.c: the buffer, the loop's side and the
 * exporter thread) shares with the two transports its thread drives: the
 * trace file (trace_file.c) and an OTLP/HTTP collector (otlp_http.c).
 * Private to those three files; everyone else uses trace_export.h.
 *
 * A transport gets a batch of records, a linked list the thread took off
 * the buffer, and must give it back with trace_export_finish() whatever
 * happens: that is what frees the batch's room in the buffer.  Transports
 * run on the exporter thread, without the exporter's mutex, and never
 * call the master's log functions: what goes wrong goes to
 * trace_export_error() for the loop to report.
 */
#ifndef PLBA_MASTER_TRACE_SINK_H
#define PLBA_MASTER_TRACE_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define NS_PER_MS	UINT64_C(1000000)

struct trace_exporter;

/* One record in the buffer. */
struct rec {
	struct rec	*next;
	uint64_t	 at;		/* monotonic ns when submitted */
	size_t		 size;		/* what it counts against the byte bound */
	size_t		 len;		/* of the record text */
	int		 instance;
	uint32_t	 gap;		/* log bytes skipped before it (wrap) */
	int		 pid;		/* of the sender; 0: the master */
	bool		 in_log;	/* in the exporter's log, else malloc'ed */
	bool		 valid;		/* span_text_check() said VALID */
	bool		 task_span;	/* data holds a struct task_span */
	bool		 unvetted;	/* a trace frame's, not checked yet */
	/* The exporter thread's alone, set when it vets the record. */
	bool		 vetted;	/* found VALID after all */
	bool		 rejected;	/* its frame was not JSON */
	uint32_t	 vet_len;	/* the record's length when the frame
					 * had more after it; else 0 */
	const char	*worker;	/* into data, after the record */
	/* Record text, NUL, worker, NUL; or a task_span, its strings after
	 * it, and worker TRACE_EXPORT_MASTER. */
	char		 data[];
};

struct rec_text;

/*
 * The record's text, as the transports read it: as staged, or a span of
 * the master's printed into t, which the caller frees with
 * rec_text_free().  *valid: canonical as it stands (span_text.h); NULL
 * when memory ran out.
 */
const char *trace_rec_text(const struct rec *, struct rec_text *t,
	    size_t *len, bool *valid);

static inline uint64_t
trace_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Gives back a batch of n records, of which exported reached the
 * transport's far side and invalid were not valid spans; failed counts a
 * batch given up. */
void	trace_export_finish(struct trace_exporter *, struct rec *batch,
	    size_t n, size_t exported, size_t invalid, bool failed);

/* Sets last_error, for the loop to log. */
void	trace_export_error(struct trace_exporter *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Counts a batch sent again. */
void	trace_export_retried(struct trace_exporter *);

/*
 * Sleeps ms between tries of a batch.  False, at once, when the exporter
 * is stopping and its deadline comes before the next try.
 */
bool	trace_export_backoff(struct trace_exporter *, uint64_t ms);

/* The monotonic ns at which a transfer must be abandoned; 0: none yet.
 * Set once the exporter is stopping, from any thread. */
uint64_t trace_export_abort_at(struct trace_exporter *);

/* The file transport. */
struct trace_file;

struct trace_file *trace_file_open(const char *path, const char *service,
		    char *err, size_t errlen);
void	trace_file_send(struct trace_exporter *, struct trace_file *,
	    struct rec *batch, size_t n);
/* SIGUSR1: the rotated file is let go.  Failure keeps the old one. */
void	trace_file_reopen(struct trace_exporter *, struct trace_file *);
void	trace_file_close(struct trace_file *);

/* The otlp transport. */
struct otlp_http;

/* An http or https URL with a host; what to say of another. */
bool	otlp_http_endpoint_ok(const char *url);
#define OTLP_ENDPOINT_WANTED	"not an http:// or https:// URL with a host"
/* Call before the exporter thread exists (curl_global_init). */
struct otlp_http *otlp_http_new(const char *endpoint, const char *service,
		    char *err, size_t errlen);
void	otlp_http_send(struct trace_exporter *, struct otlp_http *,
	    struct rec *batch, size_t n);
/* From any thread: a transfer waiting on the collector looks at
 * trace_export_abort_at() again at once. */
void	otlp_http_wakeup(struct otlp_http *);
void	otlp_http_free(struct otlp_http *);

#endif
