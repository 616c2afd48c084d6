"""Organization isolation is absolute: org B can neither read nor change anything of org A,
and sees 404 (not 403), so it cannot even learn that an id exists."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
from harness import Client, main, start_daemon  # noqa: E402


class Isolation(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = start_daemon()
        cls.a = Client(cls.d.host, cls.d.port, cls.d.api_key)
        cls.b = Client(cls.d.host, cls.d.port, fx.create_key(cls.d, "other-platform"))

    @classmethod
    def tearDownClass(cls):
        cls.d.close()

    def test_b_cannot_see_or_touch_a(self):
        a, b = self.a, self.b
        h = fx.host(a, external_id="shared-ext")
        s = fx.service(a, h["id"])
        bk = fx.booking(a, s["id"], external_id="order-1", status="confirmed")
        hid, sid, bid = h["id"], s["id"], bk["id"]

        reads = ["/v1/hosts/" + hid, "/v1/services/" + sid, "/v1/bookings/" + bid,
                 "/v1/bookings/%s/participants" % bid, "/v1/bookings/%s/events" % bid,
                 "/v1/bookings/%s/invite.ics" % bid]
        for path in reads:
            r = b.get(path)
            self.assertEqual(r.status, 404, path)
            self.assertNotIn(b"Ada", r.body)
        writes = [("PATCH", "/v1/hosts/" + hid, {"name": "Mallory"}),
                  ("DELETE", "/v1/hosts/" + hid, None),
                  ("PATCH", "/v1/services/" + sid, {"name": "Mallory"}),
                  ("DELETE", "/v1/services/" + sid, None),
                  ("POST", "/v1/bookings/%s/cancel" % bid, {}),
                  ("POST", "/v1/bookings/%s/reschedule" % bid, {"start": "2026-12-09T10:00:00Z"}),
                  ("POST", "/v1/bookings/%s/complete" % bid, {}),
                  ("PUT", "/v1/bookings/%s/meeting" % bid, {"join_url": "https://evil.test/x"}),
                  ("POST", "/v1/bookings/%s/meeting/regenerate" % bid, {})]
        for method, path, body in writes:
            r = b.request(method, path, body=body)
            self.assertEqual(r.status, 404, (method, path, r))
        # Referencing A's objects from B's own writes fails as if they did not exist.
        self.assertEqual(b.post("/v1/services", {"host_id": hid, "name": "x", "is_online": True,
                                                 "platform": "jitsi", "duration_minutes": 5}).status, 400)
        self.assertEqual(b.post("/v1/bookings", {"service_id": sid, "start": "2026-12-01T15:00:00Z",
                                                 "customer": {"email": "m@evil.test"}}).status, 400)
        # Lists and external_id filters are per organization; external ids may repeat across orgs.
        for path in ("/v1/hosts", "/v1/services", "/v1/bookings",
                     "/v1/bookings?external_id=order-1", "/v1/hosts?external_id=shared-ext"):
            self.assertEqual(b.get(path).json["data"], [], path)
        self.assertEqual(fx.host(b, external_id="shared-ext")["external_id"], "shared-ext")
        # Idempotency keys are per organization too: B's reuse of A's key is a fresh request.
        ra = a.post("/v1/hosts", {"name": "A1", "email": "a1@example.test"},
                    headers={"Idempotency-Key": "same-key"})
        rb = b.post("/v1/hosts", {"name": "B1", "email": "b1@example.test"},
                    headers={"Idempotency-Key": "same-key"})
        self.assertEqual((ra.status, rb.status), (201, 201))
        self.assertNotEqual(ra.json["id"], rb.json["id"])
        self.assertEqual(rb.json["name"], "B1")
        # And A's objects are untouched.
        got = a.get("/v1/bookings/" + bid).json
        self.assertEqual(got["status"], "confirmed")
        self.assertEqual(got["meeting"]["join_url"], bk["meeting"]["join_url"])
        self.assertEqual(a.get("/v1/hosts/" + hid).json["name"], "Ada Lovelace")
        self.assertEqual(len(a.get("/v1/hosts?external_id=shared-ext").json["data"]), 1)


if __name__ == "__main__":
    main()
