#!/usr/bin/env python3
"""A PLBA worker in plain Python: the worker protocol needs no C library.

    worker.py [consume [RECORD]]      handle the tasks of the queue named in
                                      `consumes:`; with RECORD (or the
                                      environment's GREET_RECORD), append
                                      "ID NAME ATTEMPT WORKER.INSTANCE" to
                                      that file for each task handled
    worker.py produce QUEUE N [BAD]   publish N greet tasks (and BAD malformed
                                      ones), then idle until stopped

Run it under plba-master (see plba.yml here): fd 3 is a stream socket to the
master, and every frame on it is a 4-byte big-endian length followed by one
JSON object.  See plba-protocol(7).  When the master collects traces
(platform.trace), each publish starts a trace and each task handled is a
span of its publisher's trace, sent to the master in `trace` messages.
"""

import json
import os
import queue
import re
import signal
import socket
import struct
import sys
import threading
import time

HEADER = struct.Struct("!I")  # the frame length, network byte order
# W3C Trace Context, version 00: trace id, parent span id, flags.
TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")


class ProtocolError(Exception):
    """The master sent something this worker does not understand."""


class InvalidTask(Exception):
    """A task that can never succeed: nacked without retry (dead letter)."""


class Channel:
    """Frames in and out of the socket.  Writes come from two threads (the
    main one and the heartbeat), so each whole frame is sent under a lock."""

    def __init__(self, fd):
        self.sock = socket.socket(fileno=fd)
        self.wlock = threading.Lock()

    def send(self, msg_type, **members):
        # Strings must be valid Unicode.  json.dumps writes a lone
        # surrogate as a \udcXX escape, and the master kills a child for
        # one (plba-protocol(7)): what errors="surrogateescape" leaves for
        # bytes that are not UTF-8, as in sys.argv, os.environ or file
        # names.  Decode such bytes with errors="replace" instead.
        body = json.dumps({"type": msg_type, **members},
                          separators=(",", ":")).encode()
        with self.wlock:
            self.sock.sendall(HEADER.pack(len(body)) + body)

    def _read(self, n):
        """Exactly n bytes, fewer only at the end of the stream."""
        buf = bytearray()
        while len(buf) < n and (chunk := self.sock.recv(n - len(buf))):
            buf += chunk
        return bytes(buf)

    def recv(self):
        """The next message as a dict, or None when the master is gone."""
        header = self._read(HEADER.size)
        if len(header) < HEADER.size:
            return None
        (length,) = HEADER.unpack(header)
        body = self._read(length)
        if len(body) < length:
            raise ProtocolError("channel closed inside a frame")
        msg = json.loads(body)
        if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
            raise ProtocolError("a message without a string \"type\"")
        return msg


class Span:
    """One step of a trace, sent to the master as a record when it ends, in
    the form plba.yml(5) describes for the trace file."""

    def __init__(self, chan, trace_id, parent, sampled, name, kind):
        self.chan = chan
        self.trace_id, self.parent, self.sampled = trace_id, parent, sampled
        self.span_id = os.urandom(8).hex()
        self.name, self.kind = name, kind
        self.attributes = {}
        self.start_ns = time.time_ns()

    def traceparent(self):
        """For the metadata of a task published inside this span."""
        return "00-%s-%s-%s" % (self.trace_id, self.span_id,
                                "01" if self.sampled else "00")

    def end(self, error=None):
        if not self.sampled:
            return
        record = {"trace_id": self.trace_id, "span_id": self.span_id,
                  "name": self.name, "kind": self.kind,
                  "start_ns": str(self.start_ns),
                  "end_ns": str(time.time_ns()),
                  "attributes": self.attributes,
                  "status": {"code": "error", "message": error}
                  if error is not None else {"code": "ok"}}
        if self.parent is not None:
            record["parent_span_id"] = self.parent
        self.chan.send("trace", record=record)


class Tracer:
    """Spans when the master collects traces (welcome's `trace`), else none.
    A new trace is recorded when the last 56 bits of its id are below
    trace_sample x 2^56, as every process decides alike (plba-protocol(7));
    a resumed one when its parent's flags say it is."""

    def __init__(self, chan, welcome):
        self.chan = chan
        self.apply(welcome)

    def apply(self, msg):
        """Takes `trace` and `trace_sample` from welcome, or from a
        `tracing` message when a reload changes them.  Each is one
        assignment, so the reader thread may call this while the main
        thread starts spans."""
        sample = msg.get("trace_sample", 1)
        if not isinstance(sample, (int, float)) or isinstance(sample, bool):
            sample = 1
        self.bound = int(min(max(sample, 0), 1) * (1 << 56))
        self.on = msg.get("trace") is True

    def start(self, name, kind, traceparent=None):
        """A child of TRACEPARENT when it is valid, else a new trace; None
        when tracing is off."""
        if not self.on:
            return None
        m = TRACEPARENT.fullmatch(traceparent) \
            if isinstance(traceparent, str) else None
        if m and m.group(1) != "0" * 32 and m.group(2) != "0" * 16:
            return Span(self.chan, m.group(1), m.group(2),
                        int(m.group(3), 16) & 1 == 1, name, kind)
        trace_id = os.urandom(16).hex()
        return Span(self.chan, trace_id, None,
                    int(trace_id[18:], 16) < self.bound, name, kind)


class Worker:
    """One instance: says hello, beats, and hands the master's messages to
    the main thread through `inbox`, in order."""

    def __init__(self):
        self.chan = Channel(int(os.environ["PLBA_FD"]))
        self.name = os.environ.get("PLBA_WORKER", "python")
        self.instance = int(os.environ.get("PLBA_INSTANCE", "0"))
        # SimpleQueue.put() is reentrant, so the signal handler may use it.
        self.inbox = queue.SimpleQueue()
        self.done = threading.Event()
        # SIGTERM arrives together with the master's stop frame (or alone,
        # from an operator): either way it means "finish and exit".
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.inbox.put({"type": "stop"}))

    def start(self):
        # tracing_updates: a reload that turns tracing on or off reaches
        # this process without a restart.
        self.chan.send("hello", protocol=1, pid=os.getpid(),
                       tracing_updates=True)
        welcome = self.chan.recv()
        if welcome is None or welcome["type"] != "welcome":
            raise ProtocolError("expected welcome, got %r" % (welcome,))
        self.config = welcome.get("config") or {}
        self.tracer = Tracer(self.chan, welcome)
        interval = welcome.get("heartbeat_ms", 1000) / 1000
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._beat, args=(interval,),
                         daemon=True).start()
        self.chan.send("ready")

    def _read(self):
        try:
            while (msg := self.chan.recv()) is not None:
                if msg["type"] == "tracing":
                    self.tracer.apply(msg)
                else:
                    self.inbox.put(msg)
        except (OSError, ValueError, ProtocolError) as e:
            print("%s.%d: %s" % (self.name, self.instance, e), file=sys.stderr)
        self.inbox.put(None)  # end of the channel

    def _beat(self, interval):
        # Any frame proves we are alive; a silent child is killed as hung.
        while not self.done.wait(interval):
            try:
                self.chan.send("heartbeat")
            except OSError:
                return


# --- consuming --------------------------------------------------------------

def greet(payload):
    name = payload.get("name") if isinstance(payload, dict) else None
    if not isinstance(name, str) or not name:
        raise InvalidTask('greet needs a payload {"name": "..."}')
    print("hello " + name, flush=True)
    return name


def item(payload):
    """The tasks of plba-protoworker's produce mode: {"n": integer}."""
    n = payload.get("n") if isinstance(payload, dict) else None
    if not isinstance(n, int) or isinstance(n, bool):
        raise InvalidTask('item needs a payload {"n": integer}')
    return "item-%d" % n


HANDLERS = {"greet": greet, "item": item}


def handle(worker, msg, record):
    """Runs one task and answers it: ack, or nack with retry only when the
    failure may be transient.  With tracing on, the task is a span of its
    publisher's trace, from its traceparent."""
    task = msg["task"]
    meta = task.get("metadata") if isinstance(task.get("metadata"), dict) else {}
    span = worker.tracer.start("process %s" % msg.get("queue"), "consumer",
                               meta.get("traceparent"))
    if span is not None:
        span.attributes.update({"plba.queue": msg.get("queue"),
                                "plba.task.name": task.get("name"),
                                "plba.task.id": msg["id"],
                                "plba.task.attempt": msg["attempt"]})

    def answer(outcome, failure=None, **members):
        worker.chan.send("ack" if failure is None else "nack", id=msg["id"],
                         **members)
        if span is not None:
            span.attributes["plba.task.outcome"] = outcome
            span.end(failure)

    try:
        handler = HANDLERS.get(task.get("name"))
        if handler is None:
            raise InvalidTask("unknown task %r" % task.get("name"))
        who = handler(task.get("payload"))
    except InvalidTask as e:
        answer("nack-dead", str(e), error=str(e), retry=False)
        return
    except Exception as e:  # a bug or an outage: let the queue retry it
        answer("nack-retry", repr(e), error=repr(e), retry=True)
        return
    if record is not None:
        record.write("%s %s %d %s.%d\n" % (msg["id"], who, msg["attempt"],
                                           worker.name, worker.instance))
    answer("ack")


def consume(worker, record_path):
    record = open(record_path, "a", buffering=1) if record_path else None
    while True:
        msg = worker.inbox.get()
        if msg is None:
            return
        if msg["type"] == "task":
            handle(worker, msg, record)
        elif msg["type"] == "stop":
            if msg.get("force"):
                return  # the master puts back what we hold
            break
        elif msg["type"] not in ("published", "rejected"):
            raise ProtocolError("unexpected %r" % msg["type"])
    # A graceful stop: finish the tasks already received, then leave.
    while True:
        try:
            msg = worker.inbox.get_nowait()
        except queue.Empty:
            return
        if msg is None or (msg["type"] == "stop" and msg.get("force")):
            return  # forced while finishing: the master puts back the rest
        if msg["type"] == "task":
            handle(worker, msg, record)


# --- producing --------------------------------------------------------------

def publish(worker, queue_name, name, payload, ref):
    """Publishes one task and waits for its confirmation: a full queue makes
    the master hold it back, which is how a producer is slowed down.  With
    tracing on, each publish begins a trace, carried in the metadata."""
    span = worker.tracer.start("publish %s" % queue_name, "producer")
    metadata = {"traceparent": span.traceparent()} if span else {}
    worker.chan.send("publish", ref=ref, queue=queue_name,
                     task={"name": name, "payload": payload,
                           "metadata": metadata})
    while True:
        msg = worker.inbox.get()
        if msg is None or msg["type"] == "stop":
            return False
        if msg["type"] == "published" and msg["ref"] == ref:
            if span is not None:
                span.attributes["plba.task.id"] = msg.get("id")
                span.end()
            return True
        if msg["type"] == "rejected" and msg["ref"] == ref:
            if span is not None:
                span.end(str(msg.get("error")))
            raise RuntimeError("publish %s rejected: %s"
                               % (ref, msg.get("error")))


def produce(worker, queue_name, count, bad=0):
    tasks = [{"name": "guest-%d" % i} for i in range(count)]
    tasks += [{"nobody": i} for i in range(bad)]  # malformed on purpose
    for i, payload in enumerate(tasks):
        if not publish(worker, queue_name, "greet", payload, str(i)):
            return
    print("produced %d" % len(tasks), flush=True)
    while (msg := worker.inbox.get()) is not None and msg["type"] != "stop":
        pass  # idle until stopped: exiting would only be restarted


def main(argv):
    producing = len(argv) >= 3 and argv[0] == "produce"
    if not producing and argv and argv[0] != "consume":
        print(__doc__, file=sys.stderr)
        return 2
    if "PLBA_FD" not in os.environ:
        print("worker.py: no PLBA_FD: run this under plba-master",
              file=sys.stderr)
        return 2
    worker = Worker()
    worker.start()
    if producing:
        produce(worker, argv[1], int(argv[2]),
                int(argv[3]) if len(argv) > 3 else 0)
    else:
        consume(worker, argv[1] if len(argv) > 1 else
                os.environ.get("GREET_RECORD"))
    worker.done.set()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (OSError, ProtocolError, RuntimeError) as e:
        sys.exit("worker.py: %s" % e)
