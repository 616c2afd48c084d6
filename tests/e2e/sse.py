"""A small Server-Sent Events client on a raw socket (standard library only): the HTTP/1.1
head, chunked transfer decoding, and the event stream format (id, event, data, comments)."""

import socket
import time


class SSE:
    def __init__(self, host, port, path, last_event_id=None, headers=None, timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        h = {"Host": "%s:%d" % (host, port), "Accept": "text/event-stream"}
        if last_event_id is not None:
            h["Last-Event-ID"] = str(last_event_id)
        h.update(headers or {})
        req = "GET %s HTTP/1.1\r\n%s\r\n" % (path, "".join("%s: %s\r\n" % kv for kv in h.items()))
        self.sock.sendall(req.encode())
        self.raw = b""
        self.data = b""      # decoded body not yet parsed into events
        self.comments = []
        self.chunked = False
        self.closed = False
        while b"\r\n\r\n" not in self.raw:
            self._recv(timeout)
        head, self.raw = self.raw.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for l in lines[1:]:
            k, _, v = l.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        self.chunked = self.headers.get("transfer-encoding", "").lower() == "chunked"
        self._decode()

    def _recv(self, timeout):
        self.sock.settimeout(max(timeout, 0.001))
        b = self.sock.recv(65536)
        if not b:
            self.closed = True
            raise EOFError("stream closed")
        self.raw += b

    def _decode(self):
        if not self.chunked:
            self.data += self.raw
            self.raw = b""
            return
        while True:
            i = self.raw.find(b"\r\n")
            if i < 0:
                return
            size = int(self.raw[:i].split(b";")[0], 16)
            if len(self.raw) < i + 2 + size + 2:
                return
            self.data += self.raw[i + 2:i + 2 + size]
            self.raw = self.raw[i + 2 + size + 2:]
            if size == 0:
                self.closed = True
                return

    def next_event(self, timeout=10.0):
        """The next event as {"id", "event", "data"} (comments are collected aside), or None
        when none came in time."""
        deadline = time.time() + timeout
        while True:
            while b"\n\n" in self.data:
                block, self.data = self.data.split(b"\n\n", 1)
                ev = {"id": None, "event": "message", "data": ""}
                data = []
                for line in block.decode().split("\n"):
                    if line.startswith(":"):
                        self.comments.append(line[1:].strip())
                        continue
                    k, _, v = line.partition(":")
                    v = v[1:] if v.startswith(" ") else v
                    if k == "data":
                        data.append(v)
                    elif k in ("id", "event", "retry"):
                        ev[k] = v
                if data:
                    ev["data"] = "\n".join(data)
                    return ev
            left = deadline - time.time()
            if left <= 0:
                return None
            try:
                self._recv(left)
            except socket.timeout:
                return None
            self._decode()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
