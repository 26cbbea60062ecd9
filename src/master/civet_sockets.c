#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <stdbool.h>
#include <stdlib.h>

#include <civetweb.h>

#include "civet_sockets.h"

/* Ports of the listening sockets a context may have. */
#define LISTENERS_MAX	16

/* Calls found(fd, arg) for each open descriptor until it returns true;
 * that descriptor, or -1. */
static int
each_fd(bool (*found)(int, void *), void *arg)
{
	struct dirent *de;
	DIR *d;
	int fd, hit = -1;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while (hit == -1 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		fd = atoi(de->d_name);
		if (fd != dirfd(d) && found(fd, arg))
			hit = fd;
	}
	closedir(d);
	return hit;
}

static uint16_t
local_port(int fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &len) == -1 ||
	    sa.sin_family != AF_INET)
		return 0;
	return ntohs(sa.sin_port);
}

struct connection {
	struct in_addr	 peer;
	uint16_t	 peer_port, local_port;
};

static bool
is_connection(int fd, void *arg)
{
	const struct connection *c = arg;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	return getpeername(fd, (struct sockaddr *)&sa, &len) == 0 &&
	    sa.sin_family == AF_INET &&
	    sa.sin_addr.s_addr == c->peer.s_addr &&
	    ntohs(sa.sin_port) == c->peer_port &&
	    local_port(fd) == c->local_port;
}

int
civet_connection_fd(struct in_addr peer, uint16_t peer_port,
    uint16_t local_port_)
{
	struct connection c = { peer, peer_port, local_port_ };

	return each_fd(is_connection, &c);
}

struct listeners {
	struct mg_server_port	 port[LISTENERS_MAX];
	int			 n;
};

/* Shuts down every listener on one of the ports; never "found", so the
 * walk goes through every descriptor. */
static bool
shut_listener(int fd, void *arg)
{
	const struct listeners *l = arg;
	socklen_t len = sizeof(int);
	uint16_t port;
	int i, listening = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == -1 ||
	    !listening || (port = local_port(fd)) == 0)
		return false;
	for (i = 0; i < l->n; i++)
		if (l->port[i].port == port)
			(void)shutdown(fd, SHUT_RDWR);
	return false;
}

void
civet_wake_listener(const struct mg_context *ctx)
{
	struct listeners l;

	l.n = mg_get_server_ports(ctx, LISTENERS_MAX, l.port);
	if (l.n > 0)
		(void)each_fd(shut_listener, &l);
}
