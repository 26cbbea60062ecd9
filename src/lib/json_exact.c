/*
 * cJSON keeps a number as a double and prints it with at most 15
 * significant digits (its round-trip check allows for a small error), so
 * an id past 2^53 such as 9007199254740993 comes back as
 * 9.00719925474099e+15, and 12345678901234567890123 as
 * 1.2345678901234568e+22.  A queue carries a payload; it must not change
 * one.  Anything cJSON prints with its 15 digits reads back as the value
 * written when that value has at most 15 significant digits, so only the
 * longer numbers are kept as text.
 */
#include "config.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "json_exact.h"

/* The number tokens of a JSON text, in order, outside strings. */
struct numbers {
	const char	*p, *end;
};

/* The next number token, or false at the end of the text. */
static bool
next_number(struct numbers *n, const char **tok, size_t *toklen)
{
	const char *p = n->p;

	while (p < n->end) {
		if (*p == '"') {
			for (p++; p < n->end && *p != '"'; p++)
				if (*p == '\\')
					p++;
			p++;
		} else if (*p == '-' || (*p >= '0' && *p <= '9')) {
			*tok = p;
			while (p < n->end && *p != '\0' &&
			    strchr("0123456789+-.eE", *p) != NULL)
				p++;
			*toklen = (size_t)(p - *tok);
			n->p = p;
			return true;
		} else
			p++;
	}
	n->p = p;
	return false;
}

/* Significant digits of a number token: from its first non-zero digit to
 * the end of its mantissa. */
static size_t
significant(const char *tok, size_t len)
{
	size_t i, n = 0;
	bool seen = false;

	for (i = 0; i < len && tok[i] != 'e' && tok[i] != 'E'; i++) {
		if (tok[i] < '0' || tok[i] > '9')
			continue;
		seen |= tok[i] != '0';
		n += seen;
	}
	return n;
}

static bool
long_number(const char *tok, size_t len)
{
	return significant(tok, len) >= 16;
}

/* Walks o in document order, the order of the text's number tokens. */
static int
walk(cJSON *o, struct numbers *n)
{
	const char *tok;
	size_t len;
	char *text;
	cJSON *e;

	if (cJSON_IsNumber(o)) {
		if (!next_number(n, &tok, &len))
			return 0;	/* not this tree's text: leave it */
		if (!long_number(tok, len) || !isfinite(o->valuedouble))
			return 0;
		if ((text = malloc(len + 1)) == NULL)
			return -1;
		memcpy(text, tok, len);
		text[len] = '\0';
		o->type = cJSON_Raw;
		o->valuestring = text;
		return 0;
	}
	for (e = o->child; e != NULL; e = e->next)
		if (walk(e, n) == -1)
			return -1;
	return 0;
}

int
json_exact_numbers(cJSON *root, const char *text, size_t len)
{
	struct numbers n = { text, text + len };
	const char *tok;
	size_t toklen;
	bool found = false;

	/* Most texts have no long number: one pass finds that out. */
	while (!found && next_number(&n, &tok, &toklen))
		found = long_number(tok, toklen);
	if (!found)
		return 0;
	n.p = text;
	return walk(root, &n);
}
