#!/usr/bin/env python3
"""A small OTLP/HTTP JSON trace receiver for the integration tests, standard
library only.

usage: otlp_receiver.py [--slow SECONDS] [--fail N] [--fail-status CODE]
                        PORT OUTPUT

Listens on 127.0.0.1:PORT (0: any free port) and, once listening, prints the
port it has on one line of stdout. Every POST /v1/traces whose body is an
OTLP ExportTraceServiceRequest in the JSON encoding is answered 200, and each
of its spans is appended to OUTPUT as one JSON line:

  {"traceId": "...", "spanId": "...", "parentSpanId": "..." or null,
   "name": "...", "kind": 1, "start": "...", "end": "...",
   "status": {"code": 0, "message": ...}, "attributes": {key: value},
   "events": ["name", ...],
   "resource": {"service.name": "...", "worker": "...", "instance": 0}}

with attribute values decoded (intValue to int, and so on). The lines of one
request are written together and flushed before the answer goes out.

--slow SECONDS   sleep that long before answering each request (the spans
                 are still written afterwards, even if the exporter has
                 timed out and hung up by then: it will send them again);
                 "POST /v1/traces ... answering in N s" goes to stderr as
                 the request arrives
--fail N         answer the first N requests with --fail-status (default
                 503) and write nothing for them
A body that is not OTLP JSON as the spec has it (ids not hex of the right
length, as base64 would be; times or intValue not decimal strings; kinds or
status codes not integers) is answered 400, and the reason goes to stderr so
an encoding mistake fails its test loudly. One line per request goes to
stderr as well: "POST /v1/traces 200 12 spans".
"""
import argparse
import gzip
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")
HEX16 = re.compile(r"^[0-9a-fA-F]{16}$")
DECIMAL = re.compile(r"^-?[0-9]+$")
VALUE_KEYS = ("stringValue", "boolValue", "intValue", "doubleValue",
              "arrayValue", "kvlistValue", "bytesValue")


class BadRequest(Exception):
    pass


def check(cond, what):
    if not cond:
        raise BadRequest(what)


def any_value(v, where):
    check(isinstance(v, dict) and len(v) == 1 and next(iter(v)) in VALUE_KEYS,
          f"{where}: not an AnyValue: {v!r}")
    kind, x = next(iter(v.items()))
    if kind == "stringValue":
        check(isinstance(x, str), f"{where}: stringValue not a string")
        return x
    if kind == "boolValue":
        check(isinstance(x, bool), f"{where}: boolValue not a bool")
        return x
    if kind == "intValue":
        check(isinstance(x, str) and DECIMAL.match(x),
              f"{where}: intValue not a decimal string: {x!r}")
        return int(x)
    if kind == "doubleValue":
        check(isinstance(x, (int, float)) and not isinstance(x, bool),
              f"{where}: doubleValue not a number")
        return float(x)
    if kind == "arrayValue":
        return [any_value(e, where) for e in x.get("values", [])]
    if kind == "kvlistValue":
        return attributes(x.get("values", []), where)
    return x


def attributes(kvs, where):
    check(isinstance(kvs, list), f"{where}: attributes not a list")
    out = {}
    for kv in kvs:
        check(isinstance(kv, dict) and isinstance(kv.get("key"), str),
              f"{where}: attribute without a key")
        out[kv["key"]] = any_value(kv.get("value"), f"{where}.{kv['key']}")
    return out


def nanos(span, key, where):
    x = span.get(key)
    check(isinstance(x, str) and x.isdigit(),
          f"{where}.{key}: not a decimal string: {x!r}")
    return x


def decode(body):
    """The request's spans as output lines; raises BadRequest."""
    check(isinstance(body, dict), "not a JSON object")
    lines = []
    for i, rs in enumerate(body.get("resourceSpans", [])):
        res = attributes(rs.get("resource", {}).get("attributes", []),
                         f"resourceSpans[{i}].resource")
        for j, ss in enumerate(rs.get("scopeSpans", [])):
            for k, sp in enumerate(ss.get("spans", [])):
                w = f"resourceSpans[{i}].scopeSpans[{j}].spans[{k}]"
                tid, sid = sp.get("traceId"), sp.get("spanId")
                pid = sp.get("parentSpanId") or None
                check(isinstance(tid, str) and HEX32.match(tid),
                      f"{w}.traceId: not 32 hex digits: {tid!r}")
                check(isinstance(sid, str) and HEX16.match(sid),
                      f"{w}.spanId: not 16 hex digits: {sid!r}")
                check(pid is None or (isinstance(pid, str) and
                                      HEX16.match(pid)),
                      f"{w}.parentSpanId: not 16 hex digits: {pid!r}")
                check(isinstance(sp.get("name"), str) and sp["name"],
                      f"{w}.name: missing")
                kind = sp.get("kind", 0)
                check(isinstance(kind, int) and 0 <= kind <= 5,
                      f"{w}.kind: not an integer 0-5: {kind!r}")
                status = sp.get("status", {})
                check(isinstance(status.get("code", 0), int),
                      f"{w}.status.code: not an integer")
                events = []
                for e in sp.get("events", []):
                    nanos(e, "timeUnixNano", f"{w}.events")
                    attributes(e.get("attributes", []), f"{w}.events")
                    events.append(e.get("name"))
                lines.append({
                    "traceId": tid.lower(), "spanId": sid.lower(),
                    "parentSpanId": pid.lower() if pid else None,
                    "name": sp["name"], "kind": kind,
                    "start": nanos(sp, "startTimeUnixNano", w),
                    "end": nanos(sp, "endTimeUnixNano", w),
                    "status": {"code": status.get("code", 0),
                               "message": status.get("message")},
                    "attributes": attributes(sp.get("attributes", []), w),
                    "events": events,
                    "resource": res,
                })
    return lines


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr, opts):
        super().__init__(addr, Handler)
        self.opts = opts
        self.lock = threading.Lock()
        self.requests = 0

    def handle_error(self, request, client_address):
        # An exporter that timed out has hung up on a --slow answer: expected.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.answer(200 if self.path == "/healthz" else 404, {})

    def do_POST(self):
        srv, opts = self.server, self.server.opts
        length = self.headers.get("Content-Length")
        if length is None:
            self.answer(411, {"code": 3, "message": "no Content-Length"})
            return
        raw = self.rfile.read(int(length))
        with srv.lock:
            srv.requests += 1
            n = srv.requests
        if opts.slow > 0:
            self.log("...", f"answering in {opts.slow:g} s")
            time.sleep(opts.slow)
        if self.path != "/v1/traces":
            self.answer(404, {"code": 5, "message": "not /v1/traces"})
            return
        if n <= opts.fail:
            self.log(opts.fail_status, "failing on purpose")
            self.answer(opts.fail_status,
                        {"code": 14, "message": "failing on purpose"})
            return
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip()
        try:
            check(ctype == "application/json",
                  f"Content-Type is {ctype!r}, not application/json")
            if self.headers.get("Content-Encoding", "") == "gzip":
                raw = gzip.decompress(raw)
            try:
                body = json.loads(raw)
            except ValueError as e:
                raise BadRequest(f"not JSON: {e}") from None
            lines = decode(body)
        except BadRequest as e:
            self.log(400, str(e))
            self.answer(400, {"code": 3, "message": str(e)})
            return
        with srv.lock, open(opts.output, "a", encoding="utf-8") as f:
            for line in lines:
                f.write(json.dumps(line) + "\n")
        self.log(200, f"{len(lines)} spans")
        self.answer(200, {"partialSuccess": {}})

    def log(self, code, what):
        sys.stderr.write(f"otlp_receiver: POST {self.path} {code} {what}\n")
        sys.stderr.flush()

    def log_message(self, fmt, *args):
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("port", type=int)
    ap.add_argument("output")
    ap.add_argument("--slow", type=float, default=0,
                    help="seconds to wait before each answer")
    ap.add_argument("--fail", type=int, default=0,
                    help="answer the first N requests with an error")
    ap.add_argument("--fail-status", type=int, default=503)
    opts = ap.parse_args()
    srv = Receiver(("127.0.0.1", opts.port), opts)
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
