"""Outbound webhooks end to end: a real HTTP receiver (Python's http.server) that answers 500
then 200 gets each event exactly once delivered, with the same webhook-id on every attempt
and a Standard Webhooks signature verified here by an independent implementation (hmac +
base64, per the spec); the delivery log lists every attempt and a delivery can be sent
again; event filters hold; another organization's endpoints never see this one's events; a
slow receiver never slows the API."""

import base64
import hashlib
import hmac
import json
import os

import sys
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixtures as fx  # noqa: E402
import harness  # noqa: E402
from harness import Client, main, start_daemon  # noqa: E402


def verify(secret, headers, body, tolerance=300):
    """Standard Webhooks verification, written from the spec (not meetlink's code)."""
    assert secret.startswith("whsec_")
    key = base64.b64decode(secret[len("whsec_"):])
    msg_id, ts = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(ts)) > tolerance:
        return False
    signed = b"%s.%s.%s" % (msg_id.encode(), ts.encode(), body)
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    for sig in headers["webhook-signature"].split(" "):
        version, _, value = sig.partition(",")
        if version == "v1" and hmac.compare_digest(expected, value.encode()):
            return True
    return False


class Receiver:
    """Records every POST; answers each path from a script of statuses (then 200)."""

    def __init__(self):
        self.requests = []
        self.script = {}
        self.delay = {}
        self.lock = threading.Lock()
        recv = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with recv.lock:
                    steps = recv.script.get(self.path, [])
                    status = steps.pop(0) if steps else 200
                    recv.requests.append((self.path, {k.lower(): v for k, v in
                                                      self.headers.items()}, body))
                time.sleep(recv.delay.get(self.path, 0))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.server.server_address[1], path)

    def on(self, path):
        with self.lock:
            return [(h, b) for p, h, b in self.requests if p == path]

    def wait(self, path, n, timeout=15.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = self.on(path)
            if len(got) >= n:
                return got
            time.sleep(0.05)
        raise AssertionError("%s: expected %d requests, got %d" % (path, n, len(self.on(path))))

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class WebhooksOut(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rx = Receiver()
        cls.d = start_daemon(env={"MEETLINK_RETRY_BASE_MS": "100"})
        cls.a = Client(cls.d.host, cls.d.port, cls.d.api_key)
        cls.b = Client(cls.d.host, cls.d.port, fx.create_key(cls.d, "other-platform"))
        cls.secrets = []

    @classmethod
    def tearDownClass(cls):
        cls.rx.close()
        logs = cls.d.logs()
        cls.d.close()
        for s in cls.secrets:
            assert s not in logs and s[6:] not in logs, "a secret reached the log"

    def endpoint(self, client, path, events=None):
        body = {"url": self.rx.url(path), "description": "test " + path}
        if events is not None:
            body["events"] = events
        r = client.post("/v1/webhook-endpoints", body)
        self.assertEqual(r.status, 201, r)
        self.secrets.append(r.json["secret"])
        return r.json

    def test_retry_signature_log_redeliver_filters_isolation(self):
        a, b, rx = self.a, self.b, self.rx
        rx.script["/a"] = [500]
        ep_a = self.endpoint(a, "/a", ["booking.confirmed"])
        ep_all = self.endpoint(a, "/all")
        ep_other = self.endpoint(b, "/other", ["*"])
        # The secret is shown once: never in a read, a list, or the jobs' payloads.
        for r in (a.get("/v1/webhook-endpoints/" + ep_a["id"]), a.get("/v1/webhook-endpoints")):
            self.assertEqual(r.status, 200)
            self.assertNotIn(ep_a["secret"], r.body.decode())
            self.assertNotIn("secret", r.body.decode())
        # At rest the secret is sealed by the vault (AES-256-GCM), never stored as is.
        stored = [row[0] for row in harness.store_query(self.d.env["MEETLINK_DB"],
                                                        "SELECT secret FROM webhook_endpoints")]
        self.assertGreaterEqual(len(stored), 3)
        for sealed in stored:
            self.assertTrue(sealed.startswith("mlv1:"), sealed[:8])
            for sec in self.secrets:
                self.assertNotIn(sec[6:], sealed)
        # Another organization cannot see or use this one's endpoint.
        self.assertEqual(b.get("/v1/webhook-endpoints/" + ep_a["id"]).status, 404)
        self.assertEqual(b.get("/v1/webhook-endpoints/%s/deliveries" % ep_a["id"]).status, 404)
        self.assertEqual(b.delete("/v1/webhook-endpoints/" + ep_a["id"]).status, 404)
        self.assertEqual([e["id"] for e in b.get("/v1/webhook-endpoints").json["data"]],
                         [ep_other["id"]])

        _, s = fx.setup_jitsi(a)
        bk = fx.booking(a, s["id"], status="confirmed")

        # /a only wants booking.confirmed: first a 500, then the retry gets a 200.
        got = rx.wait("/a", 2)
        (h1, b1), (h2, b2) = got[:2]
        self.assertEqual(h1["webhook-id"], h2["webhook-id"], "the same id on every attempt")
        self.assertTrue(h1["webhook-id"].startswith("msg_"))
        self.assertEqual(b1, b2)
        for h, body in got[:2]:
            self.assertTrue(verify(ep_a["secret"], h, body), h)
            self.assertFalse(verify(ep_all["secret"], h, body), "bound to this endpoint's secret")
            self.assertEqual(h["content-type"], "application/json")
        payload = json.loads(b1)
        self.assertEqual(payload["type"], "booking.confirmed")
        self.assertEqual(payload["data"]["booking"]["id"], bk["id"])
        self.assertIn("timestamp", payload)
        # A tampered body does not verify.
        self.assertFalse(verify(ep_a["secret"], h1, b1.replace(b"confirmed", b"cancelled")))

        # /all gets every event of the booking, in order, each once.
        want = ["booking.created", "booking.confirmed", "meeting.ready"]
        got_all = rx.wait("/all", len(want))
        self.assertEqual([json.loads(body)["type"] for _, body in got_all], want)
        self.assertEqual(len({h["webhook-id"] for h, _ in got_all}), len(want))
        for h, body in got_all:
            self.assertTrue(verify(ep_all["secret"], h, body))

        # The delivery log: one delivery to /a with both attempts.
        def delivered():
            d = a.get("/v1/webhook-endpoints/%s/deliveries" % ep_a["id"]).json["data"]
            return len(d) == 1 and d[0]["state"] == "delivered" and d
        d = fx.wait_for(delivered, what="delivery logged")[0]
        self.assertEqual(d["id"], h1["webhook-id"])
        self.assertEqual(d["event_type"], "booking.confirmed")
        self.assertEqual(d["booking_id"], bk["id"])
        self.assertEqual([x["status"] for x in d["attempts"]], [500, 200])
        self.assertIsNotNone(d["attempts"][0]["error"])
        self.assertIsNone(d["attempts"][1]["error"])
        self.assertTrue(all(x["duration_ms"] >= 0 for x in d["attempts"]))
        self.assertEqual(d["payload"], payload)

        # Redeliver: the same message (same id and body), freshly signed.
        r = a.post("/v1/webhook-endpoints/%s/deliveries/%s/redeliver" % (ep_a["id"], d["id"]))
        self.assertEqual(r.status, 202, r)
        got = rx.wait("/a", 3)
        h3, b3 = got[2]
        self.assertEqual(h3["webhook-id"], d["id"])
        self.assertEqual(b3, b1)
        self.assertTrue(verify(ep_a["secret"], h3, b3))
        d = fx.wait_for(lambda: [x for x in a.get("/v1/webhook-endpoints/%s/deliveries" %
                                                ep_a["id"]).json["data"]
                              if len(x["attempts"]) == 3 and x["state"] == "delivered"],
                     what="third attempt logged")[0]
        # Another organization cannot redeliver it.
        self.assertEqual(b.post("/v1/webhook-endpoints/%s/deliveries/%s/redeliver" %
                                (ep_a["id"], d["id"])).status, 404)

        # The other organization's endpoint saw none of this; its own booking reaches it.
        time.sleep(0.3)
        self.assertEqual(rx.on("/other"), [])
        _, s2 = fx.setup_jitsi(b)
        bk2 = fx.booking(b, s2["id"])
        h, body = rx.wait("/other", 1)[0]
        self.assertEqual(json.loads(body)["data"]["booking"]["id"], bk2["id"])
        self.assertTrue(verify(ep_other["secret"], h, body))
        time.sleep(0.3)
        self.assertEqual(len(rx.on("/a")), 3)
        self.assertEqual(len(rx.on("/all")), 3, "org B's booking never reaches org A")

        # No secret in the jobs' payloads.
        jobs = a.get("/v1/jobs?limit=200").body.decode()
        for sec in self.secrets:
            self.assertNotIn(sec[6:], jobs)

        # A deleted endpoint receives nothing more.
        self.assertEqual(a.delete("/v1/webhook-endpoints/" + ep_all["id"]).status, 200)
        a.post("/v1/bookings/%s/cancel" % bk["id"], {})
        time.sleep(0.5)
        self.assertEqual(len(rx.on("/all")), 3)

    def test_endpoint_change_seen_by_the_next_step(self):
        """The daemon keeps an organization's endpoints in memory: a step that starts after
        an endpoint's create (or delete) was answered must see it, at once."""
        c = Client(self.d.host, self.d.port, fx.create_key(self.d, "endpoint-cache"))
        _, s = fx.setup_jitsi(c)
        fx.booking(c, s["id"])  # the organization's list (empty) is now in memory

        def deliveries(booking_id):
            jobs = c.get("/v1/jobs?limit=200").json["data"]
            return [j["payload"]["endpoint_id"] for j in jobs if j["kind"] == "webhook.deliver"
                    and j["payload"].get("booking_id") == booking_id]

        ep = self.endpoint(c, "/cache")
        bk = fx.booking(c, s["id"])
        self.assertEqual(deliveries(bk["id"]), [ep["id"]])
        self.assertEqual(c.delete("/v1/webhook-endpoints/" + ep["id"]).status, 200)
        bk2 = fx.booking(c, s["id"])
        self.assertEqual(deliveries(bk2["id"]), [])

    def test_slow_receiver_never_slows_the_api(self):
        a, rx = self.a, self.rx
        rx.delay["/slow"] = 2.0
        self.endpoint(a, "/slow", ["booking.created"])
        _, s = fx.setup_jitsi(a)
        fx.booking(a, s["id"])
        rx.wait("/slow", 1)  # a delivery is now being held by the receiver
        t0 = time.time()
        for _ in range(5):
            fx.booking(a, s["id"])
        self.assertLess(time.time() - t0, 1.0)
        rx.wait("/slow", 6, timeout=30)


if __name__ == "__main__":
    main()
