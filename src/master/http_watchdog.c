/*
 * civetweb gives each connection one of a few threads, and reads a body
 * for as long as bytes keep coming: mg_read() waits for all it was asked
 * for, and after a handler that refused a body unread civetweb drains it
 * to its Content-Length.  Eight clients sending a byte a second would
 * hold every thread for good, /livez included.  civetweb offers no hook
 * with the socket, so the watchdog finds it by its addresses and
 * puts a socket that is not connected in its place: the thread's next
 * read fails, and civetweb closes the connection as it would any other
 * broken one.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <civetweb.h>

#include "civet_sockets.h"
#include "http_watchdog.h"
#include "log.h"
#include "loop.h"

/* More than civetweb's threads: a slot per request being handled. */
#define WATCH_SLOTS	32

struct watched {
	const struct mg_connection *c;	/* NULL: a free slot */
	uint64_t	 deadline;	/* mono ms */
	struct in_addr	 peer;
	uint16_t	 peer_port;
	uint16_t	 local_port;
	bool		 cut;
};

struct watchdog {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	pthread_t	 thread;
	bool		 stopping;
	uint64_t	 limit_ms;
	struct watched	 slot[WATCH_SLOTS];
};

/*
 * Under mu, so the slot's connection cannot close meanwhile: civetweb
 * calls connection_close, and so watchdog_forget(), before it closes the
 * socket.  dup2() swaps the socket atomically; the connection ends when
 * the thread, now or out of a poll that still holds it, lets go of it.
 */
static void
cut(struct watchdog *wd, struct watched *w)
{
	int fd, dead;

	/* Out of descriptors, say: tried again at the next tick. */
	if ((fd = civet_connection_fd(w->peer, w->peer_port,
	    w->local_port)) == -1)
		return;
	if ((dead = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	w->cut = dup3(dead, fd, O_CLOEXEC) != -1;
	close(dead);
}

static void *
watch(void *arg)
{
	struct watchdog *wd = arg;
	struct timespec ts;
	uint64_t now;
	size_t i;

	pthread_mutex_lock(&wd->mu);
	while (!wd->stopping) {
		now = mono_ms();
		for (i = 0; i < WATCH_SLOTS; i++)
			if (wd->slot[i].c != NULL && !wd->slot[i].cut &&
			    now >= wd->slot[i].deadline)
				cut(wd, &wd->slot[i]);
		/* A second's lateness is nothing against the limit. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&wd->cv, &wd->mu, &ts);
	}
	pthread_mutex_unlock(&wd->mu);
	return NULL;
}

struct watchdog *
watchdog_start(uint64_t limit_ms)
{
	struct watchdog *wd;
	pthread_condattr_t ca;

	if ((wd = calloc(1, sizeof(*wd))) == NULL)
		return NULL;
	wd->limit_ms = limit_ms;
	pthread_mutex_init(&wd->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&wd->cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((errno = pthread_create(&wd->thread, NULL, watch, wd)) != 0) {
		pthread_cond_destroy(&wd->cv);
		pthread_mutex_destroy(&wd->mu);
		free(wd);
		return NULL;
	}
	return wd;
}

void
watchdog_stop(struct watchdog *wd)
{
	if (wd == NULL)
		return;
	pthread_mutex_lock(&wd->mu);
	wd->stopping = true;
	pthread_cond_signal(&wd->cv);
	pthread_mutex_unlock(&wd->mu);
	pthread_join(wd->thread, NULL);
	pthread_cond_destroy(&wd->cv);
	pthread_mutex_destroy(&wd->mu);
	free(wd);
}

void
watchdog_watch(struct watchdog *wd, const struct mg_connection *c)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	struct watched *w = NULL;
	size_t i;

	if (wd == NULL || ri == NULL)
		return;
	pthread_mutex_lock(&wd->mu);
	for (i = 0; i < WATCH_SLOTS; i++) {
		if (wd->slot[i].c == c || (w == NULL && wd->slot[i].c == NULL))
			w = &wd->slot[i];
		if (wd->slot[i].c == c)
			break;
	}
	/* Only IPv4 listeners exist (plba-http(7)). */
	if (w != NULL && inet_pton(AF_INET, ri->remote_addr, &w->peer) == 1) {
		w->c = c;
		w->deadline = mono_ms() + wd->limit_ms;
		w->peer_port = (uint16_t)ri->remote_port;
		w->local_port = (uint16_t)ri->server_port;
		w->cut = false;
	}
	pthread_mutex_unlock(&wd->mu);
}

void
watchdog_forget(struct watchdog *wd, const struct mg_connection *c)
{
	size_t i;

	if (wd == NULL)
		return;
	pthread_mutex_lock(&wd->mu);
	for (i = 0; i < WATCH_SLOTS; i++)
		if (wd->slot[i].c == c)
			wd->slot[i].c = NULL;
	pthread_mutex_unlock(&wd->mu);
}
