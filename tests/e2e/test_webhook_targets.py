"""SSRF defence for webhook endpoints, end to end, with no traffic to any address but the
loopback listeners this test opens.

- With private targets off (production), creating an endpoint for a loopback, private,
  link-local or metadata address in any notation, or with credentials in the URL, answers
  400 naming `url`; nothing is stored.
- An endpoint already stored for a loopback listener (made while private targets were
  allowed, as an endpoint whose name later resolves to a private address would be) is
  refused at connect time once the daemon runs with them off: the listener sees no
  connection at all, the delivery log says refused, with no status and nothing the
  listener could have answered."""

import os
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixtures as fx  # noqa: E402
from harness import Client, main, start_daemon  # noqa: E402

ISSUE_URLS = [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://10.0.0.1/hook",
    "http://localhost/hook",
    "http://localhost:8080/hook",
    "http://127.1/hook",
    "http://0177.0.0.1/hook",
    "http://2130706433/hook",
    "http://0x7f000001/hook",
    "http://127.0.0.1/hook",
    "http://[::1]/hook",
    "http://[::ffff:169.254.169.254]/hook",
    "http://[fd00::1]/hook",
    "http://100.64.0.1/hook",
    "http://192.168.1.1/hook",
    "http://0.0.0.0/hook",
]
CREDENTIAL_URLS = [
    "http://user:pass@127.0.0.1/hook",
    "https://user:pass@platform.example/hook",
]


class Listener:
    """A raw TCP listener on 127.0.0.1 that counts connections (it answers nothing)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                c, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.accepted += 1
            try:
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret")
            except OSError:
                pass
            c.close()

    def close(self):
        self.running = False
        self.thread.join(2)
        self.sock.close()


class WebhookTargets(unittest.TestCase):
    def test_refused_at_creation(self):
        d = start_daemon(env={"MEETLINK_ALLOW_PRIVATE_TARGETS": "0"})
        try:
            a = Client(d.host, d.port, d.api_key)
            for url in ISSUE_URLS:
                r = a.post("/v1/webhook-endpoints", {"url": url})
                self.assertEqual(r.status, 400, (url, r))
                self.assertEqual(r.json["error"]["field"], "url", url)
                self.assertEqual(r.json["error"]["code"], "forbidden_target", url)
            for url in CREDENTIAL_URLS:
                r = a.post("/v1/webhook-endpoints", {"url": url})
                self.assertEqual(r.status, 400, (url, r))
                self.assertEqual(r.json["error"]["field"], "url", url)
                self.assertIn("credentials", r.json["error"]["message"])
            self.assertEqual(a.get("/v1/webhook-endpoints").json["data"], [])
            # A public name is still accepted (nothing is sent: no event happens).
            r = a.post("/v1/webhook-endpoints", {"url": "https://platform.example/hooks"})
            self.assertEqual(r.status, 201, r)
        finally:
            d.close()

    def test_refused_at_connect_time(self):
        lst = Listener()
        d = start_daemon(env={"MEETLINK_RETRY_BASE_MS": "100"})
        try:
            a = Client(d.host, d.port, d.api_key)
            url = "http://127.0.0.1:%d/hook" % lst.port
            r = a.post("/v1/webhook-endpoints", {"url": url, "events": ["booking.created"]})
            self.assertEqual(r.status, 201, r)
            ep = r.json
            # The same store, now in production mode.
            d.stop()
            d.env["MEETLINK_ALLOW_PRIVATE_TARGETS"] = "0"
            d.start()
            a = Client(d.host, d.port, d.api_key)
            _, s = fx.setup_jitsi(a)
            fx.booking(a, s["id"])

            def logged():
                got = a.get("/v1/webhook-endpoints/%s/deliveries" % ep["id"]).json["data"]
                return got and got[0]["state"] == "failed" and got[0]
            dl = fx.wait_for(logged, what="a refused delivery")
            self.assertEqual(len(dl["attempts"]), 1, dl)
            att = dl["attempts"][0]
            self.assertIsNone(att["status"])
            self.assertIn("refused", att["error"])
            self.assertIn("loopback", att["error"])
            self.assertNotIn("secret", str(dl))
            self.assertNotIn("127.0.0.1", att["error"])
            time.sleep(0.5)
            self.assertEqual(lst.accepted, 0, "the listener saw a connection")
        finally:
            d.close()
            lst.close()


if __name__ == "__main__":
    main()
