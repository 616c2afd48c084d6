"""A mail server slow to accept a message holds up no other call: libcurl waits for the answer
to a message's end of data on the thread driving the transfer (smtp_done blocks), so mail
runs on the worker's aside loop (src/queue/aside.h), not on the one every provider call and
webhook runs on. Before, a webhook due while a mail waited for its 250 went out only once
that answer came, and a crash in that time sent it (and every call finished meanwhile)
again."""

import json
import os
import sys
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixtures as fx  # noqa: E402
import smtpsink  # noqa: E402
from harness import Client, main, start_daemon  # noqa: E402

HOLD = 6.0  # seconds the server holds each 250


class Receiver:
    def __init__(self):
        self.got = []  # (time, type, booking id)
        lock = threading.Lock()
        got = self.got

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with lock:
                    got.append((time.time(), body["type"], body["data"]["booking"]["id"]))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def when(self, bid):
        for t, _, b in list(self.got):
            if b == bid:
                return t
        return None


class SlowMailServer(unittest.TestCase):
    def test_a_held_250_does_not_hold_back_a_webhook(self):
        sink = smtpsink.Sink(accept_delay=HOLD).start()
        rcv = Receiver()
        d = start_daemon(env={"MEETLINK_SMTP_URL": sink.url(), "MEETLINK_RETRY_BASE_MS": "100",
                              "MEETLINK_SMTP_FROM": "Meet Link <noreply@example.test>"})
        try:
            c = Client(d.host, d.port, d.api_key)
            r = c.post("/v1/webhook-endpoints", {"url": "http://127.0.0.1:%d/h" % rcv.port,
                                                 "events": ["booking.created"]})
            self.assertEqual(r.status, 201, r)
            _, s = fx.setup_jitsi(c)
            a = fx.booking(c, s["id"], status="confirmed")  # two mails, one webhook
            fx.wait_for(lambda: sink.accepting >= 1 and rcv.when(a["id"]), what="a 250 held")
            # A pending booking sends no mail: only its booking.created webhook.
            t0 = time.time()
            b = fx.booking(c, s["id"])
            t = fx.wait_for(lambda: rcv.when(b["id"]), timeout=HOLD + 10, what="the webhook")
            self.assertLess(t - t0, HOLD / 2, "the webhook waited for the mail server's 250")
            self.assertEqual(sink.accepted, [], "the 250s are still held meanwhile")
            sink.wait_accepted(2, timeout=HOLD + 10)
            self.assertEqual(sink.garbage(), [])
        finally:
            d.close()
            sink.stop()
            rcv.srv.shutdown()


if __name__ == "__main__":
    main()
