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

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
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

/* A digit or a decimal point: what a number's mantissa is made of. */
static bool
mantissa_byte(unsigned char c)
{
	return (c >= '0' && c <= '9') || c == '.';
}

/*
 * Whether the text has a run of 16 digits and points: a number of 16
 * significant digits has one, so most texts are done with here.  Every
 * task frame a consumer reads goes through this, so it looks at sixteen
 * bytes a step where it can: a run of 16 either fills a step or ends one
 * step and begins the next.
 */
static bool
has_long_run(const char *text, size_t len)
{
	size_t i = 0, run = 0;

#ifdef __SSE2__
	const __m128i zero = _mm_set1_epi8('0' - 1), nine = _mm_set1_epi8('9' + 1);
	const __m128i dot = _mm_set1_epi8('.');
	unsigned m, lead;

	for (; i + 16 <= len; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)
		    (text + i));

		/* Signed compares: bytes of 0x80 and above are below '0'. */
		m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_and_si128(
		    _mm_cmpgt_epi8(v, zero), _mm_cmplt_epi8(v, nine)),
		    _mm_cmpeq_epi8(v, dot)));
		if (m == 0xffff)
			return true;
		lead = (unsigned)__builtin_ctz(~m);	/* from the step's start */
		if (run + lead >= 16)
			return true;
		/* What reaches the step's end carries over. */
		run = m == 0 ? 0 : (unsigned)__builtin_clz(~(m << 16));
	}
#endif
	for (; i < len; i++) {
		run = mantissa_byte((unsigned char)text[i]) ? run + 1 : 0;
		if (run >= 16)
			return true;
	}
	return false;
}

int
json_exact_numbers(cJSON *root, const char *text, size_t len)
{
	struct numbers n = { text, text + len };
	const char *tok;
	size_t toklen;
	bool found = false;

	/* Most texts have no long number: a quick look, then one pass
	 * finds that out. */
	if (!has_long_run(text, len))
		return 0;
	while (!found && next_number(&n, &tok, &toklen))
		found = long_number(tok, toklen);
	if (!found)
		return 0;
	n.p = text;
	return walk(root, &n);
}
