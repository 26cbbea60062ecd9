/*
 * Demo worker in the style of a systemd Type=notify daemon: it reports
 * READY=1 to $NOTIFY_SOCKET once its start-up is done, and nothing about
 * PLBA.  Workers that depend on it start only after that.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void
sd_notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	const char msg[] = "READY=1\nSTATUS=accepting connections";
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len;
	int fd;

	if (path == NULL || (len = strlen(path)) >= sizeof(sun.sun_path))
		return;
	memcpy(sun.sun_path, path, len);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	sendto(fd, msg, sizeof(msg) - 1, 0, (struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	close(fd);
}

int
main(void)
{
	signal(SIGTERM, on_term);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("db-proxy: warming up\n");
	usleep(500 * 1000);
	sd_notify_ready();
	printf("db-proxy: ready\n");
	while (!stop)
		pause();
	printf("db-proxy: shutting down\n");
	return 0;
}
