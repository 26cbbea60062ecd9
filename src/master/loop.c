#include "config.h"

#include <sys/epoll.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

#define LOOP_MAX_EVENTS	256

struct loop {
	int		  epfd;
	struct timer	**heap;		/* min-heap on when */
	size_t		  nheap;
	size_t		  capheap;
	/*
	 * io_del() during dispatch must not leave a stale pointer in the
	 * batch epoll_wait returned; deleted entries are blanked here.
	 */
	struct epoll_event events[LOOP_MAX_EVENTS];
	int		  nevents;
};

uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct loop *
loop_new(void)
{
	struct loop *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	if ((l->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		free(l);
		return NULL;
	}
	return l;
}

void
loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	close(l->epfd);
	free(l->heap);
	free(l);
}

int
io_add(struct loop *l, struct io *io, int fd, uint32_t events, io_fn fn,
    void *arg)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	io->fd = fd;
	io->events = events;
	io->fn = fn;
	io->arg = arg;
	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev);
}

int
io_mod(struct loop *l, struct io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	if (io->events == events)
		return 0;
	io->events = events;
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev);
}

void
io_unwatch(struct loop *l, struct io *io)
{
	int i;

	if (io->fd == -1)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	for (i = 0; i < l->nevents; i++)
		if (l->events[i].data.ptr == io)
			l->events[i].data.ptr = NULL;
}

void
io_del(struct loop *l, struct io *io)
{
	io_unwatch(l, io);
	io->fd = -1;
}

void
timer_init(struct timer *t, timer_fn fn, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->fn = fn;
	t->arg = arg;
}

static void
heap_swap(struct loop *l, size_t a, size_t b)
{
	struct timer *t = l->heap[a];

	l->heap[a] = l->heap[b];
	l->heap[b] = t;
	l->heap[a]->slot = a + 1;
	l->heap[b]->slot = b + 1;
}

static void
heap_up(struct loop *l, size_t i)
{
	while (i > 0 && l->heap[(i - 1) / 2]->when > l->heap[i]->when) {
		heap_swap(l, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
heap_down(struct loop *l, size_t i)
{
	size_t c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= l->nheap)
			return;
		if (c + 1 < l->nheap && l->heap[c + 1]->when < l->heap[c]->when)
			c++;
		if (l->heap[i]->when <= l->heap[c]->when)
			return;
		heap_swap(l, i, c);
		i = c;
	}
}

void
timer_cancel(struct loop *l, struct timer *t)
{
	size_t i;

	if (t->slot == 0)
		return;
	i = t->slot - 1;
	t->slot = 0;
	if (i == --l->nheap)
		return;
	l->heap[i] = l->heap[l->nheap];
	l->heap[i]->slot = i + 1;
	heap_up(l, i);
	heap_down(l, i);
}

void
timer_at(struct loop *l, struct timer *t, uint64_t when)
{
	struct timer **heap;
	size_t cap;

	timer_cancel(l, t);
	if (l->nheap == l->capheap) {
		cap = l->capheap ? l->capheap * 2 : 64;
		/*
		 * The master cannot do without its timers; running out of
		 * memory for a few pointers is not survivable anyway.
		 */
		if ((heap = realloc(l->heap, cap * sizeof(*heap))) == NULL)
			abort();
		l->heap = heap;
		l->capheap = cap;
	}
	t->when = when;
	l->heap[l->nheap] = t;
	t->slot = ++l->nheap;
	heap_up(l, l->nheap - 1);
}

static int
next_timeout(struct loop *l)
{
	uint64_t now, when;

	if (l->nheap == 0)
		return -1;
	when = l->heap[0]->when;
	now = mono_ms();
	if (when <= now)
		return 0;
	if (when - now > 3600 * 1000)
		return 3600 * 1000;
	return (int)(when - now);
}

static void
run_timers(struct loop *l)
{
	struct timer *t;
	uint64_t now = mono_ms();
	size_t budget = l->nheap;

	/*
	 * A callback that re-arms for "now" must not starve the fds: at most
	 * as many timers run as were armed when this turn began.
	 */
	while (budget-- > 0 && l->nheap > 0 && l->heap[0]->when <= now) {
		t = l->heap[0];
		timer_cancel(l, t);
		t->fn(l, t);
	}
}

int
loop_run_once(struct loop *l)
{
	struct io *io;
	int i, n;

	n = epoll_wait(l->epfd, l->events, LOOP_MAX_EVENTS, next_timeout(l));
	if (n == -1) {
		if (errno == EINTR)
			return 0;
		return -1;
	}
	l->nevents = n;
	for (i = 0; i < n; i++) {
		if ((io = l->events[i].data.ptr) == NULL)
			continue;
		io->fn(l, io, l->events[i].events);
	}
	l->nevents = 0;
	run_timers(l);
	return 0;
}
