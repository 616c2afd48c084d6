"""An SMTP sink that keeps every byte a client sent, per connection (aiosmtpd, Debian's
python3-aiosmtpd, on a loopback port): the shutdown test and `make chaos` read the raw
session to find protocol garbage (a stray `.` or any line that is not a command outside
DATA), and count accepted messages by Message-ID. It can be slow to answer DATA (the 354),
which keeps transfers in flight when the daemon is stopped, and slow to accept a message (the
250 to its end of data)."""

import asyncio
import email
import email.policy
import re
import socket
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

COMMANDS = {b"EHLO", b"HELO", b"MAIL", b"RCPT", b"DATA", b"QUIT", b"RSET", b"NOOP",
            b"STARTTLS", b"AUTH", b"VRFY", b"HELP"}
MSGID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.I | re.M)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class _Lines:
    """What one client sent, read as SMTP as it arrives: lines outside DATA that are not
    commands are kept (the raw bytes too, with keep_raw)."""

    def __init__(self, keep_raw):
        self.raw = bytearray() if keep_raw else None
        self.partial = b""
        self.in_data = False
        self.stray = []

    def feed(self, data):
        if self.raw is not None:
            self.raw += data
        lines = (self.partial + data).split(b"\r\n")
        # The last piece has no CRLF yet: a line cut by a closed connection is not a line.
        self.partial = lines.pop()
        for line in lines:
            if self.in_data:
                if line == b".":
                    self.in_data = False
                continue
            verb = line.split(b" ", 1)[0].upper()
            if verb not in COMMANDS:
                self.stray.append(line[:80])
            elif verb == b"DATA":
                self.in_data = True


class _Session(SMTP):
    def __init__(self, handler, sink, **kw):
        super().__init__(handler, **kw)
        self._sink = sink
        self._conn = sink._new_conn()

    def data_received(self, data):
        with self._sink.lock:
            self._conn.feed(data)
        super().data_received(data)

    async def smtp_DATA(self, arg):
        with self._sink.lock:
            self._sink.data_commands += 1
        if self._sink.data_delay:
            await asyncio.sleep(self._sink.data_delay)
        return await super().smtp_DATA(arg)


class _Handler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content or b""
        if self.sink.accept_delay:
            with self.sink.lock:
                self.sink.accepting += 1
            await asyncio.sleep(self.sink.accept_delay)
        if self.sink.on_accept:
            self.sink.on_accept(list(envelope.rcpt_tos), raw)
        else:
            with self.sink.lock:
                self.sink.accepted.append((list(envelope.rcpt_tos), raw))
        return "250 OK"


class _Controller(Controller):
    def __init__(self, sink, **kw):
        self.sink = sink
        super().__init__(_Handler(sink), **kw)

    def factory(self):
        return _Session(self.handler, self.sink, **self.SMTP_kwargs)


class Sink:
    """on_accept(recipients, raw): called for each message accepted instead of keeping it."""

    def __init__(self, port=None, data_delay=0.0, keep_raw=True, on_accept=None,
                 accept_delay=0.0):
        self.port = port or free_port()
        self.data_delay = data_delay      # before the 354 to DATA
        self.accept_delay = accept_delay  # before the 250 to the end of data
        self.accepting = 0                # messages whose 250 is being held
        self.keep_raw = keep_raw
        self.on_accept = on_accept
        self.lock = threading.Lock()
        self.conns = []        # what each client connection sent (_Lines)
        self.accepted = []     # (recipients, raw message) per 250 to an end of data
        self.data_commands = 0
        self.controller = None

    def _new_conn(self):
        c = _Lines(self.keep_raw)
        with self.lock:
            self.conns.append(c)
        return c

    def stray_lines(self):
        with self.lock:
            return ["connection %d: stray line %r" % (n, line)
                    for n, c in enumerate(self.conns) for line in c.stray]

    def start(self):
        self.controller = _Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None

    def url(self):
        return "smtp://127.0.0.1:%d" % self.port

    def garbage(self):
        """Every line a client sent outside DATA that is not an SMTP command, and every
        message accepted that is not a whole meetlink message, as readable strings."""
        bad = self.stray_lines()
        with self.lock:
            accepted = list(self.accepted)
        for rcpt, raw in accepted:
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            if not MSGID.search(raw) or not msg.is_multipart() or \
                    len(list(msg.iter_parts())) < 2:
                bad.append("accepted a broken message for %s (%d bytes)" % (rcpt, len(raw)))
        return bad

    def message_ids(self):
        """Message-ID → how many times the server accepted it."""
        out = {}
        with self.lock:
            for _, raw in self.accepted:
                m = MSGID.search(raw)
                key = m.group(1).decode() if m else None
                out[key] = out.get(key, 0) + 1
        return out

    def wait_accepted(self, n, timeout=20.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if len(self.accepted) >= n:
                    return
            time.sleep(0.05)
        raise AssertionError("expected %d accepted messages, got %d" % (n, len(self.accepted)))
