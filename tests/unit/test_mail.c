/* mail_order_bot's domain code on its own: reading orders out of mails,
 * and the idempotent order file. */
#include "config.h"

#include "unit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mail.h"
#include "orders.h"

static int
parse(const char *body, struct order *o, char *err, size_t errlen)
{
	struct mail m = { .message_id = "<1@x>", .from = "ada@example.org" };

	m.body = body;
	return mail_parse_order(&m, o, err, errlen);
}

START_TEST(good_orders)
{
	struct order o;
	char err[128];

	ck_assert_int_eq(parse("Hello,\norder: TEA-01 x 2\nORDER:  MUG-02 X 10\n"
	    "thanks\n", &o, err, sizeof(err)), 0);
	ck_assert_str_eq(o.message_id, "<1@x>");
	ck_assert_str_eq(o.customer, "ada@example.org");
	ck_assert_uint_eq(o.nlines, 2);
	ck_assert_str_eq(o.lines[0].sku, "TEA-01");
	ck_assert_uint_eq(o.lines[0].quantity, 2);
	ck_assert_str_eq(o.lines[1].sku, "MUG-02");
	ck_assert_uint_eq(o.lines[1].quantity, 10);
	/* Mail from an IMAP server ends its lines with CRLF. */
	ck_assert_int_eq(parse("order: BAG-13 x 9999\r\nBye\r\n", &o, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(o.lines[0].quantity, 9999);
}
END_TEST

START_TEST(malformed_orders)
{
	static const struct { const char *body, *error; } cases[] = {
		{ "Hello,\nplease send tea.\n",
		  "no order lines (\"order: SKU x QUANTITY\")" },
		{ "", "no order lines (\"order: SKU x QUANTITY\")" },
		{ "hi\norder: TEA-01 x 0\n", "line 2: quantity must be 1 to 9999" },
		{ "order: TEA-01 x 10000\n", "line 1: quantity must be 1 to 9999" },
		{ "order: TEA-01 x many\n", "line 1: quantity must be 1 to 9999" },
		{ "order: TEA-01 2\n", "line 1: expected \"x QUANTITY\" after TEA-01" },
		{ "order: !x 2\n", "line 1: missing SKU" },
	};
	struct order o;
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(parse(cases[i].body, &o, err, sizeof(err)), -1);
		ck_assert_str_eq(err, cases[i].error);
	}
}
END_TEST

START_TEST(no_message_id)
{
	struct mail m = { .message_id = "" };
	struct order o;
	char err[128];

	m.body = "order: TEA-01 x 1\n";
	ck_assert_int_eq(mail_parse_order(&m, &o, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "mail has no Message-ID");
}
END_TEST

START_TEST(too_many_lines)
{
	char body[4096] = "", err[128];
	struct order o;
	int i;

	for (i = 0; i <= MAIL_MAX_LINES; i++)
		strcat(body, "order: TEA-01 x 1\n");
	ck_assert_int_eq(parse(body, &o, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "more than 32 order lines");
}
END_TEST

static size_t
count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;
	int c;

	ck_assert_ptr_nonnull(f);
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* Two processes' worth of handles on one file: an order is recorded once,
 * whichever records it, and each line is one JSON object. */
START_TEST(orders_idempotent)
{
	char path[] = "/tmp/plba-orders-XXXXXX", err[128], line[512];
	struct orders *a, *b;
	struct order o;
	FILE *f;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_ptr_nonnull(a = orders_open(path));
	ck_assert_ptr_nonnull(b = orders_open(path));
	ck_assert_int_eq(parse("order: TEA-01 x 2\n", &o, err, sizeof(err)), 0);
	ck_assert_int_eq(orders_record(a, &o), 1);
	ck_assert_int_eq(orders_record(a, &o), 0);
	ck_assert_int_eq(orders_record(b, &o), 0);
	snprintf(o.message_id, sizeof(o.message_id), "<2@x \"quoted\">");
	ck_assert_int_eq(orders_record(b, &o), 1);
	ck_assert_int_eq(orders_record(a, &o), 0);
	orders_close(a);
	orders_close(b);
	ck_assert_uint_eq(count_lines(path), 2);
	/* A fresh handle knows what is in the file already. */
	ck_assert_ptr_nonnull(a = orders_open(path));
	ck_assert_int_eq(orders_record(a, &o), 0);
	orders_close(a);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	ck_assert_ptr_nonnull(strstr(line, "\"message_id\":\"<1@x>\""));
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	ck_assert_ptr_nonnull(strstr(line, "<2@x \\\"quoted\\\">"));
	fclose(f);
	unlink(path);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("mail_order_bot");
	TCase *p = tcase_create("parser"), *o = tcase_create("orders");

	tcase_add_test(p, good_orders);
	tcase_add_test(p, malformed_orders);
	tcase_add_test(p, no_message_id);
	tcase_add_test(p, too_many_lines);
	suite_add_tcase(s, p);
	tcase_add_test(o, orders_idempotent);
	suite_add_tcase(s, o);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
