"""A small upstream for the http-probe test, on loopback.

GET /mode/NAME switches how /probe answers: ok (200), fail (503),
slow (200 after 600 ms), redirect (302 to /elsewhere), big (200 with a
1 MiB body).  Every request to /probe is logged to LOG as
"METHOD X-Probe-header".  The chosen port is written to PORTFILE.
Usage: http_server.py PORTFILE LOG
"""
import http.server
import os
import sys
import time

mode = "ok"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, code, body=b"", extra=()):
        self.send_response(code)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_probe(self):
        with open(sys.argv[2], "a") as log:
            log.write("%s %s\n" % (self.command, self.headers.get("X-Probe", "-")))
        if mode == "fail":
            self.answer(503, b"down\n")
        elif mode == "slow":
            time.sleep(0.6)
            self.answer(200, b"slow\n")
        elif mode == "redirect":
            self.answer(302, b"", [("Location", "/elsewhere")])
        elif mode == "big":
            self.answer(200, b"x" * (1 << 20))
        else:
            self.answer(200, b"ok\n")

    def do_GET(self):
        global mode
        if self.path.startswith("/mode/"):
            mode = self.path[len("/mode/"):]
            self.answer(200, b"mode set\n")
        elif self.path == "/probe":
            self.handle_probe()
        else:
            self.answer(404, b"no\n")

    def do_HEAD(self):
        if self.path == "/probe":
            self.handle_probe()
        else:
            self.answer(404)


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a probe that stops reading a big body resets the connection


server = Server(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % server.server_address[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
