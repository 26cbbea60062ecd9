/*
 * A span record checked by scanning its text instead of parsing it.
 *
 * The file transport writes each record "re-serialised on one line" with a
 * resource member last.  Re-serialising means cJSON_Parse followed by
 * cJSON_PrintUnformatted, and that costs more than everything else the
 * master does for a task.  Records from libplba and the master are printed
 * by cJSON_PrintUnformatted in the first place, and printing such text again
 * gives it back byte for byte.  So when a record is in exactly that form
 * (canonical, below) and has no "resource" of its own, its line is the text
 * itself with the resource spliced in before the last '}'.  Anything else
 * (a child can send anything) takes the slow, parsing way; the scanner
 * never has to understand more than the canonical form, and what it does
 * not understand it hands on.
 *
 * Canonical, as cJSON 1.7 prints: no whitespace outside strings; strings
 * of valid UTF-8 (which cJSON does not check; the slow way replaces bad
 * bytes), with no raw control characters and no escapes but \" \\ \b \f \n \r \t
 * and \u00xx (lowercase, for the other control characters except NUL);
 * numbers that are integers in int range without leading zeros, "-0",
 * fraction or exponent (cJSON prints those "%d"); true, false, null;
 * nesting no deeper than SCAN_DEPTH.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "span_text.h"

#define SCAN_DEPTH	32

struct scan {
	const char	*p;
	const char	*end;
};

/* The first occurrence of each member the validity check needs. */
struct members {
	const char	*v[6];
	size_t		 l[6];
	bool		 resource;
};

static const char *const wanted[6] = {
	"trace_id", "span_id", "parent_span_id", "name", "start_ns", "end_ns"
};
static const size_t wanted_len[6] = { 8, 7, 14, 4, 8, 6 };

static bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

size_t
span_text_utf8(const unsigned char *s, size_t len)
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

/*
 * Bytes a string's scan must stop at: the quote, the backslash, control
 * characters and non-ASCII (to check its UTF-8).  The rest, most of any
 * record, is skipped a byte at a time with one test.
 */
static const unsigned char stop[256] = {
	1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,	/* 00 */
	1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,	/* 10 */
	0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,	/* 20 */
	0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,	/* 30 */
	0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,	/* 40 */
	0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,	/* 50 */
	0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,	/* 60 */
	0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,	/* 70 */
	1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,	/* 80 */
	1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,	/* 90 */
	1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,	/* a0 */
	1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,	/* b0 */
	1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,	/* c0 */
	1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,	/* d0 */
	1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,	/* e0 */
	1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,	/* f0 */
};

/* One canonical string; s->p is at its opening quote. */
static bool
string(struct scan *s)
{
	const char *p = s->p + 1;
	unsigned x;
	size_t n;

	for (; p < s->end; p++) {
		while (!stop[(unsigned char)*p] && ++p < s->end)
			;
		if (p >= s->end)
			break;
		if (*p == '"') {
			s->p = p + 1;
			return true;
		}
		if ((unsigned char)*p < 0x20)
			return false;
		if ((unsigned char)*p >= 0x80) {
			if ((n = span_text_utf8((const unsigned char *)p,
			    (size_t)(s->end - p))) == 0)
				return false;
			p += n - 1;
			continue;
		}
		if (*p != '\\')
			continue;
		if (++p >= s->end)
			return false;
		switch (*p) {
		case '"': case '\\': case 'b': case 'f': case 'n': case 'r':
		case 't':
			break;
		case 'u':
			/* cJSON escapes only control characters this way, and
			 * never NUL, \b, \t, \n, \f or \r. */
			if (s->end - p < 5 || p[1] != '0' || p[2] != '0' ||
			    (p[3] != '0' && p[3] != '1') || !is_hex(p[4]))
				return false;
			x = (unsigned)(p[3] - '0') * 16 + (unsigned)(p[4] <= '9' ?
			    p[4] - '0' : p[4] - 'a' + 10);
			if (x == 0 || x == '\b' || x == '\t' || x == '\n' ||
			    x == '\f' || x == '\r')
				return false;
			p += 4;
			break;
		default:
			return false;
		}
	}
	return false;
}

/* An integer cJSON would print back the same: int range, "%d". */
static bool
number(struct scan *s)
{
	const char *p = s->p;
	bool neg = false;
	int64_t x = 0;
	size_t digits = 0;

	if (*p == '-') {
		neg = true;
		p++;
	}
	for (; p < s->end && *p >= '0' && *p <= '9'; p++) {
		if (++digits > 10)
			return false;
		x = x * 10 + (*p - '0');
	}
	if (digits == 0 || (digits > 1 && s->p[neg] == '0') ||
	    (neg && x == 0) || x > (neg ? INT64_C(2147483648) : INT32_MAX))
		return false;
	if (p < s->end && (*p == '.' || *p == 'e' || *p == 'E'))
		return false;
	s->p = p;
	return true;
}

static bool
literal(struct scan *s, const char *word, size_t len)
{
	if ((size_t)(s->end - s->p) < len || memcmp(s->p, word, len) != 0)
		return false;
	s->p += len;
	return true;
}

static bool value(struct scan *, int depth, struct members *);

/* An object or array; members is non-NULL for the record's own members. */
static bool
container(struct scan *s, int depth, struct members *m)
{
	bool object = *s->p == '{';
	char close = object ? '}' : ']';
	const char *k, *v;
	size_t klen, i;

	if (depth >= SCAN_DEPTH)
		return false;
	s->p++;
	if (s->p < s->end && *s->p == close) {
		s->p++;
		return true;
	}
	for (;;) {
		if (object) {
			if (s->p >= s->end || *s->p != '"')
				return false;
			k = s->p + 1;
			if (!string(s))
				return false;
			klen = (size_t)(s->p - 1 - k);
			if (s->p >= s->end || *s->p++ != ':')
				return false;
			v = s->p;
			if (!value(s, depth + 1, NULL))
				return false;
			if (m != NULL) {
				if (klen == 8 && memcmp(k, "resource", 8) == 0)
					m->resource = true;
				for (i = 0; i < 6; i++)
					if (m->v[i] == NULL &&
					    wanted_len[i] == klen &&
					    memcmp(k, wanted[i], klen) == 0) {
						m->v[i] = v;
						m->l[i] = (size_t)(s->p - v);
					}
			}
		} else if (!value(s, depth + 1, NULL))
			return false;
		if (s->p >= s->end)
			return false;
		if (*s->p == close) {
			s->p++;
			return true;
		}
		if (*s->p++ != ',')
			return false;
	}
}

static bool
value(struct scan *s, int depth, struct members *m)
{
	if (s->p >= s->end)
		return false;
	switch (*s->p) {
	case '{':
	case '[':
		return container(s, depth, m);
	case '"':
		return string(s);
	case 't':
		return literal(s, "true", 4);
	case 'f':
		return literal(s, "false", 5);
	case 'n':
		return literal(s, "null", 4);
	default:
		return (*s->p == '-' || (*s->p >= '0' && *s->p <= '9')) &&
		    number(s);
	}
}

/* A quoted id of n hex digits, not all zero (uppercase counts as hex). */
static bool
hex_id(const char *v, size_t len, size_t n)
{
	bool nonzero = false;
	size_t i;
	char c;

	if (v == NULL || len != n + 2 || v[0] != '"')
		return false;
	for (i = 1; i <= n; i++) {
		c = v[i];
		if (!is_hex(c) && !(c >= 'A' && c <= 'F'))
			return false;
		if (c != '0')
			nonzero = true;
	}
	return nonzero;
}

/* A quoted decimal that fits in 64 bits unsigned. */
static bool
nanos(const char *v, size_t len)
{
	uint64_t x = 0;
	size_t i;

	if (v == NULL || len < 3 || len > 22 || v[0] != '"')
		return false;
	for (i = 1; i < len - 1; i++) {
		if (v[i] < '0' || v[i] > '9' ||
		    x > (UINT64_MAX - (uint64_t)(v[i] - '0')) / 10)
			return false;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	return true;
}

enum span_text
span_text_check(const char *text, size_t len)
{
	const char *trace_id;

	return span_text_check_id(text, len, &trace_id);
}

enum span_text
span_text_check_id(const char *text, size_t len, const char **trace_id)
{
	struct scan s = { text, text + len };
	struct members m;
	const char *parent;
	size_t plen;

	memset(&m, 0, sizeof(m));
	if (len < 2 || text[0] != '{' || !container(&s, 0, &m) ||
	    s.p != s.end || m.resource)
		return SPAN_TEXT_OTHER;
	/* What trace_export.c's otlp_span() requires of a record. */
	parent = m.v[2];
	plen = m.l[2];
	if (!hex_id(m.v[0], m.l[0], 32) || !hex_id(m.v[1], m.l[1], 16) ||
	    (parent != NULL && !(plen == 4 && memcmp(parent, "null", 4) == 0) &&
	    !(plen == 2 && parent[0] == '"') && !hex_id(parent, plen, 16)) ||
	    m.v[3] == NULL || m.v[3][0] != '"' || m.l[3] <= 2 ||
	    !nanos(m.v[4], m.l[4]) || !nanos(m.v[5], m.l[5]))
		return SPAN_TEXT_INVALID;
	*trace_id = m.v[0] + 1;
	return SPAN_TEXT_VALID;
}
