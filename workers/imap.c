/*
 * The imap-poller's IMAP client: libcurl connects and logs in
 * (CURLOPT_CONNECT_ONLY), then commands and responses go over
 * curl_easy_send() and curl_easy_recv(), which keep TLS in libcurl's hands.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "imap.h"

/* A line without its end this long is not IMAP. */
#define IMAP_MAX_LINE	(64 * 1024)
/* The longest wait on the socket before cancel is asked again. */
#define CANCEL_LOOK_MS	100

struct imap {
	CURL		*curl;
	curl_socket_t	 fd;
	char		*buf;
	size_t		 len;		/* bytes held */
	size_t		 cap;
	unsigned	 tag;
	uint64_t	 ncmd;
	long		 timeout_ms;
	size_t		 max_literal;
	imap_trace_fn	*trace;
	void		*trace_arg;
	bool		(*cancel)(void *);
	void		*cancel_arg;
	char		 caps[2048];	/* " CAP1 CAP2 ... ", for imap_has() */
};

/* --- the response reader --------------------------------------------------- */

/* If the line [line, eol) ends with {N} or {N+}, returns N, else -1. */
static long long
literal_size(const char *line, const char *eol)
{
	const char *p = eol;
	long long n = 0, scale = 1;

	if (p == line || p[-1] != '}')
		return -1;
	p--;
	if (p > line && p[-1] == '+')
		p--;
	if (p == line || p[-1] < '0' || p[-1] > '9')
		return -1;
	while (p > line && p[-1] >= '0' && p[-1] <= '9') {
		if (scale > 1000000000000LL)
			return -2;	/* absurdly long: refuse */
		n += (p[-1] - '0') * scale;
		scale *= 10;
		p--;
	}
	if (p == line || p[-1] != '{')
		return -1;
	return n;
}

long
imap_response_next(const char *buf, size_t len, size_t max_literal,
    struct imap_response *r)
{
	const char *start = buf, *end = buf + len, *pos = buf, *eol;
	long long n;

	memset(r, 0, sizeof(*r));
	for (;;) {
		eol = NULL;
		for (const char *p = pos; p + 1 < end; p++)
			if (p[0] == '\r' && p[1] == '\n') {
				eol = p;
				break;
			}
		if (eol == NULL)
			return (size_t)(end - pos) > IMAP_MAX_LINE ? -1 : 0;
		if (eol - pos > IMAP_MAX_LINE)
			return -1;
		n = literal_size(pos, eol);
		if (n == -2 || (n >= 0 && (unsigned long long)n > max_literal))
			return -1;
		r->text[r->nlit] = start;
		r->textlen[r->nlit] = (size_t)(eol - start);
		if (n < 0)
			return (long)(eol + 2 - buf);
		if (r->nlit == IMAP_MAX_LITERALS)
			return -1;
		if ((size_t)(end - (eol + 2)) < (size_t)n)
			return 0;
		r->lit[r->nlit] = eol + 2;
		r->litlen[r->nlit] = (size_t)n;
		r->nlit++;
		start = pos = eol + 2 + n;
	}
}

/* --- I/O ------------------------------------------------------------------------ */

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool
cancelled(const struct imap *im)
{
	return im->cancel != NULL && im->cancel(im->cancel_arg);
}

/*
 * Waits until the socket is ready for events: 0, or -1 at the deadline
 * or on an error, -2 once cancel says so.
 */
static int
wait_socket(struct imap *im, short events, long long deadline)
{
	struct pollfd pfd = { .fd = im->fd, .events = events };
	long long left;
	int rc;

	for (;;) {
		if (cancelled(im))
			return -2;
		if ((left = deadline - now_ms()) <= 0)
			return -1;
		rc = poll(&pfd, 1, left > CANCEL_LOOK_MS ? CANCEL_LOOK_MS :
		    (int)left);
		if (rc > 0)
			return 0;
		if (rc == -1 && errno != EINTR)
			return -1;
	}
}

static int
send_all(struct imap *im, const char *data, size_t len, char *err,
    size_t errlen)
{
	long long deadline = now_ms() + im->timeout_ms;
	CURLcode rc;
	size_t n;
	int w;

	while (len > 0) {
		rc = curl_easy_send(im->curl, data, len, &n);
		if (rc == CURLE_AGAIN) {
			if ((w = wait_socket(im, POLLOUT, deadline)) != 0) {
				snprintf(err, errlen, "send: %s", w == -2 ?
				    "cancelled" : "timed out");
				return -1;
			}
			continue;
		}
		if (rc != CURLE_OK) {
			snprintf(err, errlen, "send: %s", curl_easy_strerror(rc));
			return -1;
		}
		data += n;
		len -= n;
	}
	return 0;
}

/* Reads more into the buffer; the deadline counts from the last byte. */
static int
read_more(struct imap *im, char *err, size_t errlen)
{
	long long deadline = now_ms() + im->timeout_ms;
	size_t want = im->max_literal + 2 * IMAP_MAX_LINE, n;
	CURLcode rc;
	char *nb;
	int w;

	if (im->cap - im->len < 16 * 1024) {
		size_t cap = im->cap == 0 ? 64 * 1024 : im->cap * 2;

		if (im->len >= want) {
			snprintf(err, errlen, "response too large");
			return -1;
		}
		if (cap > want)
			cap = want;
		if ((nb = realloc(im->buf, cap)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		im->buf = nb;
		im->cap = cap;
	}
	for (;;) {
		rc = curl_easy_recv(im->curl, im->buf + im->len, im->cap - im->len,
		    &n);
		if (rc == CURLE_AGAIN) {
			if ((w = wait_socket(im, POLLIN, deadline)) != 0) {
				snprintf(err, errlen, "%s", w == -2 ? "cancelled" :
				    "no answer within the timeout");
				return -1;
			}
			continue;
		}
		if (rc != CURLE_OK) {
			snprintf(err, errlen, "receive: %s", curl_easy_strerror(rc));
			return -1;
		}
		if (n == 0) {
			snprintf(err, errlen, "the server closed the connection");
			return -1;
		}
		im->len += n;
		return 0;
	}
}

static void
consume(struct imap *im, size_t n)
{
	memmove(im->buf, im->buf + n, im->len - n);
	im->len -= n;
}

static void
note_capabilities(struct imap *im, const char *text, size_t len)
{
	size_t i;

	snprintf(im->caps, sizeof(im->caps), " %.*s ", (int)len, text);
	for (i = 0; im->caps[i] != '\0'; i++)
		if (im->caps[i] >= 'a' && im->caps[i] <= 'z')
			im->caps[i] -= 'a' - 'A';
}

int
imap_command(struct imap *im, imap_untagged_fn *fn, void *arg, char *err,
    size_t errlen, const char *fmt, ...)
{
	struct imap_response r;
	char cmd[8192], tag[16];
	size_t taglen;
	va_list ap;
	long used;
	int n;

	taglen = (size_t)snprintf(tag, sizeof(tag), "P%u ", ++im->tag);
	memcpy(cmd, tag, taglen);
	va_start(ap, fmt);
	n = vsnprintf(cmd + taglen, sizeof(cmd) - taglen - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd) - taglen - 2) {
		snprintf(err, errlen, "command too long");
		return -1;
	}
	memcpy(cmd + taglen + n, "\r\n", 2);
	im->ncmd++;
	if (im->trace != NULL)
		im->trace(cmd + taglen, (size_t)n, im->trace_arg);
	if (send_all(im, cmd, taglen + (size_t)n + 2, err, errlen) == -1)
		return -2;
	for (;;) {
		used = imap_response_next(im->buf, im->len, im->max_literal, &r);
		if (used == -1) {
			snprintf(err, errlen, "malformed or oversized response");
			return -2;
		}
		if (used == 0) {
			if (read_more(im, err, errlen) == -1)
				return -2;
			continue;
		}
		if (r.textlen[0] >= 2 && memcmp(r.text[0], "* ", 2) == 0) {
			if (r.nlit == 0 && r.textlen[0] > 13 &&
			    strncasecmp(r.text[0], "* CAPABILITY ", 13) == 0)
				note_capabilities(im, r.text[0] + 13, r.textlen[0] - 13);
			if (r.textlen[0] >= 5 &&
			    strncasecmp(r.text[0], "* BYE", 5) == 0) {
				snprintf(err, errlen, "server said: %.*s",
				    (int)(r.textlen[0] > 200 ? 200 : r.textlen[0]),
				    r.text[0]);
				consume(im, (size_t)used);
				return -2;
			}
			if (fn != NULL)
				fn(&r, arg);
			consume(im, (size_t)used);
			continue;
		}
		if (r.nlit == 0 && r.textlen[0] >= taglen &&
		    memcmp(r.text[0], tag, taglen) == 0) {
			const char *s = r.text[0] + taglen;
			size_t sl = r.textlen[0] - taglen;
			int ok = sl >= 2 && strncasecmp(s, "OK", 2) == 0;

			if (!ok)
				snprintf(err, errlen, "%.*s", (int)(sl > 300 ? 300 : sl),
				    s);
			consume(im, (size_t)used);
			return ok ? 0 : -1;
		}
		/* A continuation request or another tag: we sent neither a
		 * literal nor a second command, so the peer is confused. */
		snprintf(err, errlen, "unexpected response: %.*s",
		    (int)(r.textlen[0] > 100 ? 100 : r.textlen[0]), r.text[0]);
		consume(im, (size_t)used);
		return -2;
	}
}

/* --- session ------------------------------------------------------------------- */

/* The length of the word at s, up to end: what comes before a space. */
static size_t
word_len(const char *s, const char *end)
{
	const char *p = s;

	while (p < end && *p != ' ')
		p++;
	return (size_t)(p - s);
}

/*
 * A line that is not a tag and a command is a SASL continuation, the
 * credentials themselves.  Commands are shown whole only when they carry
 * nothing secret; AUTHENTICATE keeps its mechanism, anything else (LOGIN)
 * only its name.
 */
int
imap_login_shown(char *out, size_t cap, const char *line, size_t len)
{
	static const char *const harmless[] = { "CAPABILITY", "STARTTLS",
	    "NOOP", "ID", NULL };
	const char *end = line + len, *verb, *rest;
	size_t taglen, vlen, keep, i;

	taglen = word_len(line, end);
	for (i = 0; i < taglen; i++)
		if (!((line[i] >= 'A' && line[i] <= 'Z') ||
		    (line[i] >= 'a' && line[i] <= 'z') ||
		    (line[i] >= '0' && line[i] <= '9')))
			return -1;
	if (taglen == 0 || taglen == len || (vlen = word_len(line + taglen + 1,
	    end)) == 0 || vlen > 32)
		return -1;
	verb = line + taglen + 1;
	rest = verb + vlen;
	keep = vlen;
	if (rest < end && vlen == 12 && strncasecmp(verb, "AUTHENTICATE", 12) == 0)
		keep = vlen + 1 + word_len(rest + 1, end);
	for (i = 0; harmless[i] != NULL; i++)
		if (strlen(harmless[i]) == vlen &&
		    strncasecmp(verb, harmless[i], vlen) == 0)
			keep = (size_t)(end - verb);
	if (keep > 64)
		keep = 64;
	snprintf(out, cap, "%.*s%s", (int)keep, verb, verb + keep < end ?
	    " ***" : "");
	return 0;
}

/* libcurl's debug output while it logs in: only the lines it sends. */
static int
on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	struct imap *im = arg;
	const char *eol;
	char shown[128];
	size_t len, n;

	(void)h;
	if (type != CURLINFO_HEADER_OUT)
		return 0;
	while (size > 0) {
		eol = memchr(data, '\n', size);
		len = eol != NULL ? (size_t)(eol - data) + 1 : size;
		for (n = len; n > 0 && (data[n - 1] == '\n' ||
		    data[n - 1] == '\r'); n--)
			;
		/* Continuations are not commands: not counted either. */
		if (imap_login_shown(shown, sizeof(shown), data, n) == 0) {
			im->ncmd++;
			if (im->trace != NULL)
				im->trace(shown, strlen(shown), im->trace_arg);
		}
		data += len;
		size -= len;
	}
	return 0;
}

/* libcurl asks about once a second while it connects and logs in, and
 * again while a LOGOUT waits for its answer when the handle goes. */
static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return cancelled(arg) ? 1 : 0;
}

struct imap *
imap_open(const struct imap_options *o, char *err, size_t errlen)
{
	char curlerr[CURL_ERROR_SIZE] = "";
	struct imap *im;
	CURLcode rc;

	if ((im = calloc(1, sizeof(*im))) == NULL ||
	    (im->curl = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(im);
		return NULL;
	}
	im->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
	im->max_literal = o->max_literal;
	im->trace = o->trace;
	im->trace_arg = o->trace_arg;
	im->cancel = o->cancel;
	im->cancel_arg = o->cancel_arg;
	curl_easy_setopt(im->curl, CURLOPT_URL, o->url);
	curl_easy_setopt(im->curl, CURLOPT_PROTOCOLS_STR, "imap,imaps");
	curl_easy_setopt(im->curl, CURLOPT_USERNAME, o->user);
	curl_easy_setopt(im->curl, CURLOPT_PASSWORD, o->password);
	curl_easy_setopt(im->curl, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(im->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(im->curl, CURLOPT_CONNECTTIMEOUT_MS, im->timeout_ms);
	curl_easy_setopt(im->curl, CURLOPT_TIMEOUT_MS, im->timeout_ms);
	curl_easy_setopt(im->curl, CURLOPT_ERRORBUFFER, curlerr);
	/* To see the login's commands: libcurl sends them, not us. */
	curl_easy_setopt(im->curl, CURLOPT_DEBUGFUNCTION, on_debug);
	curl_easy_setopt(im->curl, CURLOPT_DEBUGDATA, im);
	curl_easy_setopt(im->curl, CURLOPT_VERBOSE, 1L);
	if (o->cancel != NULL) {
		curl_easy_setopt(im->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(im->curl, CURLOPT_XFERINFODATA, im);
		curl_easy_setopt(im->curl, CURLOPT_NOPROGRESS, 0L);
	}
	if (o->starttls)
		curl_easy_setopt(im->curl, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (o->ca_file != NULL)
		curl_easy_setopt(im->curl, CURLOPT_CAINFO, o->ca_file);
	if (o->insecure) {
		curl_easy_setopt(im->curl, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(im->curl, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if ((rc = curl_easy_perform(im->curl)) != CURLE_OK) {
		snprintf(err, errlen, "%s", curlerr[0] != '\0' ? curlerr :
		    curl_easy_strerror(rc));
		goto fail;
	}
	curl_easy_setopt(im->curl, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(im->curl, CURLOPT_VERBOSE, 0L);
	if (curl_easy_getinfo(im->curl, CURLINFO_ACTIVESOCKET, &im->fd) !=
	    CURLE_OK || im->fd == CURL_SOCKET_BAD) {
		snprintf(err, errlen, "no socket after the login");
		goto fail;
	}
	/* What the server can do once logged in, for imap_has(). */
	if (imap_command(im, NULL, NULL, err, errlen, "CAPABILITY") != 0)
		goto fail;
	return im;
fail:
	imap_close(im);
	return NULL;
}

void
imap_close(struct imap *im)
{
	if (im == NULL)
		return;
	/* A LOGOUT libcurl sends now is no poll's. */
	curl_easy_setopt(im->curl, CURLOPT_VERBOSE, 0L);
	curl_easy_cleanup(im->curl);
	free(im->buf);
	free(im);
}

bool
imap_has(const struct imap *im, const char *capability)
{
	char word[64];

	snprintf(word, sizeof(word), " %s ", capability);
	return strcasestr(im->caps, word) != NULL;
}

uint64_t
imap_commands(const struct imap *im)
{
	return im->ncmd;
}

bool
imap_errors_alike(const char *a, const char *b)
{
	for (;;) {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			while (isdigit((unsigned char)*a))
				a++;
			while (isdigit((unsigned char)*b))
				b++;
			continue;
		}
		if (*a != *b)
			return false;
		if (*a == '\0')
			return true;
		a++;
		b++;
	}
}

int
imap_quote(char *out, size_t cap, const char *s)
{
	size_t o = 0;

	if (cap < 3)
		return -1;
	out[o++] = '"';
	for (; *s != '\0'; s++) {
		if (*s == '\r' || *s == '\n')
			return -1;
		if (o + 3 >= cap)
			return -1;
		if (*s == '"' || *s == '\\')
			out[o++] = '\\';
		out[o++] = *s;
	}
	out[o++] = '"';
	out[o] = '\0';
	return 0;
}

/*
 * The code point of the UTF-8 sequence at s, its length in *n; -1 for a
 * sequence that is not UTF-8 (overlong, a surrogate, past U+10FFFF, cut).
 */
static long
utf8_next(const unsigned char *s, size_t *n)
{
	static const long min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	long c;
	size_t len, i;

	if (s[0] < 0x80) {
		*n = 1;
		return s[0];
	}
	if (s[0] >= 0xc0 && s[0] < 0xe0) {
		len = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] < 0xf0) {
		len = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] < 0xf5) {
		len = 4;
		c = s[0] & 0x07;
	} else
		return -1;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)	/* a NUL stops here too */
			return -1;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*n = len;
	return c;
}

/*
 * RFC 3501 section 5.1.3: printable ASCII stands for itself, '&' is "&-",
 * and anything else goes in runs of UTF-16 written in base64 (',' for
 * '/', no padding) between '&' and '-'.  Servers without UTF8=ACCEPT
 * (RFC 6855) know mailboxes by no other name, and every server must
 * accept it.
 */
int
imap_mailbox(char *out, size_t cap, const char *name, const char **why)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
	const unsigned char *s = (const unsigned char *)name;
	char enc[IMAP_MAILBOX_MAX];
	unsigned long bits = 0;
	unsigned nbits = 0, units[2], k, nunits;
	bool in_run = false;
	size_t o = 0, n;
	long c;

	*why = NULL;
	if (*s == '\0')
		*why = "is empty";
	for (; *s != '\0' && *why == NULL; s += n) {
		if ((c = utf8_next(s, &n)) == -1) {
			*why = "is not UTF-8";
			break;
		}
		if (c < 0x20 || c == 0x7f) {
			*why = "has a control character";
			break;
		}
		/* Room for this character's worst case ("&" and six digits),
		 * the run's last digit and "-", and the NUL. */
		if (o + 10 > sizeof(enc)) {
			*why = "is too long";
			break;
		}
		if (c < 0x80) {
			if (in_run) {
				if (nbits > 0)
					enc[o++] = b64[(bits << (6 - nbits)) & 0x3f];
				enc[o++] = '-';
				in_run = false;
				bits = nbits = 0;
			}
			enc[o++] = (char)c;
			if (c == '&')
				enc[o++] = '-';
			continue;
		}
		if (!in_run) {
			enc[o++] = '&';
			in_run = true;
		}
		if (c < 0x10000) {
			units[0] = (unsigned)c;
			nunits = 1;
		} else {
			units[0] = 0xd800 + (unsigned)((c - 0x10000) >> 10);
			units[1] = 0xdc00 + (unsigned)((c - 0x10000) & 0x3ff);
			nunits = 2;
		}
		for (k = 0; k < nunits; k++) {
			bits = bits << 16 | units[k];
			for (nbits += 16; nbits >= 6; nbits -= 6)
				enc[o++] = b64[(bits >> (nbits - 6)) & 0x3f];
			bits &= (1ul << nbits) - 1;
		}
	}
	if (*why != NULL)
		return -1;
	if (in_run) {
		if (nbits > 0)
			enc[o++] = b64[(bits << (6 - nbits)) & 0x3f];
		enc[o++] = '-';
	}
	enc[o] = '\0';
	if (imap_quote(out, cap, enc) == -1) {
		*why = "is too long";
		return -1;
	}
	return 0;
}
