/* UTF-8 as RFC 3629 has it, for what must be JSON text: frames, records,
 * request bodies. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "utf8.h"

size_t
utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (len == 0 || c == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* Counted first, so that a valid string, the usual one, costs no copy. */
char *
utf8_clean(const char *s, bool *nomem)
{
	const unsigned char *p, *end;
	size_t n, bad = 0, len = strlen(s);
	char *clean, *q;

	*nomem = false;
	end = (const unsigned char *)s + len;
	for (p = (const unsigned char *)s; p < end; p += n)
		if ((n = utf8_seq(p, (size_t)(end - p))) == 0) {
			n = 1;
			bad++;
		}
	if (bad == 0)
		return NULL;
	if ((clean = malloc(len + bad * 2 + 1)) == NULL) {
		*nomem = true;
		return NULL;
	}
	for (p = (const unsigned char *)s, q = clean; p < end; p += n) {
		if ((n = utf8_seq(p, (size_t)(end - p))) == 0) {
			memcpy(q, UTF8_REPLACEMENT, 3);
			q += 3;
			n = 1;
		} else {
			memcpy(q, p, n);
			q += n;
		}
	}
	*q = '\0';
	return clean;
}
