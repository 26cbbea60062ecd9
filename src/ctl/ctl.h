/*
 * plbactl's parts: an HTTP client for the master's control plane
 * (client.c) and aligned text tables (table.c).  plbactl talks to the
 * master only over HTTP; it links libcurl and cJSON, never libplba.
 */
#ifndef PLBA_CTL_H
#define PLBA_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Where requests go and how long they may take. */
struct client {
	const char	*url;		/* base, without a trailing slash */
	const char	*token;		/* NULL: no Authorization header */
	long		 connect_ms;
	long		 timeout_ms;	/* the whole request */
};

/* An HTTP answer; the body is NUL-terminated and owned by the reply. */
struct reply {
	long		 code;
	char		*body;
	size_t		 len;
};

/* Why a request got no HTTP answer at all. */
enum client_error {
	CLIENT_CONNECT,		/* refused or unreachable */
	CLIENT_TIMEOUT,		/* connect or total timeout */
	CLIENT_OTHER,		/* anything else curl reports */
};

/*
 * Sends METHOD (GET or POST) to the base URL joined with PATH, with BODY
 * (JSON, may be NULL) for a POST.  Returns 0 with *r filled (free it with
 * reply_clear()) for any HTTP answer, whatever its status; -1 when there
 * was none, with *why set and a message in ERR.
 */
int	client_request(const struct client *c, const char *method,
	    const char *path, const char *body, size_t blen, struct reply *r,
	    enum client_error *why, char *err, size_t errlen);
/* Frees what a reply holds; the reply itself is the caller's. */
void	reply_clear(struct reply *r);
/* Percent-encodes a worker or queue name for a path; free() the result. */
char	*client_escape(const char *name);

/* A table of text cells, printed with aligned columns. */
struct table;

/*
 * A table with the given column headers (NULL-terminated) and an
 * alignment per column, 'l' or 'r', in ALIGN.  Free it with table_free().
 */
struct table *table_new(const char *const *headers, const char *align);
/*
 * Appends one cell, filling rows left to right; the text is copied, with
 * control characters replaced by '?', and NULL or "" shown as "-".
 */
void	table_add(struct table *t, const char *text);
/* An empty cell, where "-" would say a value is missing. */
void	table_blank(struct table *t);
/* table_add() of a printf-formatted text. */
void	table_addf(struct table *t, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* How many complete rows the table holds. */
size_t	table_rows(const struct table *t);
/* Prints the headers and rows, two spaces between columns. */
void	table_print(const struct table *t, FILE *f);
/* table_free(NULL) is a no-op. */
void	table_free(struct table *t);

struct cJSON;

/*
 * Prints GET /traces/ID's answer as a tree of spans under a line naming
 * the trace (spans.c).
 */
void	spans_print(const struct cJSON *answer, FILE *f);
/*
 * GET /traces/ID's answer made from a trace file (plba.yml(5)'s
 * platform.trace.file), every record of TRACE_ID in it, with the worker
 * and instance of its resource; *NSPANS says how many.  Lines that are
 * not records are passed over.  cJSON_Delete() the result.
 */
struct cJSON *spans_from_file(FILE *f, const char *trace_id, size_t *nspans);
/* A duration for people: "0", "850ns", "12.5us", "3.2ms", "1.25s". */
void	spans_duration(uint64_t ns, char buf[32]);

/* Copies S with control characters replaced by '?'; free() the result. */
char	*ctl_sanitize(const char *s);
/* Allocation that cannot fail: plbactl exits on out of memory. */
void	*xmalloc(size_t n);
void	*xrealloc(void *p, size_t n);
char	*xstrdup(const char *s);

#endif
