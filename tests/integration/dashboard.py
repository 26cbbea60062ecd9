#!/usr/bin/env python3
"""A minimal Chrome DevTools Protocol client for dashboard.sh, standard
library only: finds the page over http://127.0.0.1:PORT/json/list, opens its
WebSocket (RFC 6455 by hand: handshake, masked text frames out, plain frames
in) and runs one Runtime.evaluate.

usage: dashboard.py DEVTOOLS_PORT URL_PREFIX EXPRESSION

Prints the value of EXPRESSION (a promise is awaited; a string is printed as
it is, anything else as JSON). Exit status: 0 done, 1 the expression threw,
2 no page whose URL starts with URL_PREFIX yet, 3 protocol trouble.
"""
import base64
import hashlib
import json
import os
import socket
import struct
import sys
import urllib.request

TIMEOUT = 10
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class WebSocket:
    def __init__(self, url):
        assert url.startswith("ws://"), url
        hostport, path = url[5:].split("/", 1)
        host, port = hostport.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=TIMEOUT)
        key = base64.b64encode(os.urandom(16))
        self.sock.sendall(b"GET /" + path.encode() + b" HTTP/1.1\r\n"
                          b"Host: " + hostport.encode() + b"\r\n"
                          b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                          b"Sec-WebSocket-Key: " + key + b"\r\n"
                          b"Sec-WebSocket-Version: 13\r\n\r\n")
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        if not lines[0].startswith(b"HTTP/1.1 101"):
            raise OSError("handshake refused: " + lines[0].decode(errors="replace"))
        want = base64.b64encode(hashlib.sha1(key + GUID).digest())
        if not any(l.lower().startswith(b"sec-websocket-accept:") and
                   l.split(b":", 1)[1].strip() == want for l in lines[1:]):
            raise OSError("handshake: bad Sec-WebSocket-Accept")

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise OSError("connection closed")
        self.buf += chunk

    def _read(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _send(self, opcode, payload):
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def send(self, text):
        self._send(0x1, text.encode())

    def recv(self):
        """The next whole text message; answers pings, fails on close."""
        message = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            payload = self._read(n)
            if mask:
                payload = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
            opcode = b0 & 0x0F
            if opcode == 0x8:
                raise OSError("connection closed by the browser")
            if opcode == 0x9:
                self._send(0xA, payload)
                continue
            if opcode in (0x0, 0x1, 0x2):
                message += payload
                if b0 & 0x80:
                    return message.decode()


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    port, prefix, expression = sys.argv[1:]
    try:
        with urllib.request.urlopen("http://127.0.0.1:%s/json/list" % port,
                                    timeout=TIMEOUT) as r:
            targets = json.load(r)
    except OSError as e:
        print("devtools: %s" % e, file=sys.stderr)
        sys.exit(3)
    pages = [t for t in targets if t.get("type") == "page" and
             t.get("url", "").startswith(prefix) and "webSocketDebuggerUrl" in t]
    if not pages:
        print("no page at %s yet" % prefix, file=sys.stderr)
        sys.exit(2)
    try:
        ws = WebSocket(pages[0]["webSocketDebuggerUrl"])
        ws.send(json.dumps({"id": 1, "method": "Runtime.evaluate", "params": {
            "expression": expression, "awaitPromise": True,
            "returnByValue": True}}))
        while True:
            answer = json.loads(ws.recv())
            if answer.get("id") == 1:
                break
        ws.sock.close()
    except (OSError, ValueError) as e:
        print("devtools: %s" % e, file=sys.stderr)
        sys.exit(3)
    if "error" in answer:
        print("devtools: %s" % answer["error"], file=sys.stderr)
        sys.exit(3)
    result = answer["result"]
    if "exceptionDetails" in result:
        d = result["exceptionDetails"]
        print("page: %s" % d.get("exception", {}).get("description", d.get("text")),
              file=sys.stderr)
        sys.exit(1)
    value = result["result"].get("value")
    print(value if isinstance(value, str) else json.dumps(value))


if __name__ == "__main__":
    main()
