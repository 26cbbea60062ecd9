/* floor: the measuring half of bench/supervise, and the "floor" supervisor.
 *
 * Every figure is taken from records written by bench/stamp, the supervised
 * child: "PID NS\n" where NS is CLOCK_MONOTONIC read first thing in main().
 * This program reads those records from a FIFO (opened O_RDWR so it never
 * sees EOF and never blocks in open), blocking in poll() with a deadline, so
 * it burns no CPU while a supervisor works on the same two cores.
 *
 *   floor restart FIFO N GAP_MS TIMEOUT_MS [JITTER_MS]
 *       Restart latency of an outside supervisor: wait for the current
 *       child's record, then N times: wait until GAP_MS (plus a random
 *       0..JITTER_MS, for supervisors that act on a clock tick) after the
 *       last replacement started, t0 = now, kill(pid, SIGKILL), wait for a
 *       record with another pid, sample = its NS - t0.
 *   floor floor-restart STAMP FIFO N GAP_MS TIMEOUT_MS
 *       The same measurement with this program as the supervisor, doing the
 *       least a supervisor can: kill, blocking waitpid(), fork+exec again.
 *   floor floor-start STAMP FIFO N TIMEOUT_MS
 *       t0 = now, fork+exec N children back to back, wait for N records;
 *       prints the time from t0 to the last child's main().  Kills them after.
 *   floor collect FIFO N T0FILE TIMEOUT_MS
 *       Wait for N records; print the time from the NS in T0FILE (written by
 *       t0exec) to the last record.
 *   floor t0exec T0FILE PROG [ARG]...
 *       Write CLOCK_MONOTONIC to T0FILE, then exec PROG (the master), so the
 *       start of a 1000-instance run is taken right before the master runs.
 *
 * Results go to stdout as one line of key=value pairs (microseconds for
 * latencies, milliseconds for start times; restart adds last_pid=, the child
 * running at the end).  With FLOOR_SAMPLES=FILE the raw restart samples (µs,
 * one a line) are appended there too.  With FLOOR_PID=PID, restart starts
 * from that running child instead of waiting for a first record, so a series
 * of runs can be interleaved with other measurements.  Exit 0 on
 * success, 1 on a timeout or error (with a message on stderr), 2 on usage.
 *
 * Build: cc -O2 -o floor floor.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RECLEN 32 /* must match stamp.c */

static const char *prog = "floor";

static int64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
sleep_until(int64_t t)
{
	struct timespec ts = { (time_t)(t / 1000000000LL), (long)(t % 1000000000LL) };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void
die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ---- reading stamp records ------------------------------------------- */

struct reader {
	int fd;
	size_t len;
	char buf[RECLEN * 256];
};

static void
reader_open(struct reader *r, const char *path)
{
	r->len = 0;
	r->fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (r->fd < 0)
		die("open %s: %s", path, strerror(errno));
}

/* Next record, waiting at most until deadline (monotonic ns).
 * 0 on success, -1 on timeout. */
static int
reader_next(struct reader *r, int64_t deadline, long *pid, int64_t *ns)
{
	for (;;) {
		char *nl = memchr(r->buf, '\n', r->len);
		if (nl) {
			*nl = '\0';
			char *end;
			*pid = strtol(r->buf, &end, 10);
			*ns = strtoll(end, &end, 10);
			size_t used = (size_t)(nl + 1 - r->buf);
			memmove(r->buf, nl + 1, r->len - used);
			r->len -= used;
			return 0;
		}
		if (r->len == sizeof r->buf)
			die("garbage in the FIFO");
		ssize_t n = read(r->fd, r->buf + r->len, sizeof r->buf - r->len);
		if (n > 0) {
			r->len += (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			die("read: %s", strerror(errno));
		int64_t left = deadline - now_ns();
		if (left <= 0)
			return -1;
		struct pollfd p = { r->fd, POLLIN, 0 };
		int ms = (int)((left + 999999) / 1000000);
		if (poll(&p, 1, ms) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
	}
}

/* ---- statistics ------------------------------------------------------- */

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static void
report(int64_t *s, int n, long last_pid)
{
	const char *out = getenv("FLOOR_SAMPLES");
	if (out && *out) {
		FILE *f = fopen(out, "a");
		if (f) {
			for (int i = 0; i < n; i++)
				fprintf(f, "%.1f\n", s[i] / 1e3);
			fclose(f);
		}
	}
	qsort(s, (size_t)n, sizeof *s, cmp64);
	double med = n % 2 ? (double)s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
	int k = (95 * n + 99) / 100; /* nearest rank */
	double p95 = (double)s[(k < 1 ? 1 : k) - 1];
	double sum = 0;
	for (int i = 0; i < n; i++)
		sum += (double)s[i];
	printf("n=%d median_us=%.1f p95_us=%.1f min_us=%.1f max_us=%.1f mean_us=%.1f last_pid=%ld\n",
	       n, med / 1e3, p95 / 1e3, s[0] / 1e3, s[n - 1] / 1e3, sum / n / 1e3, last_pid);
}

static int
parse_int(const char *s, const char *what)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 0 || v > 1000000)
		die("bad %s: %s", what, s);
	return (int)v;
}

/* ---- the floor supervisor --------------------------------------------- */

static pid_t
spawn(const char *stamp, const char *fifo)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		/* The same contract plba-master gives its children: own process
		 * group, dies with its parent. */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		char *argv[] = { (char *)stamp, (char *)fifo, NULL };
		execv(stamp, argv);
		_exit(127);
	}
	return pid;
}

/* ---- modes ------------------------------------------------------------ */

static int
mode_restart(char **av, int floor_mode)
{
	const char *stamp = NULL;
	if (floor_mode)
		stamp = *av++;
	const char *fifo = av[0];
	int n = parse_int(av[1], "count");
	int64_t gap = parse_int(av[2], "gap") * 1000000LL;
	int64_t timeout = parse_int(av[3], "timeout") * 1000000LL;
	int jitter = av[4] ? parse_int(av[4], "jitter") : 0;
	if (n < 1)
		die("count must be at least 1");
	unsigned seed = (unsigned)now_ns() ^ (unsigned)getpid();

	struct reader r;
	reader_open(&r, fifo);
	pid_t child = floor_mode ? spawn(stamp, fifo) : 0;

	long pid;
	int64_t t1;
	const char *known = getenv("FLOOR_PID");
	if (!floor_mode && known && *known) {
		pid = strtol(known, NULL, 10);
		t1 = now_ns() - gap;
	} else if (reader_next(&r, now_ns() + 4 * timeout, &pid, &t1) < 0) {
		/* The first start of an outside supervisor can be slow. */
		die("no first record within %d ms", (int)(4 * timeout / 1000000));
	}
	if (floor_mode && pid != child)
		die("record from pid %ld, expected %ld", pid, (long)child);

	int64_t *s = calloc((size_t)n, sizeof *s);
	if (!s)
		die("out of memory");
	for (int i = 0; i < n; i++) {
		int64_t j = jitter ? (int64_t)(rand_r(&seed) % (jitter * 1000)) * 1000 : 0;
		sleep_until(t1 + gap + j);
		int64_t t0 = now_ns();
		if (kill((pid_t)pid, SIGKILL) < 0)
			die("kill %ld: %s", pid, strerror(errno));
		if (floor_mode) {
			int st;
			while (waitpid(child, &st, 0) < 0)
				if (errno != EINTR)
					die("waitpid: %s", strerror(errno));
			child = spawn(stamp, fifo);
		}
		long npid;
		do {
			if (reader_next(&r, t0 + timeout, &npid, &t1) < 0)
				die("sample %d: no restart within %d ms after killing %ld",
				    i + 1, (int)(timeout / 1000000), pid);
		} while (npid == pid);
		s[i] = t1 - t0;
		pid = npid;
	}
	if (floor_mode) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	report(s, n, pid);
	return 0;
}

static void
print_start(int n, int64_t t0, int64_t first, int64_t last)
{
	printf("n=%d first_ms=%.2f all_ms=%.2f\n", n, (first - t0) / 1e6,
	       (last - t0) / 1e6);
}

static int
wait_records(struct reader *r, int n, int64_t deadline, int64_t *first, int64_t *last)
{
	*first = INT64_MAX;
	*last = INT64_MIN;
	for (int i = 0; i < n; i++) {
		long pid;
		int64_t t;
		if (reader_next(r, deadline, &pid, &t) < 0)
			return i;
		if (t < *first)
			*first = t;
		if (t > *last)
			*last = t;
	}
	return n;
}

static int
mode_floor_start(char **av)
{
	const char *stamp = av[0], *fifo = av[1];
	int n = parse_int(av[2], "count");
	int64_t timeout = parse_int(av[3], "timeout") * 1000000LL;
	if (n < 1)
		die("count must be at least 1");
	pid_t *kids = calloc((size_t)n, sizeof *kids);
	if (!kids)
		die("out of memory");

	struct reader r;
	reader_open(&r, fifo);
	int64_t t0 = now_ns();
	for (int i = 0; i < n; i++)
		kids[i] = spawn(stamp, fifo);
	int64_t first, last;
	int got = wait_records(&r, n, t0 + timeout, &first, &last);
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	for (int i = 0; i < n; i++)
		waitpid(kids[i], NULL, 0);
	if (got < n)
		die("only %d of %d children ran within %d ms", got, n,
		    (int)(timeout / 1000000));
	print_start(n, t0, first, last);
	return 0;
}

static int
mode_collect(char **av)
{
	const char *fifo = av[0], *t0file = av[2];
	int n = parse_int(av[1], "count");
	int64_t timeout = parse_int(av[3], "timeout") * 1000000LL;
	if (n < 1)
		die("count must be at least 1");

	struct reader r;
	reader_open(&r, fifo);
	int64_t first, last;
	int got = wait_records(&r, n, now_ns() + timeout, &first, &last);
	if (got < n)
		die("only %d of %d instances ran within %d ms", got, n,
		    (int)(timeout / 1000000));
	FILE *f = fopen(t0file, "r");
	long long t0;
	if (!f || fscanf(f, "%lld", &t0) != 1)
		die("cannot read t0 from %s", t0file);
	fclose(f);
	print_start(n, (int64_t)t0, first, last);
	return 0;
}

static int
mode_t0exec(char **av)
{
	FILE *f = fopen(av[0], "w");
	if (!f)
		die("%s: %s", av[0], strerror(errno));
	fprintf(f, "%" PRId64 "\n", now_ns());
	if (fclose(f) != 0)
		die("%s: %s", av[0], strerror(errno));
	execv(av[1], av + 1);
	die("exec %s: %s", av[1], strerror(errno));
}

static int
usage(void)
{
	fprintf(stderr,
		"usage: %s restart FIFO N GAP_MS TIMEOUT_MS [JITTER_MS]\n"
		"       %s floor-restart STAMP FIFO N GAP_MS TIMEOUT_MS\n"
		"       %s floor-start STAMP FIFO N TIMEOUT_MS\n"
		"       %s collect FIFO N T0FILE TIMEOUT_MS\n"
		"       %s t0exec T0FILE PROG [ARG]...\n",
		prog, prog, prog, prog, prog);
	return 2;
}

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return usage();
	const char *m = argv[1];
	int nargs = argc - 2;
	char **av = argv + 2;
	if (!strcmp(m, "restart") && (nargs == 4 || nargs == 5))
		return mode_restart(av, 0);
	if (!strcmp(m, "floor-restart") && nargs == 5)
		return mode_restart(av, 1);
	if (!strcmp(m, "floor-start") && nargs == 4)
		return mode_floor_start(av);
	if (!strcmp(m, "collect") && nargs == 4)
		return mode_collect(av);
	if (!strcmp(m, "t0exec") && nargs >= 2)
		return mode_t0exec(av);
	return usage();
}
