/* soak-consumer: the consuming side of bench/soak, a libplba queue worker.
 *
 *   soak-consumer DIR MAX_MS
 *
 * For every task it is handed it takes the key out of the payload
 * {"k":"..."} (see soak-producer.c; tasks posted over HTTP by soak-load.py
 * carry keys too) and appends it to DIR/handled, one line per write(2) on
 * an O_APPEND descriptor, before the handler returns PLBA_TASK_OK and
 * libplba sends the ack.  A kill after the write and before the ack makes
 * the master deliver the task again: a duplicate line, which the driver
 * counts apart.  A task without a key is recorded as "?ID".
 *
 * Each task then takes 0 to MAX_MS milliseconds (uniformly at random), so
 * that tasks are in flight when the kill storm hits a consumer.
 *
 * Build: cc -O2 -I include -o soak-consumer soak-consumer.c -L build/.libs -lplba
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <plba/plba.h>

static int	handled_fd = -1;
static unsigned	max_ms;

/* Copies the string value of "k" from a payload into key; 0 on success. */
static int
payload_key(const char *payload, char *key, size_t len)
{
	const char *p = strstr(payload, "\"k\"");
	size_t n;

	if (p == NULL || (p = strchr(p + 3, '"')) == NULL)
		return -1;
	p++;
	n = strcspn(p, "\"");
	if (p[n] != '"' || n == 0 || n >= len)
		return -1;
	memcpy(key, p, n);
	key[n] = '\0';
	return 0;
}

static enum plba_task_result
handle(plba_worker *w, plba_task *t, void *arg)
{
	char key[96], line[112];
	int len;

	(void)w;
	(void)arg;
	if (payload_key(plba_task_payload(t), key, sizeof(key)) == 0)
		len = snprintf(line, sizeof(line), "%s\n", key);
	else
		len = snprintf(line, sizeof(line), "?%s\n", plba_task_id(t));
	if (write(handled_fd, line, (size_t)len) != len) {
		plba_task_error(t, "cannot record: %s", strerror(errno));
		return PLBA_TASK_RETRY;
	}
	if (max_ms > 0)
		usleep((useconds_t)(random() % (max_ms * 1000 + 1)));
	return PLBA_TASK_OK;
}

int
main(int argc, char *argv[])
{
	char path[PATH_MAX];

	if (argc != 3) {
		fprintf(stderr, "usage: soak-consumer DIR MAX_MS\n");
		return 2;
	}
	max_ms = (unsigned)atoi(argv[2]);
	srandom((unsigned)getpid() ^ (unsigned)time(NULL));
	snprintf(path, sizeof(path), "%s/handled", argv[1]);
	handled_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (handled_fd == -1) {
		fprintf(stderr, "soak-consumer: %s: %s\n", path, strerror(errno));
		return 1;
	}
	return plba_queue_worker_main(handle, NULL);
}
