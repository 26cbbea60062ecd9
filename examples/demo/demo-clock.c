/* Demo worker: says the time every two seconds until asked to stop. */
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
	const char *inst = getenv("PLBA_INSTANCE");
	char buf[32];
	time_t t;

	signal(SIGTERM, on_term);
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (!stop) {
		t = time(NULL);
		strftime(buf, sizeof(buf), "%H:%M:%S", localtime(&t));
		printf("tick %s from instance %s\n", buf, inst ? inst : "?");
		sleep(2);
	}
	printf("clock stopping\n");
	return 0;
}
