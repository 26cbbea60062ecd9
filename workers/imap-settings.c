/* The imap-poller's configuration keys, with their defaults and limits. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <plba/plba.h>

#include "imap-settings.h"
#include "imap.h"

struct errbuf {
	char		*buf;
	size_t		 len;
	const char	**key;
};

static int bad(struct errbuf *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int
bad(struct errbuf *e, const char *key, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(e->buf, e->len, "config.%s: ", key);
	if (n >= 0 && (size_t)n < e->len) {
		va_start(ap, fmt);
		vsnprintf(e->buf + n, e->len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	if (e->key != NULL)
		*e->key = key;
	return -1;
}

const char *const imap_settings_keys[] = {
	"url", "user", "password", "password_file", "password_env", "ca_file",
	"queue", "task", "move_to", "dead_move_to", "starttls", "insecure",
	"verbose", "interval", "rescan", "timeout", "max_body", "batch",
	"max_in_flight", NULL
};

static char *
read_secret_file(const char *path)
{
	char buf[1024];
	size_t n;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return strdup(buf);
}

static int
mailbox_from_url(struct imap_settings *s, struct errbuf *e)
{
	char *path = NULL, *scheme = NULL, arg[IMAP_MAILBOX_MAX];
	const char *why;
	CURLU *u;
	int rc = -1;

	if ((u = curl_url()) == NULL)
		return bad(e, "url", "out of memory");
	if (curl_url_set(u, CURLUPART_URL, s->url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		bad(e, "url", "not a URL");
		goto out;
	}
	if (strcasecmp(scheme, "imap") != 0 && strcasecmp(scheme, "imaps") != 0) {
		bad(e, "url", "must be imap:// or imaps://");
		goto out;
	}
	if (s->starttls && strcasecmp(scheme, "imaps") == 0) {
		bad(e, "starttls", "is for imap:// URLs; imaps:// is TLS already");
		goto out;
	}
	/* libcurl refuses to decode a control character (or %00). */
	switch (curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE)) {
	case CURLUE_OK:
		break;
	case CURLUE_URLDECODE:
		bad(e, "url", "the mailbox name has a control character");
		goto out;
	default:
		path = NULL;
		break;
	}
	if ((size_t)snprintf(s->mailbox, sizeof(s->mailbox), "%s",
	    path != NULL && path[0] == '/' && path[1] != '\0' ? path + 1 :
	    "INBOX") >= sizeof(s->mailbox)) {
		bad(e, "url", "the mailbox name is too long");
		goto out;
	}
	/* libcurl's ";UIDVALIDITY=" style parameters are not ours. */
	s->mailbox[strcspn(s->mailbox, ";")] = '\0';
	if (imap_mailbox(arg, sizeof(arg), s->mailbox, &why) == -1) {
		bad(e, "url", "the mailbox name %s", why);
		goto out;
	}
	rc = 0;
out:
	curl_free(path);
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

/* A mailbox to move mails to, when one is set, must have an IMAP name. */
static bool
folder_ok(struct errbuf *e, const char *key, const char *name)
{
	char arg[IMAP_MAILBOX_MAX];
	const char *why;

	if (name == NULL || imap_mailbox(arg, sizeof(arg), name, &why) == 0)
		return true;
	bad(e, key, "the mailbox name %s", why);
	return false;
}

int
imap_settings_read(const plba_node *c, struct imap_settings *s, char *err,
    size_t errlen, const char **key)
{
	struct errbuf eb = { err, errlen, key }, *e = &eb;
	const char *pw = NULL, *pw_file = NULL, *pw_env = NULL;
	int n = 0;

	memset(s, 0, sizeof(*s));
#define STR(key, def, out) \
	if (plba_node_string(c, key, def, out) != PLBA_OK) \
		return bad(e, key, "must be a string")
#define BOOL(key, def, out) \
	if (plba_node_bool(c, key, def, out) != PLBA_OK) \
		return bad(e, key, "must be true or false")
#define DUR(key, def, out) \
	if (plba_node_duration(c, key, def, out) != PLBA_OK || *(out) == 0) \
		return bad(e, key, "must be a positive duration")
	STR("url", NULL, &s->url);
	STR("user", NULL, &s->user);
	STR("password", NULL, &pw);
	STR("password_file", NULL, &pw_file);
	STR("password_env", NULL, &pw_env);
	STR("ca_file", NULL, &s->ca_file);
	STR("queue", NULL, &s->queue);
	STR("task", "mail", &s->task);
	STR("move_to", NULL, &s->move_to);
	STR("dead_move_to", NULL, &s->dead_move_to);
	BOOL("starttls", false, &s->starttls);
	BOOL("insecure", false, &s->insecure);
	BOOL("verbose", false, &s->verbose);
	DUR("interval", 30000, &s->interval_ms);
	DUR("rescan", 600000, &s->rescan_ms);
	DUR("timeout", 30000, &s->timeout_ms);
	if (plba_node_size(c, "max_body", 65536, &s->max_body) != PLBA_OK ||
	    s->max_body > 64 * 1024 * 1024)
		return bad(e, "max_body", "must be a size up to 64MiB");
	if (plba_node_int(c, "batch", 100, &s->batch) != PLBA_OK ||
	    s->batch < 1 || s->batch > 10000)
		return bad(e, "batch", "must be an integer from 1 to 10000");
	if (plba_node_int(c, "max_in_flight", 1000, &s->max_in_flight) != PLBA_OK ||
	    s->max_in_flight < 1 || s->max_in_flight > 1000000)
		return bad(e, "max_in_flight", "must be an integer from 1 to 1000000");
#undef STR
#undef BOOL
#undef DUR
	if (s->url == NULL)
		return bad(e, "url", "is required (imap://host/MAILBOX)");
	if (s->user == NULL)
		return bad(e, "user", "is required");
	if (s->queue == NULL)
		return bad(e, "queue", "is required");
	n = (pw != NULL) + (pw_file != NULL) + (pw_env != NULL);
	if (n != 1)
		return bad(e, "password", "give exactly one of password, "
		    "password_file and password_env");
	if (pw_file != NULL && (s->password = read_secret_file(pw_file)) == NULL)
		return bad(e, "password_file", "cannot be read");
	if (pw_env != NULL) {
		if (getenv(pw_env) == NULL)
			return bad(e, "password_env", "names a variable that is not set");
		pw = getenv(pw_env);
	}
	if (pw != NULL && (s->password = strdup(pw)) == NULL)
		return bad(e, "password", "out of memory");
	if (mailbox_from_url(s, e) == -1 ||
	    !folder_ok(e, "move_to", s->move_to) ||
	    !folder_ok(e, "dead_move_to", s->dead_move_to)) {
		imap_settings_free(s);
		return -1;
	}
	return 0;
}

void
imap_settings_free(struct imap_settings *s)
{
	free(s->password);
	s->password = NULL;
}

