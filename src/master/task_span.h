/*
 * The spans the master records itself on a task's trace (enqueue,
 * dispatch, redelivery, dead-lettering...): instants, staged for export as
 * their fields and printed to text only by whoever reads them, the
 * exporter thread or a GET /traces lookup, so that the loop does not.
 */
#ifndef PLBA_MASTER_TASK_SPAN_H
#define PLBA_MASTER_TASK_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rec_text;

struct task_span {
	char		 trace_id[32];	/* hex, no NUL: the task's */
	char		 parent_id[16];	/* hex, no NUL: its publisher's span */
	uint8_t		 span_id[8];
	uint64_t	 time_ns;	/* wall clock: start and end */
	uint64_t	 task_id;
	unsigned	 attempt;
	bool		 error;		/* status error, detail its message */
	const char	*name;		/* "plba.dispatch", ...: printed as is */
	const char	*queue;
	const char	*detail;	/* or NULL */
};

/*
 * Appends the span's record, in the form cJSON prints it (tracectx.h), as
 * the trace file and GET /traces have it.  Returns whether that text is
 * canonical as it stands (its strings were printable ASCII); otherwise a
 * reader checks it as it would a child's record.
 */
bool	task_span_print(const struct task_span *, struct rec_text *);

/* What task_span_print() adds at most, but for its strings. */
#define TASK_SPAN_TEXT_MAX	400

#endif
