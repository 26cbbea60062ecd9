#define _DEFAULT_SOURCE	/* strncasecmp */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail.h"

static const char *
skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* One "order: SKU x QTY" line; the SKU is letters, digits and dashes. */
static int
parse_line(const char *line, size_t len, struct order_line *ol, char *err,
    size_t errlen, unsigned lineno)
{
	const char *p = skip_space(line + 6), *end = line + len;
	size_t n = 0;
	char *q;
	long qty;

	while (p < end && (isalnum((unsigned char)*p) || *p == '-') &&
	    n < sizeof(ol->sku) - 1)
		ol->sku[n++] = *p++;
	ol->sku[n] = '\0';
	if (n == 0) {
		snprintf(err, errlen, "line %u: missing SKU", lineno);
		return -1;
	}
	p = skip_space(p);
	if (p >= end || (*p != 'x' && *p != 'X')) {
		snprintf(err, errlen, "line %u: expected \"x QUANTITY\" after %s",
		    lineno, ol->sku);
		return -1;
	}
	qty = strtol(p + 1, &q, 10);
	if (q == p + 1 || qty < 1 || qty > 9999) {
		snprintf(err, errlen, "line %u: quantity must be 1 to 9999",
		    lineno);
		return -1;
	}
	ol->quantity = (unsigned)qty;
	return 0;
}

int
mail_parse_order(const struct mail *m, struct order *o, char *err,
    size_t errlen)
{
	const char *line = m->body, *nl;
	unsigned lineno = 0;
	size_t len;

	memset(o, 0, sizeof(*o));
	if (m->message_id[0] == '\0') {
		snprintf(err, errlen, "mail has no Message-ID");
		return -1;
	}
	snprintf(o->message_id, sizeof(o->message_id), "%s", m->message_id);
	snprintf(o->customer, sizeof(o->customer), "%s", m->from);
	while (line != NULL && *line != '\0') {
		lineno++;
		nl = strchr(line, '\n');
		len = nl != NULL ? (size_t)(nl - line) : strlen(line);
		if (len >= 6 && strncasecmp(line, "order:", 6) == 0) {
			if (o->nlines == MAIL_MAX_LINES) {
				snprintf(err, errlen, "more than %d order lines",
				    MAIL_MAX_LINES);
				return -1;
			}
			if (parse_line(line, len, &o->lines[o->nlines], err,
			    errlen, lineno) == -1)
				return -1;
			o->nlines++;
		}
		line = nl != NULL ? nl + 1 : NULL;
	}
	if (o->nlines == 0) {
		snprintf(err, errlen, "no order lines (\"order: SKU x QUANTITY\")");
		return -1;
	}
	return 0;
}

void
mail_fake(unsigned long seq, unsigned instance, char *id, size_t idlen,
    char *body, size_t bodylen)
{
	static const char *const skus[] = { "TEA-01", "MUG-02", "BAG-13" };

	snprintf(id, idlen, "<%lu.%u@shop.example>", seq, instance);
	if (seq % 7 == 6)
		snprintf(body, bodylen, "Hello,\nplease send me some tea.\n");
	else
		snprintf(body, bodylen, "Hello,\norder: %s x %lu\norder: %s x 1\n"
		    "Thanks\n", skus[seq % 3], seq % 5 + 1, skus[(seq + 1) % 3]);
}
