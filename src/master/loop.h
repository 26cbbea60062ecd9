/*
 * The master's event loop: epoll over file descriptors, and timers kept as
 * absolute CLOCK_MONOTONIC deadlines in a binary heap whose earliest entry
 * sets the epoll timeout.  The loop sleeps until an fd is ready or a
 * deadline passes; it never polls.
 */
#ifndef PLBA_MASTER_LOOP_H
#define PLBA_MASTER_LOOP_H

#include <stddef.h>
#include <stdint.h>

struct loop;
struct io;
struct timer;

typedef void	(*io_fn)(struct loop *, struct io *, uint32_t events);
typedef void	(*timer_fn)(struct loop *, struct timer *);

/* Embedded in its owner; the owner recovers itself from arg. */
struct io {
	int	 fd;
	uint32_t events;	/* EPOLLIN, EPOLLOUT, as registered */
	io_fn	 fn;
	void	*arg;
};

struct timer {
	uint64_t when;		/* absolute, ms on CLOCK_MONOTONIC */
	size_t	 slot;		/* position in the heap + 1; 0 when not armed */
	timer_fn fn;
	void	*arg;
};

/* Milliseconds on CLOCK_MONOTONIC: immune to wall-clock jumps. */
uint64_t	 mono_ms(void);

struct loop	*loop_new(void);
void		 loop_free(struct loop *);

int		 io_add(struct loop *, struct io *, int fd, uint32_t events,
		    io_fn fn, void *arg);
int		 io_mod(struct loop *, struct io *, uint32_t events);
/* Safe to call from inside any callback, including io's own. */
void		 io_del(struct loop *, struct io *);
/*
 * Stops watching io's fd, which stays in io for io_del() and the
 * caller's close: epoll reports a hang-up whatever it is asked for, so
 * a peer that has hung up can only be ignored this way.  No io_mod()
 * after it.
 */
void		 io_unwatch(struct loop *, struct io *);

void		 timer_init(struct timer *, timer_fn fn, void *arg);
/* Arms (or re-arms) the timer for an absolute deadline. */
void		 timer_at(struct loop *, struct timer *, uint64_t when);
void		 timer_cancel(struct loop *, struct timer *);
static inline int timer_armed(const struct timer *t) { return t->slot != 0; }

/*
 * Waits for events and deadlines and dispatches them, once.  Returns -1
 * only when epoll itself fails.
 */
int		 loop_run_once(struct loop *);

#endif
