/*
 * The master's log (the seed's LogManager): level, text or JSON lines, and
 * stderr, syslog or a file reopened on SIGUSR1.  Lines are formatted here
 * and written whole, in batches, by log_writer.c's thread, so that a slow
 * destination never holds up the master.
 */
#ifndef PLBA_MASTER_LOG_H
#define PLBA_MASTER_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "settings.h"

/* Applies a log section.  Until the first call, the log is text on stderr
 * at level info.  Returns -1 with errno set when a file cannot be opened;
 * the previous destination then stays in use. */
int	 log_configure(enum log_level level, bool json, const char *output);
/* Reopens a file destination (logrotate); a no-op for stderr and syslog. */
int	 log_reopen(void);
/* Writes out what waits (giving up on a destination that takes nothing
 * for 2 s) and goes back to stderr. */
void	 log_close(void);
/* Lines lost because the destination could not keep up; any thread. */
uint64_t log_dropped_total(void);
/*
 * How many bytes of worker's output may be read now, so that the lines
 * they make all find room in the log, however short; 0 while the log is
 * behind, and log_room_fd() becomes readable once it is not
 * (log_writer.h).
 */
size_t	 log_child_budget(const char *worker);
int	 log_room_fd(void);
bool	 log_enabled(enum log_level);

void	 log_msg(enum log_level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* One line of a child's output; line need not be NUL-terminated. */
void	 log_child(enum log_level, const char *worker, unsigned instance,
	    const char *stream, const char *line, size_t len, bool truncated);

#define log_debug(...)	log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_error(...)	log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
