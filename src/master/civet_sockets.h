#ifndef PLBA_CIVET_SOCKETS_H
#define PLBA_CIVET_SOCKETS_H

#include <netinet/in.h>
#include <stdint.h>

struct mg_context;

/*
 * civetweb keeps its sockets to itself.  These find them among the
 * process's descriptors by their addresses (IPv4: the only listeners the
 * master has).
 */

/* The connection from peer:peer_port to our local_port, or -1. */
int	civet_connection_fd(struct in_addr peer, uint16_t peer_port,
	    uint16_t local_port);
/*
 * Shuts ctx's listening sockets down, so that its listener thread, which
 * polls them up to 2 s at a time, sees mg_stop() at once instead of
 * holding it (and the event loop that calls it) up that long.
 */
void	civet_wake_listener(const struct mg_context *ctx);

#endif
