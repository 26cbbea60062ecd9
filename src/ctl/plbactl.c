/*
 * plbactl: the command-line client of plba-master's HTTP control plane.
 * Each command is one request; the answer is shown as aligned tables, or
 * as the master's own JSON with --json.  Exit status: 0 success, 1 the
 * master answered with a failure, 2 usage or connection errors, or an
 * answer that is not the master's.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "ctl.h"

#define DEFAULT_URL	"http://127.0.0.1:8080"
#define CONNECT_MS	5000L
#define TIMEOUT_MS	30000L
#define TOKEN_MAX	4096
#define FILES_MAX	16		/* trace --file, given at most */

#define EXIT_FAILED	1
#define EXIT_USAGE	2

struct ctl {
	struct client	 cl;
	bool		 json;
	const char	*token_file;	/* for messages; NULL without a token */
};

/* What follows a command's name. */
struct args {
	const char	*pos[2];
	int		 npos;
	bool		 force;
	long		 stop_ms;	/* -1: the master's default */
	const char	*files[FILES_MAX];	/* trace --file, in order */
	int		 nfiles;
	long		 limit;		/* tasks --limit; 0: the master's */
	bool		 queued;	/* purge --queued */
};

struct command {
	const char	*name;
	int		 min, max;	/* positional arguments */
	int		(*run)(struct ctl *, const struct args *);
	const char	*synopsis;
};

static void __attribute__((noreturn))
usage(int status)
{
	FILE *f = status ? stderr : stdout;

	fputs("usage: plbactl [-u URL] [--token-file FILE] [--json] [--timeout DURATION]"
	    " COMMAND [ARGS]\n", f);
	if (status) {
		fputs("       plbactl -h lists the commands\n", f);
		exit(status);
	}
	fputs("\nCommands:\n"
	    "  status                        the runtime, every instance, every queue\n"
	    "  health                        overall and per-worker health;\n"
	    "                                exit 1 when unhealthy\n"
	    "  workers [NAME]                workers and their instances\n"
	    "  queues [NAME]                 queue counters\n"
	    "  tasks [--limit N] QUEUE       a queue's tasks in flight, then those\n"
	    "                                waiting, the next to go first\n"
	    "  dead QUEUE                    a queue's dead-lettered tasks\n"
	    "  retry QUEUE [ID]              queue its dead letters again, or one\n"
	    "  purge [--queued] QUEUE [ID]   delete its dead letters, or one;\n"
	    "                                --queued: its queued tasks instead\n"
	    "  metrics                       Prometheus metrics, as served\n"
	    "  start                         start the workers\n"
	    "  stop [--force] [--timeout DURATION]  stop the workers; the master stays up\n"
	    "  reload                        read the configuration again, as on\n"
	    "                                SIGHUP; exit 1 with the errors if rejected\n"
	    "  restart WORKER                restart a worker's instances one at a time\n"
	    "  publish QUEUE JSON            publish a task {name, payload, metadata};\n"
	    "                                JSON \"-\" reads it from standard input\n"
	    "  trace [--file FILE]... TRACE-ID\n"
	    "                                the spans the master holds of a trace,\n"
	    "                                as a tree; or those in its trace files\n"
	    "\nOptions:\n"
	    "  -u, --url URL          the master (default $PLBA_URL, else "
	    DEFAULT_URL ")\n"
	    "      --token-file FILE  bearer token for actions (default "
	    "$PLBA_TOKEN_FILE)\n"
	    "      --json             print the master's JSON answer unchanged\n"
	    "      --timeout DURATION give up on a request after it (default 30s)\n"
	    "  -h, --help             print this help and exit\n"
	    "  -V, --version          print the version and exit\n"
	    "\nExit status: 0 success, 1 the master answered with a failure,\n"
	    "2 usage or connection errors, or an answer not from plba-master.\n",
	    f);
	exit(0);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("plbactl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(EXIT_USAGE);
}

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("plbactl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

/*
 * Durations as in plba.yml: 250ms, 5s, 2m, 1h, a bare number being
 * seconds; fractions are allowed ("1.5s").
 */
static int
parse_duration(const char *s, long *ms)
{
	static const struct { const char *unit; double ms; } units[] = {
		{ "", 1000 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 },
	};
	char *end;
	double v;
	size_t i;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || !isfinite(v))
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].unit) == 0)
			break;
	if (i == sizeof(units) / sizeof(units[0]))
		return -1;
	v *= units[i].ms;
	if (v > 7 * 86400000.0)
		return -1;
	*ms = (long)v + ((double)(long)v < v);	/* rounded up */
	return 0;
}

/* The first line of the file, without its line end. */
static char *
read_token(const char *path)
{
	char buf[TOKEN_MAX + 1];
	size_t n;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL)
		die(EXIT_USAGE, "%s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	if (ferror(f))
		die(EXIT_USAGE, "%s: %s", path, strerror(errno));
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0')
		die(EXIT_USAGE, "%s: the token file is empty", path);
	return xstrdup(buf);
}

static char *
read_all(FILE *f, size_t *len)
{
	size_t cap = 8192, n = 0, got;
	char *buf = xmalloc(cap + 1);

	while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap)
			buf = xrealloc(buf, (cap *= 2) + 1);
	}
	if (ferror(f))
		die(EXIT_USAGE, "standard input: %s", strerror(errno));
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* --- requests ------------------------------------------------------------ */

/* Sends one request; a request that gets no answer ends plbactl. */
static void
call(struct ctl *c, const char *method, const char *path, const char *body,
    size_t blen, struct reply *r)
{
	enum client_error why;
	char err[CURL_ERROR_SIZE + 64];

	if (client_request(&c->cl, method, path, body, blen, r, &why, err,
	    sizeof(err)) == 0)
		return;
	switch (why) {
	case CLIENT_CONNECT:
		die(EXIT_USAGE, "cannot connect to %s: is plba-master running?",
		    c->cl.url);
	case CLIENT_TIMEOUT:
		die(EXIT_USAGE, "%s%s: no answer within %.3gs", c->cl.url, path,
		    c->cl.timeout_ms / 1000.0);
	case CLIENT_OTHER:
		break;
	}
	die(EXIT_USAGE, "%s%s: %s", c->cl.url, path, err);
}

static const char *
jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A JSON number as text: integers without a fraction, "-" if absent. */
static const char *
jnum(const cJSON *o, const char *key, char buf[32])
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	double d;

	if (!cJSON_IsNumber(v))
		return "-";
	d = v->valuedouble;
	if (d > -1e15 && d < 1e15 && d == (double)(long long)d)
		snprintf(buf, 32, "%.0f", d);
	else
		snprintf(buf, 32, "%g", d);
	return buf;
}

/* Ends plbactl on an answer plba-master would not give. */
static void __attribute__((noreturn))
not_master(struct ctl *c, const char *path, const struct reply *r,
    const char *why, const char *member)
{
	if (r->code < 200 || r->code >= 300)
		die(EXIT_USAGE, "%s%s: HTTP status %ld, %s (is this "
		    "plba-master?)", c->cl.url, path, r->code, why);
	if (member != NULL)
		die(EXIT_USAGE, "%s%s: %s \"%s\" (is this plba-master?)",
		    c->cl.url, path, why, member);
	die(EXIT_USAGE, "%s%s: %s (is this plba-master?)", c->cl.url, path,
	    why);
}

/*
 * Prints a failed answer the way a person reads it, with the master's own
 * message, and returns 1.  The master says what failed in an object with
 * an "error" member; any other answer, such as another server's error
 * page, is not the master's and ends plbactl with 2.
 */
static int
report_failure(struct ctl *c, const char *path, const struct reply *r)
{
	cJSON *o = cJSON_Parse(r->body), *e;
	char *msg;

	if (jstr(o, "error") == NULL) {
		cJSON_Delete(o);
		not_master(c, path, r, "and the answer is not a plba-master "
		    "error", NULL);
	}
	msg = ctl_sanitize(jstr(o, "error"));
	if (r->code == 401)
		fprintf(stderr, "plbactl: 401: %s%s\n", msg,
		    c->token_file == NULL ? " (use --token-file)" :
		    " (the token was refused)");
	else if (r->code == 503 && strcmp(msg, "starting") == 0)
		fputs("plbactl: the master is starting; try again\n", stderr);
	else
		fprintf(stderr, "plbactl: %s\n", msg);
	free(msg);
	/* A rejected reload lists what is wrong with the files. */
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "errors")) {
		if (!cJSON_IsString(e))
			continue;
		msg = ctl_sanitize(e->valuestring);
		fprintf(stderr, "  %s\n", msg);
		free(msg);
	}
	cJSON_Delete(o);
	return EXIT_FAILED;
}

static void
print_raw(const struct reply *r)
{
	fwrite(r->body, 1, r->len, stdout);
	if (r->len > 0 && r->body[r->len - 1] != '\n')
		putchar('\n');
}

/*
 * A member an answer must have, and its cJSON type (cJSON_String...).
 * The name "*" stands for every member of the object, as in /workers,
 * a map of name to worker.  A list or map whose items plbactl reads has
 * those items checked too: their type, and for objects their members.
 */
struct need {
	const char	*name;
	int		 type;
	int		 items;		/* cJSON type of every item, 0: any */
	const struct need *each;	/* members of every item, or NULL */
	const struct need *inner;	/* its own members, or NULL */
};

static bool	has_needs(const cJSON *, const struct need *, const char **);

/* Whether V is what need wants; *bad is the name of what is not. */
static bool
fits(const cJSON *v, const struct need *need, const char **bad)
{
	const cJSON *it;

	if (v == NULL || (v->type & 0xff) != need->type ||
	    !has_needs(v, need->inner, bad))
		return false;
	cJSON_ArrayForEach(it, v)
		if ((need->items != 0 && (it->type & 0xff) != need->items) ||
		    !has_needs(it, need->each, bad))
			return false;
	return true;
}

/*
 * Whether the object O has the members in need (NULL-terminated; NULL
 * for none).  *bad names the outermost member that is missing or not
 * what plba-master sends there.
 */
static bool
has_needs(const cJSON *o, const struct need *need, const char **bad)
{
	const cJSON *v;

	for (; need != NULL && need->name != NULL; need++) {
		if (strcmp(need->name, "*") == 0) {
			cJSON_ArrayForEach(v, o)
				if (!fits(v, need, bad)) {
					*bad = v->string;
					return false;
				}
			continue;
		}
		if (!fits(cJSON_GetObjectItemCaseSensitive(o, need->name),
		    need, bad)) {
			*bad = need->name;
			return false;
		}
	}
	return true;
}

/*
 * Runs one request and returns the answer's JSON for the caller to show,
 * or NULL with *rc set when there is nothing more to do: with --json the
 * body has been printed, and a failure has been reported.  A 503 from
 * /health still carries the health to show, with *rc 1.
 *
 * An answer is the master's only if it is a JSON object with the members
 * in need (NULL-terminated; NULL for none).  Anything else ends plbactl
 * with 2, with --json too, before anything is printed: a script must not
 * take another server's page for the master's answer.
 */
static cJSON *
fetch(struct ctl *c, const char *method, const char *path, const char *body,
    size_t blen, const struct need *need, int *rc)
{
	const char *bad = NULL;
	struct reply r;
	cJSON *o;
	bool failed;

	call(c, method, path, body, blen, &r);
	o = cJSON_Parse(r.body);
	failed = r.code < 200 || r.code >= 300;
	*rc = failed ? EXIT_FAILED : 0;
	if (failed && !(r.code == 503 && jstr(o, "health") != NULL)) {
		/* An error page is neither printed as JSON nor a failure
		 * the master reported: report_failure() ends plbactl. */
		if (jstr(o, "error") != NULL && c->json)
			print_raw(&r);
		report_failure(c, path, &r);
		cJSON_Delete(o);
		reply_clear(&r);
		return NULL;
	}
	/* Freed before the exit, so that a leak checker sees none. */
	if (!cJSON_IsObject(o)) {
		const char *why = o == NULL ? "the answer is not JSON" :
		    "the answer is not a JSON object";

		cJSON_Delete(o);
		not_master(c, path, &r, why, NULL);
	}
	if (!has_needs(o, need, &bad)) {
		/* Copied: it lives in o, freed before the exit. */
		char name[128];
		const char *why = "the answer has no valid";
		const struct need *n;

		snprintf(name, sizeof(name), "%s", bad != NULL ? bad : "");
		/* A member where "*" wanted every one to be an item. */
		for (n = need; n->name != NULL && strcmp(n->name, name) != 0;
		    n++)
			;
		if (n->name == NULL)
			why = "the answer has an unexpected";
		cJSON_Delete(o);
		not_master(c, path, &r, why, name);
	}
	if (c->json) {
		print_raw(&r);
		cJSON_Delete(o);
		o = NULL;
	}
	reply_clear(&r);
	return o;
}

/* --- output -------------------------------------------------------------- */

/* Prints a string from the master, made safe for a terminal. */
static void
put(const char *s)
{
	char *t;

	if (s == NULL || *s == '\0') {
		fputs("-", stdout);
		return;
	}
	t = ctl_sanitize(s);
	fputs(t, stdout);
	free(t);
}

/* Seconds as an uptime is read: "42s", "3m05s", "2h10m", "4d03h". */
static void
fmt_seconds(unsigned long t, char *buf, size_t len)
{
	if (t < 60)
		snprintf(buf, len, "%lus", t);
	else if (t < 3600)
		snprintf(buf, len, "%lum%02lus", t / 60, t % 60);
	else if (t < 86400)
		snprintf(buf, len, "%luh%02lum", t / 3600, t / 60 % 60);
	else
		snprintf(buf, len, "%lud%02luh", t / 86400, t / 3600 % 24);
}

static void
fmt_uptime(const cJSON *o, char *buf, size_t len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "uptime");

	if (!cJSON_IsNumber(v) || v->valuedouble < 0)
		snprintf(buf, len, "-");
	else
		fmt_seconds((unsigned long)v->valuedouble, buf, len);
}

/* A member in milliseconds: "850ms", "12.5s" under a minute, else as an
 * uptime; "-" when missing. */
static void
fmt_ms(const cJSON *o, const char *name, char buf[32])
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsNumber(v) || v->valuedouble < 0)
		snprintf(buf, 32, "-");
	else if (v->valuedouble < 1000)
		snprintf(buf, 32, "%.0fms", v->valuedouble);
	else if (v->valuedouble < 60000)
		snprintf(buf, 32, "%.1fs", v->valuedouble / 1000);
	else
		fmt_seconds((unsigned long)(v->valuedouble / 1000), buf, 32);
}

/* "3", "SIGKILL", or "-" for an instance that has not exited. */
static void
fmt_exit(const cJSON *o, char *buf, size_t len)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(o, "code");
	const cJSON *sig = cJSON_GetObjectItemCaseSensitive(o, "signal");
	const char *abbrev;

	if (cJSON_IsNumber(code))
		snprintf(buf, len, "%d", code->valueint);
	else if (cJSON_IsNumber(sig) && sig->valueint > 0 &&
	    sig->valueint < NSIG &&
	    (abbrev = sigabbrev_np(sig->valueint)) != NULL)
		snprintf(buf, len, "SIG%s", abbrev);
	else if (cJSON_IsNumber(sig))
		snprintf(buf, len, "SIG%d", sig->valueint);
	else
		snprintf(buf, len, "-");
}

static void
add_instances(struct table *t, const cJSON *arr)
{
	const cJSON *in;
	char buf[32], ex[32];

	cJSON_ArrayForEach(in, arr) {
		table_add(t, jstr(in, "name"));
		table_add(t, jnum(in, "instance", buf));
		table_add(t, jnum(in, "pid", buf));
		table_add(t, jstr(in, "status"));
		table_add(t, jstr(in, "health"));
		table_add(t, jnum(in, "restarts", buf));
		fmt_exit(cJSON_GetObjectItemCaseSensitive(in, "last_exit"), ex,
		    sizeof(ex));
		table_add(t, ex);
		table_add(t, jstr(in, "detail"));
	}
}

static struct table *
instance_table(void)
{
	static const char *const h[] = { "WORKER", "INSTANCE", "PID",
	    "STATUS", "HEALTH", "RESTARTS", "LAST-EXIT", "DETAIL", NULL };

	return table_new(h, "lrrllrll");
}

/* Queues as a map of name to counters; WIDE adds the finer counters. */
static void
show_queues(const cJSON *queues, bool wide)
{
	static const char *const h[] = { "QUEUE", "DEPTH", "IN-FLIGHT", "DEAD",
	    "PUBLISHED", "ACKED", "CAPACITY", NULL };
	static const char *const hw[] = { "QUEUE", "DEPTH", "IN-FLIGHT", "DEAD",
	    "PUBLISHED", "ACKED", "NACKED", "REDELIVERED", "WAITING",
	    "CAPACITY", NULL };
	struct table *t = wide ? table_new(hw, "lrrrrrrrrr") :
	    table_new(h, "lrrrrrr");
	const cJSON *q;
	char buf[32];

	cJSON_ArrayForEach(q, queues) {
		table_add(t, q->string);
		table_add(t, jnum(q, "depth", buf));
		table_add(t, jnum(q, "in_flight", buf));
		table_add(t, jnum(q, "dead", buf));
		table_add(t, jnum(q, "published", buf));
		table_add(t, jnum(q, "acked", buf));
		if (wide) {
			table_add(t, jnum(q, "nacked", buf));
			table_add(t, jnum(q, "redelivered", buf));
			table_add(t, jnum(q, "waiting_publishers", buf));
		}
		table_add(t, jnum(q, "capacity", buf));
	}
	if (table_rows(t) > 0)
		table_print(t, stdout);
	else if (wide)
		puts("no queues");
	table_free(t);
}

/* Where spans go, when they go anywhere: "tracing: file PATH, sample R". */
static void
show_trace(const cJSON *trace)
{
	const char *transport = jstr(trace, "transport");
	const cJSON *sample = cJSON_GetObjectItemCaseSensitive(trace, "sample");

	if (transport == NULL || strcmp(transport, "none") == 0)
		return;
	fputs("tracing: ", stdout);
	put(transport);
	putchar(' ');
	put(jstr(trace, strcmp(transport, "file") == 0 ? "file" : "endpoint"));
	if (cJSON_IsNumber(sample))
		printf(", sample %g", sample->valuedouble);
	putchar('\n');
}

static void
show_status(const cJSON *st)
{
	const cJSON *queues = cJSON_GetObjectItemCaseSensitive(st, "queues");
	struct table *t = instance_table();
	char up[32], buf[32];

	fmt_uptime(st, up, sizeof(up));
	put(jstr(st, "name"));
	fputs(": state ", stdout);
	put(jstr(st, "state"));
	fputs(", health ", stdout);
	put(jstr(st, "health"));
	printf(", up %s (pid %s", up, jnum(st, "pid", buf));
	if (jstr(st, "version") != NULL) {
		fputs(", plba ", stdout);
		put(jstr(st, "version"));
	}
	puts(")");
	show_trace(cJSON_GetObjectItemCaseSensitive(st, "trace"));
	add_instances(t, cJSON_GetObjectItemCaseSensitive(st, "instances"));
	putchar('\n');
	if (table_rows(t) > 0)
		table_print(t, stdout);
	else
		puts("no workers");
	table_free(t);
	if (cJSON_GetArraySize(queues) > 0) {
		putchar('\n');
		show_queues(queues, false);
	}
}

/* Workers as a map of name to worker: a summary, then the instances. */
static void
show_workers(const cJSON *workers)
{
	static const char *const h[] = { "WORKER", "HEALTH", "UP", "CRITICAL",
	    "CONSUMES", "DETAIL", NULL };
	struct table *sum = table_new(h, "llrlll"), *t = instance_table();
	const cJSON *w, *in, *insts;
	int up, n;

	cJSON_ArrayForEach(w, workers) {
		insts = cJSON_GetObjectItemCaseSensitive(w, "instances");
		up = n = 0;
		cJSON_ArrayForEach(in, insts) {
			n++;
			up += cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(in,
			    "pid"));
		}
		table_add(sum, w->string);
		table_add(sum, jstr(w, "health"));
		table_addf(sum, "%d/%d", up, n);
		table_add(sum, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(w,
		    "critical")) ? "yes" : "no");
		table_add(sum, jstr(w, "consumes"));
		table_add(sum, jstr(w, "detail"));
		add_instances(t, insts);
	}
	if (table_rows(sum) == 0)
		puts("no workers");
	else {
		table_print(sum, stdout);
		if (table_rows(t) > 0) {
			putchar('\n');
			table_print(t, stdout);
		}
	}
	table_free(sum);
	table_free(t);
}

static void
show_health(const cJSON *o)
{
	static const char *const h[] = { "WORKER", "HEALTH", "DETAIL", NULL };
	struct table *t = table_new(h, "lll");
	const cJSON *w;

	fputs("health: ", stdout);
	put(jstr(o, "health"));
	putchar('\n');
	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(o, "workers")) {
		table_add(t, w->string);
		table_add(t, jstr(w, "health"));
		table_add(t, jstr(w, "detail"));
	}
	if (table_rows(t) > 0) {
		putchar('\n');
		table_print(t, stdout);
	}
	table_free(t);
}

/*
 * The trace id in a task's metadata.traceparent, for plbactl trace; NULL
 * when the task carries none that is well formed.
 */
static const char *
trace_id_of(const cJSON *task, char buf[33])
{
	const char *tp = jstr(cJSON_GetObjectItemCaseSensitive(task,
	    "metadata"), "traceparent");

	if (tp == NULL || strlen(tp) < 55 || tp[2] != '-' || tp[35] != '-' ||
	    strspn(tp + 3, "0123456789abcdef") != 32)
		return NULL;
	memcpy(buf, tp + 3, 32);
	buf[32] = '\0';
	return buf;
}

/* Whether any of the tasks has a trace: a column for plbactl trace then. */
static bool
any_traced(const cJSON *tasks)
{
	const cJSON *e;
	char buf[33];

	cJSON_ArrayForEach(e, tasks)
		if (trace_id_of(cJSON_GetObjectItemCaseSensitive(e, "task"),
		    buf) != NULL)
			return true;
	return false;
}

static void
show_dead(const char *queue, const cJSON *o)
{
	static const char *const h[] = { "ID", "ATTEMPT", "TASK-NAME", "ERROR",
	    NULL };
	static const char *const ht[] = { "ID", "ATTEMPT", "TASK-NAME", "TRACE",
	    "ERROR", NULL };
	const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(o, "tasks"), *e;
	struct table *t;
	char buf[33];
	int shown = cJSON_GetArraySize(tasks);
	double total = shown;
	bool traced;

	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, "dead")))
		total = cJSON_GetObjectItemCaseSensitive(o, "dead")->valuedouble;
	put(queue);
	if (total == 0) {
		puts(": no dead-lettered tasks");
		return;
	}
	printf(": %.0f dead-lettered task%s", total, total == 1 ? "" : "s");
	if (shown < total)
		printf(", the last %d shown", shown);
	puts("\n");
	traced = any_traced(tasks);
	t = traced ? table_new(ht, "rrlll") : table_new(h, "rrll");
	cJSON_ArrayForEach(e, tasks) {
		const cJSON *task = cJSON_GetObjectItemCaseSensitive(e, "task");

		table_add(t, jstr(e, "id"));
		table_add(t, jnum(e, "attempt", buf));
		table_add(t, jstr(task, "name"));
		if (traced)
			table_add(t, trace_id_of(task, buf));
		table_add(t, jstr(e, "error"));
	}
	table_print(t, stdout);
	table_free(t);
}

static double
count_of(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static void
show_tasks(const char *queue, const cJSON *o)
{
	static const char *const h[] = { "ID", "STATE", "ATTEMPT", "INSTANCE",
	    "HELD", "AGE", "TASK-NAME", "ERROR", NULL };
	static const char *const ht[] = { "ID", "STATE", "ATTEMPT", "INSTANCE",
	    "HELD", "AGE", "TASK-NAME", "TRACE", "ERROR", NULL };
	const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(o, "tasks"), *e;
	double held = count_of(o, "in_flight"), queued = count_of(o, "depth");
	double waiting = count_of(o, "waiting_publishers");
	int shown = cJSON_GetArraySize(tasks);
	struct table *t;
	char buf[33];
	bool traced;

	put(queue);
	printf(": %.0f in flight, %.0f queued", held, queued);
	if (waiting > 0)
		printf(", %.0f publisher%s waiting for room", waiting,
		    waiting == 1 ? "" : "s");
	if (shown == 0) {
		putchar('\n');
		return;
	}
	if (shown < held + queued)
		printf("; the first %d shown", shown);
	puts("\n");
	traced = any_traced(tasks);
	t = traced ? table_new(ht, "rlrlrrlll") : table_new(h, "rlrlrrll");
	cJSON_ArrayForEach(e, tasks) {
		const cJSON *task = cJSON_GetObjectItemCaseSensitive(e, "task");
		const char *state = jstr(e, "state");

		table_add(t, jstr(e, "id"));
		table_add(t, state != NULL && strcmp(state, "in_flight") == 0 ?
		    "in flight" : state);
		table_add(t, jnum(e, "attempt", buf));
		if (jstr(e, "instance") != NULL) {
			table_add(t, jstr(e, "instance"));
			fmt_ms(e, "held_ms", buf);
			table_add(t, buf);
		} else {
			table_blank(t);
			table_blank(t);
		}
		fmt_ms(e, "age_ms", buf);
		table_add(t, buf);
		table_add(t, jstr(task, "name"));
		if (traced)
			table_add(t, trace_id_of(task, buf));
		if (jstr(e, "error") != NULL)
			table_add(t, jstr(e, "error"));
		else
			table_blank(t);
	}
	table_print(t, stdout);
	table_free(t);
}

/* --- commands ------------------------------------------------------------ */

/*
 * What each answer must have to be the master's, beyond being an object:
 * what the command reads, down to the items of every list and map it
 * goes through.  Single values may be missing (shown as "-").
 */
static const struct need need_instance[] = {
	{ .name = "name", .type = cJSON_String }, { .name = NULL }
};
static const struct need need_queue[] = {
	{ .name = "depth", .type = cJSON_Number }, { .name = NULL }
};
static const struct need need_status[] = {
	{ .name = "state", .type = cJSON_String },
	{ .name = "health", .type = cJSON_String },
	{ .name = "instances", .type = cJSON_Array, .items = cJSON_Object,
	    .each = need_instance },
	{ .name = "queues", .type = cJSON_Object, .items = cJSON_Object,
	    .each = need_queue },
	{ .name = NULL }
};
static const struct need need_health[] = {
	{ .name = "health", .type = cJSON_String },
	{ .name = "workers", .type = cJSON_Object, .items = cJSON_Object },
	{ .name = NULL }
};
static const struct need need_worker[] = {
	{ .name = "instances", .type = cJSON_Array, .items = cJSON_Object,
	    .each = need_instance },
	{ .name = NULL }
};
static const struct need need_workers[] = {
	{ .name = "*", .type = cJSON_Object, .inner = need_worker },
	{ .name = NULL }
};
static const struct need need_queues[] = {
	{ .name = "*", .type = cJSON_Object, .inner = need_queue },
	{ .name = NULL }
};
static const struct need need_task[] = {
	{ .name = "id", .type = cJSON_String }, { .name = NULL }
};
static const struct need need_tasks[] = {
	{ .name = "tasks", .type = cJSON_Array, .items = cJSON_Object,
	    .each = need_task },
	{ .name = NULL }
};
static const struct need need_spans[] = {
	{ .name = "spans", .type = cJSON_Array, .items = cJSON_Object },
	{ .name = NULL }
};
static const struct need need_requeued[] = {
	{ .name = "requeued", .type = cJSON_Number }, { .name = NULL }
};
static const struct need need_purged[] = {
	{ .name = "purged", .type = cJSON_Number }, { .name = NULL }
};
static const struct need need_ok[] = {
	{ .name = "ok", .type = cJSON_True }, { .name = NULL }
};
static const struct need need_names[] = {
	{ .name = "added", .type = cJSON_Array, .items = cJSON_String },
	{ .name = "removed", .type = cJSON_Array, .items = cJSON_String },
	{ .name = NULL }
};
static const struct need need_worker_names[] = {
	{ .name = "added", .type = cJSON_Array, .items = cJSON_String },
	{ .name = "changed", .type = cJSON_Array, .items = cJSON_String },
	{ .name = "scaled", .type = cJSON_Array, .items = cJSON_String },
	{ .name = "removed", .type = cJSON_Array, .items = cJSON_String },
	{ .name = NULL }
};
static const struct need need_reload[] = {
	{ .name = "ok", .type = cJSON_True },
	{ .name = "workers", .type = cJSON_Object, .inner = need_worker_names },
	{ .name = "queues", .type = cJSON_Object, .inner = need_names },
	{ .name = NULL }
};
static const struct need need_id[] = {
	{ .name = "id", .type = cJSON_String }, { .name = NULL }
};

/* "/workers/" NAME "/restart", the name percent-encoded. */
static char *
path_of(const char *prefix, const char *name, const char *suffix)
{
	char *e = client_escape(name), *p;

	p = xmalloc(strlen(prefix) + strlen(e) + strlen(suffix) + 1);
	sprintf(p, "%s%s%s", prefix, e, suffix);
	free(e);
	return p;
}

static int
cmd_status(struct ctl *c, const struct args *a)
{
	cJSON *o;
	int rc;

	(void)a;
	if ((o = fetch(c, "GET", "/status", NULL, 0, need_status, &rc)) != NULL)
		show_status(o);
	cJSON_Delete(o);
	return rc;
}

static int
cmd_health(struct ctl *c, const struct args *a)
{
	cJSON *o;
	int rc;

	(void)a;
	if ((o = fetch(c, "GET", "/health", NULL, 0, need_health, &rc)) != NULL)
		show_health(o);
	cJSON_Delete(o);
	return rc;
}

static void
show_queues_wide(const cJSON *queues)
{
	show_queues(queues, true);
}

/*
 * GET /SECTION, or /SECTION/NAME when a name is given.  One item comes
 * without its name, so it is wrapped to look like the whole list and the
 * same table shows both.
 */
static int
show_section(struct ctl *c, const struct args *a, const char *section,
    const struct need *all_need, const struct need *one_need,
    void (*show)(const cJSON *))
{
	char prefix[32], *path;
	cJSON *o, *one;
	int rc;

	snprintf(prefix, sizeof(prefix), "/%s/", section);
	path = a->npos > 0 ? path_of(prefix, a->pos[0], "") : xstrdup(prefix);
	if (a->npos == 0)
		path[strlen(path) - 1] = '\0';		/* "/workers" */
	if ((o = fetch(c, "GET", path, NULL, 0, a->npos == 0 ? all_need :
	    one_need, &rc)) != NULL) {
		if (a->npos > 0) {
			one = cJSON_CreateObject();
			cJSON_AddItemReferenceToObject(one, a->pos[0], o);
			show(one);
			cJSON_Delete(one);
		} else
			show(o);
	}
	cJSON_Delete(o);
	free(path);
	return rc;
}

static int
cmd_workers(struct ctl *c, const struct args *a)
{
	return show_section(c, a, "workers", need_workers, need_worker,
	    show_workers);
}

static int
cmd_queues(struct ctl *c, const struct args *a)
{
	return show_section(c, a, "queues", need_queues, need_queue,
	    show_queues_wide);
}

static int
cmd_tasks(struct ctl *c, const struct args *a)
{
	char *path = path_of("/queues/", a->pos[0], "/tasks"), *full;
	cJSON *o;
	int rc;

	full = xmalloc(strlen(path) + 32);
	if (a->limit > 0)
		sprintf(full, "%s?limit=%ld", path, a->limit);
	else
		strcpy(full, path);
	if ((o = fetch(c, "GET", full, NULL, 0, need_tasks, &rc)) != NULL)
		show_tasks(a->pos[0], o);
	cJSON_Delete(o);
	free(full);
	free(path);
	return rc;
}

static int
cmd_dead(struct ctl *c, const struct args *a)
{
	char *path = path_of("/queues/", a->pos[0], "/dead");
	cJSON *o;
	int rc;

	if ((o = fetch(c, "GET", path, NULL, 0, need_tasks, &rc)) != NULL)
		show_dead(a->pos[0], o);
	cJSON_Delete(o);
	free(path);
	return rc;
}

/* A trace from the files the master writes: no master needed, and they
 * have what the master's ring has let go. */
static int
trace_from_files(struct ctl *c, const char *const *paths, int npaths,
    const char *trace_id)
{
	cJSON *o = NULL, *more, *spans, *span;
	FILE *f;
	size_t n, total = 0;
	char *text;
	int i;

	if (strlen(trace_id) != 32 ||
	    strspn(trace_id, "0123456789abcdef") != 32)
		usage_error("trace: \"%s\" is not a trace id (32 lower-case hex "
		    "digits)", trace_id);
	for (i = 0; i < npaths; i++) {
		if ((f = strcmp(paths[i], "-") == 0 ? stdin :
		    fopen(paths[i], "re")) == NULL)
			die(EXIT_USAGE, "%s: %s", paths[i], strerror(errno));
		more = spans_from_file(f, trace_id, &n);
		if (ferror(f))
			die(EXIT_USAGE, "%s: %s", paths[i], strerror(errno));
		if (f != stdin)
			fclose(f);
		total += n;
		if (o == NULL) {
			o = more;
			continue;
		}
		/* One trace from several files: a rotated one and its
		 * successor, say. */
		spans = cJSON_GetObjectItemCaseSensitive(more, "spans");
		while ((span = cJSON_DetachItemFromArray(spans, 0)) != NULL)
			cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(o,
			    "spans"), span);
		cJSON_Delete(more);
	}
	if (total == 0) {
		fprintf(stderr, "plbactl: no spans of trace %s in %s%s\n",
		    trace_id, paths[0], npaths > 1 ? " and the other files" :
		    "");
		cJSON_Delete(o);
		return EXIT_FAILED;
	}
	if (c->json) {
		if ((text = cJSON_PrintUnformatted(o)) == NULL)
			die(EXIT_USAGE, "out of memory");
		puts(text);
		free(text);
	} else
		spans_print(o, stdout);
	cJSON_Delete(o);
	return 0;
}

static int
cmd_trace(struct ctl *c, const struct args *a)
{
	char *path;
	cJSON *o;
	int rc;

	if (a->nfiles > 0)
		return trace_from_files(c, a->files, a->nfiles, a->pos[0]);
	path = path_of("/traces/", a->pos[0], "");
	if ((o = fetch(c, "GET", path, NULL, 0, need_spans, &rc)) != NULL)
		spans_print(o, stdout);
	cJSON_Delete(o);
	free(path);
	return rc;
}

/*
 * retry and purge: every dead letter of a queue (or, for purge --queued,
 * every queued task), or the one whose id is given, checked to be a
 * number already; the master says when no task has it.
 */
static int
dead_change(struct ctl *c, const struct args *a, const char *action,
    const char *counted, const char *done)
{
	const char *what = a->queued ? "queued task" : "dead letter";
	char *path = path_of("/queues/", a->pos[0], action), *body = NULL;
	cJSON *o, *req, *ids;
	double n;
	int rc;

	if (a->npos > 1) {
		req = cJSON_CreateObject();
		ids = cJSON_AddArrayToObject(req, "ids");
		cJSON_AddItemToArray(ids, cJSON_CreateString(a->pos[1]));
		body = cJSON_PrintUnformatted(req);
		cJSON_Delete(req);
		if (body == NULL) {
			fputs("plbactl: out of memory\n", stderr);
			exit(1);
		}
	}
	o = fetch(c, "POST", path, body, body != NULL ? strlen(body) : 0,
	    strcmp(counted, "requeued") == 0 ? need_requeued : need_purged, &rc);
	if (o != NULL) {
		n = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, counted)) ?
		    cJSON_GetObjectItemCaseSensitive(o, counted)->valuedouble : 0;
		put(a->pos[0]);
		printf(": %.0f %s%s %s\n", n, what, n == 1 ? "" : "s", done);
	}
	cJSON_Delete(o);
	free(body);
	free(path);
	return rc;
}

static int
cmd_retry(struct ctl *c, const struct args *a)
{
	return dead_change(c, a, "/dead/retry", "requeued", "queued again");
}

static int
cmd_purge(struct ctl *c, const struct args *a)
{
	return dead_change(c, a, a->queued ? "/tasks/purge" : "/dead/purge",
	    "purged", "deleted");
}

static int
cmd_metrics(struct ctl *c, const struct args *a)
{
	struct reply r;
	int rc = 0;

	(void)a;
	call(c, "GET", "/metrics", NULL, 0, &r);
	if (r.code == 200)
		fwrite(r.body, 1, r.len, stdout);
	else
		rc = report_failure(c, "/metrics", &r);
	reply_clear(&r);
	return rc;
}

static int
cmd_start(struct ctl *c, const struct args *a)
{
	cJSON *o;
	int rc;

	(void)a;
	if ((o = fetch(c, "POST", "/actions/start", NULL, 0, need_ok,
	    &rc)) != NULL) {
		put(jstr(o, "state") != NULL ? jstr(o, "state") : "starting");
		putchar('\n');
	}
	cJSON_Delete(o);
	return rc;
}

/* "  workers added: a, b", when the list has any. */
static void
show_changes(const cJSON *o, const char *kind, const char *how)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(o, kind), how), *e;
	const char *sep = "";

	if (cJSON_GetArraySize(list) == 0)
		return;
	printf("  %s %s: ", kind, how);
	cJSON_ArrayForEach(e, list) {
		fputs(sep, stdout);
		put(cJSON_IsString(e) ? e->valuestring : NULL);
		sep = ", ";
	}
	putchar('\n');
}

static int
cmd_reload(struct ctl *c, const struct args *a)
{
	cJSON *o;
	int rc;

	(void)a;
	if ((o = fetch(c, "POST", "/actions/reload", NULL, 0, need_reload,
	    &rc)) != NULL) {
		puts("reloading");
		show_changes(o, "workers", "added");
		show_changes(o, "workers", "changed");
		show_changes(o, "workers", "scaled");
		show_changes(o, "workers", "removed");
		show_changes(o, "queues", "added");
		show_changes(o, "queues", "removed");
	}
	cJSON_Delete(o);
	return rc;
}

static int
cmd_stop(struct ctl *c, const struct args *a)
{
	cJSON *body = cJSON_CreateObject(), *o;
	char dur[32], *text;
	int rc;

	cJSON_AddBoolToObject(body, "force", a->force);
	if (a->stop_ms >= 0) {
		if (a->stop_ms % 1000 == 0)
			snprintf(dur, sizeof(dur), "%lds", a->stop_ms / 1000);
		else
			snprintf(dur, sizeof(dur), "%ldms", a->stop_ms);
		cJSON_AddStringToObject(body, "timeout", dur);
	}
	if ((text = cJSON_PrintUnformatted(body)) == NULL)
		die(EXIT_USAGE, "out of memory");
	cJSON_Delete(body);
	if ((o = fetch(c, "POST", "/actions/stop", text, strlen(text),
	    need_ok, &rc)) != NULL) {
		put(jstr(o, "state") != NULL ? jstr(o, "state") : "stopping");
		putchar('\n');
	}
	cJSON_Delete(o);
	free(text);
	return rc;
}

static int
cmd_restart(struct ctl *c, const struct args *a)
{
	char *path = path_of("/workers/", a->pos[0], "/restart");
	cJSON *o;
	int rc;

	if ((o = fetch(c, "POST", path, NULL, 0, need_ok, &rc)) != NULL) {
		fputs("restarting ", stdout);
		put(a->pos[0]);
		puts(", one instance at a time");
	}
	cJSON_Delete(o);
	free(path);
	return rc;
}

/*
 * The task goes to the master as given: the master checks it, and its
 * error says what is wrong better than a second opinion here would.
 */
static int
cmd_publish(struct ctl *c, const struct args *a)
{
	char *path = path_of("/queues/", a->pos[0], "/tasks"), *body;
	size_t len;
	cJSON *o;
	int rc;

	if (strcmp(a->pos[1], "-") == 0)
		body = read_all(stdin, &len);
	else {
		body = xstrdup(a->pos[1]);
		len = strlen(body);
	}
	if ((o = fetch(c, "POST", path, body, len, need_id, &rc)) != NULL) {
		fputs("published task ", stdout);
		put(jstr(o, "id"));
		fputs(" to ", stdout);
		put(jstr(o, "queue") != NULL ? jstr(o, "queue") : a->pos[0]);
		putchar('\n');
	}
	cJSON_Delete(o);
	free(body);
	free(path);
	return rc;
}

static const struct command commands[] = {
	{ "status",	0, 0, cmd_status,  "status" },
	{ "health",	0, 0, cmd_health,  "health" },
	{ "workers",	0, 1, cmd_workers, "workers [NAME]" },
	{ "queues",	0, 1, cmd_queues,  "queues [NAME]" },
	{ "tasks",	1, 1, cmd_tasks,   "tasks [--limit N] QUEUE" },
	{ "dead",	1, 1, cmd_dead,    "dead QUEUE" },
	{ "retry",	1, 2, cmd_retry,   "retry QUEUE [ID]" },
	{ "purge",	1, 2, cmd_purge,   "purge [--queued] QUEUE [ID]" },
	{ "metrics",	0, 0, cmd_metrics, "metrics" },
	{ "start",	0, 0, cmd_start,   "start" },
	{ "reload",	0, 0, cmd_reload,  "reload" },
	{ "stop",	0, 0, cmd_stop,    "stop [--force] [--timeout DURATION]" },
	{ "restart",	1, 1, cmd_restart, "restart WORKER" },
	{ "publish",	2, 2, cmd_publish, "publish QUEUE JSON" },
	{ "trace",	1, 1, cmd_trace,   "trace [--file FILE]... TRACE-ID" },
};

static const struct command *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/*
 * The value of option NAME at argv[*i], as "NAME=VALUE" or "NAME VALUE"
 * (then *i moves past the value); NULL when argv[*i] is another option.
 * A missing value is a usage error of command CMD saying what is wanted.
 */
static const char *
option_value(const char *cmd, const char *name, const char *wanted, int argc,
    char **argv, int *i)
{
	const char *arg = argv[*i];
	size_t len = strlen(name);

	if (strncmp(arg, name, len) != 0)
		return NULL;
	if (arg[len] == '=')
		return arg + len + 1;
	if (arg[len] != '\0')
		return NULL;
	if (*i + 1 >= argc)
		usage_error("%s: %s needs %s", cmd, name, wanted);
	return argv[++*i];
}

/* Whether s is a task id as the master writes them: 1 to 2^64-1. */
static bool
is_task_id(const char *s)
{
	char *end;

	if (*s < '1' || *s > '9')
		return false;
	errno = 0;
	(void)strtoull(s, &end, 10);
	return errno == 0 && *end == '\0';
}

/*
 * A command's own arguments.  --json is taken here too, as people type
 * "plbactl status --json"; stop has --force and --timeout, the stop's
 * own budget (the request's --timeout goes before the command); trace
 * has --file, tasks --limit, purge --queued.
 */
static void
parse_args(struct ctl *c, const struct command *cmd, int argc, char **argv,
    struct args *a)
{
	bool stop = cmd->run == cmd_stop, trace = cmd->run == cmd_trace;
	bool tasks = cmd->run == cmd_tasks, purge = cmd->run == cmd_purge;
	bool opts = true;
	const char *arg, *v;
	int i;

	memset(a, 0, sizeof(*a));
	a->stop_ms = -1;
	for (i = 0; i < argc; i++) {
		arg = argv[i];
		if (opts && strcmp(arg, "--") == 0) {
			opts = false;
			continue;
		}
		if (opts && arg[0] == '-' && arg[1] != '\0') {
			if (strcmp(arg, "--json") == 0)
				c->json = true;
			else if (strcmp(arg, "-h") == 0 ||
			    strcmp(arg, "--help") == 0)
				usage(0);
			else if (trace && (v = option_value(cmd->name, "--file",
			    "the trace file's path", argc, argv, &i)) != NULL) {
				if (*v == '\0')
					usage_error("trace: --file: an empty path");
				if (a->nfiles == FILES_MAX)
					usage_error("trace: at most %d --file",
					    FILES_MAX);
				a->files[a->nfiles++] = v;
			} else if (tasks && (v = option_value(cmd->name, "--limit",
			    "a number", argc, argv, &i)) != NULL) {
				char *end;

				errno = 0;
				a->limit = strtol(v, &end, 10);
				if (*v < '0' || *v > '9' || *end != '\0' ||
				    errno != 0 || a->limit < 1 ||
				    a->limit > 1000)
					usage_error("tasks: --limit %s: expected "
					    "a number from 1 to 1000", v);
			} else if (purge && strcmp(arg, "--queued") == 0)
				a->queued = true;
			else if (stop && (strcmp(arg, "--force") == 0 ||
			    strcmp(arg, "-f") == 0))
				a->force = true;
			else if (stop && (v = option_value(cmd->name, "--timeout",
			    "a duration such as 10s", argc, argv, &i)) != NULL) {
				if (parse_duration(v, &a->stop_ms) == -1 ||
				    a->stop_ms == 0)
					usage_error("stop: --timeout %s: expected "
					    "a duration above 0 such as 10s or "
					    "500ms (use --force to stop at once)",
					    v);
			} else
				usage_error("%s: unknown option %s", cmd->name,
				    arg);
			continue;
		}
		if (a->npos == cmd->max)
			usage_error("%s: unexpected argument \"%s\" (usage: "
			    "plbactl %s)", cmd->name, arg, cmd->synopsis);
		a->pos[a->npos++] = arg;
	}
	if (a->npos < cmd->min)
		usage_error("%s: missing argument (usage: plbactl %s)",
		    cmd->name, cmd->synopsis);
	for (i = 0; i < a->npos; i++)
		if (a->pos[i][0] == '\0')
			usage_error("%s: an empty argument", cmd->name);
	/* The master's answer to a bad id explains its JSON body, which a
	 * person who typed "retry jobs abc" never wrote. */
	if ((cmd->run == cmd_retry || purge) && a->npos > 1 &&
	    !is_task_id(a->pos[1]))
		usage_error("%s: \"%s\" is not a task id (a number from 1, as "
		    "plbactl %s shows)", cmd->name, a->pos[1], a->queued ?
		    "tasks" : "dead");
}

int
main(int argc, char *argv[])
{
	enum { OPT_TOKEN = 256, OPT_JSON, OPT_TIMEOUT };
	static const struct option longopts[] = {
		{ "url",	required_argument, NULL, 'u' },
		{ "token-file",	required_argument, NULL, OPT_TOKEN },
		{ "json",	no_argument,	   NULL, OPT_JSON },
		{ "timeout",	required_argument, NULL, OPT_TIMEOUT },
		{ "help",	no_argument,	   NULL, 'h' },
		{ "version",	no_argument,	   NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct ctl c = { .cl = { .connect_ms = CONNECT_MS,
	    .timeout_ms = TIMEOUT_MS } };
	const struct command *cmd;
	const char *url = NULL, *env;
	struct args a;
	char *base, *token = NULL;
	size_t len;
	int ch, rc;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:u:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			url = optarg;
			break;
		case OPT_TOKEN:
			c.token_file = optarg;
			break;
		case OPT_JSON:
			c.json = true;
			break;
		case OPT_TIMEOUT:
			if (parse_duration(optarg, &c.cl.timeout_ms) == -1 ||
			    c.cl.timeout_ms == 0)
				usage_error("--timeout %s: expected a duration "
				    "above 0 such as 30s", optarg);
			break;
		case 'h':
			usage(0);
		case 'V':
			printf("plbactl %s\n", PACKAGE_VERSION);
			return 0;
		case ':':
			usage_error("%s needs an argument", argv[optind - 1]);
		default:
			usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind == argc)
		usage_error("no command given");
	if ((cmd = find_command(argv[optind])) == NULL)
		usage_error("unknown command \"%s\"", argv[optind]);
	parse_args(&c, cmd, argc - optind - 1, argv + optind + 1, &a);

	if (url == NULL && (env = getenv("PLBA_URL")) != NULL && *env != '\0')
		url = env;
	base = xstrdup(url != NULL ? url : DEFAULT_URL);
	for (len = strlen(base); len > 0 && base[len - 1] == '/'; len--)
		base[len - 1] = '\0';
	if (*base == '\0')
		usage_error("-u: an empty URL");
	c.cl.url = base;
	if (c.token_file == NULL && (env = getenv("PLBA_TOKEN_FILE")) != NULL &&
	    *env != '\0')
		c.token_file = env;
	if (c.token_file != NULL)
		c.cl.token = token = read_token(c.token_file);
	if (c.cl.connect_ms > c.cl.timeout_ms)
		c.cl.connect_ms = c.cl.timeout_ms;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die(EXIT_USAGE, "cannot initialize libcurl");
	rc = cmd->run(&c, &a);
	curl_global_cleanup();
	free(token);
	free(base);
	if (fflush(stdout) == EOF || ferror(stdout))
		die(EXIT_USAGE, "standard output: %s", strerror(errno));
	return rc;
}
