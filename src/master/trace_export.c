/*
 * The trace exporter: a bounded buffer filled by the loop thread and one
 * exporter thread that drains it into a file or an OTLP/HTTP collector.
 *
 * The thread boundary: the loop thread calls trace_exporter_submit(),
 * _reopen() and _stats(), which only take the mutex for a few pointer moves
 * and counter updates; the exporter thread takes batches out under the
 * mutex and does all encoding and I/O without it.  The thread never calls
 * the master's log functions (they are not thread-safe): what goes wrong is
 * left in the counters and last_error for the loop to report.  A batch being
 * sent still counts against the buffer's bounds, so memory stays bounded
 * however long the collector is away.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "append.h"
#include "otlp.h"
#include "settings.h"
#include "span_text.h"
#include "trace_export.h"

#define NS_PER_MS	UINT64_C(1000000)
#define RESPONSE_MAX	(64u << 10)	/* of a collector's answer, kept for errors */
#define SUFFIXES	16		/* resource suffixes kept (file transport) */
#define LINE_KEEP	(1u << 20)	/* the line buffer kept between batches */
/*
 * Records are copied into blocks of REC_SLOT bytes (bigger ones get their
 * own) that the exporter thread hands back for reuse instead of freeing:
 * blocks malloc'ed by the loop and freed by the thread made the two fight
 * over the allocator's lock.  At most POOL_KEEP blocks wait for reuse.
 */
#define FILE_BATCH	256		/* the file transport's batching */
#define FILE_DELAY_MS	10
#define REC_SLOT	1024
#define POOL_KEEP	4096

struct rec {
	struct rec	*next;
	uint64_t	 at;		/* monotonic ns when submitted */
	size_t		 size;		/* what it counts against the byte bound */
	size_t		 len;		/* of the record text */
	int		 instance;
	bool		 slot;		/* a REC_SLOT-byte block, reused */
	bool		 valid;		/* span_text_check() said VALID */
	char		*worker;	/* into data, after the record */
	char		 data[];	/* record text, NUL, worker, NUL */
};

/* The end of a line in the trace file for one (worker, instance). */
struct suffix {
	char		*worker;
	int		 instance;
	char		*text;
	size_t		 len;
};

struct trace_exporter {
	enum trace_transport transport;
	size_t		 wake_n;	/* records that make a batch go */
	uint64_t	 delay_ns;	/* or the age of its first that does */
	char		*service;
	char		*path;		/* TRACE_FILE */
	int		 fd;		/* TRACE_FILE: the thread's once started */
	char		*endpoint;	/* TRACE_OTLP */
	CURL		*curl;		/* TRACE_OTLP: the thread's once started */
	struct curl_slist *headers;
	char		*response;	/* the collector's last answer (capped) */
	size_t		 response_len;
	/* TRACE_FILE, the thread's: lines being built, resource suffixes. */
	char		*line;
	size_t		 line_len;
	size_t		 line_cap;
	struct suffix	 suffixes[SUFFIXES];
	size_t		 next_suffix;

	pthread_t	 thread;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;		/* wakes the thread: records, reopen, stop */

	/* Under mu. */
	struct rec	*head;
	struct rec     **tail;
	size_t		 nlist;		/* records in the list */
	size_t		 held;		/* in the list or in a batch being sent */
	size_t		 bytes;		/* their sizes */
	bool		 full;		/* the last submit found no room */
	bool		 reopen;
	bool		 stopping;
	bool		 exited;	/* the thread is done: join it at once */
	uint64_t	 deadline;	/* monotonic ns, once stopping */
	struct trace_export_stats st;

	struct rec	*spare;		/* blocks back from the thread */
	size_t		 nspare;

	/* The stop deadline again, for curl's progress callback; 0: none. */
	_Atomic uint64_t abort_at;

	/*
	 * The loop thread's alone: records staged since the last flush,
	 * blocks to reuse, and the buffer's fill as of the last flush (it
	 * only shrinks meanwhile, so bounds checked against it hold).
	 */
	struct rec	*stage;
	struct rec     **stage_tail;
	size_t		 nstage;
	size_t		 stage_bytes;
	uint64_t	 stage_submitted;
	uint64_t	 stage_dropped;
	uint64_t	 stage_at;	/* mono_ns() at the first staged */
	struct rec	*pool;
	size_t		 seen_held;
	size_t		 seen_bytes;
};

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Records an error for the loop to log.  Called without mu held. */
static void
set_error(struct trace_exporter *ex, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_error(struct trace_exporter *ex, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&ex->mu);
	va_start(ap, fmt);
	vsnprintf(ex->st.last_error, sizeof(ex->st.last_error), fmt, ap);
	va_end(ap);
	ex->st.errors++;
	pthread_mutex_unlock(&ex->mu);
}

/* ---- the exporter thread ------------------------------------------------- */

/*
 * Waits on cv until the monotonic time t (0: until signalled).  Returns
 * false on a timeout.  Called with mu held.
 */
static bool
wait_until(struct trace_exporter *ex, uint64_t t)
{
	struct timespec ts;

	if (t == 0)
		return pthread_cond_wait(&ex->cv, &ex->mu) == 0;
	ts.tv_sec = (time_t)(t / 1000000000u);
	ts.tv_nsec = (long)(t % 1000000000u);
	return pthread_cond_timedwait(&ex->cv, &ex->mu, &ts) != ETIMEDOUT;
}

/*
 * Sleeps ms between tries of a batch, waking early only to give up: false
 * when the exporter is stopping and its deadline comes before the next try.
 */
static bool
backoff(struct trace_exporter *ex, uint64_t ms)
{
	uint64_t until = mono_ns() + ms * NS_PER_MS;
	bool go = true;

	pthread_mutex_lock(&ex->mu);
	for (;;) {
		if (ex->stopping && ex->deadline <= until) {
			go = false;
			break;
		}
		if (mono_ns() >= until)
			break;
		wait_until(ex, until);
	}
	pthread_mutex_unlock(&ex->mu);
	return go;
}

/* Takes up to a batch of records off the list.  Called with mu held. */
static struct rec *
take_batch(struct trace_exporter *ex, size_t *np)
{
	struct rec *first = ex->head, *r = first, *last = NULL;
	size_t n = 0, bytes = 0;

	while (r != NULL && n < TRACE_EXPORT_BATCH &&
	    (n == 0 || bytes + r->len <= TRACE_EXPORT_BATCH_BYTES)) {
		bytes += r->len;
		n++;
		last = r;
		r = r->next;
	}
	if (last != NULL)
		last->next = NULL;
	ex->head = r;
	if (r == NULL)
		ex->tail = &ex->head;
	ex->nlist -= n;
	*np = n;
	return first;
}

/* Gives back a batch's room and counts how it went.  Called without mu. */
static void
finish_batch(struct trace_exporter *ex, struct rec *batch, size_t n,
    size_t exported, size_t invalid, bool failed)
{
	struct rec *r, *next;
	size_t bytes = 0;

	struct rec *keep = NULL, *lose = NULL;

	for (r = batch; r != NULL; r = next) {
		next = r->next;
		bytes += r->size;
		if (r->slot) {
			r->next = keep;
			keep = r;
		} else {
			r->next = lose;
			lose = r;
		}
	}
	pthread_mutex_lock(&ex->mu);
	ex->held -= n;
	ex->bytes -= bytes;
	ex->st.exported += exported;
	ex->st.invalid += invalid;
	ex->st.dropped += n - exported;
	if (failed)
		ex->st.failed_batches++;
	for (r = keep; r != NULL && ex->nspare < POOL_KEEP; r = keep) {
		keep = r->next;
		r->next = ex->spare;
		ex->spare = r;
		ex->nspare++;
	}
	pthread_mutex_unlock(&ex->mu);
	for (r = keep; r != NULL; r = next) {
		next = r->next;
		free(r);
	}
	for (r = lose; r != NULL; r = next) {
		next = r->next;
		free(r);
	}
}

/*
 * The text that ends a line: ,"resource":{...}} for one worker and instance.
 * Printed by cJSON, as the slow way prints it, and kept: a master has few
 * workers, and their records come in runs.
 */
static const char *
resource_suffix(struct trace_exporter *ex, const char *worker, int instance,
    size_t *len)
{
	struct suffix *sf;
	cJSON *res;
	char *text;
	size_t i, tl;

	for (i = 0; i < SUFFIXES; i++) {
		sf = &ex->suffixes[i];
		if (sf->text != NULL && sf->instance == instance &&
		    strcmp(sf->worker, worker) == 0) {
			*len = sf->len;
			return sf->text;
		}
	}
	text = NULL;
	if ((res = cJSON_CreateObject()) == NULL ||
	    !otlp_add_string(res, "service.name", ex->service) ||
	    !otlp_add_string(res, "worker", worker) ||
	    !cJSON_AddNumberToObject(res, "instance", instance) ||
	    (text = cJSON_PrintUnformatted(res)) == NULL) {
		cJSON_Delete(res);
		return NULL;
	}
	cJSON_Delete(res);
	sf = &ex->suffixes[ex->next_suffix];
	ex->next_suffix = (ex->next_suffix + 1) % SUFFIXES;
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

/* Room for len more bytes in the thread's line buffer. */
static bool
line_room(struct trace_exporter *ex, size_t len)
{
	size_t cap;
	char *p;

	if (ex->line_len + len <= ex->line_cap)
		return true;
	cap = (ex->line_len + len) * 2;
	if ((p = realloc(ex->line, cap)) == NULL)
		return false;
	ex->line = p;
	ex->line_cap = cap;
	return true;
}

/*
 * A record's line the slow way: parsed, checked as an OTLP span would be,
 * its resource replaced, printed again.  Returns -1 when it is invalid, 0
 * when added, 1 when memory ran out.
 */
static int
slow_line(struct trace_exporter *ex, const struct rec *r)
{
	cJSON *o, *span, *res;
	char *text;
	size_t tl;

	if ((o = otlp_parse_record(r->data, r->len)) == NULL ||
	    (span = otlp_span(o)) == NULL) {
		cJSON_Delete(o);
		return -1;
	}
	cJSON_Delete(span);
	/* Every one: a child may send the member twice. */
	while (cJSON_GetObjectItemCaseSensitive(o, "resource") != NULL)
		cJSON_DeleteItemFromObjectCaseSensitive(o, "resource");
	text = NULL;
	if (!otlp_clean_tree(o->child) ||
	    (res = cJSON_AddObjectToObject(o, "resource")) == NULL ||
	    !otlp_add_string(res, "service.name", ex->service) ||
	    !otlp_add_string(res, "worker", r->worker) ||
	    !cJSON_AddNumberToObject(res, "instance", r->instance) ||
	    (text = cJSON_PrintUnformatted(o)) == NULL) {
		cJSON_Delete(o);
		return 1;
	}
	cJSON_Delete(o);
	tl = strlen(text);
	if (!line_room(ex, tl + 1)) {
		free(text);
		return 1;
	}
	memcpy(ex->line + ex->line_len, text, tl);
	ex->line[ex->line_len + tl] = '\n';
	ex->line_len += tl + 1;
	free(text);
	return 0;
}

/* A canonical record's line: its text, the resource spliced in. */
static int
fast_line(struct trace_exporter *ex, const struct rec *r)
{
	const char *suffix;
	size_t slen;

	if ((suffix = resource_suffix(ex, r->worker, r->instance, &slen)) ==
	    NULL || !line_room(ex, r->len - 1 + slen + 1))
		return 1;
	memcpy(ex->line + ex->line_len, r->data, r->len - 1);
	memcpy(ex->line + ex->line_len + r->len - 1, suffix, slen);
	ex->line_len += r->len - 1 + slen;
	ex->line[ex->line_len++] = '\n';
	return 0;
}

/*
 * Appends a batch to the trace file with one write.  Records in the form
 * libplba sends go through as text (span_text.c); others are parsed.
 */
static void
send_file(struct trace_exporter *ex, struct rec *batch, size_t n)
{
	size_t valid = 0, invalid = 0;
	struct rec *r;
	bool failed = false;
	int rc;

	ex->line_len = 0;
	for (r = batch; r != NULL; r = r->next) {
		switch (r->valid ? SPAN_TEXT_VALID :
		    span_text_check(r->data, r->len)) {
		case SPAN_TEXT_VALID:
			rc = fast_line(ex, r);
			break;
		case SPAN_TEXT_INVALID:
			rc = -1;
			break;
		default:
			rc = slow_line(ex, r);
			break;
		}
		if (rc == -1)
			invalid++;
		else if (rc == 0)
			valid++;
		/* else out of memory: dropped */
	}
	if (ex->line_len > 0 && !append_whole(ex->fd, ex->line, ex->line_len)) {
		set_error(ex, "platform.trace.file: %s: %s", ex->path,
		    strerror(errno));
		failed = true;
		valid = 0;
	}
	/* A burst's buffer is not kept for ever. */
	if (ex->line_cap > LINE_KEEP) {
		free(ex->line);
		ex->line = NULL;
		ex->line_cap = 0;
	}
	finish_batch(ex, batch, n, valid, invalid, failed);
}

static size_t
on_response(char *data, size_t size, size_t nmemb, void *arg)
{
	struct trace_exporter *ex = arg;
	size_t n = size * nmemb, keep;
	char *p;

	keep = ex->response_len + n > RESPONSE_MAX ?
	    RESPONSE_MAX - ex->response_len : n;
	if (keep > 0) {
		if ((p = realloc(ex->response, ex->response_len + keep + 1)) == NULL)
			return n;
		ex->response = p;
		memcpy(p + ex->response_len, data, keep);
		ex->response_len += keep;
		p[ex->response_len] = '\0';
	}
	return n;
}

/* Aborts a transfer once the stop deadline has passed. */
static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct trace_exporter *ex = arg;
	uint64_t at = atomic_load(&ex->abort_at);

	return at != 0 && mono_ns() >= at;
}

/* What a collector's error body says, for last_error. */
static void
response_message(struct trace_exporter *ex, char *out, size_t outlen)
{
	cJSON *o;
	const cJSON *m;
	size_t i;

	out[0] = '\0';
	if (ex->response == NULL)
		return;
	if ((o = cJSON_Parse(ex->response)) != NULL) {
		m = cJSON_GetObjectItemCaseSensitive(o, "message");
		if (cJSON_IsString(m))
			snprintf(out, outlen, ": %s", m->valuestring);
		cJSON_Delete(o);
		if (out[0] != '\0')
			return;
	}
	snprintf(out, outlen, ": %.100s", ex->response);
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < ' ')
			out[i] = ' ';
}

/* Spans an accepted request was partially refused (partialSuccess). */
static size_t
rejected_spans(struct trace_exporter *ex, size_t nvalid)
{
	cJSON *o;
	const cJSON *ps, *r, *m;
	double d = 0;

	if (ex->response == NULL || (o = cJSON_Parse(ex->response)) == NULL)
		return 0;
	ps = cJSON_GetObjectItemCaseSensitive(o, "partialSuccess");
	r = cJSON_GetObjectItemCaseSensitive(ps, "rejectedSpans");
	if (cJSON_IsString(r))
		d = strtod(r->valuestring, NULL);
	else if (cJSON_IsNumber(r))
		d = r->valuedouble;
	if (d > 0) {
		m = cJSON_GetObjectItemCaseSensitive(ps, "errorMessage");
		set_error(ex, "platform.trace.endpoint: %s: %.0f spans rejected%s%s",
		    ex->endpoint, d, cJSON_IsString(m) ? ": " : "",
		    cJSON_IsString(m) ? m->valuestring : "");
	}
	cJSON_Delete(o);
	if (!(d > 0))
		return 0;
	return d >= (double)nvalid ? nvalid : (size_t)d;
}

enum post_result { POST_OK, POST_RETRY, POST_FAIL };

/* One POST of body; *retry_ms gets the collector's Retry-After, if any. */
static enum post_result
post(struct trace_exporter *ex, const char *body, size_t len,
    uint64_t *retry_ms)
{
	char errbuf[CURL_ERROR_SIZE], msg[160];
	uint64_t at, now;
	long timeout = TRACE_EXPORT_TIMEOUT_MS, code = 0;
	curl_off_t after = -1;
	CURLcode rc;

	*retry_ms = 0;
	if ((at = atomic_load(&ex->abort_at)) != 0) {
		now = mono_ns();
		if (now >= at)
			return POST_FAIL;
		if ((at - now) / NS_PER_MS < (uint64_t)timeout)
			timeout = (long)((at - now) / NS_PER_MS) + 1;
	}
	free(ex->response);
	ex->response = NULL;
	ex->response_len = 0;
	errbuf[0] = '\0';
	curl_easy_setopt(ex->curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(ex->curl, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(ex->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(ex->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	rc = curl_easy_perform(ex->curl);
	curl_easy_setopt(ex->curl, CURLOPT_ERRORBUFFER, NULL);
	if (rc != CURLE_OK) {
		set_error(ex, "platform.trace.endpoint: %s: %s", ex->endpoint,
		    errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
		return POST_RETRY;
	}
	curl_easy_getinfo(ex->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 200 && code < 300)
		return POST_OK;
	response_message(ex, msg, sizeof(msg));
	set_error(ex, "platform.trace.endpoint: %s: HTTP %ld%s", ex->endpoint,
	    code, msg);
	if (code == 429 || code >= 500) {
		if (curl_easy_getinfo(ex->curl, CURLINFO_RETRY_AFTER, &after) ==
		    CURLE_OK && after > 0)
			*retry_ms = (uint64_t)after * 1000;
		return POST_RETRY;
	}
	return POST_FAIL;
}

/* Sends a batch to the collector, with retries. */
static void
send_otlp(struct trace_exporter *ex, struct rec *batch, size_t n)
{
	cJSON **recs;
	const char **workers;
	int *instances;
	struct rec *r;
	size_t i, nvalid = 0, exported = 0;
	uint64_t delay = TRACE_EXPORT_BACKOFF_MS, after;
	char *body = NULL;
	bool failed = false;
	int try;

	recs = calloc(n, sizeof(*recs));
	workers = calloc(n, sizeof(*workers));
	instances = calloc(n, sizeof(*instances));
	if (recs == NULL || workers == NULL || instances == NULL)
		goto done;
	for (r = batch, i = 0; r != NULL; r = r->next, i++) {
		recs[i] = otlp_parse_record(r->data, r->len);
		workers[i] = r->worker;
		instances[i] = r->instance;
	}
	body = otlp_encode_parsed(ex->service, recs, workers, instances, n, &nvalid);
	for (i = 0; i < n; i++)
		cJSON_Delete(recs[i]);
	if (body == NULL) {
		set_error(ex, "platform.trace.endpoint: out of memory");
		failed = true;
		nvalid = n;	/* not known to be invalid */
		goto done;
	}
	for (try = 1; nvalid > 0; try++) {
		switch (post(ex, body, strlen(body), &after)) {
		case POST_OK:
			exported = nvalid - rejected_spans(ex, nvalid);
			goto done;
		case POST_FAIL:
			failed = true;
			goto done;
		case POST_RETRY:
			break;
		}
		if (try >= TRACE_EXPORT_TRIES) {
			failed = true;
			goto done;
		}
		if (after > delay)
			delay = after;
		if (delay > TRACE_EXPORT_BACKOFF_MAX_MS)
			delay = TRACE_EXPORT_BACKOFF_MAX_MS;
		if (!backoff(ex, delay)) {
			failed = true;
			goto done;
		}
		delay *= 2;
		pthread_mutex_lock(&ex->mu);
		ex->st.retries++;
		pthread_mutex_unlock(&ex->mu);
	}
done:
	free(body);
	free(recs);
	free(workers);
	free(instances);
	finish_batch(ex, batch, n, exported, n - nvalid, failed);
}

/* SIGUSR1 for the file transport: the rotated file is let go. */
static void
reopen_file(struct trace_exporter *ex)
{
	int fd;

	if ((fd = open(ex->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640)) == -1) {
		set_error(ex, "platform.trace.file: %s: %s", ex->path,
		    strerror(errno));
		return;
	}
	close(ex->fd);
	ex->fd = fd;
}

/*
 * The exporter thread.  A batch goes when it is full (ex->wake_n records)
 * or its oldest record is ex->delay_ns old: for OTLP TRACE_EXPORT_BATCH
 * and TRACE_EXPORT_DELAY_MS; for the file FILE_BATCH and FILE_DELAY_MS, so
 * that a busy master writes the file in few large writes and wakes this
 * thread a few hundred times a second, not for every loop iteration.  Once
 * stopping, everything goes out at once until the list is empty or the
 * deadline has passed; what is left then is dropped.
 */
static void *
exporter_main(void *arg)
{
	struct trace_exporter *ex = arg;
	struct rec *batch, *r;
	uint64_t now, due;
	size_t n;

	pthread_mutex_lock(&ex->mu);
	for (;;) {
		if (ex->reopen) {
			ex->reopen = false;
			pthread_mutex_unlock(&ex->mu);
			reopen_file(ex);
			pthread_mutex_lock(&ex->mu);
			continue;
		}
		now = mono_ns();
		if (ex->stopping && (ex->head == NULL || now >= ex->deadline))
			break;
		due = 0;
		if (ex->head != NULL) {
			due = ex->head->at + ex->delay_ns;
			if (ex->stopping || ex->nlist >= ex->wake_n ||
			    now >= due) {
				batch = take_batch(ex, &n);
				pthread_mutex_unlock(&ex->mu);
				if (ex->transport == TRACE_FILE)
					send_file(ex, batch, n);
				else
					send_otlp(ex, batch, n);
				pthread_mutex_lock(&ex->mu);
				continue;
			}
		}
		wait_until(ex, due);
	}
	/* Past the deadline: the rest is dropped. */
	while ((r = ex->head) != NULL) {
		ex->head = r->next;
		ex->held--;
		ex->bytes -= r->size;
		ex->st.dropped++;
		free(r);
	}
	ex->tail = &ex->head;
	ex->nlist = 0;
	ex->exited = true;
	pthread_mutex_unlock(&ex->mu);
	return NULL;
}

/* ---- the loop thread's side ---------------------------------------------- */

static int curl_init_rc = -1;

static void
curl_init_once(void)
{
	curl_init_rc = (int)curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* True if the endpoint is an http or https URL with a host. */
static bool
endpoint_ok(const char *url)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL;
	bool ok;

	if ((u = curl_url()) == NULL)
		return false;
	ok = curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    (strcasecmp(scheme, "http") == 0 ||
	    strcasecmp(scheme, "https") == 0) &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    host[0] != '\0';
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

/*
 * Sets up the easy handle once; the thread reuses it (and its connection)
 * for every batch.  Curl is told not to use signals: the thread has them
 * all blocked, and timeouts must not depend on SIGALRM.
 */
static bool
curl_setup(struct trace_exporter *ex)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	CURL *c;

	/* Before the exporter thread exists: curl_global_init is not
	 * thread-safe in every libcurl configure accepts. */
	pthread_once(&once, curl_init_once);
	if (curl_init_rc != CURLE_OK || (c = curl_easy_init()) == NULL)
		return false;
	ex->curl = c;
	if ((ex->headers = curl_slist_append(NULL,
	    "Content-Type: application/json")) == NULL ||
	    curl_slist_append(ex->headers, "Expect:") == NULL)
		return false;
	curl_easy_setopt(c, CURLOPT_URL, ex->endpoint);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, ex->headers);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "plba/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)TRACE_EXPORT_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)TRACE_EXPORT_TIMEOUT_MS);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_response);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, ex);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, ex);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	return true;
}

static void
release(struct trace_exporter *ex)
{
	struct rec *r;
	size_t i;

	while ((r = ex->head) != NULL) {
		ex->head = r->next;
		free(r);
	}
	while ((r = ex->stage) != NULL) {
		ex->stage = r->next;
		free(r);
	}
	while ((r = ex->pool) != NULL) {
		ex->pool = r->next;
		free(r);
	}
	while ((r = ex->spare) != NULL) {
		ex->spare = r->next;
		free(r);
	}
	if (ex->curl != NULL)
		curl_easy_cleanup(ex->curl);
	curl_slist_free_all(ex->headers);
	if (ex->fd != -1)
		close(ex->fd);
	free(ex->response);
	free(ex->line);
	for (i = 0; i < SUFFIXES; i++) {
		free(ex->suffixes[i].worker);
		free(ex->suffixes[i].text);
	}
	free(ex->service);
	free(ex->path);
	free(ex->endpoint);
	free(ex);
}

struct trace_exporter *
trace_exporter_new(const struct settings *s, char *err, size_t errlen)
{
	struct trace_exporter *ex;
	pthread_condattr_t ca;
	sigset_t all, old;
	int rc;

	if (errlen > 0)
		err[0] = '\0';
	if (s->trace.transport == TRACE_NONE)
		return NULL;
	if ((ex = calloc(1, sizeof(*ex))) == NULL) {
		snprintf(err, errlen, "platform.trace: out of memory");
		return NULL;
	}
	ex->transport = s->trace.transport;
	if (ex->transport == TRACE_FILE) {
		ex->wake_n = FILE_BATCH;
		ex->delay_ns = FILE_DELAY_MS * NS_PER_MS;
	} else {
		ex->wake_n = TRACE_EXPORT_BATCH;
		ex->delay_ns = TRACE_EXPORT_DELAY_MS * NS_PER_MS;
	}
	ex->fd = -1;
	ex->tail = &ex->head;
	ex->stage_tail = &ex->stage;
	if ((ex->service = strdup(s->name != NULL ? s->name : "plba")) == NULL)
		goto nomem;
	if (ex->transport == TRACE_FILE) {
		if (s->trace.file == NULL) {
			snprintf(err, errlen, "platform.trace.file: not set");
			goto fail;
		}
		if ((ex->path = strdup(s->trace.file)) == NULL)
			goto nomem;
		if ((ex->fd = open(ex->path, O_WRONLY | O_APPEND | O_CREAT |
		    O_CLOEXEC, 0640)) == -1) {
			snprintf(err, errlen, "platform.trace.file: %s: %s",
			    ex->path, strerror(errno));
			goto fail;
		}
	} else {
		if (s->trace.endpoint == NULL || !endpoint_ok(s->trace.endpoint)) {
			snprintf(err, errlen, "platform.trace.endpoint: %s: "
			    "not an http:// or https:// URL",
			    s->trace.endpoint != NULL ? s->trace.endpoint : "");
			goto fail;
		}
		if ((ex->endpoint = strdup(s->trace.endpoint)) == NULL)
			goto nomem;
		if (!curl_setup(ex)) {
			snprintf(err, errlen, "platform.trace.endpoint: "
			    "cannot initialise libcurl");
			goto fail;
		}
	}

	pthread_mutex_init(&ex->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ex->cv, &ca);
	pthread_condattr_destroy(&ca);
	/* The master takes its signals through a signalfd: a thread with one
	 * unblocked would have it delivered there instead, and lost. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&ex->thread, NULL, exporter_main, ex);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "platform.trace: cannot start the "
		    "exporter thread: %s", strerror(rc));
		pthread_cond_destroy(&ex->cv);
		pthread_mutex_destroy(&ex->mu);
		goto fail;
	}
	return ex;
nomem:
	snprintf(err, errlen, "platform.trace: out of memory");
fail:
	release(ex);
	return NULL;
}

/* A block for a record of size bytes in all: a reused one if it fits. */
static struct rec *
rec_alloc(struct trace_exporter *ex, size_t size)
{
	struct rec *r;

	if (size > REC_SLOT) {
		if ((r = malloc(size)) != NULL)
			r->slot = false;
		return r;
	}
	if ((r = ex->pool) != NULL)
		ex->pool = r->next;
	else if ((r = malloc(REC_SLOT)) != NULL)
		r->slot = true;
	return r;
}

/*
 * Room for one more staged record of size bytes.  The fill seen at the
 * last flush is at least the fill now (only the thread changes it since,
 * and only down), so checking against it keeps the buffer within bounds;
 * when that says no, the fill now is asked for, which may say yes.
 */
static bool
room(struct trace_exporter *ex, size_t size)
{
	if (ex->seen_held + ex->nstage < TRACE_EXPORT_MAX_RECORDS &&
	    ex->seen_bytes + ex->stage_bytes + size <= TRACE_EXPORT_MAX_BYTES)
		return true;
	pthread_mutex_lock(&ex->mu);
	ex->seen_held = ex->held;
	ex->seen_bytes = ex->bytes;
	pthread_mutex_unlock(&ex->mu);
	return ex->seen_held + ex->nstage < TRACE_EXPORT_MAX_RECORDS &&
	    ex->seen_bytes + ex->stage_bytes + size <= TRACE_EXPORT_MAX_BYTES;
}

static void
stage(struct trace_exporter *ex, const char *json, size_t len,
    const char *worker, int instance, bool valid)
{
	struct rec *r = NULL;
	size_t wlen, size;

	if (ex == NULL)
		return;
	if (worker == NULL)
		worker = TRACE_EXPORT_MASTER;
	wlen = strlen(worker);
	size = sizeof(*r) + len + 1 + wlen + 1;
	ex->stage_submitted++;
	if (json == NULL || len >= TRACE_EXPORT_MAX_BYTES ||
	    !room(ex, size) || (r = rec_alloc(ex, size)) == NULL) {
		ex->stage_dropped++;
		return;
	}
	memcpy(r->data, json, len);
	r->data[len] = '\0';
	r->worker = r->data + len + 1;
	memcpy(r->worker, worker, wlen + 1);
	r->next = NULL;
	r->len = len;
	r->size = size;
	r->instance = instance;
	r->valid = valid;
	/* One clock read a loop iteration: the batch timer needs no more. */
	if (ex->nstage == 0)
		ex->stage_at = mono_ns();
	r->at = ex->stage_at;
	*ex->stage_tail = r;
	ex->stage_tail = &r->next;
	ex->nstage++;
	ex->stage_bytes += size;
}

void
trace_exporter_stage(struct trace_exporter *ex, const char *json, size_t len,
    const char *worker, int instance)
{
	stage(ex, json, len, worker, instance, false);
}

void
trace_exporter_stage_valid(struct trace_exporter *ex, const char *json,
    size_t len, const char *worker, int instance)
{
	stage(ex, json, len, worker, instance, true);
}

void
trace_exporter_flush(struct trace_exporter *ex)
{
	struct rec *r, *next;
	size_t before;

	if (ex == NULL || ex->stage_submitted == 0)
		return;
	pthread_mutex_lock(&ex->mu);
	ex->st.submitted += ex->stage_submitted;
	ex->st.dropped += ex->stage_dropped;
	if (ex->stopping)
		;	/* no news: the exporter is going */
	else if (ex->stage_dropped > 0 && !ex->full) {
		ex->full = true;
		snprintf(ex->st.last_error, sizeof(ex->st.last_error),
		    "platform.trace: the span buffer is full "
		    "(%zu spans, %zu bytes): dropping spans",
		    ex->held + ex->nstage, ex->bytes + ex->stage_bytes);
		ex->st.errors++;
	} else if (ex->stage_dropped == 0 && ex->nstage > 0)
		ex->full = false;
	if (ex->stopping) {
		/* Too late: what was staged is dropped. */
		ex->st.dropped += ex->nstage;
		next = ex->stage;
	} else {
		next = NULL;
		if (ex->nstage > 0) {
			before = ex->nlist;
			*ex->tail = ex->stage;
			ex->tail = ex->stage_tail;
			ex->nlist += ex->nstage;
			ex->held += ex->nstage;
			ex->bytes += ex->stage_bytes;
			/* The thread sets its batch timer from the first
			 * record; a full batch goes without waiting for it. */
			if (before == 0 || (before < ex->wake_n &&
			    ex->nlist >= ex->wake_n))
				pthread_cond_signal(&ex->cv);
		}
	}
	if (ex->pool == NULL) {
		ex->pool = ex->spare;
		ex->spare = NULL;
		ex->nspare = 0;
	}
	ex->seen_held = ex->held;
	ex->seen_bytes = ex->bytes;
	pthread_mutex_unlock(&ex->mu);
	for (r = next; r != NULL; r = next) {
		next = r->next;
		free(r);
	}
	ex->stage = NULL;
	ex->stage_tail = &ex->stage;
	ex->nstage = 0;
	ex->stage_bytes = 0;
	ex->stage_submitted = 0;
	ex->stage_dropped = 0;
}

void
trace_exporter_submit(struct trace_exporter *ex, const char *json, size_t len,
    const char *worker, int instance)
{
	trace_exporter_stage(ex, json, len, worker, instance);
	trace_exporter_flush(ex);
}

void
trace_exporter_reopen(struct trace_exporter *ex)
{
	if (ex == NULL || ex->transport != TRACE_FILE)
		return;
	pthread_mutex_lock(&ex->mu);
	ex->reopen = true;
	pthread_cond_signal(&ex->cv);
	pthread_mutex_unlock(&ex->mu);
}

void
trace_exporter_stats(struct trace_exporter *ex, struct trace_export_stats *st)
{
	if (ex == NULL) {
		memset(st, 0, sizeof(*st));
		return;
	}
	pthread_mutex_lock(&ex->mu);
	*st = ex->st;
	st->queued = ex->held;
	pthread_mutex_unlock(&ex->mu);
}

void
trace_exporter_retire(struct trace_exporter *ex, unsigned deadline_ms)
{
	uint64_t deadline = mono_ns() + (uint64_t)deadline_ms * NS_PER_MS;

	if (ex == NULL)
		return;
	trace_exporter_flush(ex);
	pthread_mutex_lock(&ex->mu);
	/* Retired already: the earlier deadline holds. */
	if (!ex->stopping || deadline < ex->deadline) {
		ex->stopping = true;
		ex->deadline = deadline;
		atomic_store(&ex->abort_at, ex->deadline);
		pthread_cond_broadcast(&ex->cv);
	}
	pthread_mutex_unlock(&ex->mu);
}

bool
trace_exporter_done(struct trace_exporter *ex)
{
	bool done;

	pthread_mutex_lock(&ex->mu);
	done = ex->exited;
	pthread_mutex_unlock(&ex->mu);
	return done;
}

void
trace_exporter_free(struct trace_exporter *ex, unsigned deadline_ms)
{
	if (ex == NULL)
		return;
	trace_exporter_retire(ex, deadline_ms);
	pthread_join(ex->thread, NULL);
	pthread_cond_destroy(&ex->cv);
	pthread_mutex_destroy(&ex->mu);
	release(ex);
}
