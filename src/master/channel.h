/*
 * The master's end of one instance's socketpair: buffered, non-blocking,
 * checked twice (frame length, then each message's members).  A child that
 * breaks the protocol is killed and restarted by its policy; nothing it
 * sends can block or stop the master.
 */
#ifndef PLBA_MASTER_CHANNEL_H
#define PLBA_MASTER_CHANNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "frame.h"
#include "health.h"
#include "loop.h"

struct instance;
struct queue;
struct qtask;
struct qconsumer;
struct rqueue;
struct runtime;

struct channel {
	struct io	  io;
	struct frame_reader rd;
	struct frame_writer wr;
	bool		  hello;	/* speaks the protocol */
	bool		  tracing_updates; /* said so in hello */
	bool		  queued;	/* in the runtime's flush list */
	bool		  reading;	/* EPOLLIN wanted */
	bool		  backlog;	/* frames read, not handled yet */
	bool		  backed_up;	/* not reading what is sent to it */
	bool		  reaped;	/* its process is gone: last words */
	bool		  closed_by_child; /* its end is closed: no more tasks */
	uint64_t	  backed_up_since; /* mono ms */
	struct timer	  drain;	/* handles the backlog, next turn */
	struct timer	  hangup;	/* closed its end: waits for the reap */
	bool		  unwatched;	/* ... and the fd is out of epoll */
	uint64_t	  last_seen;	/* mono ms of the last frame */
	uint64_t	  hello_by;	/* 0, or when hello is due */
	enum health	  health;	/* as reported */
	bool		  has_status;
	enum status	  status;	/* as reported */
	char		  detail[256];
	struct queue	 *cq;		/* the queue it consumes, once ready */
	struct qconsumer *consumer;
	bool		  stopping;	/* told to stop: its publishes never wait */
	unsigned	  parked;	/* its publishes waiting for room */
	size_t		  parked_bytes;	/* ... and the size of their tasks */
	bool		  held;		/* not read until the next scan: no memory */
	bool		  told_held;	/* ... and said so, since its last read */
	const char	 *kill_reason;	/* why the master killed it */
};

/* A publish to a durable queue, confirmed once its batch commits. */
struct held_confirm {
	struct instance	*in;		/* NULL once its channel closed */
	char		*ref;
	uint64_t	 id;
	uint64_t	 batch;		/* store_batch() when it was taken */
};

/* Sets up the channel on the master's end of a fresh socketpair. */
void	channel_open(struct instance *, int fd);
/* After the process is reaped, before channel_close(): handles what it
 * sent before it went, read or not. */
void	channel_last_words(struct instance *);
/* After the process is gone: requeues its tasks, drops its parked
 * publishes, closes the fd. how says how it ended, for the requeue. */
void	channel_close(struct instance *, const char *how);
/* Logs a task moved to the dead-letter list, with its trace, and records
 * the plba.dead_letter span there. */
void	channel_dead_lettered(struct runtime *, struct queue *,
	    const struct qtask *, const char *why);
/* Queues a stop message (graceful or forced) for a protocol child;
 * false when it cannot be told (no hello, or its channel is closed). */
bool	channel_send_stop(struct instance *, bool force);
/* Tells every instance that takes tracing messages (hello's
 * tracing_updates) whether tracing is on now, and the sample ratio. */
void	channel_send_tracing(struct runtime *);
/* Sends everything queued on every channel that has something. */
void	channel_flush_all(struct runtime *);
/* Heartbeat, hello and task_timeout deadlines, checked periodically;
 * the first three only when judge. */
void	channel_scan(struct runtime *, uint64_t now, bool judge);
/* Hands ready tasks of a queue to consumers with room, and lets parked
 * publishers in when there is room again. */
void	channel_pump(struct runtime *, struct queue *);
/* Refuses, with why, the publishes waiting for room in a queue that will
 * take no more. */
void	channel_refuse_parked(struct rqueue *, const char *why);
/* queue_done_fn: tells a tracked task's publisher what became of it. */
void	channel_task_done(void *rt, struct queue *, const struct qtask *,
	    bool acked);
/*
 * The store is through with batch `batch`: confirms the publishes held
 * for it and for the batches before it, or rejects them when it failed.
 */
void	channel_stored(struct runtime *, uint64_t batch, bool stored);
/*
 * Whether a publish to rq goes in now, rather than waiting (parked) for
 * room in the queue or, for a durable queue, for the store to catch up.
 */
bool	channel_takes(struct runtime *, struct rqueue *);

#endif
