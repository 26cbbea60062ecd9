/* soak-producer: the publishing side of bench/soak, a libplba worker.
 *
 *   soak-producer DIR QUEUE RATE
 *
 * Publishes tasks named "s" to QUEUE at RATE tasks/s, each with the payload
 * {"k":"pPID-SEC-N"}: a key unique over the whole run (pid, the second the
 * process started, a counter), so that restarted instances never reuse one.
 * Every publish is synchronous (plba_publish waits for `published`); only
 * after it returned PLBA_OK is the key appended to DIR/confirmed, one line
 * per write(2) on an O_APPEND descriptor, so lines from several writers
 * never mix.  A kill between the confirmation and the write loses the line,
 * never adds a false one: the confirmed set is a lower bound.
 *
 * Once DIR/stop exists it publishes no more, creates DIR/stopped.INSTANCE
 * (the driver waits for those before it drains the queue) and idles until
 * the master stops it.
 *
 * Build: cc -O2 -I include -o soak-producer soak-producer.c -L build/.libs -lplba
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <plba/plba.h>

#define TICK_MS	10

struct args {
	const char	*dir;
	const char	*queue;
	double		 rate;
	int		 fd;		/* DIR/confirmed */
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int
stop_asked(const struct args *a)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/stop", a->dir);
	return access(path, F_OK) == 0;
}

static void
mark_stopped(const struct args *a, unsigned instance)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/stopped.%u", a->dir, instance);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) != -1)
		close(fd);
}

/* One line, one write: O_APPEND makes it land whole at the end. */
static void
record(int fd, const char *key)
{
	char line[64];
	int len = snprintf(line, sizeof(line), "%s\n", key);

	if (write(fd, line, (size_t)len) != len)
		fprintf(stderr, "soak-producer: cannot record %s: %s\n", key,
		    strerror(errno));
}

static int
publish_one(plba_worker *w, struct args *a, const char *key)
{
	char payload[96];
	int rc;

	snprintf(payload, sizeof(payload), "{\"k\":\"%s\"}", key);
	rc = plba_publish(w, a->queue, "s", payload, NULL, 0);
	if (rc == PLBA_OK)
		record(a->fd, key);
	else if (!plba_worker_stopping(w))
		fprintf(stderr, "soak-producer: publish %s: %s\n", key,
		    plba_worker_error(w));
	return rc;
}

static int
produce(plba_worker *w, void *arg)
{
	struct args *a = arg;
	uint64_t t0 = now_ms(), sent = 0, due;
	long started = (long)time(NULL);
	char key[48];
	int rc;

	while (!plba_worker_stopping(w) && !stop_asked(a)) {
		/* Publish what the schedule asks for by now, then wait a tick:
		 * a late producer catches up, never runs ahead. */
		due = (uint64_t)((double)(now_ms() - t0) * a->rate / 1000.0);
		while (sent < due && !plba_worker_stopping(w)) {
			snprintf(key, sizeof(key), "p%ld-%ld-%llu",
			    (long)getpid(), started, (unsigned long long)sent);
			rc = publish_one(w, a, key);
			if (rc == PLBA_ECLOSED || rc == PLBA_ESTATE)
				return plba_worker_stopping(w) ? 0 : 1;
			sent++;
		}
		plba_worker_sleep(w, TICK_MS);
	}
	if (!plba_worker_stopping(w))
		mark_stopped(a, plba_worker_instance(w));
	while (!plba_worker_sleep(w, 60000))
		;
	return 0;
}

int
main(int argc, char *argv[])
{
	static struct plba_worker_ops ops = { .start = produce };
	char path[PATH_MAX];
	struct args a;

	if (argc != 4 || atof(argv[3]) <= 0) {
		fprintf(stderr, "usage: soak-producer DIR QUEUE RATE\n");
		return 2;
	}
	a.dir = argv[1];
	a.queue = argv[2];
	a.rate = atof(argv[3]);
	snprintf(path, sizeof(path), "%s/confirmed", a.dir);
	a.fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (a.fd == -1) {
		fprintf(stderr, "soak-producer: %s: %s\n", path, strerror(errno));
		return 1;
	}
	return plba_worker_main(&ops, &a);
}
