/* relay: baseline (a) of bench/queue — the shape of a PLBA queue with the
 * least machinery: a producer, a relay holding the queue, and NCONS consumers,
 * each a process, joined by bare AF_UNIX stream socketpairs.
 *
 *   relay N NCONS [PREFETCH [CAPACITY [WINDOW [RATE]]]]  (defaults 64 10000 512)
 *
 * Frames are a 4-byte length in network byte order and a binary body (no
 * JSON), and every frame costs one syscall on each side, unbatched: one
 * write() per frame, one read() per frame (every frame on a given socket has
 * the same size here, so a read asks for exactly one frame; a short read
 * would be completed by a further read).
 *
 *   producer -> relay    publish  {ref u64, payload 100 B}      112 B
 *   relay -> producer    confirm  {ref u64, id u64}              20 B
 *   relay -> consumer    task     {id u64, payload 100 B}       112 B
 *   consumer -> relay    ack      {id u64}                       12 B
 *
 * The producer keeps up to WINDOW unconfirmed publishes in flight (libplba's
 * async window is 512); the relay copies each task into its ring of CAPACITY
 * slots (reading from the producer only while there is room: back-pressure),
 * confirms it, and hands it to the consumers round-robin, at most PREFETCH
 * unacked per consumer; it waits in poll() and handles one frame per ready
 * socket per wake-up.  A consumer acks each task at once.
 *
 * Timing as in the PLBA run: t_start is CLOCK_MONOTONIC just before the
 * producer's first write; t_end is read by the consumer that counts the N-th
 * task, before it writes that task's ack.  Prints one line:
 *   n=N elapsed_ns=NS msgs_per_s=R per_consumer=A,B,C
 *
 * With RATE (tasks/s) the producer is paced on absolute deadlines
 * (clock_nanosleep TIMER_ABSTIME) like bench/queue-producer, and each
 * consumer takes the producer's CLOCK_MONOTONIC stamp out of the payload and
 * records (now - stamp) just before writing the ack; the line then also has
 * p50_ns, p90_ns, p99_ns, p999_ns and max_ns.  This is the latency floor of
 * the box for this shape, next to the PLBA latency figure.
 *
 * Build: cc -O2 -o relay relay.c
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PAYLOAD_LEN	100
#define MAX_CONS	16
#define PUBLISH_LEN	(4 + 8 + PAYLOAD_LEN)
#define CONFIRM_LEN	(4 + 8 + 8)
#define TASK_LEN	(4 + 8 + PAYLOAD_LEN)
#define ACK_LEN		(4 + 8)

struct shared {
	_Atomic uint64_t t_start, t_end, claimed;
	_Atomic uint64_t per[MAX_CONS];
};

static struct shared *sh;
static int64_t *lat;		/* n samples, shared, with RATE */
static uint64_t n;
static double rate;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
die(const char *what)
{
	fprintf(stderr, "relay: %s: %s\n", what, strerror(errno));
	_exit(1);
}

/* One frame, one write (a stream socket may in theory take part of it). */
static void
put(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t r;

	while (len > 0) {
		if ((r = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			die("write");
		}
		p += r;
		len -= (size_t)r;
	}
}

/* One frame of known size, one read; 0 at end of stream. */
static int
get(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;
	ssize_t r;

	while (got < len) {
		if ((r = read(fd, p + got, len - got)) == -1) {
			if (errno == EINTR)
				continue;
			die("read");
		}
		if (r == 0) {
			if (got == 0)
				return 0;
			errno = EPROTO;
			die("short frame");
		}
		got += (size_t)r;
	}
	if (ntohl(*(uint32_t *)buf) != len - 4) {
		errno = EPROTO;
		die("bad frame length");
	}
	return 1;
}

static void
hdr(char *f, size_t len)
{
	uint32_t be = htonl((uint32_t)(len - 4));

	memcpy(f, &be, 4);
}

static int
producer(int fd, unsigned window)
{
	char f[PUBLISH_LEN + 1], c[CONFIRM_LEN];
	uint64_t i, ref, confirmed = 0;
	int len;

	uint64_t t0, due, period = rate > 0 ? (uint64_t)(1e9 / rate) : 0;
	struct timespec ts;

	hdr(f, PUBLISH_LEN);
	t0 = now_ns();
	atomic_store(&sh->t_start, t0);
	for (i = 0; i < n; i++) {
		while (i - confirmed >= window) {
			if (!get(fd, c, CONFIRM_LEN))
				return 1;
			confirmed++;
		}
		if (period > 0) {
			due = t0 + i * period;
			ts.tv_sec = (time_t)(due / 1000000000u);
			ts.tv_nsec = (long)(due % 1000000000u);
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME,
			    &ts, NULL) == EINTR)
				;
			/* Collect what confirmations are there, no waiting. */
			while (confirmed < i) {
				struct pollfd pfd = { fd, POLLIN, 0 };

				if (poll(&pfd, 1, 0) != 1 || !get(fd, c, CONFIRM_LEN))
					break;
				confirmed++;
			}
		}
		ref = i + 1;
		memcpy(f + 4, &ref, 8);
		/* The same 100-byte payload as the PLBA producer. */
		len = snprintf(f + 12, PAYLOAD_LEN + 1, "{\"n\":%llu,\"t\":%llu,\"p\":\"",
		    (unsigned long long)i, (unsigned long long)now_ns());
		memset(f + 12 + len, 'x', (size_t)(PAYLOAD_LEN - 2 - len));
		memcpy(f + 12 + PAYLOAD_LEN - 2, "\"}", 2);
		put(fd, f, PUBLISH_LEN);
	}
	while (confirmed < n) {
		if (!get(fd, c, CONFIRM_LEN))
			return 1;
		confirmed++;
	}
	return 0;
}

static int
consumer(int fd, unsigned idx)
{
	char t[TASK_LEN + 1], a[ACK_LEN], *p;
	uint64_t slot, sent = 0;

	hdr(a, ACK_LEN);
	while (get(fd, t, TASK_LEN)) {
		if (lat != NULL) {
			t[TASK_LEN] = '\0';
			if ((p = strstr(t + 12, "\"t\":")) != NULL)
				sent = strtoull(p + 4, NULL, 10);
		}
		atomic_fetch_add(&sh->per[idx], 1);
		slot = atomic_fetch_add(&sh->claimed, 1);
		if (lat != NULL && slot < n)
			lat[slot] = (int64_t)(now_ns() - sent);
		if (slot == n - 1)
			atomic_store(&sh->t_end, now_ns());
		memcpy(a + 4, t + 4, 8);
		put(fd, a, ACK_LEN);
	}
	return 0;
}

static int
relay(int pfd, int *cfd, unsigned ncons, unsigned prefetch, unsigned cap)
{
	char (*ring)[8 + PAYLOAD_LEN];
	char in[PUBLISH_LEN], conf[CONFIRM_LEN], task[TASK_LEN], ack[ACK_LEN];
	struct pollfd pf[MAX_CONS + 1];
	unsigned unacked[MAX_CONS] = { 0 }, head = 0, qlen = 0, rr = 0, i, k;
	uint64_t next_id = 0, acked = 0;
	bool producer_open = true;

	if ((ring = malloc((size_t)cap * sizeof(*ring))) == NULL)
		die("malloc");
	hdr(conf, CONFIRM_LEN);
	hdr(task, TASK_LEN);
	for (i = 0; i < ncons; i++) {
		pf[i + 1].fd = cfd[i];
		pf[i + 1].events = POLLIN;
	}
	pf[0].fd = pfd;
	while (acked < n) {
		pf[0].events = producer_open && qlen < cap ? POLLIN : 0;
		if (poll(pf, ncons + 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (pf[0].revents & (POLLIN | POLLHUP)) {
			if (!get(pfd, in, PUBLISH_LEN)) {
				producer_open = false;
			} else {
				char *slot = ring[(head + qlen) % cap];

				next_id++;
				memcpy(slot, &next_id, 8);
				memcpy(slot + 8, in + 12, PAYLOAD_LEN);
				qlen++;
				memcpy(conf + 4, in + 4, 8);
				memcpy(conf + 12, &next_id, 8);
				put(pfd, conf, CONFIRM_LEN);
			}
		}
		for (i = 0; i < ncons; i++)
			if (pf[i + 1].revents & (POLLIN | POLLHUP)) {
				if (!get(cfd[i], ack, ACK_LEN)) {
					errno = EPIPE;
					die("a consumer went away");
				}
				unacked[i]--;
				acked++;
			}
		/* Dispatch, round-robin over consumers with room. */
		while (qlen > 0) {
			for (k = 0; k < ncons; k++)
				if (unacked[(rr + k) % ncons] < prefetch)
					break;
			if (k == ncons)
				break;
			i = (rr + k) % ncons;
			rr = i + 1;
			memcpy(task + 4, ring[head], 8 + PAYLOAD_LEN);
			head = (head + 1) % cap;
			qlen--;
			put(cfd[i], task, TASK_LEN);
			unacked[i]++;
		}
	}
	return 0;
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static long long
pct(const int64_t *v, double p)
{
	uint64_t k = (uint64_t)(p / 100.0 * (double)n + 0.999999);

	return (long long)v[(k < 1 ? 1 : k > n ? n : k) - 1];
}

static pid_t
spawn(void)
{
	pid_t pid = fork();

	if (pid == -1)
		die("fork");
	if (pid == 0)
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	return pid;
}

int
main(int argc, char *argv[])
{
	unsigned ncons, prefetch = 64, cap = 10000, window = 512, i, j;
	int sp[2], cp[MAX_CONS][2], cfd[MAX_CONS], st, failed = 0;
	pid_t pids[MAX_CONS + 2];
	unsigned npids = 0;
	uint64_t el;

	if (argc < 3) {
		fprintf(stderr, "usage: relay N NCONS [PREFETCH [CAPACITY "
		    "[WINDOW [RATE]]]]\n");
		return 2;
	}
	n = strtoull(argv[1], NULL, 10);
	ncons = (unsigned)atoi(argv[2]);
	if (argc > 3)
		prefetch = (unsigned)atoi(argv[3]);
	if (argc > 4)
		cap = (unsigned)atoi(argv[4]);
	if (argc > 5)
		window = (unsigned)atoi(argv[5]);
	if (argc > 6)
		rate = atof(argv[6]);
	if (n == 0 || ncons == 0 || ncons > MAX_CONS || prefetch == 0 ||
	    cap == 0 || window == 0) {
		fprintf(stderr, "relay: bad arguments\n");
		return 2;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap");
	if (rate > 0) {
		lat = mmap(NULL, n * sizeof(*lat), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (lat == MAP_FAILED)
			die("mmap");
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == -1)
		die("socketpair");
	for (i = 0; i < ncons; i++)
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, cp[i]) == -1)
			die("socketpair");

	/* consumers */
	for (i = 0; i < ncons; i++) {
		if ((pids[npids++] = spawn()) == 0) {
			for (j = 0; j < ncons; j++) {
				close(cp[j][0]);
				if (j != i)
					close(cp[j][1]);
			}
			close(sp[0]);
			close(sp[1]);
			_exit(consumer(cp[i][1], i));
		}
	}
	/* the relay */
	if ((pids[npids++] = spawn()) == 0) {
		for (j = 0; j < ncons; j++) {
			close(cp[j][1]);
			cfd[j] = cp[j][0];
		}
		close(sp[1]);
		_exit(relay(sp[0], cfd, ncons, prefetch, cap));
	}
	for (j = 0; j < ncons; j++) {
		close(cp[j][0]);
		close(cp[j][1]);
	}
	/* the producer */
	if ((pids[npids++] = spawn()) == 0) {
		close(sp[0]);
		_exit(producer(sp[1], window));
	}
	close(sp[0]);
	close(sp[1]);
	for (i = 0; i < npids; i++) {
		while (waitpid(pids[i], &st, 0) == -1 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed = 1;
	}
	if (failed || atomic_load(&sh->claimed) != n) {
		fprintf(stderr, "relay: a process failed (%llu of %llu handled)\n",
		    (unsigned long long)atomic_load(&sh->claimed),
		    (unsigned long long)n);
		return 1;
	}
	el = atomic_load(&sh->t_end) - atomic_load(&sh->t_start);
	printf("n=%llu elapsed_ns=%llu msgs_per_s=%.0f per_consumer=",
	    (unsigned long long)n, (unsigned long long)el,
	    (double)n * 1e9 / (double)el);
	for (i = 0; i < ncons; i++)
		printf("%s%llu", i ? "," : "",
		    (unsigned long long)atomic_load(&sh->per[i]));
	if (lat != NULL) {
		qsort(lat, n, sizeof(*lat), cmp64);
		printf(" p50_ns=%lld p90_ns=%lld p99_ns=%lld p999_ns=%lld "
		    "max_ns=%lld", pct(lat, 50), pct(lat, 90), pct(lat, 99),
		    pct(lat, 99.9), (long long)lat[n - 1]);
	}
	printf("\n");
	return 0;
}
