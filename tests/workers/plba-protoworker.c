/*
 * A worker that speaks the protocol through libplba, for the integration
 * tests: a producer, a consumer that records what it handled, and hostile
 * children that break the protocol in the ways a real bug would.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <plba/plba.h>

static const char *record_path;
static const char *payload_path;	/* consume: "NAME PAYLOAD" per task, */
static const char *meta_keys[4];	/*   then " KEY=VALUE" or " KEY=-" each */
static int nmeta_keys;
static long fail_every;		/* nack with retry every Nth task */
static long dead_every;		/* fail (no retry) tasks whose n % N == 0 */
static long sleep_ms;
static bool hang;
static const char *hang_while;	/* a file: hangs on a task while it exists */
static const char *relay_to;	/* a queue each task is published to first */

static void
msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* --- producer ---------------------------------------------------------- */

struct produce {
	const char	*queue;
	long		 count;
	bool		 async;
	bool		 tracked;
	const char	*payload;	/* the same for each task; NULL: {"n":i} */
};

/* Prints every done notice until one came for each task. */
static int
await_done(plba_worker *w, long count)
{
	struct plba_done d;
	long acked = 0, dead = 0;
	int rc;

	while (acked + dead < count) {
		if ((rc = plba_worker_next_done(w, 60000, &d)) < 0)
			return 1;
		if (rc == 0) {
			if (plba_worker_stopping(w))
				return 0;
			continue;
		}
		if (d.acked)
			acked++;
		else
			dead++;
		printf("done %s %s %s%s%s\n", d.queue, d.id,
		    d.acked ? "acked" : "dead", d.acked ? "" : ": ", d.error);
	}
	printf("all done: %ld acked, %ld dead\n", acked, dead);
	return 0;
}

/*
 * Two processes of one pid.  The first publishes a tracked task, has the
 * next process of its pid namespace get its own pid (ns_last_pid, as
 * root) and exits 1; the one the master starts in its place publishes a
 * tracked task of its own and prints the first done notice it hears,
 * which must be for its own task: the first's belongs to no process.
 */
static int
reincarnate(plba_worker *w, void *arg)
{
	char *const *args = arg;
	const char *marker = args[0], *queue = args[1];
	char id[32];
	FILE *f;

	if (access(marker, F_OK) != 0) {
		if ((f = fopen(marker, "w")) == NULL)
			return 2;
		fclose(f);
		if (plba_publish_tracked(w, queue, "item", "{\"who\":\"first\"}",
		    id, sizeof(id)) != PLBA_OK)
			return 2;
		printf("first pid %ld published %s\n", (long)getpid(), id);
		fflush(stdout);
		if ((f = fopen("/proc/sys/kernel/ns_last_pid", "w")) != NULL) {
			fprintf(f, "%ld", (long)getpid() - 1);
			fclose(f);
		}
		/* At once: an exit handler that starts a thread or a process
		 * (LeakSanitizer's does) would take the pid. */
		_exit(1);
	}
	if (plba_publish_tracked(w, queue, "item", "{\"who\":\"second\"}", id,
	    sizeof(id)) != PLBA_OK)
		return 2;
	printf("second pid %ld published %s\n", (long)getpid(), id);
	fflush(stdout);
	if (await_done(w, 1) != 0)
		return 1;
	while (!plba_worker_sleep(w, 60000))
		;
	return 0;
}

/*
 * Payloads the master would refuse, or that would change on the way:
 * each must be PLBA_EINVAL, and this process must live.  Then a task
 * whose name is not UTF-8 goes through, as U+FFFD.
 */
static int
bad_payloads(plba_worker *w, void *arg)
{
	static const char *const bad[] = {
		"1 2", "{} {}", "{\"a\":1}x", "1e",
		"{} ,\"metadata\":{\"foo\":\"bar\"}",
		"\"\xff\"", "{\"s\":\"caf\xe9\"}", "\"\xc0\x80\"",
		"\"\xed\xa0\x80\"", "\"a\x01" "b\"", "1e999",
	};
	const char *queue = arg;
	static char deep[2 * 257 + 1];
	char id[32];
	size_t i, refused = 0;
	int rc;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = plba_publish(w, queue, "bad", bad[i], id, sizeof(id));
		if (rc == PLBA_EINVAL)
			refused++;
		else
			printf("payload %zu: %s\n", i, plba_strerror(rc));
	}
	rc = plba_publish(w, queue, "caf\xe9", "{\"s\":\"caf\xc3\xa9\"}", id,
	    sizeof(id));
	printf("payloads: %zu of %zu refused, the good one %s\n", refused,
	    sizeof(bad) / sizeof(bad[0]), plba_strerror(rc));
	/* As deep as a task's payload may be (256 levels), and one more. */
	for (i = 256; i <= 257; i++) {
		memset(deep, '[', i);
		memset(deep + i, ']', i);
		deep[2 * i] = '\0';
		rc = plba_publish(w, queue, "deep", deep, id, sizeof(id));
		printf("payloads: %zu deep: %s%s%s\n", i, plba_strerror(rc),
		    rc == PLBA_OK ? "" : ": ", rc == PLBA_OK ? "" :
		    plba_worker_error(w));
	}
	fflush(stdout);
	while (!plba_worker_sleep(w, 60000))
		;
	return 0;
}

/* Once its channel is closed, what a worker's calls return, and say. */
static int
after_close(plba_worker *w, void *arg)
{
	char id[32];
	int status, pub;

	(void)arg;
	while (!plba_worker_sleep(w, 60000))
		;
	status = plba_worker_set_status(w, PLBA_STATUS_BUSY);
	pub = plba_publish(w, "q", "t", "1", id, sizeof(id));
	printf("after close: status: %s; publish: %s: %s\n",
	    plba_strerror(status), plba_strerror(pub), plba_worker_error(w));
	fflush(stdout);
	return 0;
}

static int
produce(plba_worker *w, void *arg)
{
	struct produce *p = arg;
	char payload[64], id[32];
	long i;
	int rc;

	for (i = 0; i < p->count && !plba_worker_stopping(w); i++) {
		snprintf(payload, sizeof(payload), "{\"n\":%ld}", i);
		if (p->async)
			rc = plba_publish_async(w, p->queue, "item", payload);
		else if (p->tracked)
			rc = plba_publish_tracked(w, p->queue, "item", payload, id,
			    sizeof(id));
		else
			rc = plba_publish(w, p->queue, "item", p->payload != NULL ?
			    p->payload : payload, id, sizeof(id));
		if (rc != PLBA_OK) {
			fprintf(stderr, "publish %ld: %s\n", i, plba_strerror(rc));
			return 1;
		}
	}
	if (plba_publish_flush(w) != PLBA_OK)
		return 1;
	printf("produced %ld\n", i);
	fflush(stdout);
	if (p->tracked && await_done(w, p->count) != 0)
		return 1;
	while (!plba_worker_sleep(w, 60000))
		;
	return 0;
}

/* --- consumer ---------------------------------------------------------- */

static long handled;

static void
record_payload(plba_task *t)
{
	FILE *f;

	const char *v;
	int i;

	if ((f = fopen(payload_path, "a")) != NULL) {
		fprintf(f, "%s %s", plba_task_name(t), plba_task_payload(t));
		for (i = 0; i < nmeta_keys; i++) {
			v = plba_task_meta(t, meta_keys[i]);
			fprintf(f, " %s=%s", meta_keys[i], v != NULL ? v : "-");
		}
		fputc('\n', f);
		fclose(f);
	}
}

static enum plba_task_result
consume(plba_worker *w, plba_task *t, void *arg)
{
	const char *payload = plba_task_payload(t), *p;
	char line[256];
	long n = -1;
	int fd, len;

	(void)arg;
	if ((p = strstr(payload, "\"n\":")) != NULL)
		n = strtol(p + 4, NULL, 10);
	if (hang)
		for (;;)
			pause();
	while (hang_while != NULL && access(hang_while, F_OK) == 0)
		msleep(20);
	if (sleep_ms > 0)
		msleep(sleep_ms);
	handled++;
	if (dead_every > 0 && n >= 0 && n % dead_every == 0) {
		plba_task_error(t, "item %ld is malformed", n);
		return PLBA_TASK_FAIL;
	}
	/* Only first deliveries fail, so every retried task then succeeds. */
	if (fail_every > 0 && handled % fail_every == 0 && plba_task_attempt(t) == 1) {
		plba_task_error(t, "transient failure");
		return PLBA_TASK_RETRY;
	}
	if (record_path != NULL) {
		len = snprintf(line, sizeof(line), "%s %ld %u %s.%u\n",
		    plba_task_id(t), n, plba_task_attempt(t),
		    plba_worker_name(w), plba_worker_instance(w));
		if ((fd = open(record_path, O_WRONLY | O_APPEND | O_CREAT, 0644)) != -1) {
			(void)!write(fd, line, (size_t)len);
			close(fd);
		}
	}
	if (payload_path != NULL)
		record_payload(t);
	/* Before the ack, as a pipeline stage does: a stop must let the
	 * publish through once the next stage makes room. */
	if (relay_to != NULL) {
		char id[32];
		int rc = plba_publish(w, relay_to, plba_task_name(t), payload, id,
		    sizeof(id));

		if (rc != PLBA_OK) {
			printf("relay: publish: %s: %s\n", plba_strerror(rc),
			    plba_worker_error(w));
			fflush(stdout);
			plba_task_error(t, "relay: %s", plba_strerror(rc));
			return PLBA_TASK_RETRY;
		}
	}
	return PLBA_TASK_OK;
}

/* --- plain protocol worker --------------------------------------------- */

static int
idle(plba_worker *w, void *arg)
{
	(void)arg;
	plba_worker_set_health(w, PLBA_HEALTH_DEGRADED, "testing degraded");
	while (!plba_worker_sleep(w, 60000))
		;
	return 0;
}

/* Busy, then a status that is not one: says what that returned, and
 * stays busy, degraded once both are sent. */
static int
badstatus(plba_worker *w, void *arg)
{
	int rc;

	(void)arg;
	rc = plba_worker_set_status(w, PLBA_STATUS_BUSY);
	printf("set_status busy: %s\n", plba_strerror(rc));
	rc = plba_worker_set_status(w, (enum plba_status)7);
	printf("set_status 7: %s\n", plba_strerror(rc));
	/* Sent after the statuses: once the master shows it, it has them. */
	plba_worker_set_health(w, PLBA_HEALTH_DEGRADED, "statuses sent");
	while (!plba_worker_sleep(w, 60000))
		;
	return 0;
}

/* --- stop, graceful and forced -------------------------------------------- */

/*
 * A worker whose graceful stop takes cleanup_ms and whose forced stop
 * drops the rest: it says which stop it was asked for, and how it ended.
 */
static long cleanup_ms;
static atomic_bool force_asked;

static void
stoppable_stop(plba_worker *w, bool force, void *arg)
{
	(void)w;
	(void)arg;
	printf("stop force=%d\n", force);
	if (force)
		atomic_store(&force_asked, true);
}

static int
stoppable(plba_worker *w, void *arg)
{
	long left;

	(void)arg;
	while (!plba_worker_sleep(w, 60000))
		;
	for (left = cleanup_ms; left > 0 && !atomic_load(&force_asked);
	    left -= 10)
		msleep(10);
	printf("%s\n", atomic_load(&force_asked) ? "cleanup dropped" :
	    "cleanup done");
	return 0;
}

/* --- spans alone ---------------------------------------------------------- */

struct spans {
	long	count;
	long	gap_ms;
	bool	exit;
	bool	say;	/* a line of output for each span: "made lone N how" */
	bool	big;	/* an integer attribute past 2^53, lone.big */
};

/*
 * Spans with nothing sent after them: libplba holds trace frames for the
 * next frame, so these test that they go out anyway, after a quiet spell
 * (gap over a second) or when the process ends right after them.
 */
static int
spans(plba_worker *w, void *arg)
{
	const struct spans *sp = arg;
	plba_span *s;
	char name[32];
	long i;

	for (i = 0; i < sp->count; i++) {
		if (sp->gap_ms > 0 && plba_worker_sleep(w, (uint64_t)sp->gap_ms))
			return 0;
		snprintf(name, sizeof(name), "lone %ld", i);
		s = plba_trace_start(w, name);
		if (sp->big)
			plba_span_set_int(s, "lone.big", 9007199254740993LL + i);
		/* For tests that must know a span was made, and whether it
		 * was to be recorded: tracing off, or the sampled flag. */
		if (sp->say) {
			char tp[64];

			printf("made %s %s\n", name,
			    plba_span_traceparent(s, tp, sizeof(tp)) == -1 ? "off" :
			    tp[54] == '1' ? "sampled" : "unsampled");
			fflush(stdout);
		}
		plba_span_end(s);
	}
	while (!sp->exit && !plba_worker_sleep(w, 60000))
		;
	return 0;
}

/* --- hostile children -------------------------------------------------- */

static void
put_frame(const char *json, bool bytewise)
{
	uint32_t be = htonl((uint32_t)strlen(json));
	char buf[4096];
	size_t n = 4 + strlen(json), i;

	memcpy(buf, &be, 4);
	memcpy(buf + 4, json, strlen(json));
	if (!bytewise) {
		(void)!write(3, buf, n);
		return;
	}
	for (i = 0; i < n; i++) {
		(void)!write(3, buf + i, 1);
		msleep(2);
	}
}

/* Reads n bytes from fd; false at EOF or on an error. */
static bool
read_all(int fd, void *buf, size_t n)
{
	char *p = buf;
	ssize_t r;

	while (n > 0) {
		if ((r = read(fd, p, n)) <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			return false;
		}
		p += r;
		n -= (size_t)r;
	}
	return true;
}

static int
hostile(const char *how)
{
	if (strcmp(how, "garbage") == 0) {
		(void)!write(3, "\x00\x00\x00\x05hello", 9);
	} else if (strcmp(how, "huge") == 0) {
		(void)!write(3, "\x40\x00\x00\x00{", 5);
	} else if (strcmp(how, "unknown") == 0) {
		put_frame("{\"type\":\"hello\",\"protocol\":1,\"pid\":1}", false);
		put_frame("{\"type\":\"launch_missiles\"}", false);
	} else if (strcmp(how, "bytewise") == 0) {
		/* Valid, only slow: must be accepted, not killed. */
		put_frame("{\"type\":\"hello\",\"protocol\":1,\"pid\":1}", true);
		put_frame("{\"type\":\"ready\"}", true);
		for (;;) {
			put_frame("{\"type\":\"heartbeat\"}", true);
			msleep(200);
		}
	} else if (strcmp(how, "silent") == 0) {
		/* Says hello, then never a heartbeat: hung. */
		put_frame("{\"type\":\"hello\",\"protocol\":1,\"pid\":1}", false);
		put_frame("{\"type\":\"ready\"}", false);
	} else if (strcmp(how, "traces") == 0) {
		/* Trace frames of every form, good and bad, each sent
		 * twice a second: the master must write valid lines or
		 * drop and count, never die or kill this child.  A
		 * record comes with its outcome (L: a line, D: dropped). */
#define TID "\"trace_id\":\"0af7651916cd43dd8448eb211c80319c\""
#define SID "\"span_id\":\"b7ad6b7169203331\""
#define NS "\"start_ns\":\"1\",\"end_ns\":\"2\""
		static const char *const frames[] = {
			/* L: as libplba writes it */
			"{\"type\":\"trace\",\"record\":{" TID "," SID
			    ",\"name\":\"plain\"," NS "}}",
			/* D: all-zero span id */
			"{\"type\":\"trace\",\"record\":{" TID ",\"span_id\":"
			    "\"0000000000000000\",\"name\":\"zero\"," NS "}}",
			/* D: empty name */
			"{\"type\":\"trace\",\"record\":{" TID "," SID
			    ",\"name\":\"\"," NS "}}",
			/* L: white space, a resource of its own, twice */
			"{ \"type\" : \"trace\", \"record\" : { " TID " , " SID
			    ", \"name\":\"spaced\", \"resource\":1, " NS
			    ", \"resource\":{\"worker\":\"forged\"} } }",
			/* L: odd escapes, a fraction */
			"{\"type\":\"trace\",\"record\":{" TID "," SID
			    ",\"name\":\"odd\\/\\u0041\",\"attributes\":"
			    "{\"x\\u00e9\\ud83d\\ude00\":1.5}," NS "}}",
			/* L: a brace in a string where the frame ends */
			"{\"type\":\"trace\",\"record\":{" TID "," SID
			    ",\"name\":\"}}\"," NS "}}",
			/* D: not an object the exporter wants */
			"{\"type\":\"trace\",\"record\":{\"a\":[1,{\"b\":null}]}}",
		};
		size_t i;

		put_frame("{\"type\":\"hello\",\"protocol\":1,\"pid\":1}", false);
		put_frame("{\"type\":\"ready\"}", false);
		for (;;) {
			for (i = 0; i < sizeof(frames) / sizeof(frames[0]); i++)
				put_frame(frames[i], false);
			put_frame("{\"type\":\"heartbeat\"}", false);
			msleep(500);
		}
	} else if (strcmp(how, "badtrace") == 0) {
		/* Looks like libplba's trace frame to the end; not JSON. */
		put_frame("{\"type\":\"hello\",\"protocol\":1,\"pid\":1}", false);
		put_frame("{\"type\":\"ready\"}", false);
		put_frame("{\"type\":\"trace\",\"record\":{" TID ",\"x\":tru}}",
		    false);
	} else if (strcmp(how, "badutf8") == 0) {
		/* A frame is UTF-8: one that is not is a protocol error. */
		put_frame("{\"type\":\"hello\",\"protocol\":1,\"pid\":1}", false);
		put_frame("{\"type\":\"ready\"}", false);
		put_frame("{\"type\":\"health\",\"health\":\"ok\",\"detail\":"
		    "\"caf\xe9\"}", false);
	} else if (strcmp(how, "deep") == 0) {
		/* Payloads as deep as a task's may be, and one deeper, which
		 * libplba would not send: valid JSON, so refused, not killed.
		 * The answers go to stdout, then heartbeats show it lives. */
		static char frame[4096], in[4096];
		size_t depth, n, answers = 0;
		uint32_t len;
		char *p;

		put_frame("{\"type\":\"hello\",\"protocol\":1,\"pid\":1}", false);
		put_frame("{\"type\":\"ready\"}", false);
		for (depth = 256; depth <= 257; depth++) {
			p = frame + sprintf(frame, "{\"type\":\"publish\","
			    "\"ref\":\"%zu\",\"queue\":\"deep\",\"task\":"
			    "{\"name\":\"deep\",\"payload\":", depth);
			memset(p, '[', depth);
			memset(p + depth, ']', depth);
			strcpy(p + 2 * depth, "}}");
			put_frame(frame, false);
		}
		while (answers < 2 && read_all(3, &len, 4) &&
		    (n = ntohl(len)) < sizeof(in) && read_all(3, in, n)) {
			in[n] = '\0';
			if (strstr(in, "\"published\"") != NULL ||
			    strstr(in, "\"rejected\"") != NULL) {
				printf("deep: %s\n", in);
				answers++;
			}
		}
		fflush(stdout);
		for (;;) {
			put_frame("{\"type\":\"heartbeat\"}", false);
			msleep(200);
		}
	} else if (strcmp(how, "nohello") == 0) {
		/* nothing */
	} else {
		fprintf(stderr, "unknown hostile mode %s\n", how);
		return 2;
	}
	for (;;)
		pause();
}

/*
 * The first process (MARKER does not exist yet) sends a trace frame that
 * is not JSON once GO exists, and exits; every later one behaves.  The
 * master finds the frame bad only after the first has gone and the next
 * has its slot: the next must not be killed for it.
 */
static int
bad_trace_once(const char *go, const char *marker)
{
	bool first = access(marker, F_OK) == -1;
	int fd, i;

	put_frame("{\"type\":\"hello\",\"protocol\":1,\"pid\":1}", false);
	put_frame("{\"type\":\"ready\"}", false);
	if (first) {
		if ((fd = open(marker, O_WRONLY | O_CREAT, 0644)) != -1)
			close(fd);
		for (i = 0; i < 3000 && access(go, F_OK) == -1; i++) {
			put_frame("{\"type\":\"heartbeat\"}", false);
			msleep(20);
		}
		put_frame("{\"type\":\"trace\",\"record\":{" TID ",\"x\":tru}}",
		    false);
		return 0;
	}
	for (;;) {
		put_frame("{\"type\":\"heartbeat\"}", false);
		msleep(200);
	}
}

/* --- bursts ------------------------------------------------------------- */

static const char hello_frame[] = "{\"type\":\"hello\",\"protocol\":1,\"pid\":1}";
static const char ready_frame[] = "{\"type\":\"ready\"}";
static const char beat_frame[] = "{\"type\":\"heartbeat\"}";

/* Appends one frame to buf at `at`; the caller made room. */
static size_t
add_frame(char *buf, size_t at, const char *json)
{
	uint32_t len = (uint32_t)strlen(json), be = htonl(len);

	memcpy(buf + at, &be, 4);
	memcpy(buf + at + 4, json, len);
	return at + 4 + len;
}

static bool
write_all(int fd, const char *buf, size_t len)
{
	ssize_t w;

	while (len > 0) {
		if ((w = write(fd, buf, len)) == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		buf += w;
		len -= (size_t)w;
	}
	return true;
}

/* Room for n frames of at most `longest` bytes. */
static char *
frames_buf(size_t n, size_t longest)
{
	return malloc(n * (longest + 4));
}

/* Reads frames from the master until one contains want; false at EOF. */
static bool
await_frame(const char *want)
{
	static char buf[1 << 16];
	uint32_t be;
	size_t len;

	for (;;) {
		if (read(3, &be, 4) != 4)
			return false;
		if ((len = ntohl(be)) >= sizeof(buf))
			return false;
		for (size_t got = 0; got < len; ) {
			ssize_t n = read(3, buf + got, len - got);

			if (n <= 0)
				return false;
			got += (size_t)n;
		}
		buf[len] = '\0';
		if (strstr(buf, want) != NULL)
			return true;
	}
}

/* Heartbeats every 200 ms, so that the master keeps it. */
static int
beat_forever(void)
{
	char one[64];
	size_t len = add_frame(one, 0, beat_frame);

	for (;;) {
		if (!write_all(3, one, len))
			return 1;
		msleep(200);
	}
}

static bool
say_hello(void)
{
	char buf[128];
	size_t len = add_frame(buf, 0, hello_frame);

	len = add_frame(buf, len, ready_frame);
	return write_all(3, buf, len);
}

/* frame, over and over without end, saying so every 8 MiB. */
static int
burst_flood(const char *frame)
{
	size_t n = 16384, len = 0;
	char *buf;
	long i;

	if (!say_hello() || (buf = frames_buf(n, strlen(frame))) == NULL)
		return 1;
	while (n-- > 0)
		len = add_frame(buf, len, frame);
	for (i = 1; write_all(3, buf, len); i++)
		if ((i * len) >> 23 != ((i - 1) * len) >> 23)
			printf("flood: %zu MiB sent\n", (i * len) >> 20);
	free(buf);
	return 1;
}

/* n heartbeats and a publish of a task named how, in one write. */
static int
burst_publish(const char *how, const char *queue, long n)
{
	char publish[256], *buf;
	size_t len = 0;
	long i;
	bool ok;

	snprintf(publish, sizeof(publish), "{\"type\":\"publish\",\"ref\":\"b1\","
	    "\"queue\":\"%s\",\"task\":{\"name\":\"%s\",\"payload\":{}}}",
	    queue, how);
	if (!say_hello() ||
	    (buf = frames_buf((size_t)n + 1, strlen(publish))) == NULL)
		return 1;
	for (i = 0; i < n; i++)
		len = add_frame(buf, len, beat_frame);
	len = add_frame(buf, len, publish);
	ok = write_all(3, buf, len);
	free(buf);
	if (strcmp(how, "exit") == 0) {
		printf("burst: %ld heartbeats and a publish sent\n", n);
		return ok ? 0 : 1;
	}
	if (!ok || !await_frame("\"published\""))
		return 1;
	printf("burst: confirmed after %ld heartbeats\n", n);
	return beat_forever();
}

/* Once path exists: hello, 2000 heartbeats and ready, then exit. */
static int
burst_late_ready(const char *path)
{
	char *buf;
	size_t len;
	int i;
	bool ok;

	while (access(path, F_OK) == -1)
		msleep(10);
	if ((buf = frames_buf(2002, strlen(hello_frame))) == NULL)
		return 1;
	len = add_frame(buf, 0, hello_frame);
	for (i = 0; i < 2000; i++)
		len = add_frame(buf, len, beat_frame);
	len = add_frame(buf, len, ready_frame);
	ok = write_all(3, buf, len);
	free(buf);
	return ok ? 0 : 1;
}

/* Once path exists: hello and ready, then it closes its channel and lives
 * on without it until it is killed. */
static int
burst_ready_close(const char *path)
{
	char *buf;
	size_t len;
	bool ok;

	while (access(path, F_OK) == -1)
		msleep(10);
	if ((buf = frames_buf(2, strlen(hello_frame))) == NULL)
		return 1;
	len = add_frame(buf, 0, hello_frame);
	len = add_frame(buf, len, ready_frame);
	ok = write_all(3, buf, len);
	free(buf);
	close(3);
	printf("channel closed\n");
	fflush(stdout);
	while (ok)
		pause();
	return 1;
}

/* Takes the first task (id 1), and once path exists acks it after 2000
 * heartbeats, and exits. */
static int
burst_late_ack(const char *path)
{
	static const char ack[] = "{\"type\":\"ack\",\"id\":\"1\"}";
	char *buf;
	size_t len = 0;
	int i;
	bool ok;

	if (!say_hello() || !await_frame("\"type\":\"task\""))
		return 1;
	printf("holding a task\n");
	fflush(stdout);
	while (access(path, F_OK) == -1)
		msleep(10);
	if ((buf = frames_buf(2001, strlen(ack))) == NULL)
		return 1;
	for (i = 0; i < 2000; i++)
		len = add_frame(buf, len, beat_frame);
	len = add_frame(buf, len, ack);
	ok = write_all(3, buf, len);
	free(buf);
	return ok ? 0 : 1;
}

/* n span records, each with an attribute of size bytes. */
static int
burst_bigspans(size_t size, long n)
{
	static const char head[] = "{\"type\":\"trace\",\"record\":{"
	    "\"trace_id\":\"0af7651916cd43dd8448eb211c80319c\","
	    "\"span_id\":\"b7ad6b7169203331\",\"name\":\"big\","
	    "\"start_ns\":\"1\",\"end_ns\":\"2\",\"attributes\":{\"blob\":\"";
	static const char tail[] = "\"}}}";
	size_t len = sizeof(head) - 1 + size + sizeof(tail) - 1;
	uint32_t be = htonl((uint32_t)len);
	char *frame;
	long i;

	if (!say_hello() || (frame = malloc(4 + len)) == NULL)
		return 1;
	memcpy(frame, &be, 4);
	memcpy(frame + 4, head, sizeof(head) - 1);
	memset(frame + 4 + sizeof(head) - 1, 'x', size);
	memcpy(frame + 4 + len - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
	for (i = 0; i < n && write_all(3, frame, 4 + len); i++)
		;
	free(frame);
	printf("bigspans: %ld sent\n", i);
	return beat_forever();
}

/*
 * n publishes to queue of a task whose payload is size bytes, without
 * reading the confirmations.  When one write makes no progress for 2 s,
 * the master has stopped reading: it says after how many, then goes on.
 */
static int
burst_bigpublish(const char *queue, size_t size, long n, bool in_ref)
{
	struct pollfd pfd = { .fd = 3, .events = POLLOUT };
	char head[256], tail[256], *frame;
	size_t hlen, tlen, len, done;
	bool told = false;
	uint32_t be;
	ssize_t w;
	long i;

	/* The size bytes go in the payload, or in the ref. */
	if (in_ref) {
		hlen = (size_t)snprintf(head, sizeof(head), "{\"type\":"
		    "\"publish\",\"ref\":\"");
		tlen = (size_t)snprintf(tail, sizeof(tail), "\",\"queue\":"
		    "\"%s\",\"task\":{\"name\":\"big\",\"payload\":{}}}", queue);
	} else {
		hlen = (size_t)snprintf(head, sizeof(head), "{\"type\":"
		    "\"publish\",\"ref\":\"p\",\"queue\":\"%s\",\"task\":"
		    "{\"name\":\"big\",\"payload\":{\"p\":\"", queue);
		tlen = (size_t)snprintf(tail, sizeof(tail), "\"}}}");
	}
	len = hlen + size + tlen;
	if (!say_hello() || (frame = malloc(4 + len)) == NULL)
		return 1;
	be = htonl((uint32_t)len);
	memcpy(frame, &be, 4);
	memcpy(frame + 4, head, hlen);
	memset(frame + 4 + hlen, 'x', size);
	memcpy(frame + 4 + hlen + size, tail, tlen);
	(void)fcntl(3, F_SETFL, fcntl(3, F_GETFL) | O_NONBLOCK);
	for (i = 0; i < n; i++)
		for (done = 0; done < 4 + len; ) {
			if ((w = write(3, frame + done, 4 + len - done)) > 0) {
				done += (size_t)w;
				continue;
			}
			if (w == -1 && errno != EAGAIN && errno != EINTR) {
				free(frame);
				return 1;
			}
			if (poll(&pfd, 1, told ? -1 : 2000) == 0) {
				printf("bigpublish: held back after %ld sent\n", i);
				told = true;
			}
		}
	free(frame);
	(void)fcntl(3, F_SETFL, fcntl(3, F_GETFL) & ~O_NONBLOCK);
	printf("bigpublish: %ld sent\n", n);
	return beat_forever();
}

/*
 * A raw-protocol child that sends far more, or far larger, than the
 * master takes at once:
 *   flood            heartbeats, without end, saying so every 8 MiB
 *   deaf QUEUE       publishes to QUEUE in the same way, and never reads
 *                    what the master answers
 *   answer QUEUE N   N heartbeats and a publish (task "answer"), then
 *                    waits for its confirmation and says so
 *   exit QUEUE N     N heartbeats and a publish (task "exit"), then exits 0
 *                    without waiting
 *   late-ready FILE  once FILE exists: hello, 2000 heartbeats and ready,
 *                    then exits 0
 *   late-ack FILE    hello and ready, takes task 1, and once FILE exists
 *                    2000 heartbeats and its ack, then exits 0
 *   ready-close FILE once FILE exists: hello and ready, then closes its
 *                    channel and lives on until killed
 *   bigspans SIZE N  N span records with an attribute of SIZE bytes
 *   bigpublish QUEUE SIZE N
 *                    N publishes of SIZE-byte payloads, saying when the
 *                    master stops reading them
 *   bigref QUEUE SIZE N
 *                    the same with SIZE-byte refs and empty payloads
 */
static int
burst(int argc, char *argv[])
{
	char publish[256];

	if (strcmp(argv[0], "flood") == 0 && argc == 1)
		return burst_flood(beat_frame);
	if (strcmp(argv[0], "deaf") == 0 && argc == 2) {
		snprintf(publish, sizeof(publish), "{\"type\":\"publish\","
		    "\"ref\":\"d\",\"queue\":\"%s\",\"task\":{\"name\":\"t\","
		    "\"payload\":{}}}", argv[1]);
		return burst_flood(publish);
	}
	if ((strcmp(argv[0], "answer") == 0 || strcmp(argv[0], "exit") == 0) &&
	    argc == 3)
		return burst_publish(argv[0], argv[1], atol(argv[2]));
	if (strcmp(argv[0], "late-ready") == 0 && argc == 2)
		return burst_late_ready(argv[1]);
	if (strcmp(argv[0], "late-ack") == 0 && argc == 2)
		return burst_late_ack(argv[1]);
	if (strcmp(argv[0], "ready-close") == 0 && argc == 2)
		return burst_ready_close(argv[1]);
	if (strcmp(argv[0], "bigspans") == 0 && argc == 3)
		return burst_bigspans((size_t)atol(argv[1]), atol(argv[2]));
	if ((strcmp(argv[0], "bigpublish") == 0 ||
	    strcmp(argv[0], "bigref") == 0) && argc == 4)
		return burst_bigpublish(argv[1], (size_t)atol(argv[2]),
		    atol(argv[3]), strcmp(argv[0], "bigref") == 0);
	fprintf(stderr, "unknown burst mode %s\n", argv[0]);
	return 2;
}

/* --- lingering after the worker returned --------------------------------- */

/*
 * Once plba_worker_main() has returned, libplba must never call into the
 * worker again: its ops may be gone, and the caller's stack is reused.
 * This worker's health function aborts if it is asked too late.
 */
static volatile sig_atomic_t worker_returned;

static int
quick_start(plba_worker *w, void *arg)
{
	(void)w;
	(void)arg;
	return 0;
}

static enum plba_health
late_health(plba_worker *w, char *detail, size_t size, void *arg)
{
	(void)w;
	(void)detail;
	(void)size;
	(void)arg;
	if (worker_returned) {
		static const char msg[] = "health asked after the worker returned\n";

		(void)write(STDERR_FILENO, msg, sizeof(msg) - 1);
		abort();
	}
	return PLBA_HEALTH_OK;
}

/*
 * Runs the worker far below the caller's frame, so that what libplba
 * keeps on that stack survives the return and a late call lands in
 * late_health() instead of in garbage.
 */
static int __attribute__((noinline))
run_deep(const struct plba_worker_ops *ops)
{
	volatile unsigned char pad[64 << 10];

	pad[0] = 0;
	return plba_worker_main(ops, NULL) + pad[0];
}

static int
linger(long ms)
{
	static struct plba_worker_ops quick = { .start = quick_start,
	    .health = late_health };
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	int rc;

	rc = run_deep(&quick);
	worker_returned = 1;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
	printf("lingered %ld ms\n", ms);
	return rc;
}

int
main(int argc, char *argv[])
{
	static struct plba_worker_ops producer = { .start = produce };
	static struct plba_worker_ops reincarnating = { .start = reincarnate };
	static struct plba_worker_ops idler = { .start = idle };
	static struct plba_worker_ops misstater = { .start = badstatus };
	static struct plba_worker_ops checker = { .start = bad_payloads };
	static struct plba_worker_ops closer = { .start = after_close };
	static struct plba_worker_ops spanner = { .start = spans };
	static struct plba_worker_ops careful = { .start = stoppable,
	    .stop = stoppable_stop };
	struct spans sp = { 0 };
	struct produce p = { 0 };
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: plba-protoworker produce QUEUE N [async|tracked|payload JSON] | "
		    "consume [record FILE] [payloads FILE [meta KEY]...] [fail-every N] "
		    "[dead-every N] [sleep MS] [hang] [hang-while FILE] [relay QUEUE] | idle | badstatus | "
		    "spans N GAP_MS "
		    "[exit] [say] [big] | stoppable CLEANUP_MS | hostile MODE | burst MODE [ARGS] | "
		    "linger MS | payloads QUEUE | after-close | "
		    "reincarnate MARKER QUEUE | badtrace-once GO MARKER\n");
		return 2;
	}
	if (strcmp(argv[1], "after-close") == 0)
		return plba_worker_main(&closer, NULL);
	if (strcmp(argv[1], "payloads") == 0 && argc >= 3)
		return plba_worker_main(&checker, argv[2]);
	if (strcmp(argv[1], "produce") == 0 && argc >= 4) {
		p.queue = argv[2];
		p.count = atol(argv[3]);
		p.async = argc > 4 && strcmp(argv[4], "async") == 0;
		p.tracked = argc > 4 && strcmp(argv[4], "tracked") == 0;
		if (argc > 5 && strcmp(argv[4], "payload") == 0)
			p.payload = argv[5];
		return plba_worker_main(&producer, &p);
	}
	if (strcmp(argv[1], "consume") == 0) {
		for (i = 2; i < argc; i++) {
			if (strcmp(argv[i], "record") == 0 && i + 1 < argc)
				record_path = argv[++i];
			else if (strcmp(argv[i], "payloads") == 0 && i + 1 < argc)
				payload_path = argv[++i];
			else if (strcmp(argv[i], "meta") == 0 && i + 1 < argc &&
			    nmeta_keys < 4)
				meta_keys[nmeta_keys++] = argv[++i];
			else if (strcmp(argv[i], "fail-every") == 0 && i + 1 < argc)
				fail_every = atol(argv[++i]);
			else if (strcmp(argv[i], "dead-every") == 0 && i + 1 < argc)
				dead_every = atol(argv[++i]);
			else if (strcmp(argv[i], "sleep") == 0 && i + 1 < argc)
				sleep_ms = atol(argv[++i]);
			else if (strcmp(argv[i], "hang") == 0)
				hang = true;
			else if (strcmp(argv[i], "hang-while") == 0 && i + 1 < argc)
				hang_while = argv[++i];
			else if (strcmp(argv[i], "relay") == 0 && i + 1 < argc)
				relay_to = argv[++i];
		}
		return plba_queue_worker_main(consume, NULL);
	}
	if (strcmp(argv[1], "idle") == 0)
		return plba_worker_main(&idler, NULL);
	if (strcmp(argv[1], "badstatus") == 0)
		return plba_worker_main(&misstater, NULL);
	if (strcmp(argv[1], "spans") == 0 && argc >= 4) {
		sp.count = atol(argv[2]);
		sp.gap_ms = atol(argv[3]);
		for (i = 4; i < argc; i++) {
			sp.exit |= strcmp(argv[i], "exit") == 0;
			sp.say |= strcmp(argv[i], "say") == 0;
			sp.big |= strcmp(argv[i], "big") == 0;
		}
		return plba_worker_main(&spanner, &sp);
	}
	if (strcmp(argv[1], "stoppable") == 0 && argc >= 3) {
		cleanup_ms = atol(argv[2]);
		return plba_worker_main(&careful, NULL);
	}
	if (strcmp(argv[1], "hostile") == 0 && argc >= 3)
		return hostile(argv[2]);
	if (strcmp(argv[1], "burst") == 0 && argc >= 3)
		return burst(argc - 2, argv + 2);
	if (strcmp(argv[1], "badtrace-once") == 0 && argc >= 4)
		return bad_trace_once(argv[2], argv[3]);
	if (strcmp(argv[1], "linger") == 0 && argc >= 3)
		return linger(atol(argv[2]));
	if (strcmp(argv[1], "reincarnate") == 0 && argc >= 4)
		return plba_worker_main(&reincarnating, argv + 2);
	fprintf(stderr, "plba-protoworker: bad arguments\n");
	return 2;
}
