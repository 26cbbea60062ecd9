/* stamp: the supervised child of every benchmark in bench/supervise.
 *
 * The first thing main() does is read CLOCK_MONOTONIC; it then appends one
 * fixed-size record "PID NS\n" (STAMP_RECLEN bytes, well under PIPE_BUF, so a
 * write to a FIFO is atomic even with 1000 writers) to the path in
 * $STAMP_FIFO or, when that is unset, given as argv[1], and pauses until a
 * signal kills it.  The reader (bench/floor) is normally a FIFO reader; a
 * regular file works too.  Opening a FIFO blocks until a reader is there,
 * which does not matter: the timestamp was taken before.  With
 * STAMP_NOTIFY_FD=N it then writes a newline to fd N and closes it (s6
 * readiness notification).
 *
 * Build: cc -O2 -o stamp stamp.c
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define STAMP_RECLEN 32

int
main(int argc, char **argv)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);

	/* $STAMP_FIFO first: s6-supervise passes the service directory as
	 * argv[1] to ./run, which is this program. */
	const char *path = getenv("STAMP_FIFO");
	if ((!path || !*path) && argc > 1)
		path = argv[1];
	if (!path || !*path) {
		fputs("usage: stamp FIFO (or STAMP_FIFO=FIFO stamp)\n", stderr);
		return 2;
	}
	char rec[STAMP_RECLEN + 1];
	long long ns = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	int n = snprintf(rec, sizeof rec, "%10ld %20lld\n", (long)getpid(), ns);
	if (n != STAMP_RECLEN)
		return 3;

	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	if (write(fd, rec, (size_t)n) != n) {
		perror("write");
		return 1;
	}
	close(fd);

	/* s6-supervise restarts at once only a service that has been ready
	 * for a second; it learns readiness from a newline on the fd named in
	 * the service's notification-fd file. */
	const char *nfd = getenv("STAMP_NOTIFY_FD");
	if (nfd && *nfd) {
		int n_fd = atoi(nfd);
		if (write(n_fd, "\n", 1) != 1)
			perror("STAMP_NOTIFY_FD");
		close(n_fd);
	}
	for (;;)
		pause();
}
