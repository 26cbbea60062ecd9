/*
 * The file transport: each batch appended to platform.trace.file as JSON
 * lines with one write, on the exporter thread.
 *
 * A line is the record with a member "resource" last.  Records in the form
 * libplba and the master print (span_text.c says VALID) are written as
 * their own text with the resource spliced in before the last '}', which
 * is what parsing and printing them again would give; anything else is
 * parsed, checked and printed again (otlp.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "append.h"
#include "otlp.h"
#include "span_text.h"
#include "trace_sink.h"
#include "tracectx.h"

#define SUFFIXES	16		/* resource suffixes kept */
#define LINE_KEEP	(1u << 20)	/* the line buffer kept between batches */

/* The end of a line for one (worker, instance). */
struct suffix {
	char		*worker;
	int		 instance;
	char		*text;
	size_t		 len;
};

struct trace_file {
	char		*path;
	char		*service;
	int		 fd;
	/* The lines of the batch being written. */
	char		*line;
	size_t		 line_len;
	size_t		 line_cap;
	struct suffix	 suffixes[SUFFIXES];
	size_t		 next_suffix;
};

static int
open_append(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

struct trace_file *
trace_file_open(const char *path, const char *service, char *err,
    size_t errlen)
{
	struct trace_file *f;

	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->path = strdup(path)) == NULL ||
	    (f->service = strdup(service)) == NULL) {
		snprintf(err, errlen, "platform.trace: out of memory");
		goto fail;
	}
	if ((f->fd = open_append(path)) == -1) {
		snprintf(err, errlen, "platform.trace.file: %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	return f;
fail:
	if (f != NULL) {
		free(f->path);
		free(f->service);
		free(f);
	}
	return NULL;
}

void
trace_file_close(struct trace_file *f)
{
	size_t i;

	if (f == NULL)
		return;
	close(f->fd);
	free(f->line);
	for (i = 0; i < SUFFIXES; i++) {
		free(f->suffixes[i].worker);
		free(f->suffixes[i].text);
	}
	free(f->path);
	free(f->service);
	free(f);
}

void
trace_file_reopen(struct trace_exporter *ex, struct trace_file *f)
{
	int fd;

	if ((fd = open_append(f->path)) == -1) {
		trace_export_error(ex, "platform.trace.file: %s: %s", f->path,
		    strerror(errno));
		return;
	}
	close(f->fd);
	f->fd = fd;
}

/*
 * The text that ends a line: ,"resource":{...}} for one worker and instance.
 * Printed by cJSON, as the slow way prints it, and kept: a master has few
 * workers, and their records come in runs.
 */
static const char *
resource_suffix(struct trace_file *f, const char *worker, int instance,
    size_t *len)
{
	struct suffix *sf;
	cJSON *res;
	char *text;
	size_t i, tl;

	for (i = 0; i < SUFFIXES; i++) {
		sf = &f->suffixes[i];
		if (sf->text != NULL && sf->instance == instance &&
		    strcmp(sf->worker, worker) == 0) {
			*len = sf->len;
			return sf->text;
		}
	}
	text = NULL;
	if ((res = cJSON_CreateObject()) == NULL ||
	    !otlp_add_string(res, "service.name", f->service) ||
	    !otlp_add_string(res, "worker", worker) ||
	    !cJSON_AddNumberToObject(res, "instance", instance) ||
	    (text = cJSON_PrintUnformatted(res)) == NULL) {
		cJSON_Delete(res);
		return NULL;
	}
	cJSON_Delete(res);
	sf = &f->suffixes[f->next_suffix];
	f->next_suffix = (f->next_suffix + 1) % SUFFIXES;
	free(sf->text);
	free(sf->worker);
	tl = strlen(text);
	sf->worker = strdup(worker);
	sf->text = malloc(tl + sizeof(",\"resource\":}"));
	if (sf->worker == NULL || sf->text == NULL) {
		free(sf->worker);
		free(sf->text);
		sf->worker = sf->text = NULL;
		free(text);
		return NULL;
	}
	sf->len = (size_t)sprintf(sf->text, ",\"resource\":%s}", text);
	sf->instance = instance;
	free(text);
	*len = sf->len;
	return sf->text;
}

/* Room for len more bytes in the line buffer. */
static bool
line_room(struct trace_file *f, size_t len)
{
	size_t cap;
	char *p;

	if (f->line_len + len <= f->line_cap)
		return true;
	cap = (f->line_len + len) * 2;
	if ((p = realloc(f->line, cap)) == NULL)
		return false;
	f->line = p;
	f->line_cap = cap;
	return true;
}

/* A line: the record's text up to its closing brace, the resource spliced
 * in.  Returns 0, or 1 when memory ran out. */
static int
splice_line(struct trace_file *f, const char *text, size_t len,
    const char *worker, int instance)
{
	const char *suffix;
	size_t slen;

	if ((suffix = resource_suffix(f, worker, instance, &slen)) == NULL ||
	    !line_room(f, len - 1 + slen + 1))
		return 1;
	memcpy(f->line + f->line_len, text, len - 1);
	memcpy(f->line + f->line_len + len - 1, suffix, slen);
	f->line_len += len - 1 + slen;
	f->line[f->line_len++] = '\n';
	return 0;
}

/*
 * Any other record's line: the slow way (otlp_normal_record()), then
 * spliced as a canonical one.  Returns -1 when it is invalid, 0 when
 * added, 1 when memory ran out.
 */
static int
slow_line(struct trace_file *f, const char *record, size_t len,
    const struct rec *r)
{
	bool invalid;
	char *text;
	int rc;

	if ((text = otlp_normal_record(record, len, &invalid)) == NULL)
		return invalid ? -1 : 1;
	rc = splice_line(f, text, strlen(text), r->worker, r->instance);
	free(text);
	return rc;
}

void
trace_file_send(struct trace_exporter *ex, struct trace_file *f,
    struct rec *batch, size_t n)
{
	size_t valid = 0, invalid = 0, len;
	struct rec_text t;
	struct rec *r;
	const char *text;
	char buf[1024];
	bool failed = false, canonical;
	int rc;

	f->line_len = 0;
	for (r = batch; r != NULL; r = r->next) {
		rec_text_init(&t, buf, sizeof(buf));
		if ((text = trace_rec_text(r, &t, &len, &canonical)) == NULL)
			rc = 1;
		else switch (canonical ? SPAN_TEXT_VALID :
		    span_text_check(text, len)) {
		case SPAN_TEXT_VALID:
			rc = splice_line(f, text, len, r->worker, r->instance);
			break;
		case SPAN_TEXT_INVALID:
			rc = -1;
			break;
		default:
			rc = slow_line(f, text, len, r);
			break;
		}
		rec_text_free(&t);
		if (rc == -1)
			invalid++;
		else if (rc == 0)
			valid++;
		/* else out of memory: dropped */
	}
	if (f->line_len > 0 && !append_whole(f->fd, f->line, f->line_len)) {
		trace_export_error(ex, "platform.trace.file: %s: %s", f->path,
		    strerror(errno));
		failed = true;
		valid = 0;
	}
	/* A burst's buffer is not kept for ever. */
	if (f->line_cap > LINE_KEEP) {
		free(f->line);
		f->line = NULL;
		f->line_cap = 0;
	}
	trace_export_finish(ex, batch, n, valid, invalid, failed);
}
