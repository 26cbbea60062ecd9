/*
 * Writes the log's lines from a thread of its own, out of a bounded
 * buffer: a destination that cannot keep up (a pipe nobody reads, a
 * stalled terminal or syslog daemon) slows the log, never the master's
 * loop.  Children's output is held back instead, as a slow pipe would
 * hold it: once half the buffer waits, logw_child_room() says to read
 * no more of it, and the fd of logw_room_fd() becomes readable when a
 * quarter is left.  The last eighth is kept for the master's own lines.
 * A line that finds no room is dropped and counted.
 *
 * Called from one thread at a time (the master's loop), like log.c.
 */
#ifndef PLBA_MASTER_LOG_WRITER_H
#define PLBA_MASTER_LOG_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOGW_PENDING_MAX	(1u << 20)	/* bytes waiting, at most */

enum logw_kind {
	LOGW_FD,	/* lines as given, to a file descriptor */
	LOGW_SYSLOG	/* each line to syslog(3), at its priority */
};

/*
 * Where the lines given from now on go.  Lines given before still go
 * where they were meant to; an fd that is own_fd is closed once none of
 * them needs it.  Returns -1 when out of memory (nothing changes).
 */
int	 logw_set_dest(enum logw_kind, int fd, bool own_fd);

/*
 * Queues one line: for LOGW_FD the bytes to write, newline included; for
 * LOGW_SYSLOG the text, at syslog priority prio.  False when it was
 * dropped, the buffer being full.  Before the writer thread runs (or
 * when it cannot be started) the line is written at once.
 */
bool	 logw_submit(int prio, bool from_child, const char *line, size_t len);

/*
 * The bytes of children's lines that will be taken now without a drop;
 * 0 once half the buffer waits, and then the fd of logw_room_fd() is made
 * readable (a count, as eventfd(2) keeps it) once there is room again.
 */
size_t	 logw_child_room(void);
/* That eventfd, made on the first call; -1 if it cannot be.  Until it
 * exists, logw_child_room() never says 0. */
int	 logw_room_fd(void);

/* Lines dropped since the last report, when there is room for a line
 * saying so and the last report is a second old (or now is true); else 0. */
uint64_t logw_take_dropped(bool now);
/* Lines dropped since the start; from any thread. */
uint64_t logw_dropped_total(void);

/*
 * Writes out what waits and stops the thread: waits as long as lines keep
 * going out, and gives up after idle_ms without progress (a destination
 * that takes nothing), leaving the rest.
 */
void	 logw_drain(unsigned idle_ms);

#endif
