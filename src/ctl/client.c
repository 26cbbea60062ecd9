/*
 * plbactl's HTTP client: one libcurl easy handle per request, which is all
 * a command-line tool needs.  Answers of every status come back to the
 * caller; only a request that got no answer at all is an error here.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ctl.h"

/* An answer larger than this is not from plba-master. */
#define REPLY_MAX	(64u << 20)

struct sink {
	struct reply	*r;
	size_t		 cap;
	bool		 too_big;
};

static size_t
on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	struct reply *r = s->r;
	size_t n = size * nmemb;

	if (r->len + n > REPLY_MAX) {
		s->too_big = true;
		return 0;	/* curl aborts the transfer */
	}
	if (r->len + n + 1 > s->cap) {
		while (r->len + n + 1 > s->cap)
			s->cap = s->cap != 0 ? s->cap * 2 : 8192;
		r->body = xrealloc(r->body, s->cap);
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

/*
 * Proxies from the environment (http_proxy and friends) still apply, but
 * never to loopback addresses: a local master reached through a proxy
 * would hand the bearer token to that proxy for nothing.
 */
static char *
no_proxy(void)
{
	const char *env = getenv("no_proxy"), *loop = "127.0.0.1,localhost,::1";
	char *s;

	if (env == NULL || *env == '\0')
		env = getenv("NO_PROXY");
	if (env == NULL || *env == '\0')
		return xstrdup(loop);
	s = xmalloc(strlen(env) + strlen(loop) + 2);
	sprintf(s, "%s,%s", env, loop);
	return s;
}

int
client_request(const struct client *c, const char *method, const char *path,
    const char *body, size_t blen, struct reply *r, enum client_error *why,
    char *err, size_t errlen)
{
	char cerr[CURL_ERROR_SIZE] = "", *url, *auth = NULL, *np;
	struct curl_slist *hdrs = NULL;
	struct sink sink = { .r = r };
	CURLcode rc;
	CURL *h;

	memset(r, 0, sizeof(*r));
	if ((h = curl_easy_init()) == NULL) {
		*why = CLIENT_OTHER;
		snprintf(err, errlen, "cannot initialize libcurl");
		return -1;
	}
	url = xmalloc(strlen(c->url) + strlen(path) + 1);
	sprintf(url, "%s%s", c->url, path);
	np = no_proxy();
	hdrs = curl_slist_append(hdrs, "Accept: application/json, text/plain");
	/* civetweb needs no 100-continue round trip before a body. */
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (body != NULL)
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	if (c->token != NULL) {
		auth = xmalloc(strlen(c->token) + sizeof("Authorization: Bearer "));
		sprintf(auth, "Authorization: Bearer %s", c->token);
		hdrs = curl_slist_append(hdrs, auth);
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(h, CURLOPT_NOPROXY, np);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "plbactl/" PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body != NULL ? body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(body != NULL ? blen : 0));
	}
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->code);
		if (r->body == NULL)
			r->body = xstrdup("");
	} else {
		switch (rc) {
		case CURLE_COULDNT_CONNECT:
			*why = CLIENT_CONNECT;
			break;
		case CURLE_OPERATION_TIMEDOUT:
			*why = CLIENT_TIMEOUT;
			break;
		default:
			*why = CLIENT_OTHER;
			break;
		}
		if (sink.too_big)
			snprintf(err, errlen, "the answer is over %u bytes",
			    REPLY_MAX);
		else
			snprintf(err, errlen, "%s", cerr[0] != '\0' ? cerr :
			    curl_easy_strerror(rc));
		reply_clear(r);
	}
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	free(auth);
	free(np);
	free(url);
	return rc == CURLE_OK ? 0 : -1;
}

void
reply_clear(struct reply *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

char *
client_escape(const char *name)
{
	char *e = curl_easy_escape(NULL, name, 0), *s;

	if (e == NULL) {
		fputs("plbactl: out of memory\n", stderr);
		exit(2);
	}
	s = xstrdup(e);
	curl_free(e);
	return s;
}
