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

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "span_text.h"
#include "utf8.h"

#define SCAN_DEPTH	32

struct scan {
	const char	*p;
	const char	*end;
};

/*
 * The first occurrence of each member the validity check needs, in this
 * order: trace_id, span_id, parent_span_id, name, start_ns, end_ns.
 */
struct members {
	const char	*v[6];
	size_t		 l[6];
	bool		 resource;
	bool		 ids_hex;	/* v[0], v[1] checked as they were taken */
	bool		 parent_hex;	/* and v[2] */
};

static bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
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

/*
 * The first byte at or after p that a string's scan must stop at, or end.
 * Sixteen bytes at a time where SSE2 is there (every x86-64): strings
 * are most of a record, and this scan is the master's largest cost per
 * traced task.  Signed, 0x80 and above are below 0x20 too, as they should.
 */
static const char *
skip_plain(const char *p, const char *end)
{
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"');
	const __m128i backslash = _mm_set1_epi8('\\');
	const __m128i space = _mm_set1_epi8(0x20);
	__m128i v, hit;
	int bits;

	while (end - p >= 16) {
		v = _mm_loadu_si128((const __m128i *)(const void *)p);
		hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote),
		    _mm_cmpeq_epi8(v, backslash)), _mm_cmplt_epi8(v, space));
		if ((bits = _mm_movemask_epi8(hit)) != 0)
			return p + __builtin_ctz((unsigned)bits);
		p += 16;
	}
#endif
	while (p < end && !stop[(unsigned char)*p])
		p++;
	return p;
}

/* One canonical string; s->p is at its opening quote.  Inline: keys and
 * values are most of a record's tokens, and a call each showed. */
static inline __attribute__((always_inline)) bool
string(struct scan *s)
{
	const char *p = s->p + 1;
	unsigned x;
	size_t n;

	for (; p < s->end; p++) {
		p = skip_plain(p, s->end);
		if (p >= s->end)
			break;
		if (*p == '"') {
			s->p = p + 1;
			return true;
		}
		if ((unsigned char)*p < 0x20)
			return false;
		if ((unsigned char)*p >= 0x80) {
			if ((n = utf8_seq((const unsigned char *)p,
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

/*
 * Notes a record's member if the validity check needs it.  Each name is
 * compared at its own constant length, which the compiler turns into a
 * load or two instead of a call to memcmp.
 */
static void
member(struct members *m, const char *k, size_t klen, const char *v,
    size_t vlen)
{
	size_t i;

#define IS(word)	(memcmp(k, word, sizeof(word) - 1) == 0)
	switch (klen) {
	case 4: if (!IS("name")) return; i = 3; break;
	case 6: if (!IS("end_ns")) return; i = 5; break;
	case 7: if (!IS("span_id")) return; i = 1; break;
	case 8:
		if (IS("trace_id"))
			i = 0;
		else if (IS("start_ns"))
			i = 4;
		else {
			if (IS("resource"))
				m->resource = true;
			return;
		}
		break;
	case 14: if (!IS("parent_span_id")) return; i = 2; break;
	default: return;
	}
#undef IS
	if (m->v[i] == NULL) {
		m->v[i] = v;
		m->l[i] = vlen;
	}
}

/*
 * The members of an object or the values of an array, from the first:
 * s->p is past the opening bracket and not at the closing one.  m is
 * non-NULL for the record's own members.
 */
static bool
elements(struct scan *s, int depth, struct members *m, bool object)
{
	char close = object ? '}' : ']';
	const char *k, *v;
	size_t klen;

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
			if (m != NULL)
				member(m, k, klen, v, (size_t)(s->p - v));
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

/* An object or array. */
static bool
container(struct scan *s, int depth, struct members *m)
{
	bool object = *s->p == '{';

	if (depth >= SCAN_DEPTH)
		return false;
	s->p++;
	if (s->p < s->end && *s->p == (object ? '}' : ']')) {
		s->p++;
		return true;
	}
	return elements(s, depth, m, object);
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

/* Hex digits, either case. */
static const unsigned char hexdigit[256] = {
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1,
	['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['A'] = 1, ['B'] = 1,
	['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
};

#ifdef __SSE2__
/* Lanes of v within [lo, hi], as compared signed: fine for ASCII bounds. */
static __m128i
in_range(__m128i v, char lo, char hi)
{
	return _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8((char)(lo - 1))),
	    _mm_cmplt_epi8(v, _mm_set1_epi8((char)(hi + 1))));
}
#endif

/* A quoted id of n hex digits, not all zero (uppercase counts as hex). */
static bool
hex_id(const char *v, size_t len, size_t n)
{
	unsigned char all = 1, nonzero = 0;
	size_t i = 1;

	if (v == NULL || len != n + 2 || v[0] != '"')
		return false;
#ifdef __SSE2__
	/* Ids are 16 or 32 digits: one or two steps, no loop a digit. */
	for (; i + 16 <= n + 1; i += 16) {
		__m128i d = _mm_loadu_si128((const __m128i *)(const void *)(v + i));
		__m128i hex = _mm_or_si128(in_range(d, '0', '9'), _mm_or_si128(
		    in_range(d, 'a', 'f'), in_range(d, 'A', 'F')));

		if (_mm_movemask_epi8(hex) != 0xffff)
			return false;
		if (_mm_movemask_epi8(_mm_cmpeq_epi8(d, _mm_set1_epi8('0'))) !=
		    0xffff)
			nonzero = 1;
	}
#endif
	/* No early exit: the loop has no branch to mispredict. */
	for (; i <= n; i++) {
		all &= hexdigit[(unsigned char)v[i]];
		nonzero |= (unsigned char)(v[i] ^ '0');
	}
	return all && nonzero;
}

/* A quoted decimal that fits in 64 bits unsigned. */
static bool
nanos(const char *v, size_t len)
{
	size_t i = 1, digits = len - 2;

	if (v == NULL || len < 3 || digits > 20 || v[0] != '"')
		return false;
#ifdef __SSE2__
	if (digits >= 16) {
		__m128i d = _mm_loadu_si128((const __m128i *)(const void *)(v + 1));

		if (_mm_movemask_epi8(in_range(d, '0', '9')) != 0xffff)
			return false;
		i = 17;
	}
#endif
	for (; i <= digits; i++)
		if (v[i] < '0' || v[i] > '9')
			return false;
	/* Nineteen digits always fit; twenty fit up to UINT64_MAX. */
	return digits < 20 || memcmp(v + 1, "18446744073709551615", 20) <= 0;
}

/* Steps over lit when the text goes on with it. */
static bool
expect(struct scan *s, const char *lit, size_t len)
{
	if ((size_t)(s->end - s->p) < len || memcmp(s->p, lit, len) != 0)
		return false;
	s->p += len;
	return true;
}

#define EXPECT(s, lit)	expect((s), "" lit, sizeof(lit) - 1)

/* A quoted id of n hex digits, noted as member i. */
static bool
id_member(struct scan *s, struct members *m, size_t i, size_t n)
{
	if ((size_t)(s->end - s->p) < n + 2 || s->p[n + 1] != '"' ||
	    !hex_id(s->p, n + 2, n))
		return false;
	m->v[i] = s->p;
	m->l[i] = n + 2;
	s->p += n + 2;
	return true;
}

/* A string, noted as member i unless i is -1. */
static bool
string_member(struct scan *s, struct members *m, int i)
{
	const char *v = s->p;

	if (s->p >= s->end || *s->p != '"' || !string(s))
		return false;
	if (i >= 0) {
		m->v[i] = v;
		m->l[i] = (size_t)(s->p - v);
	}
	return true;
}

/*
 * libplba and every record it prints begin alike: ids, name, kind and
 * times, in this order.  Those members are taken here, a few compares
 * each, instead of by the general scan's calls a token: the scan of a
 * child's records is the master's largest cost for a traced task.  A
 * record that begins otherwise, or whose ids are not hex, is left whole
 * to the general scan, so that both ways give the same verdict.
 */
static bool
libplba_prefix(struct scan *s, struct members *m)
{
	if (!EXPECT(s, "{\"trace_id\":") || !id_member(s, m, 0, 32) ||
	    !EXPECT(s, ",\"span_id\":") || !id_member(s, m, 1, 16))
		return false;
	if (EXPECT(s, ",\"parent_span_id\":")) {
		if (!id_member(s, m, 2, 16))
			return false;
		m->parent_hex = true;
	}
	m->ids_hex = true;
	return EXPECT(s, ",\"name\":") && string_member(s, m, 3) &&
	    EXPECT(s, ",\"kind\":") && string_member(s, m, -1) &&
	    EXPECT(s, ",\"start_ns\":") && string_member(s, m, 4) &&
	    EXPECT(s, ",\"end_ns\":") && string_member(s, m, 5);
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

	if (len < 2 || text[0] != '{')
		return SPAN_TEXT_OTHER;
	memset(&m, 0, sizeof(m));
	if (libplba_prefix(&s, &m)) {
		/* The rest of the record's members, as the general scan. */
		if (s.p >= s.end)
			return SPAN_TEXT_OTHER;
		if (*s.p == '}')
			s.p++;
		else if (*s.p++ != ',' || !elements(&s, 0, &m, true))
			return SPAN_TEXT_OTHER;
	} else {
		s.p = text;
		memset(&m, 0, sizeof(m));
		if (!container(&s, 0, &m))
			return SPAN_TEXT_OTHER;
	}
	if (s.p != s.end || m.resource)
		return SPAN_TEXT_OTHER;
	/* What otlp.c's otlp_span() requires of a record. */
	parent = m.v[2];
	plen = m.l[2];
	if ((!m.ids_hex && (!hex_id(m.v[0], m.l[0], 32) ||
	    !hex_id(m.v[1], m.l[1], 16))) ||
	    (parent != NULL && !m.parent_hex &&
	    !(plen == 4 && memcmp(parent, "null", 4) == 0) &&
	    !(plen == 2 && parent[0] == '"') && !hex_id(parent, plen, 16)) ||
	    m.v[3] == NULL || m.v[3][0] != '"' || m.l[3] <= 2 ||
	    !nanos(m.v[4], m.l[4]) || !nanos(m.v[5], m.l[5]))
		return SPAN_TEXT_INVALID;
	*trace_id = m.v[0] + 1;
	return SPAN_TEXT_VALID;
}
