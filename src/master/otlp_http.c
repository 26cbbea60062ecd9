/*
 * The otlp transport: each batch POSTed to platform.trace.endpoint as one
 * OTLP/HTTP JSON request (otlp.c encodes it) with libcurl, on the exporter
 * thread.  A connection error, a 429 or a 5xx is tried again after a
 * back-off (TRACE_EXPORT_TRIES, TRACE_EXPORT_BACKOFF_MS, the collector's
 * Retry-After); anything else gives the batch up.  Once the exporter is
 * stopping, a transfer is abandoned at its deadline.
 */
#include "config.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "otlp.h"
#include "trace_export.h"
#include "trace_sink.h"
#include "tracectx.h"

#define RESPONSE_MAX	(64u << 10)	/* of a collector's answer, kept for errors */

struct otlp_http {
	char		*endpoint;
	char		*service;
	CURLM		*multi;		/* holds the connection between batches */
	CURL		*curl;		/* reused */
	struct curl_slist *headers;
	char		*response;	/* the collector's last answer (capped) */
	size_t		 response_len;
};

enum post_result { POST_OK, POST_RETRY, POST_FAIL };

static size_t
on_response(char *data, size_t size, size_t nmemb, void *arg)
{
	struct otlp_http *h = arg;
	size_t n = size * nmemb, keep;
	char *p;

	keep = h->response_len + n > RESPONSE_MAX ?
	    RESPONSE_MAX - h->response_len : n;
	if (keep > 0) {
		if ((p = realloc(h->response, h->response_len + keep + 1)) ==
		    NULL)
			return n;
		h->response = p;
		memcpy(p + h->response_len, data, keep);
		h->response_len += keep;
		p[h->response_len] = '\0';
	}
	return n;
}

/*
 * Runs the transfer set up on h->curl until it ends or the stop deadline
 * passes.  Not curl_easy_perform(): the loop thread sets the deadline
 * while a transfer waits on a slow collector, and an easy transfer only
 * looks at it in its progress callback, up to a second late, which made
 * the master's exit overrun its 2 s for spans.  Here the wait is a
 * curl_multi_poll() that otlp_http_wakeup() interrupts, and that never
 * sleeps past a deadline already set.  Returns false when abandoned.
 */
static bool
perform(struct trace_exporter *ex, struct otlp_http *h, CURLcode *rc)
{
	CURLMsg *m;
	CURLMcode mc;
	uint64_t at, now;
	int running, left, wait;
	bool done = true;

	*rc = CURLE_OK;
	if ((mc = curl_multi_add_handle(h->multi, h->curl)) != CURLM_OK) {
		*rc = CURLE_OUT_OF_MEMORY;
		return true;
	}
	for (;;) {
		if ((mc = curl_multi_perform(h->multi, &running)) != CURLM_OK)
			break;
		if (running == 0)
			break;
		wait = 1000;
		if ((at = trace_export_abort_at(ex)) != 0) {
			now = trace_mono_ns();
			if (now >= at) {
				done = false;
				break;
			}
			if ((at - now) / NS_PER_MS < (uint64_t)wait)
				wait = (int)((at - now) / NS_PER_MS) + 1;
		}
		if ((mc = curl_multi_poll(h->multi, NULL, 0, wait, NULL)) !=
		    CURLM_OK)
			break;
	}
	if (mc != CURLM_OK)
		*rc = mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY :
		    CURLE_FAILED_INIT;
	while ((m = curl_multi_info_read(h->multi, &left)) != NULL)
		if (m->msg == CURLMSG_DONE && m->easy_handle == h->curl)
			*rc = m->data.result;
	curl_multi_remove_handle(h->multi, h->curl);
	return done;
}

/* What a collector's error body says, for last_error. */
static void
response_message(struct otlp_http *h, char *out, size_t outlen)
{
	cJSON *o;
	const cJSON *m;
	size_t i;

	out[0] = '\0';
	if (h->response == NULL)
		return;
	if ((o = cJSON_Parse(h->response)) != NULL) {
		m = cJSON_GetObjectItemCaseSensitive(o, "message");
		if (cJSON_IsString(m))
			snprintf(out, outlen, ": %s", m->valuestring);
		cJSON_Delete(o);
		if (out[0] != '\0')
			return;
	}
	snprintf(out, outlen, ": %.100s", h->response);
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < ' ')
			out[i] = ' ';
}

/* Spans an accepted request was partially refused (partialSuccess). */
static size_t
rejected_spans(struct trace_exporter *ex, struct otlp_http *h, size_t nvalid)
{
	cJSON *o;
	const cJSON *ps, *r, *m;
	double d = 0;

	if (h->response == NULL || (o = cJSON_Parse(h->response)) == NULL)
		return 0;
	ps = cJSON_GetObjectItemCaseSensitive(o, "partialSuccess");
	r = cJSON_GetObjectItemCaseSensitive(ps, "rejectedSpans");
	if (cJSON_IsString(r))
		d = strtod(r->valuestring, NULL);
	else if (cJSON_IsNumber(r))
		d = r->valuedouble;
	if (d > 0) {
		m = cJSON_GetObjectItemCaseSensitive(ps, "errorMessage");
		trace_export_error(ex,
		    "platform.trace.endpoint: %s: %.0f spans rejected%s%s",
		    h->endpoint, d, cJSON_IsString(m) ? ": " : "",
		    cJSON_IsString(m) ? m->valuestring : "");
	}
	cJSON_Delete(o);
	if (!(d > 0))
		return 0;
	return d >= (double)nvalid ? nvalid : (size_t)d;
}

/* One POST of body; *retry_ms gets the collector's Retry-After, if any. */
static enum post_result
post(struct trace_exporter *ex, struct otlp_http *h, const char *body,
    size_t len, uint64_t *retry_ms)
{
	char errbuf[CURL_ERROR_SIZE], msg[160];
	uint64_t at, now;
	long timeout = TRACE_EXPORT_TIMEOUT_MS, code = 0;
	curl_off_t after = -1;
	CURLcode rc;

	*retry_ms = 0;
	if ((at = trace_export_abort_at(ex)) != 0) {
		now = trace_mono_ns();
		if (now >= at)
			return POST_FAIL;
		if ((at - now) / NS_PER_MS < (uint64_t)timeout)
			timeout = (long)((at - now) / NS_PER_MS) + 1;
	}
	free(h->response);
	h->response = NULL;
	h->response_len = 0;
	errbuf[0] = '\0';
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	if (!perform(ex, h, &rc)) {
		curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, NULL);
		trace_export_error(ex, "platform.trace.endpoint: %s: no answer "
		    "by the stop deadline", h->endpoint);
		return POST_FAIL;
	}
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, NULL);
	if (rc != CURLE_OK) {
		trace_export_error(ex, "platform.trace.endpoint: %s: %s",
		    h->endpoint, errbuf[0] != '\0' ? errbuf :
		    curl_easy_strerror(rc));
		return POST_RETRY;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 200 && code < 300)
		return POST_OK;
	response_message(h, msg, sizeof(msg));
	trace_export_error(ex, "platform.trace.endpoint: %s: HTTP %ld%s",
	    h->endpoint, code, msg);
	if (code == 429 || code >= 500) {
		if (curl_easy_getinfo(h->curl, CURLINFO_RETRY_AFTER, &after) ==
		    CURLE_OK && after > 0)
			*retry_ms = (uint64_t)after * 1000;
		return POST_RETRY;
	}
	return POST_FAIL;
}

void
otlp_http_send(struct trace_exporter *ex, struct otlp_http *h,
    struct rec *batch, size_t n)
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
		struct rec_text t;
		const char *text;
		char buf[1024];
		size_t len;
		bool canonical;

		rec_text_init(&t, buf, sizeof(buf));
		if ((text = trace_rec_text(r, &t, &len, &canonical)) != NULL)
			recs[i] = otlp_parse_record(text, len);
		rec_text_free(&t);
		workers[i] = r->worker;
		instances[i] = r->instance;
	}
	body = otlp_encode_parsed(h->service, recs, workers, instances, n,
	    &nvalid);
	for (i = 0; i < n; i++)
		cJSON_Delete(recs[i]);
	if (body == NULL) {
		trace_export_error(ex, "platform.trace.endpoint: out of memory");
		failed = true;
		nvalid = n;	/* not known to be invalid */
		goto done;
	}
	for (try = 1; nvalid > 0; try++) {
		switch (post(ex, h, body, strlen(body), &after)) {
		case POST_OK:
			exported = nvalid - rejected_spans(ex, h, nvalid);
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
		if (!trace_export_backoff(ex, delay)) {
			failed = true;
			goto done;
		}
		delay *= 2;
		trace_export_retried(ex);
	}
done:
	free(body);
	free(recs);
	free(workers);
	free(instances);
	trace_export_finish(ex, batch, n, exported, n - nvalid, failed);
}

bool
otlp_http_endpoint_ok(const char *url)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL;
	const char *authority = strstr(url, "://");
	bool ok;

	/* libcurl reads "http:///v1" as the host "v1". */
	if (authority == NULL || authority[3] == '/')
		return false;
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

static int curl_init_rc = -1;

static void
curl_init_once(void)
{
	curl_init_rc = (int)curl_global_init(CURL_GLOBAL_DEFAULT);
}

/*
 * Sets up the easy handle once; the thread reuses it (and its connection)
 * for every batch.  Curl is told not to use signals: the thread has them
 * all blocked, and timeouts must not depend on SIGALRM.
 */
static bool
curl_setup(struct otlp_http *h)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	CURL *c;

	/* Before the exporter thread exists: curl_global_init is not
	 * thread-safe in every libcurl configure accepts. */
	pthread_once(&once, curl_init_once);
	if (curl_init_rc != CURLE_OK || (h->multi = curl_multi_init()) == NULL ||
	    (c = curl_easy_init()) == NULL)
		return false;
	h->curl = c;
	if ((h->headers = curl_slist_append(NULL,
	    "Content-Type: application/json")) == NULL ||
	    curl_slist_append(h->headers, "Expect:") == NULL)
		return false;
	curl_easy_setopt(c, CURLOPT_URL, h->endpoint);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers);
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
	curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
	return true;
}

struct otlp_http *
otlp_http_new(const char *endpoint, const char *service, char *err,
    size_t errlen)
{
	struct otlp_http *h;

	if (endpoint == NULL || !otlp_http_endpoint_ok(endpoint)) {
		snprintf(err, errlen, "platform.trace.endpoint: %s: "
		    OTLP_ENDPOINT_WANTED, endpoint != NULL ? endpoint : "");
		return NULL;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->endpoint = strdup(endpoint)) == NULL ||
	    (h->service = strdup(service)) == NULL) {
		snprintf(err, errlen, "platform.trace: out of memory");
		otlp_http_free(h);
		return NULL;
	}
	if (!curl_setup(h)) {
		snprintf(err, errlen, "platform.trace.endpoint: "
		    "cannot initialise libcurl");
		otlp_http_free(h);
		return NULL;
	}
	return h;
}

/* Thread safe: curl_multi_wakeup() is the one multi call that may be
 * made from another thread.  A wake-up with no transfer waiting makes the
 * next poll return at once, which perform() takes in its stride. */
void
otlp_http_wakeup(struct otlp_http *h)
{
	if (h != NULL)
		curl_multi_wakeup(h->multi);
}

void
otlp_http_free(struct otlp_http *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	if (h->multi != NULL)
		curl_multi_cleanup(h->multi);
	curl_slist_free_all(h->headers);
	free(h->response);
	free(h->endpoint);
	free(h->service);
	free(h);
}
