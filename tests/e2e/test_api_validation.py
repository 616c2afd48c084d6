"""Bad input gets a clear 4xx naming the field; idempotency keys; external ids; pagination;
authentication; body limits."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
from harness import Client, main, start_daemon  # noqa: E402


class Validation(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = start_daemon(env={"MEETLINK_MAX_BODY": "16384"})
        cls.c = Client(cls.d.host, cls.d.port, cls.d.api_key)
        cls.h, cls.s = fx.setup_jitsi(cls.c)

    @classmethod
    def tearDownClass(cls):
        cls.d.close()

    def err(self, r, status, field=None, code=None):
        self.assertEqual(r.status, status, r)
        e = r.json["error"]
        self.assertTrue(e["code"] and e["message"], e)
        if field is not None:
            self.assertEqual(e.get("field"), field, e)
        if code is not None:
            self.assertEqual(e["code"], code, e)
        return e

    def booking_body(self, **kw):
        b = {"service_id": self.s["id"], "start": "2026-12-01T15:00:00Z",
             "customer": {"name": "Grace", "email": "grace@example.test"}}
        b.update(kw)
        return b

    def test_malformed_json(self):
        r = self.c.request("POST", "/v1/hosts", raw=b'{"name": "x",',
                           headers={"Content-Type": "application/json"})
        self.err(r, 400, code="invalid_json")
        r = self.c.request("POST", "/v1/hosts", raw=b'[1,2]',
                           headers={"Content-Type": "application/json"})
        self.err(r, 400, code="invalid_json")
        r = self.c.request("POST", "/v1/hosts", raw=b'{"name":"a","name":"b"}',
                           headers={"Content-Type": "application/json"})
        self.err(r, 400, code="invalid_json")

    def test_wrong_types_and_missing_fields(self):
        c = self.c
        self.err(c.post("/v1/hosts", {"name": 5, "email": "a@b.test"}), 400, "name")
        self.err(c.post("/v1/hosts", {"email": "a@b.test"}), 400, "name", "missing_field")
        self.err(c.post("/v1/hosts", {"name": "A", "email": "a@b.test", "colour": "red"}),
                 400, "colour", "unknown_field")
        self.err(c.post("/v1/services", {"host_id": self.h["id"], "name": "x", "is_online": "yes",
                                         "platform": "jitsi", "duration_minutes": 5}),
                 400, "is_online")
        self.err(c.post("/v1/services", {"host_id": self.h["id"], "name": "x", "is_online": True,
                                         "platform": "jitsi", "duration_minutes": 0}),
                 400, "duration_minutes")
        self.err(c.post("/v1/bookings", self.booking_body(attendees=[{"name": "x"}])),
                 400, "attendees[0].email", "missing_field")

    def test_bodyless_actions_refuse_fields(self):
        """The OpenAPI document gives these actions the `Empty` body (no properties,
        additionalProperties false): a field is refused, naming it, and nothing happens."""
        c = self.c
        b = fx.booking(c, self.s["id"])
        for path in ("/v1/bookings/%s/confirm" % b["id"],
                     "/v1/bookings/%s/meeting/retry" % b["id"],
                     "/v1/bookings/%s/meeting/regenerate" % b["id"],
                     "/v1/jobs/job_nonexistent/retry",
                     "/v1/webhook-endpoints/whe_nonexistent/deliveries/msg_nonexistent/redeliver"):
            self.err(c.post(path, {"force": True}), 400, "force", "unknown_field")
        self.assertEqual(c.get("/v1/bookings/%s" % b["id"]).json["status"], "pending")
        events = [e["type"] for e in c.get("/v1/bookings/%s/events" % b["id"]).json["data"]]
        self.assertEqual(events, ["booking.created"])
        # With no body, or {}, they go on to the resource (here: not found / not allowed).
        self.err(c.post("/v1/jobs/job_nonexistent/retry"), 404)
        self.err(c.post("/v1/bookings/%s/meeting/retry" % b["id"], {}), 409)

    def test_unknown_platform_and_online_rules(self):
        c = self.c
        base = {"host_id": self.h["id"], "name": "x", "is_online": True, "duration_minutes": 30}
        self.err(c.post("/v1/services", dict(base, platform="skype")), 400, "platform",
                 "unknown_platform")
        self.err(c.post("/v1/services", base), 400, "platform", "missing_field")
        self.err(c.post("/v1/services", dict(base, is_online=False, platform="jitsi")), 400,
                 "platform")
        self.err(c.post("/v1/services", dict(base, platform="jitsi",
                                             settings={"fallback": "jitsi"})),
                 400, "settings.fallback")
        self.err(c.post("/v1/services", dict(base, platform="jitsi",
                                             settings={"fallback": "icq"})),
                 400, "settings.fallback", "unknown_platform")
        # JaaS needs server keys this daemon was not given.
        self.err(c.post("/v1/services", dict(base, platform="jaas")), 409, "platform",
                 "platform_not_configured")
        self.err(c.post("/v1/services", dict(base, platform="jitsi", host_id="hst_nope")),
                 400, "host_id", "host_not_found")

    def test_times_zones_and_emails(self):
        c = self.c
        self.err(c.post("/v1/bookings", self.booking_body(end="2026-12-01T14:00:00Z")), 400, "end")
        self.err(c.post("/v1/bookings", self.booking_body(end="2026-12-01T15:00:00Z")), 400, "end")
        self.err(c.post("/v1/bookings", self.booking_body(start="2026-12-01 15:00")), 400, "start")
        self.err(c.post("/v1/bookings", self.booking_body(start="2026-12-01T15:00:00")), 400,
                 "start")
        self.err(c.post("/v1/bookings", self.booking_body(start="2026-02-30T15:00:00Z")), 400,
                 "start")
        self.err(c.post("/v1/bookings", self.booking_body(timezone="Mars/Olympus")), 400,
                 "timezone", "invalid_timezone")
        self.err(c.post("/v1/bookings", self.booking_body(timezone="../../etc/passwd")), 400,
                 "timezone", "invalid_timezone")
        self.err(c.post("/v1/hosts", {"name": "A", "email": "a@b.test", "timezone": "Nowhere"}),
                 400, "timezone")
        for bad in ("grace", "grace@", "@example.test", "grace@example", "gr ace@example.test",
                    "a@b@example.test"):
            self.err(c.post("/v1/bookings", self.booking_body(
                customer={"name": "G", "email": bad})), 400, "customer.email", "invalid_email")
        self.err(c.post("/v1/bookings", self.booking_body(service_id="svc_missing")), 400,
                 "service_id", "service_not_found")
        self.err(c.post("/v1/bookings", self.booking_body(status="completed")), 400, "status")
        b = fx.booking(c, self.s["id"])
        self.err(c.post("/v1/bookings/%s/reschedule" % b["id"], {"start": "tomorrow"}), 400, "start")
        self.err(c.post("/v1/bookings/%s/reschedule" % b["id"],
                        {"start": "2026-12-01T15:00:00Z", "end": "2026-12-01T14:00:00Z"}), 400, "end")
        self.err(c.post("/v1/bookings/%s/cancel" % b["id"], {"reason": 42}), 400, "reason")
        self.err(c.get("/v1/bookings?status=bogus"), 400, "status")
        self.err(c.get("/v1/bookings?limit=0"), 400, "limit")
        self.err(c.get("/v1/bookings?limit=abc"), 400, "limit")
        self.err(c.get("/v1/bookings?cursor=not-a-cursor"), 400, "cursor", "invalid_cursor")

    def test_body_size_limit(self):
        big = {"name": "A", "email": "a@b.test", "metadata": {"x": "y" * 20000}}
        r = self.c.post("/v1/hosts", big)
        self.err(r, 413, code="body_too_large")
        # The connection stays usable and nothing was stored.
        self.assertEqual(self.c.get("/healthz").status, 200)

    def test_idempotency_key(self):
        c = self.c
        body = {"name": "Idem Host", "email": "idem@example.test"}
        r1 = c.post("/v1/hosts", body, headers={"Idempotency-Key": "k-host-1"})
        r2 = c.post("/v1/hosts", body, headers={"Idempotency-Key": "k-host-1"})
        self.assertEqual(r1.status, 201)
        self.assertEqual(r2.status, 201)
        self.assertEqual(r1.json["id"], r2.json["id"])
        # The replay is the first answer itself, byte for byte (not a re-rendering).
        self.assertEqual(r1.body, r2.body)
        self.assertIsNone(r1.header("Idempotent-Replayed"))
        self.assertEqual(r2.header("Idempotent-Replayed"), "true")
        r3 = c.post("/v1/hosts", dict(body, name="Other"), headers={"Idempotency-Key": "k-host-1"})
        self.err(r3, 422, "Idempotency-Key", "idempotency_key_reused")
        # Even an invalid body is told about the key first: the key is what is wrong.
        r4 = c.post("/v1/hosts", {"name": 5}, headers={"Idempotency-Key": "k-host-1"})
        self.err(r4, 422, "Idempotency-Key", "idempotency_key_reused")
        listed = c.get("/v1/hosts?limit=200").json["data"]
        self.assertEqual(sum(1 for h in listed if h["name"] == "Idem Host"), 1)
        # A lifecycle POST replays too: the second confirm is not a 409.
        b = fx.booking(c, self.s["id"])
        a1 = c.post("/v1/bookings/%s/confirm" % b["id"], headers={"Idempotency-Key": "conf-1"})
        a2 = c.post("/v1/bookings/%s/confirm" % b["id"], headers={"Idempotency-Key": "conf-1"})
        self.assertEqual((a1.status, a2.status), (200, 200))
        self.assertEqual(a1.json["meeting"]["join_url"], a2.json["meeting"]["join_url"])
        self.assertEqual(a1.body, a2.body)
        self.assertEqual(a1.json["status"], "confirmed")
        self.assertEqual(c.get("/v1/bookings/%s" % b["id"]).json["meeting"]["join_url"],
                         a1.json["meeting"]["join_url"])
        self.assertEqual(c.post("/v1/bookings/%s/confirm" % b["id"]).status, 409)
        self.err(c.post("/v1/hosts", body, headers={"Idempotency-Key": "x" * 300}), 400,
                 "Idempotency-Key")

    def test_external_id_unique_and_filter(self):
        c = self.c
        fx.host(c, external_id="ext-unique-1")
        r = c.post("/v1/hosts", {"name": "B", "email": "b@example.test",
                                 "external_id": "ext-unique-1"})
        self.err(r, 409, "external_id", "external_id_taken")
        found = c.get("/v1/hosts?external_id=ext-unique-1").json["data"]
        self.assertEqual(len(found), 1)
        self.assertEqual(found[0]["external_id"], "ext-unique-1")
        b = fx.booking(c, self.s["id"], external_id="order-77")
        self.assertEqual(c.get("/v1/bookings?external_id=order-77").json["data"][0]["id"], b["id"])
        self.err(c.post("/v1/bookings", self.booking_body(external_id="order-77")), 409,
                 "external_id")

    def test_pagination(self):
        c = self.c
        h = fx.host(c)
        s = fx.service(c, h["id"])
        made = [fx.booking(c, s["id"])["id"] for _ in range(7)]
        seen, cursor, pages = [], None, 0
        while True:
            q = "/v1/bookings?limit=3&service_id=%s" % s["id"]
            if cursor:
                q += "&cursor=" + cursor
            page = c.get(q).json
            pages += 1
            seen += [b["id"] for b in page["data"]]
            self.assertEqual(page["has_more"], page["next_cursor"] is not None)
            cursor = page["next_cursor"]
            if not cursor:
                break
        self.assertEqual(pages, 3)
        self.assertEqual(seen, made, "every booking once, in creation order")
        self.assertEqual(len(c.get("/v1/bookings?status=pending&service_id=%s" % s["id"])
                             .json["data"]), 7)

    def test_patch_and_delete(self):
        c = self.c
        h = fx.host(c)
        r = c.patch("/v1/hosts/%s" % h["id"], {"name": "Ada King", "timezone": "America/New_York"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["name"], "Ada King")
        self.assertEqual(r.json["email"], h["email"])
        self.err(c.patch("/v1/hosts/%s" % h["id"], {"email": "nope"}), 400, "email")
        self.err(c.patch("/v1/hosts/%s" % h["id"], {"name": ""}), 400, "name")
        s = fx.service(c, h["id"])
        r = c.patch("/v1/services/%s" % s["id"], {"duration_minutes": 30,
                                                  "settings": {"waiting_room": True}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["duration_minutes"], 30)
        self.assertTrue(r.json["settings"]["waiting_room"])
        self.err(c.patch("/v1/services/%s" % s["id"], {"platform": None}), 400, "platform")
        self.err(c.delete("/v1/hosts/%s" % h["id"]), 409, code="host_in_use")
        b = fx.booking(c, s["id"])
        self.err(c.delete("/v1/services/%s" % s["id"]), 409, code="service_in_use")
        c.post("/v1/bookings/%s/cancel" % b["id"])
        self.assertEqual(c.delete("/v1/services/%s" % s["id"]).status, 200)
        self.assertEqual(c.get("/v1/services/%s" % s["id"]).status, 404)
        self.assertEqual(c.delete("/v1/hosts/%s" % h["id"]).status, 200)
        # The booking outlives its service and host.
        self.assertEqual(c.get("/v1/bookings/%s" % b["id"]).status, 200)
        self.assertEqual(c.get("/v1/bookings/%s/invite.ics" % b["id"]).status, 200)

    def test_auth_and_unknown_routes(self):
        anon = Client(self.d.host, self.d.port)
        r = anon.get("/v1/hosts")
        self.err(r, 401, code="unauthorized")
        self.assertEqual(r.header("WWW-Authenticate"), "Bearer")
        bad = Client(self.d.host, self.d.port, "mlk_wrong_key_000000000000000")
        self.err(bad.get("/v1/hosts"), 401)
        self.assertEqual(anon.get("/healthz").status, 200)
        self.assertEqual(anon.get("/readyz").json["status"], "ready")
        self.assertEqual(anon.get("/v1/openapi.json").status, 200)
        self.err(self.c.get("/v1/nothing"), 404, code="not_found")
        self.err(self.c.delete("/v1/bookings"), 405, code="method_not_allowed")
        r = self.c.request("POST", "/v1/hosts", raw=b"name=x",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.err(r, 415, code="unsupported_media_type")


if __name__ == "__main__":
    main()
