/*
 * A worker that acts out on command what the integration tests need:
 * crashes, slow or refused stops, floods, huge lines, sd_notify readiness,
 * memory growth, orphaned grandchildren, and a report of what it inherited.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got_term;
/* --alloc's memory, kept reachable so a leak checker does not call it
 * lost (and volatile so the store is not optimised away). */
char *volatile hog;
static long term_delay_ms = 0;

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR && !got_term)
		;
}

/* Appends this process's pid to DIR/WORKER.INSTANCE and SUFFIX. */
static void
record(const char *dir, const char *suffix)
{
	const char *w = getenv("PLBA_WORKER"), *i = getenv("PLBA_INSTANCE");
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.%s%s", dir, w ? w : "x",
	    i ? i : "0", suffix);
	if ((f = fopen(path, "a")) == NULL)
		return;
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
}

static void
notify_ready(void)
{
	const char *s = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char msg[] = "READY=1\nSTATUS=test worker ready";
	size_t len;
	int fd;

	if (s == NULL || (len = strlen(s)) >= sizeof(sun.sun_path))
		return;
	memcpy(sun.sun_path, s, len);
	if (s[0] == '@')
		sun.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	sendto(fd, msg, sizeof(msg) - 1, 0, (struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	close(fd);
}

static void
report_inheritance(void)
{
	struct sigaction sa;
	sigset_t mask;
	int sig, blocked = 0, ignored = 0, fd, extra = 0;

	sigprocmask(SIG_SETMASK, NULL, &mask);
	for (sig = 1; sig < 32; sig++) {
		if (sigismember(&mask, sig))
			blocked++;
		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
			ignored++;
	}
	for (fd = 4; fd < 1024; fd++)
		extra += fcntl(fd, F_GETFD) != -1;
	printf("inherit: worker=%s instance=%s fd=%s protocol=%s "
	    "blocked=%d ignored=%d fd3=%s extra_fds=%d pgrp=%s env_TZ=%s "
	    "uid=%ld cwd=%s\n",
	    getenv("PLBA_WORKER"), getenv("PLBA_INSTANCE"), getenv("PLBA_FD"),
	    getenv("PLBA_PROTOCOL"), blocked, ignored,
	    fcntl(3, F_GETFD) != -1 ? "open" : "closed", extra,
	    getpgrp() == getpid() ? "own" : "shared",
	    getenv("TZ") ? getenv("TZ") : "-", (long)getuid(), getcwd((char[4096]){0}, 4096));
	fflush(stdout);
}

int
main(int argc, char *argv[])
{
	long exit_after = -1, notify_after = -1, start = now_ms();
	const char *record_dir = NULL;
	int exit_code = 0, i;
	bool ignore_term = false;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "0";

		if (strcmp(a, "--record") == 0) {
			record(v, "");
			record_dir = v;
			i++;
		} else if (strcmp(a, "--exit-after") == 0) {
			exit_after = atol(v);
			exit_code = i + 2 < argc ? atoi(argv[i + 2]) : 1;
			i += 2;
		} else if (strcmp(a, "--ignore-term") == 0) {
			ignore_term = true;
		} else if (strcmp(a, "--term-delay") == 0) {
			term_delay_ms = atol(v);
			i++;
		} else if (strcmp(a, "--print") == 0) {
			printf("%s\n", v);
			i++;
		} else if (strcmp(a, "--stderr") == 0) {
			fprintf(stderr, "%s\n", v);
			i++;
		} else if (strcmp(a, "--line") == 0) {
			long n = atol(v);

			for (long k = 0; k < n; k++)
				putchar('x');
			putchar('\n');
			fflush(stdout);
			i++;
		} else if (strcmp(a, "--flood") == 0) {
			static char buf[65536];
			long n = atol(v);

			memset(buf, 'f', sizeof(buf));
			for (long k = 0; k < n; k += (long)sizeof(buf)) {
				buf[sizeof(buf) - 1] = '\n';
				if (write(1, buf, sizeof(buf)) == -1)
					break;
			}
			i++;
		} else if (strcmp(a, "--notify-after") == 0) {
			notify_after = atol(v);
			i++;
		} else if (strcmp(a, "--alloc") == 0) {
			long n = atol(v);

			if ((hog = malloc((size_t)n)) != NULL)
				memset(hog, 1, (size_t)n);
			i++;
		} else if (strcmp(a, "--grandchild") == 0) {
			if (fork() == 0) {
				setsid();
				/* Out of the instance's group now: it outlives it.
				 * A stop that kills the group before this point
				 * leaves no grandchild to count. */
				if (record_dir != NULL)
					record(record_dir, ".grandchild");
				sleep_ms(atol(v));
				_exit(0);
			}
			i++;
		} else if (strcmp(a, "--inherit") == 0) {
			report_inheritance();
		} else {
			fprintf(stderr, "plba-testworker: unknown option %s\n", a);
			return 2;
		}
	}
	if (ignore_term)
		signal(SIGTERM, SIG_IGN);
	else
		signal(SIGTERM, on_term);

	for (;;) {
		long t = now_ms() - start;

		if (got_term) {
			if (term_delay_ms > 0)
				sleep_ms(term_delay_ms);
			printf("stopping on SIGTERM\n");
			return 0;
		}
		if (notify_after >= 0 && t >= notify_after) {
			notify_ready();
			notify_after = -1;
		}
		if (exit_after >= 0 && t >= exit_after)
			return exit_code;
		sleep_ms(10);
	}
}
