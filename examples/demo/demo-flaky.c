/*
 * Demo worker: processes pretend orders and, now and then, crashes the way
 * real programs do (abort, segfault-like signal or a failing exit), so the
 * master's restarts and back-off can be watched.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(void)
{
	unsigned order = 0;
	int roll;

	signal(SIGTERM, on_term);
	setvbuf(stdout, NULL, _IOLBF, 0);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	while (!stop) {
		printf("processed order %u\n", ++order);
		roll = rand() % 20;
		if (roll == 0) {
			fprintf(stderr, "flaky: simulated fatal error, aborting\n");
			abort();
		} else if (roll == 1) {
			fprintf(stderr, "flaky: lost the database, exiting 3\n");
			return 3;
		}
		sleep(1);
	}
	printf("flaky stopping after %u orders\n", order);
	return 0;
}
