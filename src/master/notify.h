/*
 * The sd_notify protocol, both ways.  Upward, the master tells its own
 * supervisor (systemd with Type=notify, or anything that sets
 * NOTIFY_SOCKET) READY=1, STATUS= and STOPPING=1.  Downward, it listens on
 * one datagram socket of its own whose address children with `ready:
 * notify` get as NOTIFY_SOCKET, so unmodified systemd-style daemons can
 * report readiness.  Senders are told apart by their credentials, as
 * systemd does.
 */
#ifndef PLBA_MASTER_NOTIFY_H
#define PLBA_MASTER_NOTIFY_H

#include <stdbool.h>
#include <sys/types.h>

/* Remembers and clears NOTIFY_SOCKET from the master's environment. */
void	 notify_upward_init(void);
/* Sends a state string such as "READY=1\nSTATUS=running" upward, if asked. */
void	 notify_upward(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct notify_msg {
	pid_t	 pid;		/* the sender, from SCM_CREDENTIALS */
	bool	 ready;		/* READY=1 */
	bool	 stopping;	/* STOPPING=1 */
	char	 status[256];	/* STATUS=..., empty when absent */
};

/* Opens the listening socket; its address for children is notify_address(). */
int	 notify_listen(void);
const char *notify_address(void);
/* Reads one datagram; returns 1 with msg filled, 0 when nothing (more) is
 * waiting or the datagram was not from a known process, -1 on error. */
int	 notify_read(int fd, struct notify_msg *msg);

#endif
