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

/* Where errors go, and how many there were. */
struct errs {
	imap_settings_error_fn	*fn;
	void			*arg;
	int			 n;
};

static int bad(struct errs *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Reports one error; returns -1 for the callers that stop there. */
static int
bad(struct errs *e, const char *key, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e->fn(key, msg, e->arg);
	e->n++;
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
mailbox_from_url(struct imap_settings *s, struct errs *e)
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
static void
folder_ok(struct errs *e, const char *key, const char *name)
{
	char arg[IMAP_MAILBOX_MAX];
	const char *why;

	if (name != NULL && imap_mailbox(arg, sizeof(arg), name, &why) == -1)
		bad(e, key, "the mailbox name %s", why);
}

/* A string, NULL when it is not one (which is reported). */
static bool
str(const plba_node *c, struct errs *e, const char *key, const char *def,
    const char **out)
{
	if (plba_node_string(c, key, def, out) == PLBA_OK)
		return true;
	*out = NULL;
	bad(e, key, "must be a string");
	return false;
}

static void
boolean(const plba_node *c, struct errs *e, const char *key, bool *out)
{
	if (plba_node_bool(c, key, false, out) != PLBA_OK)
		bad(e, key, "must be true or false");
}

static void
duration(const plba_node *c, struct errs *e, const char *key, uint64_t def,
    uint64_t *out)
{
	if (plba_node_duration(c, key, def, out) != PLBA_OK || *out == 0)
		bad(e, key, "must be a positive duration");
}

static void
integer(const plba_node *c, struct errs *e, const char *key, long long def,
    long long max, long long *out)
{
	if (plba_node_int(c, key, def, out) != PLBA_OK || *out < 1 ||
	    *out > max)
		bad(e, key, "must be an integer from 1 to %lld", max);
}

/*
 * Every value is looked at, whatever was wrong before it, so that one
 * start of the instance shows everything there is to fix.  A check that
 * needs another value is skipped when that value was itself wrong.
 */
int
imap_settings_read(const plba_node *c, struct imap_settings *s,
    imap_settings_error_fn *fn, void *arg)
{
	struct errs eb = { fn, arg, 0 }, *e = &eb;
	const char *pw = NULL, *pw_file = NULL, *pw_env = NULL;
	bool url_ok, pw_ok;

	memset(s, 0, sizeof(*s));
	if (c != NULL && plba_node_kind(c) != PLBA_NODE_MAP) {
		bad(e, NULL, "expected a map");
		return e->n;
	}
	if ((url_ok = str(c, e, "url", NULL, &s->url)) && s->url == NULL)
		bad(e, "url", "is required (imap://host/MAILBOX)");
	if (str(c, e, "user", NULL, &s->user) && s->user == NULL)
		bad(e, "user", "is required");
	pw_ok = str(c, e, "password", NULL, &pw);
	pw_ok &= str(c, e, "password_file", NULL, &pw_file);
	pw_ok &= str(c, e, "password_env", NULL, &pw_env);
	if (pw_ok && (pw != NULL) + (pw_file != NULL) + (pw_env != NULL) != 1)
		bad(e, "password", "give exactly one of password, "
		    "password_file and password_env");
	else if (pw_file != NULL &&
	    (s->password = read_secret_file(pw_file)) == NULL)
		bad(e, "password_file", "cannot be read");
	else if (pw_env != NULL && (pw = getenv(pw_env)) == NULL)
		bad(e, "password_env", "names a variable that is not set");
	if (s->password == NULL && pw != NULL &&
	    (s->password = strdup(pw)) == NULL)
		bad(e, "password", "out of memory");
	str(c, e, "ca_file", NULL, &s->ca_file);
	if (str(c, e, "queue", NULL, &s->queue) && s->queue == NULL)
		bad(e, "queue", "is required");
	str(c, e, "task", "mail", &s->task);
	if (str(c, e, "move_to", NULL, &s->move_to))
		folder_ok(e, "move_to", s->move_to);
	if (str(c, e, "dead_move_to", NULL, &s->dead_move_to))
		folder_ok(e, "dead_move_to", s->dead_move_to);
	boolean(c, e, "starttls", &s->starttls);
	boolean(c, e, "insecure", &s->insecure);
	boolean(c, e, "verbose", &s->verbose);
	/* After starttls, which an imaps:// URL refuses. */
	if (url_ok && s->url != NULL)
		mailbox_from_url(s, e);
	duration(c, e, "interval", 30000, &s->interval_ms);
	duration(c, e, "rescan", 600000, &s->rescan_ms);
	duration(c, e, "timeout", 30000, &s->timeout_ms);
	if (plba_node_size(c, "max_body", 65536, &s->max_body) != PLBA_OK ||
	    s->max_body > 64 * 1024 * 1024)
		bad(e, "max_body", "must be a size up to 64MiB");
	integer(c, e, "batch", 100, 10000, &s->batch);
	integer(c, e, "max_in_flight", 1000, 1000000, &s->max_in_flight);
	if (e->n > 0)
		imap_settings_free(s);
	return e->n;
}

void
imap_settings_free(struct imap_settings *s)
{
	free(s->password);
	s->password = NULL;
}

