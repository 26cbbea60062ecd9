#!/usr/bin/env python3
"""mpqueue: baseline (b) of bench/queue -- Python's multiprocessing.Queue.

    python3 mpqueue.py N [TAG]

One producer process puts N messages of 100 bytes (bytes objects, each
distinct: an 8-byte counter and 92 bytes of padding) on one
multiprocessing.Queue; one consumer process gets them.  No relay, no acks,
no confirmations.  The producer starts once the consumer is waiting; t_start
is time.monotonic_ns() just before the first put(), t_end is read by the
consumer when it has the N-th message.  Prints one line:

    n=N elapsed_ns=NS msgs_per_s=R

TAG is ignored; bench/queue passes its temporary directory so that it can
find (and clean up) these processes by their command line.
"""
import multiprocessing as mp
import sys
import time

PAYLOAD_LEN = 100


def producer(q, n, ready, t_start):
    pad = b"x" * (PAYLOAD_LEN - 8)
    msgs = (i.to_bytes(8, "little") + pad for i in range(n))
    ready.wait()
    put = q.put
    t_start.value = time.monotonic_ns()
    for m in msgs:
        put(m)
    q.close()
    q.join_thread()  # the feeder thread has written everything


def consumer(q, n, ready, t_end):
    get = q.get
    ready.set()
    for _ in range(n):
        m = get()
        if len(m) != PAYLOAD_LEN:
            raise SystemExit("bad message")
    t_end.value = time.monotonic_ns()


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300000
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    ready = ctx.Event()
    t_start = ctx.Value("q", 0, lock=False)
    t_end = ctx.Value("q", 0, lock=False)
    c = ctx.Process(target=consumer, args=(q, n, ready, t_end), daemon=True)
    p = ctx.Process(target=producer, args=(q, n, ready, t_start), daemon=True)
    c.start()
    p.start()
    p.join()
    c.join()
    if p.exitcode != 0 or c.exitcode != 0 or t_end.value == 0:
        print("mpqueue: a process failed", file=sys.stderr)
        return 1
    el = t_end.value - t_start.value
    print(f"n={n} elapsed_ns={el} msgs_per_s={n * 1e9 / el:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
