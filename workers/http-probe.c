/*
 * http-probe: the built-in worker that checks a URL with libcurl on an
 * interval and turns the answer's status code, its latency and failures
 * into the instance's health (plba-workers(7)).  With `critical: true` it
 * makes an upstream service part of the runtime's health.
 *
 * One easy handle serves every check, so connections are reused.  The
 * body is read and thrown away, up to a cap: the probe judges the status
 * line, not the content.
 */
/* A module built like a third party's: no config.h, so ask for POSIX. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <plba/plba.h>

#include "schedule.h"
#include "wconf.h"

/* Body bytes read before a check stops listening. */
#define BODY_CAP	(64 * 1024)
#define MAX_RANGES	32

struct code_range {
	long		 lo, hi;
};

struct probe_conf {
	const char	*url;
	const char	*method;	/* GET or HEAD */
	uint64_t	 interval_ms;
	uint64_t	 timeout_ms;
	uint64_t	 degraded_ms;	/* 0: latency never degrades */
	long long	 unhealthy_after;
	bool		 insecure;
	bool		 follow;
	struct code_range expect[MAX_RANGES];
	size_t		 nexpect;
	struct curl_slist *headers;
};

/* The handle and what lives as long as it. */
struct probe {
	const struct probe_conf *c;
	plba_worker	*w;
	CURL		*h;
	char		 errbuf[CURL_ERROR_SIZE];
	size_t		 seen;		/* body bytes of the current check */
	long long	 failures;	/* failed checks in a row */
};

/* What one check found. */
struct probe_result {
	bool		 answered;	/* a status line came back */
	bool		 expected;	/* ... with an expected code */
	long		 code;
	uint64_t	 ms;
	char		 error[CURL_ERROR_SIZE];
};

static const char *const probe_keys[] = {
	"url", "interval", "timeout", "expect", "degraded_after",
	"unhealthy_after", "method", "headers", "insecure", "follow_redirects",
	NULL
};

/* --- configuration ------------------------------------------------------- */

/* "200", "200-399", or an integer scalar. */
static int
parse_range(const char *s, struct code_range *r)
{
	char *end;

	r->lo = strtol(s, &end, 10);
	if (end == s)
		return -1;
	if (*end == '-') {
		s = end + 1;
		r->hi = strtol(s, &end, 10);
		if (end == s)
			return -1;
	} else
		r->hi = r->lo;
	return *end == '\0' && r->lo >= 100 && r->hi <= 599 && r->lo <= r->hi ?
	    0 : -1;
}

static int
read_expect(plba_worker *w, const plba_node *cfg, struct probe_conf *c)
{
	const plba_node *e = plba_node_get(cfg, "expect"), *item;
	bool seq = plba_node_kind(e) == PLBA_NODE_SEQ;
	const char *s;
	size_t i, n;
	int bad = 0;

	if (e == NULL) {
		c->expect[0] = (struct code_range){ 200, 399 };
		c->nexpect = 1;
		return 0;
	}
	n = seq ? plba_node_count(e) : 1;
	if (plba_node_kind(e) == PLBA_NODE_MAP || n == 0 || n > MAX_RANGES) {
		wconf_error(w, "expect", "expected a status code, a range such "
		    "as \"200-399\", or a list of up to %d of them",
		    MAX_RANGES);
		return -1;
	}
	/* Every bad entry is said, not only the first. */
	for (i = 0; i < n; i++) {
		item = seq ? plba_node_at(e, i) : e;
		s = NULL;
		if (plba_node_string(item, NULL, NULL, &s) == PLBA_OK &&
		    s != NULL && parse_range(s, &c->expect[i]) == 0)
			continue;
		wconf_item_error(w, "expect", seq ? (long)i : -1, item, "\"%s\" "
		    "is not a status code (100-599) or a range of them such as "
		    "\"200-399\"", s != NULL ? s : "");
		bad++;
	}
	c->nexpect = n;
	return bad > 0 ? -1 : 0;
}

/* `headers`: a map of name to value, sent with every check. */
static int
read_headers(plba_worker *w, const plba_node *cfg, struct probe_conf *c)
{
	const plba_node *h = plba_node_get(cfg, "headers");
	struct curl_slist *l;
	const char *name, *value;
	char line[1024];
	size_t i;
	int bad = 0;

	if (h == NULL)
		return 0;
	if (plba_node_kind(h) != PLBA_NODE_MAP) {
		wconf_error(w, "headers", "expected a map of header names to "
		    "values");
		return -1;
	}
	for (i = 0; (name = plba_node_key_at(h, i)) != NULL; i++) {
		if (plba_node_string(plba_node_at(h, i), NULL, "", &value) !=
		    PLBA_OK || name[strcspn(name, ": \t\r\n")] != '\0' ||
		    value[strcspn(value, "\r\n")] != '\0' ||
		    (size_t)snprintf(line, sizeof(line), "%s: %s", name,
		    value) >= sizeof(line)) {
			wconf_error(w, "headers", "\"%s\": expected a header "
			    "name and a one-line value", name);
			bad++;
			continue;
		}
		if ((l = curl_slist_append(c->headers, line)) == NULL) {
			wconf_error(w, "headers", "out of memory");
			return -1;
		}
		c->headers = l;
	}
	return bad > 0 ? -1 : 0;
}

static int
read_durations(plba_worker *w, const plba_node *cfg, struct probe_conf *c)
{
	int bad = 0;

	if (plba_node_duration(cfg, "interval", 10000, &c->interval_ms) !=
	    PLBA_OK || c->interval_ms == 0) {
		wconf_error(w, "interval", "expected a duration above 0 such "
		    "as 500ms, 10s or 1m");
		bad++;
	}
	if (plba_node_duration(cfg, "timeout", 5000, &c->timeout_ms) !=
	    PLBA_OK || c->timeout_ms == 0) {
		wconf_error(w, "timeout", "expected a duration above 0 such "
		    "as 500ms or 5s");
		bad++;
	}
	if (plba_node_duration(cfg, "degraded_after", 0, &c->degraded_ms) !=
	    PLBA_OK) {
		wconf_error(w, "degraded_after", "expected a duration such as "
		    "300ms or 2s");
		bad++;
	}
	return bad;
}

static int
read_config(plba_worker *w, struct probe_conf *c)
{
	const plba_node *cfg = plba_worker_config(w);
	int bad;

	memset(c, 0, sizeof(*c));
	if (cfg != NULL && plba_node_kind(cfg) != PLBA_NODE_MAP) {
		wconf_error(w, NULL, "expected a map");
		return -1;
	}
	bad = wconf_unknown_keys(w, probe_keys);
	if (plba_node_string(cfg, "url", NULL, &c->url) != PLBA_OK ||
	    c->url == NULL) {
		wconf_error(w, "url", "required: an http:// or https:// URL");
		bad++;
	} else if (strncmp(c->url, "http://", 7) != 0 &&
	    strncmp(c->url, "https://", 8) != 0) {
		wconf_error(w, "url", "expected an http:// or https:// URL");
		bad++;
	}
	if (plba_node_string(cfg, "method", "GET", &c->method) != PLBA_OK ||
	    (strcmp(c->method, "GET") != 0 && strcmp(c->method, "HEAD") != 0)) {
		wconf_error(w, "method", "expected GET or HEAD");
		bad++;
	}
	bad += read_durations(w, cfg, c);
	if (plba_node_int(cfg, "unhealthy_after", 3, &c->unhealthy_after) !=
	    PLBA_OK || c->unhealthy_after < 1 || c->unhealthy_after > 1000000) {
		wconf_error(w, "unhealthy_after", "expected a number of "
		    "failed checks, 1 or more");
		bad++;
	}
	if (plba_node_bool(cfg, "insecure", false, &c->insecure) != PLBA_OK) {
		wconf_type_error(w, "insecure", "true or false");
		bad++;
	}
	if (plba_node_bool(cfg, "follow_redirects", false, &c->follow) !=
	    PLBA_OK) {
		wconf_type_error(w, "follow_redirects",
		    "true or false");
		bad++;
	}
	if (read_expect(w, cfg, c) == -1)
		bad++;
	if (read_headers(w, cfg, c) == -1)
		bad++;
	return bad > 0 ? -1 : 0;
}

/* --- checking ------------------------------------------------------------ */

/* Counts the body and stops reading at the cap. */
static size_t
discard_body(char *data, size_t size, size_t n, void *arg)
{
	size_t *seen = arg;

	(void)data;
	*seen += size * n;
	return *seen > BODY_CAP ? 0 : size * n;
}

/*
 * libcurl asks about once a second, and more often while bytes move,
 * whatever the server does: a graceful stop ends a check that waits on a
 * silent server instead of holding the stop up to stop_timeout.
 */
static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct probe *p = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return plba_worker_stopping(p->w) ? 1 : 0;
}

/* Options for every check, set once on the handle. */
static int
setup_handle(struct probe *p)
{
	const struct probe_conf *c = p->c;
	CURL *h = p->h;
	CURLcode rc = CURLE_OK;

#define SET(opt, v)	if (rc == CURLE_OK) rc = curl_easy_setopt(h, opt, v)
	SET(CURLOPT_URL, c->url);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
	SET(CURLOPT_NOBODY, strcmp(c->method, "HEAD") == 0 ? 1L : 0L);
	SET(CURLOPT_FOLLOWLOCATION, c->follow ? 1L : 0L);
	SET(CURLOPT_MAXREDIRS, 10L);
	SET(CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L);
	SET(CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L);
	SET(CURLOPT_HTTPHEADER, c->headers);
	SET(CURLOPT_USERAGENT, "plba-http-probe/" PLBA_VERSION_STRING);
	SET(CURLOPT_WRITEFUNCTION, discard_body);
	SET(CURLOPT_WRITEDATA, &p->seen);
	SET(CURLOPT_ERRORBUFFER, p->errbuf);
	SET(CURLOPT_XFERINFOFUNCTION, on_progress);
	SET(CURLOPT_XFERINFODATA, p);
	SET(CURLOPT_NOPROGRESS, 0L);
	/* A redirect must not lead the probe to file:// or other schemes. */
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	SET(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
#undef SET
	return rc == CURLE_OK ? 0 : -1;
}

static bool
code_expected(const struct probe_conf *c, long code)
{
	size_t i;

	for (i = 0; i < c->nexpect; i++)
		if (code >= c->expect[i].lo && code <= c->expect[i].hi)
			return true;
	return false;
}

static void
check_once(struct probe *p, struct probe_result *r)
{
	curl_off_t us = 0;
	long os_errno = 0;
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	p->errbuf[0] = '\0';
	p->seen = 0;
	rc = curl_easy_perform(p->h);
	curl_easy_getinfo(p->h, CURLINFO_TOTAL_TIME_T, &us);
	r->ms = (uint64_t)us / 1000;
	/* Hitting the body cap is our own doing, not the server's failure. */
	if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && p->seen > BODY_CAP)) {
		curl_easy_getinfo(p->h, CURLINFO_RESPONSE_CODE, &r->code);
		r->answered = r->code != 0;
	}
	if (!r->answered) {
		/* libcurl's words, and the system's when it has them
		 * ("Connection refused" says more than "Couldn't connect"). */
		curl_easy_getinfo(p->h, CURLINFO_OS_ERRNO, &os_errno);
		snprintf(r->error, sizeof(r->error), "%s%s%s%s",
		    p->errbuf[0] != '\0' ? p->errbuf : curl_easy_strerror(rc),
		    os_errno != 0 ? " (" : "",
		    os_errno != 0 ? strerror((int)os_errno) : "",
		    os_errno != 0 ? ")" : "");
		return;
	}
	r->expected = code_expected(p->c, r->code);
}

/*
 * The health one check earns, with its detail.  A failure (no answer, or
 * an unexpected code) is unhealthy from the unhealthy_after-th in a row
 * on, degraded before that; a good answer slower than degraded_after is
 * degraded.
 */
static enum plba_health
judge(const struct probe_conf *c, const struct probe_result *r,
    long long failures, char *detail, size_t len)
{
	enum plba_health h = PLBA_HEALTH_OK;
	int n;

	if (r->answered)
		n = snprintf(detail, len, "HTTP %ld from %s in %llums", r->code,
		    c->url, (unsigned long long)r->ms);
	else
		n = snprintf(detail, len, "%s: %s", c->url, r->error);
	if (failures > 0)
		h = failures >= c->unhealthy_after ? PLBA_HEALTH_UNHEALTHY :
		    PLBA_HEALTH_DEGRADED;
	else if (c->degraded_ms > 0 && r->ms > c->degraded_ms)
		h = PLBA_HEALTH_DEGRADED;
	if (n >= 0 && (size_t)n < len && failures > 0 &&
	    failures < c->unhealthy_after)
		snprintf(detail + n, len - (size_t)n, " (failure %lld of %lld)",
		    failures, c->unhealthy_after);
	else if (n >= 0 && (size_t)n < len && h == PLBA_HEALTH_DEGRADED)
		snprintf(detail + n, len - (size_t)n, " (slower than %llums)",
		    (unsigned long long)c->degraded_ms);
	return h;
}

/* One check inside a span when tracing is on (a no-op span otherwise). */
static enum plba_health
probe(plba_worker *w, struct probe *p, char *detail, size_t len)
{
	struct probe_result r;
	plba_span *span = plba_trace_start(w, "http probe");
	enum plba_health health;

	plba_span_set_str(span, "url.full", p->c->url);
	check_once(p, &r);
	/* Cut short by a stop: it says nothing of the server. */
	if (plba_worker_stopping(w) && !r.answered) {
		plba_span_error(span, "stopped");
		plba_span_end(span);
		return PLBA_HEALTH_OK;
	}
	p->failures = r.expected ? 0 : p->failures + 1;
	health = judge(p->c, &r, p->failures, detail, len);
	if (r.answered)
		plba_span_set_int(span, "http.response.status_code", r.code);
	plba_span_set_int(span, "http.probe.latency_ms", (long long)r.ms);
	if (!r.expected)
		plba_span_error(span, "%s", detail);
	plba_span_end(span);
	return health;
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
probe_loop(plba_worker *w, struct probe *p)
{
	char detail[512];
	uint64_t due = mono_ms(), now;
	enum plba_health health;

	for (;;) {
		plba_worker_set_status(w, PLBA_STATUS_BUSY);
		health = probe(w, p, detail, sizeof(detail));
		if (plba_worker_stopping(w))
			return 0;
		plba_worker_set_health(w, health, detail);
		plba_worker_set_status(w, PLBA_STATUS_IDLE);
		/* On the grid from the first check; a check that overran
		 * skips the points it missed rather than bunching up. */
		now = mono_ms();
		due = sched_next_interval(due, p->c->interval_ms, now);
		if (plba_worker_sleep(w, due - now))
			return 0;
	}
}

/* What probe_check read, for probe_start: one worker per process. */
static struct probe_conf conf;

static int
probe_check(plba_worker *w, void *arg)
{
	(void)arg;
	return read_config(w, &conf);
}

static int
probe_start(plba_worker *w, void *arg)
{
	struct probe p = { 0 };
	int rc;

	(void)arg;
	/* Once per process, on the main thread, before any handle. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (p.h = curl_easy_init()) == NULL) {
		fprintf(stderr, "http-probe: cannot initialise libcurl\n");
		return 1;
	}
	p.c = &conf;
	p.w = w;
	if (setup_handle(&p) == -1) {
		fprintf(stderr, "http-probe: this libcurl lacks an option the "
		    "probe needs\n");
		curl_easy_cleanup(p.h);
		return 1;
	}
	rc = probe_loop(w, &p);
	curl_easy_cleanup(p.h);
	curl_slist_free_all(conf.headers);
	return rc;
}

static const struct plba_worker_ops probe_ops = { .start = probe_start };

static int
probe_init(plba_registry *reg)
{
	int rc;

	if ((rc = plba_register_worker(reg, "http-probe", &probe_ops,
	    NULL)) != 0)
		return rc;
	return plba_register_check(reg, "http-probe", probe_check);
}

PLBA_MODULE("http-probe", probe_init);
