/* The imap-poller's pure parts: the IMAP response reader, quoting, the
 * mail-to-payload conversion and the configuration errors. */
#include "config.h"

#include "unit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <plba/plba.h>

#include "imap.h"
#include "imap-settings.h"
#include "mailmsg.h"

static long
next(const char *s, size_t max, struct imap_response *r)
{
	return imap_response_next(s, strlen(s), max, r);
}

START_TEST(response_simple_and_incomplete)
{
	struct imap_response r;
	const char *s = "* SEARCH 1 2 3\r\nP1 OK done\r\n";

	ck_assert_int_eq(next(s, 100, &r), 16);
	ck_assert_uint_eq(r.nlit, 0);
	ck_assert_uint_eq(r.textlen[0], 14);
	ck_assert(memcmp(r.text[0], "* SEARCH 1 2 3", 14) == 0);
	ck_assert_int_eq(next("* SEARCH 1 2", 100, &r), 0);
	ck_assert_int_eq(next("* SEARCH 1 2\r", 100, &r), 0);
	ck_assert_int_eq(next("", 100, &r), 0);
}
END_TEST

START_TEST(response_literals)
{
	struct imap_response r;
	const char *s = "* 3 FETCH (UID 7 BODY[HEADER] {5}\r\nab\r\nc"
	    " BODY[TEXT]<0> {3+}\r\nxyz)\r\nP2 OK\r\n";
	long n = next(s, 100, &r);

	ck_assert_int_eq(n, (long)(strstr(s, "P2") - s));
	ck_assert_uint_eq(r.nlit, 2);
	ck_assert_uint_eq(r.litlen[0], 5);
	ck_assert(memcmp(r.lit[0], "ab\r\nc", 5) == 0);
	ck_assert_uint_eq(r.litlen[1], 3);
	ck_assert(memcmp(r.lit[1], "xyz", 3) == 0);
	ck_assert(memcmp(r.text[2], ")", 1) == 0 && r.textlen[2] == 1);
	/* A literal holding what looks like a line end and a marker. */
	ck_assert_int_eq(next("* 1 FETCH (BODY[] {5}\r\n{2}\r\n)\r\n", 100, &r),
	    31);
	ck_assert_uint_eq(r.nlit, 1);
	/* Cut anywhere inside: more input is needed. */
	for (size_t cut = 0; cut < (size_t)n; cut++)
		ck_assert_int_eq(imap_response_next(s, cut, 100, &r), 0);
}
END_TEST

START_TEST(response_refused)
{
	struct imap_response r;
	char *big;

	/* Over the literal limit. */
	ck_assert_int_eq(next("* 1 FETCH (BODY[] {101}\r\n", 100, &r), -1);
	ck_assert_int_eq(next("* 1 FETCH (BODY[] {99999999999999999999}\r\n",
	    1000, &r), -1);
	/* Not a literal: braces without digits are text. */
	ck_assert_int_gt(next("* OK {x}\r\n", 100, &r), 0);
	ck_assert_int_gt(next("* OK {}\r\n", 100, &r), 0);
	/* Too many literals in one response. */
	ck_assert_int_eq(next("* 1 FETCH ({0}\r\n{0}\r\n{0}\r\n{0}\r\n{0}\r\n"
	    "{0}\r\n{0}\r\n{0}\r\n{0}\r\n)\r\n", 100, &r), -1);
	/* A line with no end, past any sane length. */
	big = malloc(70 * 1024);
	memset(big, 'a', 70 * 1024 - 1);
	big[70 * 1024 - 1] = '\0';
	ck_assert_int_eq(next(big, 100, &r), -1);
	free(big);
}
END_TEST

START_TEST(quote)
{
	char out[32];

	ck_assert_int_eq(imap_quote(out, sizeof(out), "INBOX"), 0);
	ck_assert_str_eq(out, "\"INBOX\"");
	ck_assert_int_eq(imap_quote(out, sizeof(out), "a\"b\\c"), 0);
	ck_assert_str_eq(out, "\"a\\\"b\\\\c\"");
	ck_assert_int_eq(imap_quote(out, sizeof(out), "a\r\nb"), -1);
	ck_assert_int_eq(imap_quote(out, 6, "INBOX"), -1);
}
END_TEST

/* Expected forms worked out apart from the encoder (Python: UTF-16BE,
 * base64, '/' as ','), and RFC 3501's own example first. */
START_TEST(mailbox_names)
{
	static const struct { const char *name, *arg; } cases[] = {
		{ "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/"
		  "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
		  "\"~peter/mail/&U,BTFw-/&ZeVnLIqe-\"" },
		{ "INBOX", "\"INBOX\"" },
		{ "Eing\xc3\xa4nge", "\"Eing&AOQ-nge\"" },
		{ "Erledigt & Archiv", "\"Erledigt &- Archiv\"" },
		{ "&\xc3\x9cnicode&", "\"&-&ANw-nicode&-\"" },
		{ "Entw\xc3\xbcrfe/\xc3\x84rger", "\"Entw&APw-rfe/&AMQ-rger\"" },
		/* Beyond the BMP: a surrogate pair in one run. */
		{ "\xf0\x9f\x93\xa6 Pakete", "\"&2D3c5g- Pakete\"" },
		/* Runs ending on each of the three bit alignments. */
		{ "\xc3\xbf", "\"&AP8-\"" },
		{ "\xe2\x82\xac\xe2\x82\xac", "\"&IKwgrA-\"" },
		{ "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac", "\"&IKwgrCCs-\"" },
		/* Quoting still applies to what stands for itself. */
		{ "a\"b\\c", "\"a\\\"b\\\\c\"" },
	};
	static const struct { const char *name, *why; } bad[] = {
		{ "", "is empty" },
		{ "Latin\xe9" "1", "is not UTF-8" },
		{ "over\xc0\xaflong", "is not UTF-8" },
		{ "surrogate\xed\xa0\x80", "is not UTF-8" },
		{ "cut\xe2\x82", "is not UTF-8" },
		{ "past\xf4\x90\x80\x80", "is not UTF-8" },
		{ "a\r\nb", "has a control character" },
		{ "tab\there", "has a control character" },
		{ "del\x7f", "has a control character" },
	};
	char out[IMAP_MAILBOX_MAX], longname[401];
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(imap_mailbox(out, sizeof(out), cases[i].name,
		    &why) == 0, "%s: %s", cases[i].name, why);
		ck_assert_str_eq(out, cases[i].arg);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(imap_mailbox(out, sizeof(out), bad[i].name,
		    &why), -1);
		ck_assert_str_eq(why, bad[i].why);
	}
	/* 200 two-byte letters: 1 + 400 * 8 / 6 digits, more than fits. */
	for (i = 0; i < 200; i++)
		memcpy(longname + 2 * i, "\xc3\xa4", 2);
	longname[400] = '\0';
	ck_assert_int_eq(imap_mailbox(out, sizeof(out), longname, &why), 0);
	ck_assert_int_eq(imap_mailbox(out, 400, longname, &why), -1);
	ck_assert_str_eq(why, "is too long");
}
END_TEST

START_TEST(utf8)
{
	char *s;

	s = utf8_clean("caf\xc3\xa9", 5);
	ck_assert_str_eq(s, "caf\xc3\xa9");
	free(s);
	/* Latin-1, a NUL, an overlong slash, a surrogate, a cut sequence. */
	s = utf8_clean("a\xe9" "b\0c\xc0\xaf\xed\xa0\x80\xe2\x82", 12);
	ck_assert_str_eq(s, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c"
	    "\xef\xbf\xbd\xef\xbf\xbd" "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	    "\xef\xbf\xbd\xef\xbf\xbd");
	free(s);
}
END_TEST

START_TEST(payload)
{
	const char *hdr = "From: Ada <ada@example.org>\r\n"
	    "Subject: an\r\n order\r\n"
	    "Message-ID: <1@x>\r\n"
	    "X-Broken line without colon\r\n"
	    "subject: second\r\n"
	    "X-Latin: caf\xe9\r\n\r\n";
	struct mailmsg m = {
		.mailbox = "INBOX", .uidvalidity = 42, .uid = 7, .size = 500,
		.header = hdr, .header_len = strlen(hdr),
		.body = "order: TEA-01 x 2\r\n", .body_len = 19, .truncated = true,
	};
	char *text = mailmsg_payload(&m), v[64];
	cJSON *p = cJSON_Parse(text), *h;

	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(cJSON_GetObjectItem(p, "mailbox")->valuestring, "INBOX");
	ck_assert_int_eq(cJSON_GetObjectItem(p, "uid")->valueint, 7);
	ck_assert_int_eq(cJSON_GetObjectItem(p, "uidvalidity")->valueint, 42);
	ck_assert_int_eq(cJSON_GetObjectItem(p, "size")->valueint, 500);
	ck_assert_str_eq(cJSON_GetObjectItem(p, "message_id")->valuestring, "<1@x>");
	ck_assert_str_eq(cJSON_GetObjectItem(p, "from")->valuestring,
	    "Ada <ada@example.org>");
	/* Unfolded, and the first Subject wins. */
	ck_assert_str_eq(cJSON_GetObjectItem(p, "subject")->valuestring,
	    "an order");
	ck_assert_ptr_null(cJSON_GetObjectItem(p, "to"));
	ck_assert_str_eq(cJSON_GetObjectItem(p, "body")->valuestring,
	    "order: TEA-01 x 2\r\n");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(p, "truncated")));
	h = cJSON_GetObjectItem(p, "headers");
	ck_assert_int_eq(cJSON_GetArraySize(h), 4);
	ck_assert_str_eq(cJSON_GetObjectItem(h, "X-Latin")->valuestring,
	    "caf\xef\xbf\xbd");
	ck_assert(mailmsg_header(hdr, strlen(hdr), "message-id", v, sizeof(v)));
	ck_assert_str_eq(v, "<1@x>");
	ck_assert(!mailmsg_header(hdr, strlen(hdr), "To", v, sizeof(v)));
	cJSON_Delete(p);
	free(text);

	/* No header block at all still makes a payload. */
	m.header = "";
	m.header_len = 0;
	text = mailmsg_payload(&m);
	ck_assert_ptr_nonnull(p = cJSON_Parse(text));
	ck_assert_ptr_null(cJSON_GetObjectItem(p, "message_id"));
	cJSON_Delete(p);
	free(text);
}
END_TEST

/* What verbose shows of libcurl's login: never the credentials. */
START_TEST(login_shown)
{
	static const struct { const char *line, *shown; } cases[] = {
		{ "A001 CAPABILITY", "CAPABILITY" },
		{ "A002 STARTTLS", "STARTTLS" },
		{ "A003 LOGIN bot secret", "LOGIN ***" },
		{ "A003 LOGIN \"bot\" \"se cret\"", "LOGIN ***" },
		{ "B004 AUTHENTICATE PLAIN AGJvdABzZWNyZXQ=",
		  "AUTHENTICATE PLAIN ***" },
		{ "B004 authenticate LOGIN", "authenticate LOGIN" },
		{ "C005 XOAUTH2 token", "XOAUTH2 ***" },
		/* SASL continuations are the credentials themselves. */
		{ "AGJvdABzZWNyZXQ=", NULL },
		{ "Ym90", NULL },
		{ "*", NULL },
		{ "", NULL },
	};
	char out[128];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = imap_login_shown(out, sizeof(out), cases[i].line,
		    strlen(cases[i].line));
		if (cases[i].shown == NULL)
			ck_assert_msg(rc == -1, "%s: shown as %s", cases[i].line,
			    out);
		else {
			ck_assert_msg(rc == 0, "%s: not shown", cases[i].line);
			ck_assert_str_eq(out, cases[i].shown);
		}
	}
}
END_TEST

/* --- configuration ----------------------------------------------------- */

/* Collects every error as "config.KEY: message" lines. */
static void
collect(const char *key, const char *msg, void *arg)
{
	char *err = arg;
	size_t len = strlen(err);

	snprintf(err + len, 1024 - len, "%sconfig%s%s: %s", len > 0 ? "\n" : "",
	    key != NULL ? "." : "", key != NULL ? key : "", msg);
}

static const char *
settings_error(const char *yaml, struct imap_settings *out)
{
	static char err[1024];
	char path[] = "/tmp/plba-imap-XXXXXX";
	const char *paths[1] = { path };
	plba_config *cfg;
	struct imap_settings s;
	int fd = mkstemp(path), n;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);
	ck_assert_msg(plba_config_load(paths, 1, &cfg, err, sizeof(err)) ==
	    PLBA_OK, "%s: %s", yaml, err);
	unlink(path);
	err[0] = '\0';
	n = imap_settings_read(plba_node_get(plba_config_root(cfg), "c"), &s,
	    collect, err);
	/* As many errors as lines. */
	if (n > 0) {
		const char *p;
		int lines = 1;

		for (p = err; (p = strchr(p, '\n')) != NULL; p++)
			lines++;
		ck_assert_msg(lines == n, "%d errors: %s", n, err);
	}
	if (n == 0 && out != NULL)
		*out = s;
	else if (n == 0)
		imap_settings_free(&s);
	plba_config_free(cfg);
	return n == 0 ? NULL : err;
}

#define BASE "c: {url: \"imap://h/INBOX\", user: u, password: p, queue: q"

START_TEST(settings_good)
{
	struct imap_settings s;

	ck_assert_ptr_null(settings_error(BASE "}\n", &s));
	ck_assert_str_eq(s.mailbox, "INBOX");
	ck_assert_str_eq(s.password, "p");
	ck_assert_str_eq(s.task, "mail");
	ck_assert_uint_eq(s.interval_ms, 30000);
	ck_assert_uint_eq(s.max_body, 65536);
	ck_assert_int_eq(s.batch, 100);
	imap_settings_free(&s);
	ck_assert_ptr_null(settings_error("c: {url: \"imaps://h:993/Orders%20In\", "
	    "user: u, password_env: HOME, queue: q, interval: 2s, "
	    "max_body: 1KiB}\n", &s));
	ck_assert_str_eq(s.mailbox, "Orders In");
	ck_assert_uint_eq(s.interval_ms, 2000);
	ck_assert_uint_eq(s.max_body, 1024);
	imap_settings_free(&s);
	ck_assert_ptr_null(settings_error("c: {url: \"imap://h\", user: u, "
	    "password: p, queue: q}\n", &s));
	ck_assert_str_eq(s.mailbox, "INBOX");
	imap_settings_free(&s);
	/* UTF-8, percent-encoded in the URL and plain in YAML. */
	ck_assert_ptr_null(settings_error("c: {url: \"imap://h/Eing%C3%A4nge\", "
	    "user: u, password: p, queue: q, move_to: \"Erledigt \u00e4\"}\n",
	    &s));
	/* (move_to points into the configuration, freed by now.) */
	ck_assert_str_eq(s.mailbox, "Eing\xc3\xa4nge");
	imap_settings_free(&s);
}
END_TEST

START_TEST(settings_errors)
{
	static const struct { const char *yaml, *error; } cases[] = {
		{ "c: {user: u, password: p, queue: q}\n",
		  "config.url: is required (imap://host/MAILBOX)" },
		{ "c: {url: \"http://h/\", user: u, password: p, queue: q}\n",
		  "config.url: must be imap:// or imaps://" },
		{ "c: {url: \"imap://h/\", password: p, queue: q}\n",
		  "config.user: is required" },
		{ "c: {url: \"imap://h/\", user: u, password: p}\n",
		  "config.queue: is required" },
		{ "c: {url: \"imap://h/\", user: u, queue: q}\n",
		  "config.password: give exactly one of password, password_file "
		  "and password_env" },
		{ BASE ", password_file: /x}\n",
		  "config.password: give exactly one of password, password_file "
		  "and password_env" },
		{ "c: {url: \"imap://h/\", user: u, queue: q, "
		  "password_file: /nonexistent/pw}\n",
		  "config.password_file: cannot be read" },
		{ "c: {url: \"imap://h/\", user: u, queue: q, "
		  "password_env: PLBA_NO_SUCH_VARIABLE}\n",
		  "config.password_env: names a variable that is not set" },
		{ "c: {url: \"imaps://h/\", user: u, password: p, queue: q, "
		  "starttls: true}\n",
		  "config.starttls: is for imap:// URLs; imaps:// is TLS already" },
		{ BASE ", interval: soon}\n",
		  "config.interval: must be a positive duration" },
		{ BASE ", interval: 0s}\n",
		  "config.interval: must be a positive duration" },
		{ BASE ", batch: 0}\n",
		  "config.batch: must be an integer from 1 to 10000" },
		{ BASE ", max_body: 1GiB}\n",
		  "config.max_body: must be a size up to 64MiB" },
		{ BASE ", insecure: maybe}\n",
		  "config.insecure: must be true or false" },
		{ "c: {url: \"imap://h/\", user: u, password: p, queue: [q]}\n",
		  "config.queue: must be a string" },
		{ "c: {url: \"imap://h/Caf%E9\", user: u, password: p, queue: q}\n",
		  "config.url: the mailbox name is not UTF-8" },
		{ "c: {url: \"imap://h/a%0Db\", user: u, password: p, queue: q}\n",
		  "config.url: the mailbox name has a control character" },
		{ BASE ", move_to: \"Done\\x7f\"}\n",
		  "config.move_to: the mailbox name has a control character" },
		{ BASE ", dead_move_to: \"\"}\n",
		  "config.dead_move_to: the mailbox name is empty" },
		{ "c: [1]\n", "config: expected a map" },
		/* Every error at once, not only the first. */
		{ "c: {url: \"imap://x/\", password: a}\n",
		  "config.user: is required\n"
		  "config.queue: is required" },
		{ BASE ", batch: 0, max_in_flight: 0, interval: x}\n",
		  "config.interval: must be a positive duration\n"
		  "config.batch: must be an integer from 1 to 10000\n"
		  "config.max_in_flight: must be an integer from 1 to 1000000" },
		{ "c: {url: \"imaps://h/\", user: [u], starttls: yes, "
		  "password: p, password_env: PLBA_NO_SUCH_VARIABLE, "
		  "insecure: maybe, move_to: \"\"}\n",
		  "config.user: must be a string\n"
		  "config.password: give exactly one of password, password_file "
		  "and password_env\n"
		  "config.queue: is required\n"
		  "config.move_to: the mailbox name is empty\n"
		  "config.insecure: must be true or false\n"
		  "config.starttls: is for imap:// URLs; imaps:// is TLS already" },
	};
	char yaml[512];
	const char *got;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = settings_error(cases[i].yaml, NULL);

		ck_assert_msg(got != NULL, "%s: accepted", cases[i].yaml);
		ck_assert_msg(strcmp(got, cases[i].error) == 0, "%s: got '%s'",
		    cases[i].yaml, got);
	}
	/* Longer than the poller keeps: refused, not cut short. */
	snprintf(yaml, sizeof(yaml), "c: {url: \"imap://h/%0300d\", user: u, "
	    "password: p, queue: q}\n", 0);
	got = settings_error(yaml, NULL);
	ck_assert_str_eq(got != NULL ? got : "accepted",
	    "config.url: the mailbox name is too long");
}
END_TEST

START_TEST(errors_alike)
{
	static const struct { const char *a, *b; bool alike; } cases[] = {
		{ "connect: Failed to connect to 127.0.0.1 port 51881 after "
		  "1 ms: Couldn't connect to server",
		  "connect: Failed to connect to 127.0.0.1 port 51881 after "
		  "0 ms: Couldn't connect to server", true },
		{ "connect: Connection timed out after 30001 milliseconds",
		  "connect: Connection timed out after 30000 milliseconds", true },
		{ "SELECT INBOX: NO Mailbox doesn't exist",
		  "SELECT INBOX: NO Mailbox doesn't exist", true },
		{ "", "", true },
		{ "connect: Couldn't connect to server",
		  "SELECT INBOX: NO Mailbox doesn't exist", false },
		{ "FETCH: timed out", "FETCH: timed out.", false },
		{ "NOOP: 12 ms", "NOOP: ms", false },
		{ "NOOP", "NOOP: 1", false },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(imap_errors_alike(cases[i].a, cases[i].b) ==
		    cases[i].alike, "\"%s\" and \"%s\"", cases[i].a, cases[i].b);
		ck_assert_msg(imap_errors_alike(cases[i].b, cases[i].a) ==
		    cases[i].alike, "\"%s\" and \"%s\"", cases[i].b, cases[i].a);
	}
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("imap");
	TCase *rd = tcase_create("reader"), *msg = tcase_create("message"),
	    *cfg = tcase_create("settings");

	tcase_add_test(rd, response_simple_and_incomplete);
	tcase_add_test(rd, response_literals);
	tcase_add_test(rd, response_refused);
	tcase_add_test(rd, quote);
	tcase_add_test(rd, mailbox_names);
	tcase_add_test(rd, login_shown);
	tcase_add_test(rd, errors_alike);
	suite_add_tcase(s, rd);
	tcase_add_test(msg, utf8);
	tcase_add_test(msg, payload);
	suite_add_tcase(s, msg);
	tcase_add_test(cfg, settings_good);
	tcase_add_test(cfg, settings_errors);
	suite_add_tcase(s, cfg);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
