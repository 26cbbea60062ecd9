#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "log_writer.h"
#include "utf8.h"

enum log_dest { DEST_STDERR, DEST_SYSLOG, DEST_FILE };

/* How long the master's exit waits for a log destination that takes
 * nothing at all. */
#define DRAIN_IDLE_MS	2000

static struct {
	enum log_level	 level;
	bool		 json;
	enum log_dest	 dest;
	char		*path;
	char		*buf;		/* one formatted line */
	size_t		 cap;
	size_t		 len;
} lg = { LOG_LEVEL_INFO, false, DEST_STDERR, NULL, NULL, 0, 0 };

static const char *const level_names[] = { "debug", "info", "warning", "error" };

bool
log_enabled(enum log_level level)
{
	return level >= lg.level;
}

static void	report_drops(bool);

static int
open_file(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

int
log_configure(enum log_level level, bool json, const char *output)
{
	enum log_dest dest;
	char *path = NULL;
	int fd = -1, rc;

	if (output == NULL || strcmp(output, "stderr") == 0)
		dest = DEST_STDERR;
	else if (strcmp(output, "syslog") == 0)
		dest = DEST_SYSLOG;
	else {
		dest = DEST_FILE;
		if ((fd = open_file(output)) == -1)
			return -1;
		if ((path = strdup(output)) == NULL) {
			close(fd);
			return -1;
		}
	}
	if (dest == DEST_SYSLOG) {
		openlog("plba-master", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		rc = logw_set_dest(LOGW_SYSLOG, -1, false);
	} else if (dest == DEST_FILE)
		rc = logw_set_dest(LOGW_FD, fd, true);
	else
		rc = logw_set_dest(LOGW_FD, STDERR_FILENO, false);
	if (rc == -1) {
		if (fd != -1)
			close(fd);
		free(path);
		errno = ENOMEM;
		return -1;
	}
	free(lg.path);
	lg.level = level;
	lg.json = json;
	lg.dest = dest;
	lg.path = path;
	return 0;
}

int
log_reopen(void)
{
	int fd;

	if (lg.dest != DEST_FILE)
		return 0;
	if ((fd = open_file(lg.path)) == -1)
		return -1;
	if (logw_set_dest(LOGW_FD, fd, true) == -1) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void
log_close(void)
{
	logw_drain(DRAIN_IDLE_MS);
	report_drops(true);
	(void)log_configure(lg.level, lg.json, NULL);
}

uint64_t
log_dropped_total(void)
{
	return logw_dropped_total();
}

size_t
log_child_budget(const char *worker)
{
	/* What a line costs beyond its text: time, level, worker and
	 * instance, the JSON members, a cut mark.  An empty line of one
	 * byte costs that much; any other byte at most 6 (an escape, or
	 * U+FFFD for a byte that is not UTF-8). */
	size_t per_line = (lg.json ? 128 : 64) + strlen(worker);

	return logw_child_room() / per_line;
}

int
log_room_fd(void)
{
	return logw_room_fd();
}

/*
 * The line buffer grows to fit the longest line seen; children's lines are
 * already capped by the output splitter, so this stays small.
 */
static int
reserve(size_t more)
{
	size_t cap;
	char *p;

	if (lg.len + more <= lg.cap)
		return 0;
	cap = lg.cap ? lg.cap : 1024;
	while (cap < lg.len + more)
		cap *= 2;
	if ((p = realloc(lg.buf, cap)) == NULL)
		return -1;
	lg.buf = p;
	lg.cap = cap;
	return 0;
}

static void
put(const char *s, size_t n)
{
	if (reserve(n) == -1)
		return;
	memcpy(lg.buf + lg.len, s, n);
	lg.len += n;
}

static void
puts_(const char *s)
{
	put(s, strlen(s));
}

/*
 * Puts n bytes of s as JSON string content or as text.  What is not
 * UTF-8 becomes U+FFFD either way: the log is read by tools that decode
 * it strictly, and one stray byte from a child must not cost the whole
 * line.  In text a control character other than tab becomes '?', so that
 * no child forges lines of its own; in JSON it is escaped.  Runs of plain
 * bytes are copied whole, so an ordinary line costs one scan.
 */
static void
put_clean(const char *s, size_t n, bool json)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i, start, len;
	char esc[6];

	for (i = start = 0; i < n; i++) {
		if (p[i] >= 0x80) {
			if ((len = utf8_seq(p + i, n - i)) > 0) {
				i += len - 1;
				continue;
			}
			put(s + start, i - start);
			put(UTF8_REPLACEMENT, 3);
		} else if (json && (p[i] == '"' || p[i] == '\\')) {
			put(s + start, i - start);
			esc[0] = '\\';
			esc[1] = (char)p[i];
			put(esc, 2);
		} else if (json && (p[i] < 0x20 || p[i] == 0x7f)) {
			put(s + start, i - start);
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[p[i] >> 4];
			esc[5] = hex[p[i] & 15];
			put(esc, 6);
		} else if (!json && p[i] < 0x20 && p[i] != '\t') {
			put(s + start, i - start);
			put("?", 1);
		} else
			continue;
		start = i + 1;
	}
	put(s + start, n - start);
}

static void
put_json_string(const char *s, size_t n)
{
	put("\"", 1);
	put_clean(s, n, true);
	put("\"", 1);
}

static void
put_time(void)
{
	struct timespec ts;
	struct tm tm;
	char tbuf[96];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(tbuf, sizeof(tbuf), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (long)(ts.tv_nsec / 1000000) % 1000);
	if (lg.json) {
		put_json_string(tbuf, strlen(tbuf));
	} else
		puts_(tbuf);
}

static void
flush(enum log_level level, bool from_child)
{
	static const int prio[] = { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR };

	if (lg.dest != DEST_SYSLOG)
		put("\n", 1);
	(void)logw_submit(prio[level], from_child, lg.buf, lg.len);
	lg.len = 0;
}

/* Says how many lines were lost, when there is room to say it. */
static void
report_drops(bool now)
{
	uint64_t n;

	if ((n = logw_take_dropped(now)) > 0)
		log_msg(LOG_LEVEL_WARNING, "the log output could not keep up: "
		    "%llu line%s dropped", (unsigned long long)n,
		    n == 1 ? "" : "s");
}

static void
begin(enum log_level level, const char *worker, long instance,
    const char *stream)
{
	char num[32];

	lg.len = 0;
	if (lg.dest == DEST_SYSLOG) {
		/* syslog adds its own time stamp and level. */
		if (worker != NULL) {
			snprintf(num, sizeof(num), "%ld", instance);
			puts_(worker);
			puts_(".");
			puts_(num);
			puts_(": ");
		}
		return;
	}
	if (lg.json) {
		puts_("{\"time\":");
		put_time();
		puts_(",\"level\":\"");
		puts_(level_names[level]);
		puts_("\"");
		if (worker != NULL) {
			puts_(",\"worker\":");
			put_json_string(worker, strlen(worker));
			snprintf(num, sizeof(num), ",\"instance\":%ld", instance);
			puts_(num);
			puts_(",\"stream\":\"");
			puts_(stream);
			puts_("\"");
		}
		puts_(",\"msg\":");
		return;
	}
	put_time();
	puts_(" ");
	puts_(level_names[level]);
	if (worker != NULL) {
		snprintf(num, sizeof(num), ".%ld", instance);
		puts_(" [");
		puts_(worker);
		puts_(num);
		puts_("] ");
	} else
		puts_(" plba-master: ");
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	int n;

	if (!log_enabled(level))
		return;
	report_drops(false);
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	begin(level, NULL, 0, NULL);
	if (lg.json && lg.dest != DEST_SYSLOG) {
		put_json_string(msg, (size_t)n);
		puts_("}");
	} else
		put(msg, (size_t)n);
	flush(level, false);
}

void
log_child(enum log_level level, const char *worker, unsigned instance,
    const char *stream, const char *line, size_t len, bool truncated)
{
	if (!log_enabled(level))
		return;
	report_drops(false);
	begin(level, worker, instance, stream);
	if (lg.json && lg.dest != DEST_SYSLOG) {
		put_json_string(line, len);
		if (truncated)
			puts_(",\"truncated\":true");
		puts_("}");
	} else {
		put_clean(line, len, false);
		if (truncated)
			puts_(" [...]");
	}
	flush(level, true);
}
