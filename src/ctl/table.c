/*
 * Aligned text tables for plbactl's readable output.  Every cell goes
 * through ctl_sanitize(): worker details, task names and errors come from
 * workers and remote publishers, and must not drive the terminal.
 */
#include "config.h"

#include <locale.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "ctl.h"

struct table {
	size_t		 ncols;
	const char	*align;
	char		**cells;	/* headers first, then rows */
	size_t		 n, cap;
};

void *
xmalloc(size_t n)
{
	void *p = malloc(n != 0 ? n : 1);

	if (p == NULL) {
		fputs("plbactl: out of memory\n", stderr);
		exit(2);
	}
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n != 0 ? n : 1)) == NULL) {
		fputs("plbactl: out of memory\n", stderr);
		exit(2);
	}
	return p;
}

char *
xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

/*
 * Length of the valid UTF-8 sequence at S, or 0 if it is not one; *shown
 * says whether its code point may reach the terminal.
 */
static size_t
utf8_len(const unsigned char *s, bool *shown)
{
	size_t n, i;
	unsigned long cp;

	*shown = true;
	if (s[0] < 0x80) {
		*shown = s[0] >= 0x20 && s[0] != 0x7f;
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	/* C1 controls, and bidirectional controls, which would turn the
	 * text after them around on the terminal. */
	*shown = !((cp >= 0x80 && cp <= 0x9f) || cp == 0x61c || cp == 0x200e ||
	    cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069));
	return n;
}

/*
 * Control characters (C0, DEL and C1), bidirectional controls and bytes
 * that are not valid UTF-8 become '?', so what a worker wrote cannot move
 * the cursor, change the terminal's colours or reverse the line.
 */
char *
ctl_sanitize(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = xmalloc(strlen(s) + 1), *q = out;
	bool shown;
	size_t n;

	/* One '?' for a byte that is not UTF-8, or for a character that
	 * may not be shown. */
	while (*p != '\0') {
		if ((n = utf8_len(p, &shown)) == 0 || !shown) {
			*q++ = '?';
			p += n != 0 ? n : 1;
			continue;
		}
		memcpy(q, p, n);
		q += n;
		p += n;
	}
	*q = '\0';
	return out;
}

/*
 * Columns a sanitized string takes on a terminal: two for a wide
 * character (CJK), none for a combining mark, as wcwidth(3) has it under
 * C.UTF-8, whatever plbactl's own locale; one a code point without it.
 */
static size_t
width(const char *s)
{
	static locale_t utf8;
	static bool tried;
	locale_t was;
	mbstate_t st;
	wchar_t wc;
	size_t n, w = 0;
	int cols;

	if (!tried) {
		utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
		tried = true;
	}
	if (utf8 == (locale_t)0) {
		for (; *s != '\0'; s++)
			if (((unsigned char)*s & 0xc0) != 0x80)
				w++;
		return w;
	}
	was = uselocale(utf8);
	memset(&st, 0, sizeof(st));
	while (*s != '\0') {
		n = mbrtowc(&wc, s, 4, &st);
		if (n == 0 || n > 4) {		/* sanitized: not seen */
			memset(&st, 0, sizeof(st));
			n = 1;
			cols = 1;
		} else
			cols = wcwidth(wc);
		w += cols >= 0 ? (size_t)cols : 1;
		s += n;
	}
	uselocale(was);
	return w;
}

static void
push(struct table *t, char *cell)
{
	if (t->n == t->cap) {
		t->cap = t->cap != 0 ? t->cap * 2 : 32;
		t->cells = xrealloc(t->cells, t->cap * sizeof(*t->cells));
	}
	t->cells[t->n++] = cell;
}

struct table *
table_new(const char *const *headers, const char *align)
{
	struct table *t = xmalloc(sizeof(*t));

	memset(t, 0, sizeof(*t));
	t->align = align;
	while (headers[t->ncols] != NULL)
		push(t, xstrdup(headers[t->ncols++]));
	return t;
}

void
table_add(struct table *t, const char *text)
{
	push(t, text != NULL && *text != '\0' ? ctl_sanitize(text) :
	    xstrdup("-"));
}

void
table_blank(struct table *t)
{
	push(t, xstrdup(""));
}

void
table_addf(struct table *t, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	table_add(t, buf);
}

size_t
table_rows(const struct table *t)
{
	return t->n / t->ncols - 1;
}

void
table_print(const struct table *t, FILE *f)
{
	size_t *w = xmalloc(t->ncols * sizeof(*w)), i, col, pad, nrows, last = 0;

	nrows = t->n / t->ncols;	/* an incomplete last row is left out */
	for (col = 0; col < t->ncols; col++)
		w[col] = 0;
	for (i = 0; i < nrows * t->ncols; i++)
		if (width(t->cells[i]) > w[i % t->ncols])
			w[i % t->ncols] = width(t->cells[i]);
	for (i = 0; i < nrows * t->ncols; i++) {
		col = i % t->ncols;
		if (col == 0)	/* no trailing blanks: empty cells end a row */
			for (last = t->ncols - 1; last > 0 &&
			    t->cells[i + last][0] == '\0'; last--)
				continue;
		if (col <= last) {
			pad = w[col] - width(t->cells[i]);
			if (col > 0)
				fputs("  ", f);
			if (t->align[col] == 'r')
				fprintf(f, "%*s%s", (int)pad, "", t->cells[i]);
			else if (col < last)
				fprintf(f, "%s%*s", t->cells[i], (int)pad, "");
			else
				fputs(t->cells[i], f);
		}
		if (col + 1 == t->ncols)
			fputc('\n', f);
	}
	free(w);
}

void
table_free(struct table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}
