#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "notify.h"

static char	*upward;			/* our own NOTIFY_SOCKET */
static char	 address[64];			/* for children */

static socklen_t
fill_addr(struct sockaddr_un *sun, const char *path)
{
	size_t len = strlen(path);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (len >= sizeof(sun->sun_path))
		return 0;
	memcpy(sun->sun_path, path, len);
	/* "@name" is Linux's abstract namespace, as systemd spells it. */
	if (path[0] == '@')
		sun->sun_path[0] = '\0';
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
}

void
notify_upward_init(void)
{
	const char *s = getenv("NOTIFY_SOCKET");

	free(upward);
	upward = s != NULL && *s != '\0' ? strdup(s) : NULL;
	unsetenv("NOTIFY_SOCKET");
}

void
notify_upward(const char *fmt, ...)
{
	struct sockaddr_un sun;
	socklen_t len;
	char msg[512];
	va_list ap;
	int fd, n;

	if (upward == NULL || (len = fill_addr(&sun, upward)) == 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	(void)sendto(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT,
	    (struct sockaddr *)&sun, len);
	close(fd);
}

int
notify_listen(void)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd, one = 1;

	snprintf(address, sizeof(address), "@plba-notify/%ld/%lx",
	    (long)getpid(), (unsigned long)random());
	len = fill_addr(&sun, address);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, len) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

const char *
notify_address(void)
{
	return address;
}

static void
parse(struct notify_msg *m, char *buf)
{
	char *line, *next;
	size_t n;

	for (line = buf; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strcmp(line, "READY=1") == 0)
			m->ready = true;
		else if (strcmp(line, "STOPPING=1") == 0)
			m->stopping = true;
		else if (strncmp(line, "STATUS=", 7) == 0) {
			n = strlen(line + 7);
			if (n >= sizeof(m->status))
				n = sizeof(m->status) - 1;
			memcpy(m->status, line + 7, n);
			m->status[n] = '\0';
		}
	}
}

int
notify_read(int fd, struct notify_msg *m)
{
	char buf[4096];
	union {
		struct cmsghdr	align;
		char		space[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	struct iovec iov = { buf, sizeof(buf) - 1 };
	struct msghdr mh = { 0 };
	struct cmsghdr *c;
	struct ucred cred;
	ssize_t n;

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.space;
	mh.msg_controllen = sizeof(ctl.space);
	n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n == -1)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	buf[n] = '\0';
	memset(m, 0, sizeof(*m));
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(cred))) {
			memcpy(&cred, CMSG_DATA(c), sizeof(cred));
			m->pid = cred.pid;
		} else if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_RIGHTS) {
			/* Nobody may leave descriptors in the master. */
			int *fds = (int *)(void *)CMSG_DATA(c);
			size_t i, nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (i = 0; i < nfds; i++)
				close(fds[i]);
		}
	}
	if (m->pid <= 0)
		return 0;
	parse(m, buf);
	return 1;
}
