"""A real SMTP server for the end-to-end tests: aiosmtpd (Debian's python3-aiosmtpd), run
in the test process on a loopback port, started and stopped by the test. It keeps every
message it accepted, as raw bytes, with its envelope; optionally it requires AUTH."""

import email
import email.policy
import os
import socket
import subprocess
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

ICS_CHECK = os.environ.get("ML_ICS_CHECK") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "tests", "ics_check")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Received:
    def __init__(self, mail_from, rcpt_tos, raw):
        self.mail_from, self.rcpt_tos, self.raw = mail_from, rcpt_tos, raw
        # The standard library's MIME parser, not ours.
        self.msg = email.message_from_bytes(raw, policy=email.policy.default)


class _Handler:
    def __init__(self, box):
        self.box = box

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.box.reject:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.box.lock:
            self.box.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                              envelope.original_content or envelope.content))
        return "250 OK"


class SMTPServer:
    def __init__(self, port=None, user=None, password=None, tls_context=None, reject=()):
        self.port = port or free_port()
        self.user, self.password = user, password
        self.tls_context = tls_context
        self.reject = set(reject)
        self.messages = []
        self.logins = []
        self.lock = threading.Lock()
        self.controller = None

    def _auth(self, server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login.decode() == self.user and
              auth_data.password.decode() == self.password)
        self.logins.append((mechanism, auth_data.login.decode(), ok))
        return AuthResult(success=ok)

    def start(self):
        kw = {}
        if self.user:
            kw = {"authenticator": self._auth, "auth_require_tls": False,
                  "auth_required": True}
        if self.tls_context:
            # STARTTLS offered and required before MAIL: a message proves it was used.
            kw.update(tls_context=self.tls_context, require_starttls=True)
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port,
                                     **kw)
        self.controller.start()
        return self

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None

    def url(self):
        return "smtp://127.0.0.1:%d" % self.port

    def wait(self, n, timeout=15.0):
        """Waits until at least n messages arrived; returns them all."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if len(self.messages) >= n:
                    return list(self.messages)
            time.sleep(0.05)
        with self.lock:
            raise AssertionError("expected %d messages, got %d" % (n, len(self.messages)))

    def take(self, n, timeout=15.0):
        """Waits for n messages and removes them from the box."""
        msgs = self.wait(n, timeout)
        with self.lock:
            del self.messages[:n]
        return msgs[:n]


def self_signed_context(workdir):
    """A TLS server context with a throw-away self-signed certificate (openssl CLI)."""
    import ssl
    key, cert = os.path.join(workdir, "smtp.key"), os.path.join(workdir, "smtp.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def ics_check(ics_text):
    """Parses an invitation with libical (tests/tools/ics_check.c): a dict of lists."""
    out = subprocess.run([ICS_CHECK], input=ics_text.encode(), capture_output=True,
                         check=True).stdout.decode()
    res = {}
    for line in out.splitlines():
        k, v = line.split(":", 1)
        res.setdefault(k, []).append(v)
    return res


def parts(msg):
    """(text, html, calendar part) of a meetlink message, checking its MIME structure."""
    assert msg.get_content_type() == "multipart/mixed", msg.get_content_type()
    top = list(msg.iter_parts())
    alt = top[0]
    assert alt.get_content_type() == "multipart/alternative", alt.get_content_type()
    inner = list(alt.iter_parts())
    assert [p.get_content_type() for p in inner] == ["text/plain", "text/html"], inner
    cal = [p for p in top[1:] if p.get_content_type() == "text/calendar"]
    return inner[0].get_content(), inner[1].get_content(), (cal[0] if cal else None)
