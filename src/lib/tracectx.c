#include "config.h"

#include <sys/random.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "tracectx.h"
#include "utf8.h"

/* A hex digit's value + 1, 0 for anything else: W3C allows lower case only. */
static const uint8_t hexdig[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6,
	['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12,
	['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16
};

static int
hexval(char c)
{
	return hexdig[(unsigned char)c] - 1;
}

#ifdef __SSE2__
/* Lanes of v within [lo, hi], as compared signed: fine for ASCII bounds. */
static __m128i
in_range(__m128i v, char lo, char hi)
{
	return _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8((char)(lo - 1))),
	    _mm_cmplt_epi8(v, _mm_set1_epi8((char)(hi + 1))));
}

/*
 * Sixteen lower-case hex digits at s to eight bytes at out, or -1.  Each
 * digit's value is its code less '0', less 'a' - '0' - 10 more for a
 * letter; then each 16-bit lane holds a byte's high nibble in its low
 * byte and its low nibble in its high byte, which a shift each way and a
 * pack put together.
 */
static int
unhex16(const char *s, uint8_t *out)
{
	__m128i c = _mm_loadu_si128((const __m128i *)(const void *)s);
	__m128i letter = in_range(c, 'a', 'f');
	__m128i v, bytes;

	if (_mm_movemask_epi8(_mm_or_si128(in_range(c, '0', '9'), letter)) !=
	    0xffff)
		return -1;
	v = _mm_sub_epi8(_mm_sub_epi8(c, _mm_set1_epi8('0')),
	    _mm_and_si128(letter, _mm_set1_epi8('a' - '0' - 10)));
	bytes = _mm_or_si128(_mm_slli_epi16(_mm_and_si128(v,
	    _mm_set1_epi16(0x00ff)), 4), _mm_srli_epi16(v, 8));
	_mm_storel_epi64((__m128i *)(void *)out, _mm_packus_epi16(bytes, bytes));
	return 0;
}
#endif

/*
 * Every task's traceparent is read by the master and its consumer: with
 * SSE2 sixteen digits a step, else one table look-up a digit, and one
 * test at the end, not two a digit.
 */
static int
unhex(const char *s, uint8_t *out, size_t n)
{
	size_t i = 0;
	unsigned hi, lo, bad = 0;
	uint8_t any = 0;

#ifdef __SSE2__
	for (; i + 8 <= n; i += 8) {
		if (unhex16(s + 2 * i, out + i) == -1)
			return -1;
		for (size_t k = i; k < i + 8; k++)
			any |= out[k];
	}
#endif
	for (; i < n; i++) {
		hi = hexdig[(unsigned char)s[2 * i]];
		lo = hexdig[(unsigned char)s[2 * i + 1]];
		bad |= (hi == 0) | (lo == 0);
		out[i] = (uint8_t)((hi - 1) << 4 | (lo - 1));
		any |= out[i];
	}
	return bad == 0 && any != 0 ? 0 : -1;	/* all zeros is invalid */
}

/*
 * What every traceparent must be, ids aside: separators, a version that
 * is not ff, version 00's exact length, and hex flags.  Returns the
 * flags, or -1.
 */
static int
traceparent_frame(const char *s)
{
	size_t len;
	int version;

	if (s == NULL)
		return -1;
	len = strlen(s);
	if (len < TRACEPARENT_LEN || s[2] != '-' || s[35] != '-' || s[52] != '-')
		return -1;
	if (hexval(s[0]) < 0 || hexval(s[1]) < 0)
		return -1;
	version = hexval(s[0]) << 4 | hexval(s[1]);
	if (version == 0xff)
		return -1;
	/* Version 00 is exactly this long; later ones may add fields. */
	if (version == 0 && len != TRACEPARENT_LEN)
		return -1;
	if (version > 0 && len > TRACEPARENT_LEN && s[TRACEPARENT_LEN] != '-')
		return -1;
	if (hexval(s[53]) < 0 || hexval(s[54]) < 0)
		return -1;
	return hexval(s[53]) << 4 | hexval(s[54]);
}

int
tracectx_parse(const char *s, struct tracectx *c)
{
	int flags;

	if ((flags = traceparent_frame(s)) == -1)
		return -1;
	if (unhex(s + 3, c->trace_id, 16) == -1 || unhex(s + 36, c->span_id, 8) == -1)
		return -1;
	c->sampled = (flags & 1) != 0;
	return 0;
}

/* n lower-case hex digits, not all zeros: an id as W3C allows it. */
static bool
hex_id_valid(const char *s, size_t n)
{
	size_t i = 0;
	bool bad = false, any = false;

#ifdef __SSE2__
	for (; i + 16 <= n; i += 16) {
		__m128i c = _mm_loadu_si128((const __m128i *)(const void *)(s + i));

		if (_mm_movemask_epi8(_mm_or_si128(in_range(c, '0', '9'),
		    in_range(c, 'a', 'f'))) != 0xffff)
			return false;
		any |= _mm_movemask_epi8(_mm_cmpeq_epi8(c,
		    _mm_set1_epi8('0'))) != 0xffff;
	}
#endif
	for (; i < n; i++) {
		bad |= hexdig[(unsigned char)s[i]] == 0;
		any |= s[i] != '0';
	}
	return !bad && any;
}

int
tracectx_parse_text(const char *s, char trace_id[32], char span_id[16],
    bool *sampled)
{
	int flags;

	if ((flags = traceparent_frame(s)) == -1 ||
	    !hex_id_valid(s + 3, 32) || !hex_id_valid(s + 36, 16))
		return -1;
	memcpy(trace_id, s + 3, 32);
	memcpy(span_id, s + 36, 16);
	*sampled = (flags & 1) != 0;
	return 0;
}

/*
 * Ids are 16 and 8 bytes, printed several times for every traced task.
 * With SSE2 (every x86-64), eight bytes become sixteen digits in a few
 * instructions: the nibbles split, interleaved, '0' added, and 'a' - '0'
 * - 10 more where a nibble is ten or above.
 */
void
trace_hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i = 0;

#ifdef __SSE2__
	const __m128i low = _mm_set1_epi8(0x0f), nine = _mm_set1_epi8(9);
	const __m128i zero = _mm_set1_epi8('0');
	const __m128i letter = _mm_set1_epi8('a' - '0' - 10);

	for (; i + 8 <= n; i += 8) {
		__m128i v = _mm_loadl_epi64((const __m128i *)(const void *)(in + i));
		__m128i hi = _mm_and_si128(_mm_srli_epi16(v, 4), low);
		__m128i nib = _mm_unpacklo_epi8(hi, _mm_and_si128(v, low));
		__m128i ascii = _mm_add_epi8(_mm_add_epi8(nib, zero),
		    _mm_and_si128(_mm_cmpgt_epi8(nib, nine), letter));

		_mm_storeu_si128((__m128i *)(void *)(out + 2 * i), ascii);
	}
#endif
	for (; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void
tracectx_format(const struct tracectx *c, char *buf)
{
	char trace_id[33], span_id[17];

	trace_hex(c->trace_id, 16, trace_id);
	trace_hex(c->span_id, 8, span_id);
	tracectx_format_text(trace_id, span_id, c->sampled, buf);
}

void
tracectx_format_text(const char trace_id[32], const char span_id[16],
    bool sampled, char *buf)
{
	memcpy(buf, "00-", 3);
	memcpy(buf + 3, trace_id, 32);
	buf[35] = '-';
	memcpy(buf + 36, span_id, 16);
	memcpy(buf + 52, sampled ? "-01" : "-00", 4);
}

uint64_t
tracectx_sample_bound(double ratio)
{
	/* Also what a NaN becomes: not below 1, so every trace. */
	if (!(ratio < 1))
		return TRACE_SAMPLE_ALL;
	if (ratio <= 0)
		return 0;
	/* Below 2^56 for every ratio below 1: the product is exact in
	 * double's 53 bits of mantissa, truncated. */
	return (uint64_t)(ratio * (double)TRACE_SAMPLE_ALL);
}

bool
tracectx_sample(const uint8_t trace_id[16], uint64_t bound)
{
	uint64_t r = 0;
	int i;

	for (i = 9; i < 16; i++)
		r = r << 8 | trace_id[i];
	return r < bound;
}

/*
 * getrandom(2) is a system call: a small pool of its bytes makes ids
 * cheap.  Each thread has its own, so drawing takes no lock; the master's
 * event loop draws two span ids a traced task, and the mutex a shared pool
 * needed cost as much as the draw.
 */
static _Thread_local struct random_pool {
	size_t	left;
	uint8_t	bytes[512];
} pool;		/* one struct: one look-up of a thread's variables, not two */
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

/* A forked child has a copy of the forking thread's pool: the ids it
 * would draw from it are the ones the parent draws next. */
static void
pool_forget(void)
{
	pool.left = 0;
}

static void
pool_watch_forks(void)
{
	pthread_atfork(NULL, NULL, pool_forget);
}

static void
pool_fill(struct random_pool *p)
{
	size_t got = 0;
	ssize_t r;

	pthread_once(&pool_once, pool_watch_forks);
	while (got < sizeof(p->bytes)) {
		r = getrandom(p->bytes + got, sizeof(p->bytes) - got, 0);
		if (r > 0)
			got += (size_t)r;
		else if (r == -1 && errno != EINTR)
			break;
	}
	/* Without getrandom (an old kernel), ids need only be unique, not
	 * secret. */
	for (; got < sizeof(p->bytes); got++)
		p->bytes[got] = (uint8_t)(trace_now_ns() >> (got % 7 * 8) ^
		    (uint64_t)got * 0x9e3779b97f4a7c15u >> 56);
	p->left = got;
}

/* Ids are 8 and 16 bytes: a word at a time. */
static bool
all_zero(const uint8_t *b, size_t n)
{
	uint64_t w, any = 0;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, b + i, 8);
		any |= w;
	}
	for (; i < n; i++)
		any |= b[i];
	return any == 0;
}

void
trace_random(uint8_t *out, size_t n)
{
	struct random_pool *p = &pool;
	size_t i, take;

	do {
		for (i = 0; i < n; i += take) {
			if (p->left == 0)
				pool_fill(p);
			take = n - i < p->left ? n - i : p->left;
			p->left -= take;
			memcpy(out + i, p->bytes + p->left, take);
		}
	} while (all_zero(out, n));
}

uint64_t
trace_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* --- records printed by hand ------------------------------------------- */

void
rec_text_init(struct rec_text *t, char *buf, size_t cap)
{
	t->s = buf;
	t->len = 0;
	t->cap = cap;
	t->own = false;
	t->failed = false;
}

/* Room for n more bytes and a NUL, when the text is full; false once
 * memory has run out. */
bool
rec_text_grow(struct rec_text *t, size_t n)
{
	size_t cap;
	char *p;

	if (t->failed)
		return false;
	if (t->len + n + 1 <= t->cap)
		return true;
	cap = (t->len + n + 1) * 2;
	if (t->own)
		p = realloc(t->s, cap);
	else if ((p = malloc(cap)) != NULL && t->len > 0)
		memcpy(p, t->s, t->len);
	if (p == NULL) {
		t->failed = true;
		t->len = t->cap;	/* every later put fails too */
		return false;
	}
	t->s = p;
	t->cap = cap;
	t->own = true;
	return true;
}

void
rec_text_lit(struct rec_text *t, const char *s)
{
	rec_text_put(t, s, strlen(s));
}

static const char decimal_pairs[201] =
	"00010203040506070809101112131415161718192021222324"
	"25262728293031323334353637383940414243444546474849"
	"50515253545556575859606162636465666768697071727374"
	"75767778798081828384858687888990919293949596979899";

/*
 * Without snprintf, which showed in the master's profile.  Pieces of
 * eight digits, two digits a step in 32-bit arithmetic, cheaper than
 * 64-bit division: for numbers below 10^8 (task ids, attempts), a time's
 * first digits, and every number where SSE2 is missing.
 */
static char *
eight_digits(uint32_t v, char *end, bool leading)
{
	char *p = end;

	if (!leading) {
		for (int i = 0; i < 4; i++, v /= 100) {
			p -= 2;
			memcpy(p, decimal_pairs + 2 * (v % 100), 2);
		}
		return p;
	}
	while (v >= 100) {
		p -= 2;
		memcpy(p, decimal_pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, decimal_pairs + 2 * v, 2);
	} else
		*--p = (char)('0' + v);
	return p;
}

#ifdef __SSE2__
/*
 * The digits of two numbers below 10 000, four lanes each: lane k of a
 * group holds n / 10^(3-k), taken as (4n * m_k >> 16) >> s_k, the second
 * shift done as a multiply too, so that every lane has its own; then
 * each lane less ten times its left neighbour is one digit.  4n fits 16
 * bits, and each m_k / 2^(16 + s_k) is 1/4 of 10^-(3-k) to within 6e-5,
 * close enough to be exact below 10 000 (test_span_text tries every
 * value in every group).
 */
static __m128i
four_and_four_digits(uint32_t a, uint32_t b)
{
	const __m128i m = _mm_setr_epi16(8389, 5243, 6554, (short)32768,
	    8389, 5243, 6554, (short)32768);
	const __m128i shift = _mm_setr_epi16(1 << 7, 1 << 11, 1 << 14,
	    (short)(1 << 15), 1 << 7, 1 << 11, 1 << 14, (short)(1 << 15));
	__m128i n, q;

	/* 4a and 4b in the low lanes, then each copied across its four. */
	n = _mm_cvtsi32_si128((int)(4 * a | 4 * b << 16));
	n = _mm_unpacklo_epi16(n, n);
	n = _mm_unpacklo_epi32(n, n);
	q = _mm_mulhi_epu16(_mm_mulhi_epu16(n, m), shift);
	return _mm_sub_epi16(q, _mm_slli_epi64(_mm_mullo_epi16(q,
	    _mm_set1_epi16(10)), 16));
}

/* x below 10^16 as sixteen digits, leading zeros and all, at out. */
static void
sixteen_digits(uint64_t x, char *out)
{
	uint32_t hi = (uint32_t)(x / 100000000), lo = (uint32_t)(x % 100000000);
	__m128i digits = _mm_packus_epi16(
	    four_and_four_digits(hi / 10000, hi % 10000),
	    four_and_four_digits(lo / 10000, lo % 10000));

	_mm_storeu_si128((__m128i *)(void *)out,
	    _mm_add_epi8(digits, _mm_set1_epi8('0')));
}
#endif

const char *
trace_u64(uint64_t v, char buf[20], size_t *len)
{
	char *p = buf + 20;

#ifdef __SSE2__
	/*
	 * Times have nineteen digits, and a traced task prints about six:
	 * sixteen at once, in a few vector instructions, cost half of what
	 * two digits a step did.
	 */
	if (v >= 100000000) {
		sixteen_digits(v % UINT64_C(10000000000000000), buf + 4);
		if (v >= UINT64_C(10000000000000000))
			p = eight_digits((uint32_t)(v /
			    UINT64_C(10000000000000000)), buf + 4, true);
		else {
			/* Nine digits at least: a leading zero is there to
			 * find in the first eight. */
			unsigned zeros = (unsigned)_mm_movemask_epi8(
			    _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)
			    (const void *)(buf + 4)), _mm_set1_epi8('0')));

			p = buf + 4 + __builtin_ctz(~zeros);
		}
		*len = (size_t)(buf + 20 - p);
		return p;
	}
#endif
	while (v >= 100000000) {
		p = eight_digits((uint32_t)(v % 100000000), p, false);
		v /= 100000000;
	}
	p = eight_digits((uint32_t)v, p, true);
	*len = (size_t)(buf + 20 - p);
	return p;
}

void
rec_text_ids(struct rec_text *t, const char trace_id[32],
    const char span_id[16], const char *parent_id)
{
	REC_TEXT_LIT(t, "{\"trace_id\":\"");
	rec_text_put(t, trace_id, 32);
	REC_TEXT_LIT(t, "\",\"span_id\":\"");
	rec_text_put(t, span_id, 16);
	if (parent_id != NULL) {
		REC_TEXT_LIT(t, "\",\"parent_span_id\":\"");
		rec_text_put(t, parent_id, 16);
	}
	REC_TEXT_LIT(t, "\"");
}

void
rec_text_u64(struct rec_text *t, uint64_t v)
{
	const char *digits;
	char buf[20];
	size_t len;

	digits = trace_u64(v, buf, &len);
	rec_text_put(t, digits, len);
}

/* The bytes a JSON string cannot hold as they are, NUL, its end, and
 * those past ASCII, which must be checked for UTF-8. */
static const unsigned char escaped[256] = {
	1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
	['"'] = 1, ['\\'] = 1,
	[0x80] = 1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
	1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
	1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
	1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
};

void
rec_text_quote(struct rec_text *t, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run;
	char esc[6];
	size_t n;

	/* Most strings need no escape: one scan, one room check, one copy. */
	for (run = s; !escaped[(unsigned char)*run]; run++)
		;
	if (*run == '\0') {
		n = (size_t)(run - s);
		if (t->len + n + 3 > t->cap && !rec_text_grow(t, n + 2))
			return;
		t->s[t->len] = '"';
		memcpy(t->s + t->len + 1, s, n);
		t->s[t->len + n + 1] = '"';
		t->len += n + 2;
		return;
	}
	rec_text_put(t, "\"", 1);
	while (*s != '\0') {
		/* The bytes that need nothing go in one piece. */
		for (run = s; !escaped[(unsigned char)*s]; s++)
			;
		if (s > run)
			rec_text_put(t, run, (size_t)(s - run));
		if (*s == '\0')
			break;
		if ((unsigned char)*s >= 0x80) {
			/* A record is UTF-8: what is not becomes U+FFFD
			 * (utf8_seq() stops at the NUL). */
			if ((n = utf8_seq((const unsigned char *)s, 4)) == 0) {
				rec_text_put(t, UTF8_REPLACEMENT, 3);
				n = 1;
			} else
				rec_text_put(t, s, n);
			s += n;
			continue;
		}
		esc[0] = '\\';
		n = 2;
		switch (*s) {
		case '"':  esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[(unsigned char)*s >> 4];
			esc[5] = hex[*s & 15];
			n = 6;
			break;
		}
		rec_text_put(t, esc, n);
		s++;
	}
	rec_text_put(t, "\"", 1);
}

const char *
rec_text_end(struct rec_text *t)
{
	if (t->failed || (t->len + 1 > t->cap && !rec_text_grow(t, 0)))
		return NULL;
	t->s[t->len] = '\0';
	return t->s;
}

void
rec_text_free(struct rec_text *t)
{
	if (t->own)
		free(t->s);
	rec_text_init(t, NULL, 0);
}
