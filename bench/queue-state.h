/*
 * The state bench/queue's producer and consumers share through a file
 * they all map: counters, time stamps and, in latency mode, one sample a
 * task.  Included by queue-producer.c and queue-consumer.c.
 */
#ifndef BENCH_QUEUE_STATE_H
#define BENCH_QUEUE_STATE_H

#define MAX_CONS	16		/* consumer instances counted apart */
#define STATE_MAGIC	0x504c424151424e31ULL	/* "PLBAQBN1" */
#define STATE_HDR	4096
struct bench_state {
	uint64_t		magic;
	uint64_t		n;		/* measured tasks */
	_Atomic uint64_t	warm_sent;	/* warm-up tasks confirmed */
	_Atomic uint64_t	warm_handled;
	_Atomic uint64_t	warm_inst[MAX_CONS];
	_Atomic uint64_t	t_start;	/* ns, before the first publish */
	_Atomic uint64_t	t_published;	/* ns, last publish call returned */
	_Atomic uint64_t	t_confirmed;	/* ns, flush returned */
	_Atomic uint64_t	lag_max;	/* latency mode: worst lateness, ns */
	_Atomic uint64_t	lag_over_100us;	/* publishes > 100 us late */
	_Atomic uint64_t	claimed;	/* tasks counted by consumers */
	_Atomic uint64_t	stored;		/* ... and their sample stored */
	_Atomic uint64_t	t_end;		/* ns, handler of the N-th task */
	_Atomic uint64_t	inst[MAX_CONS];	/* tasks per consumer instance */
	_Atomic uint64_t	extra;		/* tasks beyond N (redeliveries) */
	/* then, at STATE_HDR: int64_t lat[n] (latency mode) */
};

static struct bench_state *
state_map(const char *path, uint64_t n)
{
	size_t size = STATE_HDR + (size_t)n * sizeof(int64_t);
	struct bench_state *s;
	struct stat st;
	int fd;

	_Static_assert(sizeof(struct bench_state) <= STATE_HDR, "header");
	if ((fd = open(path, O_RDWR | O_CREAT, 0644)) == -1 ||
	    fstat(fd, &st) == -1 ||
	    ((size_t)st.st_size < size && ftruncate(fd, (off_t)size) == -1)) {
		fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	s = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (s == MAP_FAILED) {
		fprintf(stderr, "bench: mmap: %s\n", strerror(errno));
		exit(1);
	}
	close(fd);
	return s;
}

#endif
