/*
 * From a mail's raw header block and body to the imap-poller's task
 * payload.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "mailmsg.h"

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (s[0] < 0x80)
		return s[0] != 0;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

char *
utf8_clean(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out, *o;
	size_t i = 0, n;

	/* Each bad byte grows to three. */
	if (len > (SIZE_MAX - 1) / 3 || (out = malloc(len * 3 + 1)) == NULL)
		return NULL;
	o = out;
	while (i < len) {
		if ((n = utf8_seq(p + i, len - i)) == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(o, p + i, n);
		o += n;
		i += n;
	}
	*o = '\0';
	return out;
}

/* Drops CR and LF in place: unfolding keeps the white space after them. */
static void
unfold(char *s)
{
	char *w = s;

	for (; *s != '\0'; s++)
		if (*s != '\r' && *s != '\n')
			*w++ = *s;
	*w = '\0';
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/*
 * The next header field from [*p, end), name and raw value (malloc'd).
 * Lines that are not "Name: value" and not a continuation are skipped.
 */
static bool
next_field(const char **p, const char *end, char **name, char **value)
{
	const char *line, *eol, *colon;

	for (;;) {
		if ((line = *p) >= end)
			return false;
		eol = memchr(line, '\n', (size_t)(end - line));
		eol = eol != NULL ? eol : end;
		*p = eol < end ? eol + 1 : end;
		colon = memchr(line, ':', (size_t)(eol - line));
		if (colon != NULL && colon > line && line[0] != ' ' &&
		    line[0] != '\t' &&
		    memchr(line, ' ', (size_t)(colon - line)) == NULL)
			break;
	}
	while (*p < end && (**p == ' ' || **p == '\t')) {
		eol = memchr(*p, '\n', (size_t)(end - *p));
		*p = eol != NULL ? eol + 1 : end;
	}
	if ((*name = utf8_clean(line, (size_t)(colon - line))) == NULL)
		return false;
	if ((*value = utf8_clean(colon + 1, (size_t)(*p - (colon + 1)))) == NULL) {
		free(*name);
		return false;
	}
	unfold(*value);
	return true;
}

bool
mailmsg_header(const char *block, size_t len, const char *name, char *out,
    size_t outlen)
{
	const char *p = block, *end = block + len;
	char *n, *v;
	bool found = false;

	while (!found && next_field(&p, end, &n, &v)) {
		if (strcasecmp(n, name) == 0) {
			snprintf(out, outlen, "%s", trim(v));
			found = true;
		}
		free(n);
		free(v);
	}
	return found;
}

static int
add_headers(cJSON *payload, const char *block, size_t len)
{
	static const struct { const char *header, *key; } top[] = {
		{ "Message-ID", "message_id" }, { "From", "from" },
		{ "To", "to" }, { "Subject", "subject" }, { "Date", "date" },
	};
	const char *p = block, *end = block + len;
	cJSON *headers;
	char *name, *value, *v;
	size_t i;
	int rc = 0;

	if ((headers = cJSON_AddObjectToObject(payload, "headers")) == NULL)
		return -1;
	while (rc == 0 && next_field(&p, end, &name, &value)) {
		v = trim(value);
		/* The first of a repeated header wins (cJSON compares case-blind). */
		if (cJSON_GetObjectItem(headers, name) == NULL &&
		    cJSON_AddStringToObject(headers, name, v) == NULL)
			rc = -1;
		for (i = 0; rc == 0 && i < sizeof(top) / sizeof(top[0]); i++)
			if (strcasecmp(name, top[i].header) == 0 &&
			    cJSON_GetObjectItem(payload, top[i].key) == NULL &&
			    cJSON_AddStringToObject(payload, top[i].key, v) == NULL)
				rc = -1;
		free(name);
		free(value);
	}
	return rc;
}

char *
mailmsg_payload(const struct mailmsg *m)
{
	cJSON *p;
	char *body = NULL, *out = NULL;

	if ((p = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddStringToObject(p, "mailbox", m->mailbox) == NULL ||
	    cJSON_AddNumberToObject(p, "uidvalidity", m->uidvalidity) == NULL ||
	    cJSON_AddNumberToObject(p, "uid", m->uid) == NULL ||
	    cJSON_AddNumberToObject(p, "size", (double)m->size) == NULL ||
	    add_headers(p, m->header, m->header_len) == -1 ||
	    (body = utf8_clean(m->body, m->body_len)) == NULL ||
	    cJSON_AddStringToObject(p, "body", body) == NULL ||
	    cJSON_AddBoolToObject(p, "truncated", m->truncated) == NULL)
		goto out;
	out = cJSON_PrintUnformatted(p);
out:
	free(body);
	cJSON_Delete(p);
	return out;
}
