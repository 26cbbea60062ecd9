#ifndef PLBA_HTTP_WATCHDOG_H
#define PLBA_HTTP_WATCHDOG_H

#include <stdint.h>

struct mg_connection;
struct watchdog;

/*
 * Bounds how long one request may hold a civetweb thread once its
 * headers are in: its body, and civetweb's own drain of a body refused
 * unread.  Past limit_ms the connection is cut, and the thread's next
 * read sees the end of the stream.  NULL when no thread can be started.
 */
struct watchdog	*watchdog_start(uint64_t limit_ms);
void		 watchdog_stop(struct watchdog *);
/* From a request handler: watch c from now on. */
void		 watchdog_watch(struct watchdog *, const struct mg_connection *);
/* From civetweb's connection_close callback, before the socket closes. */
void		 watchdog_forget(struct watchdog *, const struct mg_connection *);

#endif
