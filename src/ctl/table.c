/*
 * Aligned text tables for plbactl's readable output.  Every cell goes
 * through ctl_sanitize(): worker details, task names and errors come from
 * workers and remote publishers, and must not drive the terminal.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Length of the valid UTF-8 sequence at S, or 0 if it is not one. */
static size_t
utf8_len(const unsigned char *s)
{
	size_t n, i;
	unsigned long cp;

	if (s[0] < 0x80)
		return 1;
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
	/* Overlong forms, surrogates, past U+10FFFF, and C1 controls. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
	    (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return n;
}

/*
 * Control characters (C0, DEL and C1) and bytes that are not valid UTF-8
 * become '?', so what a worker wrote cannot move the cursor or change the
 * terminal's colours.
 */
char *
ctl_sanitize(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = xmalloc(strlen(s) + 1), *q = out;
	size_t n;

	while (*p != '\0') {
		n = utf8_len(p);
		if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f))) {
			*q++ = '?';
			p++;
			continue;
		}
		memcpy(q, p, n);
		q += n;
		p += n;
	}
	*q = '\0';
	return out;
}

/* Columns a sanitized string takes: one per code point. */
static size_t
width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
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
