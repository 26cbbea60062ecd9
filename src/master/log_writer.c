#include "config.h"

#include <sys/eventfd.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "append.h"
#include "log_writer.h"

#define CHILD_MAX	(LOGW_PENDING_MAX / 8 * 7)	/* children's lines */
#define PAUSE_BYTES	(LOGW_PENDING_MAX / 2)		/* their reading stops */
#define RESUME_BYTES	(LOGW_PENDING_MAX / 4)		/* ... and starts again */
#define CHUNK_SIZE	(64u << 10)
#define SYSLOG_HEAD	5	/* a syslog entry: priority, 32-bit length */
/* A thread that could not be started (RLIMIT_NPROC) is tried again
 * this long after; meanwhile lines are written at once. */
#define RETRY_NS	1000000000LL
/* Losses are told at most this often, in the master's share of the
 * buffer: during a flood, a line for each would crowd out the rest. */
#define REPORT_NS	1000000000LL
#define REPORT_ROOM	512

struct dest {
	enum logw_kind	 kind;
	int		 fd;
	bool		 own_fd;
	unsigned	 refs;	/* the current destination, and chunks */
};

/* Lines for one destination, written with one write(2) where they can. */
struct chunk {
	struct chunk	*next;
	struct dest	*dest;
	size_t		 len;
	size_t		 cap;
	char		 data[];
};

static struct {
	pthread_mutex_t	 mu;
	pthread_cond_t	 more;		/* a chunk, or stopping */
	pthread_cond_t	 progress;	/* a chunk written, or the end */
	pthread_t	 thread;
	bool		 running;
	bool		 stopping;
	int64_t		 retry_at;	/* CLOCK_MONOTONIC ns */
	int64_t		 report_at;
	int		 room_fd;	/* eventfd: room for children's output */
	bool		 children_wait;	/* ... which is not read meanwhile */
	struct dest	*cur;
	struct chunk	*head, *tail;
	size_t		 bytes;
	uint64_t	 written;	/* chunks, for logw_drain() */
	uint64_t	 unreported;
	uint64_t	 dropped;
} w = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.more = PTHREAD_COND_INITIALIZER,
	.progress = PTHREAD_COND_INITIALIZER,
	.room_fd = -1,
};

static struct dest stderr_dest = { LOGW_FD, STDERR_FILENO, false, 1 };

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static struct dest *
current(void)
{
	if (w.cur == NULL)
		w.cur = &stderr_dest;
	return w.cur;
}

/* With mu held, or before the thread runs. */
static void
dest_unref(struct dest *d)
{
	if (--d->refs > 0 || d == &stderr_dest)
		return;
	/* openlog() again for a new syslog destination set it up anew. */
	if (d->kind == LOGW_SYSLOG) {
		if (w.cur == NULL || w.cur->kind != LOGW_SYSLOG)
			closelog();
	} else if (d->own_fd)
		close(d->fd);
	free(d);
}

static void
write_entries(const struct dest *d, const char *data, size_t len)
{
	uint32_t n;
	size_t at;

	if (d->kind == LOGW_FD) {
		/* A full disk or a closed stderr loses the lines, never the
		 * master, and no part of a line is left for the next to run
		 * on from. */
		(void)append_whole(d->fd, data, len);
		return;
	}
	for (at = 0; at + SYSLOG_HEAD <= len; at += SYSLOG_HEAD + n) {
		memcpy(&n, data + at + 1, sizeof(n));
		syslog((unsigned char)data[at], "%.*s", (int)n,
		    data + at + SYSLOG_HEAD);
	}
}

/* With mu held. */
static void
tell_room(void)
{
	uint64_t one = 1;

	if (!w.children_wait ||
	    (w.running && !w.stopping && w.bytes > RESUME_BYTES))
		return;
	w.children_wait = false;
	(void)!write(w.room_fd, &one, sizeof(one));
}

static void *
writer_main(void *arg)
{
	struct chunk *c;

	(void)arg;
	pthread_mutex_lock(&w.mu);
	for (;;) {
		while (w.head == NULL && !w.stopping)
			pthread_cond_wait(&w.more, &w.mu);
		if ((c = w.head) == NULL)
			break;
		/* Taken off the list: the loop starts another for its
		 * next lines instead of adding to this one. */
		if ((w.head = c->next) == NULL)
			w.tail = NULL;
		pthread_mutex_unlock(&w.mu);
		write_entries(c->dest, c->data, c->len);
		pthread_mutex_lock(&w.mu);
		w.bytes -= c->len;
		dest_unref(c->dest);
		free(c);
		w.written++;
		tell_room();
		pthread_cond_broadcast(&w.progress);
	}
	w.running = false;
	tell_room();
	pthread_cond_broadcast(&w.progress);
	pthread_mutex_unlock(&w.mu);
	return NULL;
}

/* With mu held.  The thread takes no signal: the master reads them
 * from a signalfd, which only works while every thread blocks them. */
static void
start_writer(void)
{
	sigset_t all, old;
	int rc;

	if (w.running || w.stopping || mono_ns() < w.retry_at)
		return;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&w.thread, NULL, writer_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		w.retry_at = mono_ns() + RETRY_NS;
		return;
	}
	w.running = true;
}

int
logw_set_dest(enum logw_kind kind, int fd, bool own_fd)
{
	struct dest *d, *old;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return -1;
	d->kind = kind;
	d->fd = fd;
	d->own_fd = own_fd;
	d->refs = 1;
	pthread_mutex_lock(&w.mu);
	old = current();
	w.cur = d;
	dest_unref(old);
	pthread_mutex_unlock(&w.mu);
	return 0;
}

/* The chunk that takes the next need bytes for d, or NULL. */
static struct chunk *
chunk_for(struct dest *d, size_t need)
{
	struct chunk *c = w.tail;
	size_t cap;

	if (c != NULL && c->dest == d && c->cap - c->len >= need)
		return c;
	cap = need > CHUNK_SIZE ? need : CHUNK_SIZE;
	if ((c = malloc(sizeof(*c) + cap)) == NULL)
		return NULL;
	c->next = NULL;
	c->dest = d;
	d->refs++;
	c->len = 0;
	c->cap = cap;
	if (w.tail != NULL)
		w.tail->next = c;
	else {
		w.head = c;
		pthread_cond_signal(&w.more);
	}
	w.tail = c;
	return c;
}

bool
logw_submit(int prio, bool from_child, const char *line, size_t len)
{
	struct dest *d;
	struct chunk *c;
	uint32_t n = (uint32_t)len;
	size_t need;

	pthread_mutex_lock(&w.mu);
	d = current();
	start_writer();
	if (!w.running) {
		pthread_mutex_unlock(&w.mu);
		/* Only this thread changes the destination. */
		if (d->kind == LOGW_SYSLOG)
			syslog(prio, "%.*s", (int)len, line);
		else
			(void)append_whole(d->fd, line, len);
		return true;
	}
	need = d->kind == LOGW_SYSLOG ? SYSLOG_HEAD + len : len;
	if (w.bytes + need > (from_child ? CHILD_MAX : LOGW_PENDING_MAX) ||
	    (c = chunk_for(d, need)) == NULL) {
		w.unreported++;
		__atomic_add_fetch(&w.dropped, 1, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&w.mu);
		return false;
	}
	if (d->kind == LOGW_SYSLOG) {
		c->data[c->len] = (char)prio;
		memcpy(c->data + c->len + 1, &n, sizeof(n));
		memcpy(c->data + c->len + SYSLOG_HEAD, line, len);
	} else
		memcpy(c->data + c->len, line, len);
	c->len += need;
	w.bytes += need;
	pthread_mutex_unlock(&w.mu);
	return true;
}

size_t
logw_child_room(void)
{
	size_t room;

	pthread_mutex_lock(&w.mu);
	/* Written at once; or nobody would be told of room again, and a
	 * line that finds none is dropped instead. */
	if (!w.running || w.stopping || w.room_fd == -1)
		room = CHILD_MAX;
	else if (w.bytes < PAUSE_BYTES)
		room = CHILD_MAX - w.bytes;
	else {
		room = 0;
		w.children_wait = true;
	}
	pthread_mutex_unlock(&w.mu);
	return room;
}

int
logw_room_fd(void)
{
	int fd;

	pthread_mutex_lock(&w.mu);
	if (w.room_fd == -1)
		w.room_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	fd = w.room_fd;
	pthread_mutex_unlock(&w.mu);
	return fd;
}

uint64_t
logw_take_dropped(bool now)
{
	uint64_t n = 0;

	/* Only this thread counts them: no lock for every line logged. */
	if (w.unreported == 0)
		return 0;
	pthread_mutex_lock(&w.mu);
	if (w.bytes + REPORT_ROOM <= LOGW_PENDING_MAX &&
	    (now || mono_ns() >= w.report_at)) {
		n = w.unreported;
		w.unreported = 0;
		w.report_at = mono_ns() + REPORT_NS;
	}
	pthread_mutex_unlock(&w.mu);
	return n;
}

uint64_t
logw_dropped_total(void)
{
	return __atomic_load_n(&w.dropped, __ATOMIC_RELAXED);
}

void
logw_drain(unsigned idle_ms)
{
	struct timespec until;
	uint64_t before;
	int64_t at;

	pthread_mutex_lock(&w.mu);
	if (!w.running) {
		pthread_mutex_unlock(&w.mu);
		return;
	}
	w.stopping = true;
	pthread_cond_signal(&w.more);
	while (w.running) {
		before = w.written;
		clock_gettime(CLOCK_REALTIME, &until);
		at = until.tv_nsec + (int64_t)idle_ms * 1000000;
		until.tv_sec += at / 1000000000;
		until.tv_nsec = at % 1000000000;
		if (pthread_cond_timedwait(&w.progress, &w.mu, &until) ==
		    ETIMEDOUT && w.written == before && w.running) {
			/* It takes nothing: the rest is left behind, and the
			 * thread with it, blocked in write(2). */
			pthread_detach(w.thread);
			pthread_mutex_unlock(&w.mu);
			return;
		}
	}
	pthread_mutex_unlock(&w.mu);
	pthread_join(w.thread, NULL);
	pthread_mutex_lock(&w.mu);
	w.stopping = false;
	pthread_mutex_unlock(&w.mu);
}
