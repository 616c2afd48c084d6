"""The published OpenAPI document is the contract: drive a realistic flow against the real
daemon (hosts, services, bookings through their whole lifecycle, meetings, lists with
pagination, and the usual mistakes) and validate every answer, status and body, against the
document served at /v1/openapi.json. Every operation of the document must be exercised."""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import openapi_check  # noqa: E402

MAX_BODY = 8192


class Checked:
    """A client that validates each request body and each answer against the document and
    records which (operation, status) pairs were seen."""

    def __init__(self, client, doc, seen):
        self.c, self.doc, self.seen = client, doc, seen

    def call(self, method, template, path, body=None, expect=None, raw=None, headers=None,
             check_request=True):
        if check_request and body is not None and expect is not None and expect < 300:
            openapi_check.validate_request(self.doc, method, template, body)
        r = self.c.request(method, path, body=body, raw=raw, headers=headers)
        if expect is not None and r.status != expect:
            raise AssertionError("%s %s: expected %d, got %d: %s" % (
                method, path, expect, r.status, r.body[:500]))
        ctype = r.header("Content-Type") or ""
        if ctype.startswith("application/json"):
            payload = json.loads(r.body) if r.body else None
        else:
            payload = r.body.decode()
        openapi_check.validate(self.doc, method, template, r.status, payload, ctype)
        self.seen.add((method, template, r.status))
        r.data = payload
        return r

    def get(self, template, path, **kw):
        return self.call("GET", template, path, **kw)

    def post(self, template, path, body=None, **kw):
        return self.call("POST", template, path, body=body, **kw)

    def patch(self, template, path, body=None, **kw):
        return self.call("PATCH", template, path, body=body, **kw)

    def put(self, template, path, body=None, **kw):
        return self.call("PUT", template, path, body=body, **kw)

    def delete(self, template, path, **kw):
        return self.call("DELETE", template, path, **kw)


class OpenAPIConformance(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # A Google OAuth client (never called here) so connect links can be made.
        cls.d = harness.start_daemon(env={
            "MEETLINK_MAX_BODY": str(MAX_BODY),
            "MEETLINK_GOOGLE_CLIENT_ID": "conformance.apps.googleusercontent.com",
            "MEETLINK_GOOGLE_CLIENT_SECRET": "conformance-secret",
            "MEETLINK_ZOOM_WEBHOOK_SECRET": "conformance-zoom-secret"})
        anon = harness.Client(cls.d.host, cls.d.port)
        r = anon.get("/v1/openapi.json")
        assert r.status == 200, r
        cls.doc = json.loads(r.body)
        cls.seen = set()
        cls.api = Checked(harness.Client(cls.d.host, cls.d.port, cls.d.api_key), cls.doc,
                          cls.seen)
        cls.anon = Checked(anon, cls.doc, cls.seen)
        cls.bad = Checked(harness.Client(cls.d.host, cls.d.port, "ml_not_a_key_0000000000"),
                          cls.doc, cls.seen)

    @classmethod
    def tearDownClass(cls):
        cls.d.close()

    def test_0_document(self):
        # The served document is the one in the repository, and it is sound.
        self.assertEqual(self.doc, openapi_check.load())
        self.assertEqual(self.doc["openapi"], "3.1.0")
        ops = openapi_check.check_document(self.doc)
        self.assertGreater(len(ops), 20)
        self.anon.get("/v1/openapi.json", "/v1/openapi.json", expect=200)
        self.anon.get("/healthz", "/healthz", expect=200)
        self.anon.get("/readyz", "/readyz", expect=200)

    def test_1_auth_and_transport_errors(self):
        self.anon.get("/v1/hosts", "/v1/hosts", expect=401)
        r = self.bad.get("/v1/bookings/{id}", "/v1/bookings/bkg_nope", expect=401)
        self.assertEqual(r.header("WWW-Authenticate"), "Bearer")
        self.bad.post("/v1/bookings/{id}/confirm", "/v1/bookings/bkg_nope/confirm", expect=401)
        # A known path with a method it does not take.
        self.api.delete("/v1/bookings/{id}", "/v1/bookings/bkg_x", expect=405)
        self.api.call("PUT", "/v1/hosts", "/v1/hosts", body={}, expect=405)
        # Bodies over the configured size.
        big = {"name": "x" * (MAX_BODY + 100), "email": "a@example.test"}
        self.api.post("/v1/hosts", "/v1/hosts", body=big, expect=413, check_request=False)
        # Malformed JSON, a non-object body, the wrong media type.
        self.api.post("/v1/hosts", "/v1/hosts", raw=b'{"name": ', expect=400,
                      headers={"Content-Type": "application/json"})
        self.api.post("/v1/hosts", "/v1/hosts", raw=b'[1,2]', expect=400,
                      headers={"Content-Type": "application/json"})
        self.api.post("/v1/hosts", "/v1/hosts", raw=b'name=x', expect=415,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})

    def new_host(self, **kw):
        body = {"name": "Ada Lovelace", "email": "ada@example.test",
                "timezone": "Europe/London"}
        body.update(kw)
        return self.api.post("/v1/hosts", "/v1/hosts", body=body, expect=201).data

    def new_service(self, host_id, **kw):
        body = {"host_id": host_id, "name": "Math tutoring", "is_online": True,
                "platform": "jitsi", "duration_minutes": 50, "settings": {"waiting_room": True}}
        body.update(kw)
        return self.api.post("/v1/services", "/v1/services", body=body, expect=201).data

    def new_booking(self, service_id, expect=201, **kw):
        body = {"service_id": service_id, "start": "2026-12-01T15:00:00Z",
                "timezone": "Europe/London", "title": "Math with Ada",
                "customer": {"name": "Grace Hopper", "email": "grace@example.test"},
                "attendees": []}
        body.update(kw)
        return self.api.post("/v1/bookings", "/v1/bookings", body=body, expect=expect).data

    def test_2_hosts(self):
        a = self.api
        h = self.new_host(external_id="teacher-42", metadata={"k": [1, 2]})
        self.assertEqual(h["external_id"], "teacher-42")
        # Idempotency: replay, and reuse with another body.
        body = {"name": "Idem", "email": "idem@example.test"}
        r1 = a.post("/v1/hosts", "/v1/hosts", body=body, expect=201,
                    headers={"Idempotency-Key": "host-idem-1"})
        r2 = a.post("/v1/hosts", "/v1/hosts", body=body, expect=201,
                    headers={"Idempotency-Key": "host-idem-1"})
        self.assertEqual(r1.data, r2.data)
        self.assertEqual(r2.header("Idempotent-Replayed"), "true")
        a.post("/v1/hosts", "/v1/hosts", body={"name": "Other", "email": "o@example.test"},
               expect=422, headers={"Idempotency-Key": "host-idem-1"})
        a.post("/v1/hosts", "/v1/hosts", body=body, expect=400,
               headers={"Idempotency-Key": "k" * 256})
        # Validation errors name the field.
        for bad, field in [({"name": "A", "email": "not-an-email"}, "email"),
                           ({"name": "A", "email": "a@example.test", "timezone": "Mars/Base"},
                            "timezone"),
                           ({"name": "A", "email": "a@example.test", "colour": "red"}, "colour"),
                           ({"name": 7, "email": "a@example.test"}, "name"),
                           ({"email": "a@example.test"}, "name")]:
            r = a.post("/v1/hosts", "/v1/hosts", body=bad, expect=400, check_request=False)
            self.assertEqual(r.data["error"]["field"], field, r.data)
        # external_id is unique per organization.
        a.post("/v1/hosts", "/v1/hosts", body={"name": "B", "email": "b@example.test",
                                               "external_id": "teacher-42"}, expect=409)
        a.get("/v1/hosts/{id}", "/v1/hosts/" + h["id"], expect=200)
        a.get("/v1/hosts/{id}", "/v1/hosts/hst_missing", expect=404)
        r = a.patch("/v1/hosts/{id}", "/v1/hosts/" + h["id"],
                    body={"name": "Ada King", "external_id": None}, expect=200)
        self.assertIsNone(r.data["external_id"])
        a.patch("/v1/hosts/{id}", "/v1/hosts/" + h["id"], body={"email": "bad"}, expect=400,
                check_request=False)
        a.patch("/v1/hosts/{id}", "/v1/hosts/hst_missing", body={"name": "X"}, expect=404)
        a.patch("/v1/hosts/{id}", "/v1/hosts/" + r1.data["id"],
                body={"external_id": "teacher-42-b"}, expect=200)
        a.patch("/v1/hosts/{id}", "/v1/hosts/" + h["id"],
                body={"external_id": "teacher-42-b"}, expect=409)
        # Lists: pagination, filter, bad parameters.
        for i in range(3):
            self.new_host(name="Page %d" % i, email="p%d@example.test" % i)
        seen, cursor, pages = [], None, 0
        while True:
            q = "/v1/hosts?limit=2" + ("&cursor=" + cursor if cursor else "")
            r = a.get("/v1/hosts", q, expect=200)
            seen += [x["id"] for x in r.data["data"]]
            pages += 1
            if not r.data["has_more"]:
                self.assertIsNone(r.data["next_cursor"])
                break
            cursor = r.data["next_cursor"]
        self.assertGreaterEqual(pages, 3)
        self.assertEqual(len(seen), len(set(seen)))
        r = a.get("/v1/hosts", "/v1/hosts?external_id=teacher-42-b", expect=200)
        self.assertEqual(len(r.data["data"]), 1)
        a.get("/v1/hosts", "/v1/hosts?limit=0", expect=400)
        a.get("/v1/hosts", "/v1/hosts?limit=201", expect=400)
        a.get("/v1/hosts", "/v1/hosts?cursor=%21%21garbage", expect=400)
        # Delete: one in use, one free, one gone.
        self.new_service(h["id"])
        a.delete("/v1/hosts/{id}", "/v1/hosts/" + h["id"], expect=409)
        r = a.delete("/v1/hosts/{id}", "/v1/hosts/" + r1.data["id"], expect=200)
        self.assertTrue(r.data["deleted"])
        a.delete("/v1/hosts/{id}", "/v1/hosts/" + r1.data["id"], expect=404)

    def test_3_services(self):
        a = self.api
        h = self.new_host()
        s = self.new_service(h["id"], external_id="svc-1")
        self.assertEqual(s["settings"]["waiting_room"], True)
        off = self.new_service(h["id"], is_online=False, platform=None, name="In person",
                               settings={})
        self.assertIsNone(off["platform"])
        manual = self.new_service(h["id"], platform="manual",
                                  settings={"manual_url": "https://example.test/room",
                                            "passcode": "1234"})
        self.assertEqual(manual["settings"]["manual_url"], "https://example.test/room")
        r = a.patch("/v1/services/{id}", "/v1/services/" + manual["id"],
                    body={"settings": {"passcode": None, "fallback": "jitsi",
                                       "manual_url": None}}, expect=200)
        self.assertIsNone(r.data["settings"]["passcode"])
        self.assertIsNone(r.data["settings"]["manual_url"])
        a.patch("/v1/services/{id}", "/v1/services/" + s["id"],
                body={"settings": {"fallback": "jitsi"}}, expect=400, check_request=False)
        a.patch("/v1/services/{id}", "/v1/services/" + s["id"],
                body={"duration_minutes": 45, "metadata": {"level": "A"}}, expect=200)
        a.patch("/v1/services/{id}", "/v1/services/svc_missing", body={"name": "x"},
                expect=404)
        for bad, status, field in [
                ({"platform": "skype"}, 400, "platform"),
                ({"platform": None}, 400, "platform"),
                ({"duration_minutes": 0}, 400, "duration_minutes"),
                ({"settings": {"volume": 11}}, 400, "settings.volume"),
                ({"settings": {"manual_url": "ftp://x"}}, 400, "settings.manual_url"),
                ({"host_id": "hst_missing"}, 400, "host_id"),
                ({"platform": "google_meet"}, 409, "platform"),
                ({"platform": "jaas"}, 409, "platform"),
                ({"external_id": "svc-1"}, 409, "external_id")]:
            body = {"host_id": h["id"], "name": "X", "is_online": True, "platform": "jitsi",
                    "duration_minutes": 30}
            body.update(bad)
            r = a.post("/v1/services", "/v1/services", body=body, expect=status,
                       check_request=False)
            self.assertEqual(r.data["error"].get("field"), field, r.data)
        a.get("/v1/services/{id}", "/v1/services/" + s["id"], expect=200)
        a.get("/v1/services/{id}", "/v1/services/svc_missing", expect=404)
        r = a.get("/v1/services", "/v1/services?host_id=%s&limit=2" % h["id"], expect=200)
        self.assertTrue(r.data["has_more"])
        r = a.get("/v1/services", "/v1/services?host_id=%s&cursor=%s" % (
            h["id"], r.data["next_cursor"]), expect=200)
        self.assertFalse(r.data["has_more"])
        a.get("/v1/services", "/v1/services?external_id=svc-1", expect=200)
        a.get("/v1/services", "/v1/services?limit=abc", expect=400)
        r = a.delete("/v1/services/{id}", "/v1/services/" + off["id"], expect=200)
        a.delete("/v1/services/{id}", "/v1/services/" + off["id"], expect=404)

    def test_4_booking_lifecycle(self):
        a = self.api
        h = self.new_host()
        s = self.new_service(h["id"])
        b = self.new_booking(s["id"], external_id="order-1",
                             attendees=[{"email": "x@example.test"},
                                        {"name": "Y", "email": "y@example.test",
                                         "timezone": "Europe/Paris", "external_id": "y-1"}],
                             metadata={"order": 1})
        self.assertEqual(b["status"], "pending")
        self.assertEqual(b["meeting"]["status"], "none")
        bid, p = b["id"], "/v1/bookings/" + b["id"]
        a.get("/v1/bookings/{id}", p, expect=200)
        a.get("/v1/bookings/{id}/participants", p + "/participants", expect=200)
        a.get("/v1/bookings/{id}/invite.ics", p + "/invite.ics", expect=200)
        r = a.post("/v1/bookings/{id}/confirm", p + "/confirm", expect=200,
                   headers={"Idempotency-Key": "confirm-" + bid})
        self.assertEqual(r.data["meeting"]["status"], "ready")
        join = r.data["meeting"]["join_url"]
        r2 = a.post("/v1/bookings/{id}/confirm", p + "/confirm", expect=200,
                    headers={"Idempotency-Key": "confirm-" + bid})
        self.assertEqual(r2.header("Idempotent-Replayed"), "true")
        a.post("/v1/bookings/{id}/confirm", p + "/confirm", expect=409)
        a.post("/v1/bookings/{id}/confirm", p + "/confirm", body={"now": True}, expect=400)
        r = a.post("/v1/bookings/{id}/reschedule", p + "/reschedule",
                   body={"start": "2026-12-02T15:00:00Z"}, expect=200)
        self.assertEqual(r.data["meeting"]["join_url"], join)
        self.assertEqual(r.data["sequence"], 1)
        a.post("/v1/bookings/{id}/reschedule", p + "/reschedule",
               body={"start": "2026-12-02T15:00:00Z", "end": "2026-12-02T14:00:00Z"},
               expect=400)
        a.post("/v1/bookings/{id}/reschedule", p + "/reschedule",
               body={"start": "2026-12-03T15:00:00+01:00", "end": "2026-12-03T16:00:00+01:00",
                     "timezone": "Europe/Paris"}, expect=200)
        a.post("/v1/bookings/{id}/reschedule", p + "/reschedule", body={}, expect=400)
        r = a.get("/v1/bookings/{id}/participants", p + "/participants", expect=200)
        self.assertEqual([x["role"] for x in r.data["data"]],
                         ["host", "customer", "attendee", "attendee"])
        self.assertTrue(all(x["join_url"] for x in r.data["data"]))
        self.assertTrue(all(x["platform_url"] for x in r.data["data"]))
        r = a.post("/v1/bookings/{id}/participants", p + "/participants", expect=201,
                   body={"role": "admin", "name": "Ops", "email": "ops@example.test"},
                   headers={"Idempotency-Key": "add-" + bid})
        pid = r.data["id"]
        a.post("/v1/bookings/{id}/participants", p + "/participants", expect=400,
               body={"role": "owner", "name": "X", "email": "x@example.test"})
        a.delete("/v1/bookings/{id}/participants/{participant_id}",
                 p + "/participants/" + pid, expect=200)
        a.delete("/v1/bookings/{id}/participants/{participant_id}",
                 p + "/participants/" + pid, expect=404)
        a.delete("/v1/bookings/{id}/participants/{participant_id}",
                 p + "/participants/" + b["host_participant_id"], expect=409)
        r = a.get("/v1/bookings/{id}/invite.ics", p + "/invite.ics", expect=200)
        self.assertIn("METHOD:REQUEST", r.data)
        r = a.post("/v1/bookings/{id}/meeting/regenerate", p + "/meeting/regenerate",
                   expect=200)
        self.assertNotEqual(r.data["meeting"]["join_url"], join)
        self.assertEqual(len(r.data["meeting"]["history"]), 1)
        r = a.put("/v1/bookings/{id}/meeting", p + "/meeting",
                  body={"join_url": "https://example.test/own-room", "passcode": "42"},
                  expect=200)
        self.assertEqual(r.data["meeting"]["platform"], "manual")
        self.assertEqual(len(r.data["meeting"]["history"]), 2)
        a.put("/v1/bookings/{id}/meeting", p + "/meeting", body={"join_url": "javascript:1"},
              expect=400, check_request=False)
        a.put("/v1/bookings/{id}/meeting", "/v1/bookings/bkg_missing/meeting",
              body={"join_url": "https://example.test/x"}, expect=404)
        a.post("/v1/bookings/{id}/meeting/retry", p + "/meeting/retry", expect=409)
        r = a.post("/v1/bookings/{id}/cancel", p + "/cancel", body={"reason": "customer asked"},
                   expect=200)
        self.assertEqual(r.data["status"], "cancelled")
        self.assertEqual(r.data["meeting"]["status"], "cancelled")
        a.post("/v1/bookings/{id}/cancel", p + "/cancel", expect=409)
        a.post("/v1/bookings/{id}/reschedule", p + "/reschedule",
               body={"start": "2026-12-04T15:00:00Z"}, expect=409)
        a.put("/v1/bookings/{id}/meeting", p + "/meeting",
              body={"join_url": "https://example.test/x"}, expect=409)
        r = a.get("/v1/bookings/{id}/invite.ics", p + "/invite.ics", expect=200)
        self.assertIn("METHOD:CANCEL", r.data)
        r = a.get("/v1/bookings/{id}/participants", p + "/participants", expect=200)
        self.assertTrue(all(x["platform_url"] is None for x in r.data["data"]))
        r = a.get("/v1/bookings/{id}/events", p + "/events", expect=200)
        types = [e["type"] for e in r.data["data"]]
        for t in ("booking.created", "booking.confirmed", "meeting.ready",
                  "booking.rescheduled", "meeting.regenerated", "meeting.updated",
                  "booking.cancelled", "meeting.cancelled"):
            self.assertIn(t, types)
        a.get("/v1/bookings/{id}/events", "/v1/bookings/bkg_missing/events", expect=404)
        a.get("/v1/bookings/{id}/participants", "/v1/bookings/bkg_missing/participants",
              expect=404)
        a.get("/v1/bookings/{id}/invite.ics", "/v1/bookings/bkg_missing/invite.ics",
              expect=404)

    def test_5_more_lifecycles(self):
        a = self.api
        h = self.new_host()
        s = self.new_service(h["id"])
        # Created confirmed, then completed.
        b = self.new_booking(s["id"], status="confirmed", end="2026-12-01T16:00:00Z")
        self.assertEqual(b["meeting"]["status"], "ready")
        p = "/v1/bookings/" + b["id"]
        a.post("/v1/bookings/{id}/reject", p + "/reject", expect=409)
        r = a.post("/v1/bookings/{id}/complete", p + "/complete", body={}, expect=200)
        self.assertEqual(r.data["status"], "completed")
        a.post("/v1/bookings/{id}/complete", p + "/complete", expect=409)
        a.post("/v1/bookings/{id}/meeting/regenerate", p + "/meeting/regenerate", expect=409)
        # Confirmed, then ended for everyone (twice: the same answer).
        b = self.new_booking(s["id"], status="confirmed", end="2026-12-01T16:00:00Z")
        p = "/v1/bookings/" + b["id"]
        r = a.post("/v1/bookings/{id}/end", p + "/end", body={"reason": "done"}, expect=200)
        self.assertEqual((r.data["status"], r.data["ended"]["method"]), ("completed", "gateway"))
        a.post("/v1/bookings/{id}/end", p + "/end", expect=200)
        a.post("/v1/bookings/{id}/end", p + "/end", body={"why": 1}, expect=400)
        a.post("/v1/bookings/{id}/end", "/v1/bookings/bkg_missing/end", expect=404)
        # Pending, then rejected: no invitation.
        b = self.new_booking(s["id"])
        p = "/v1/bookings/" + b["id"]
        a.post("/v1/bookings/{id}/meeting/regenerate", p + "/meeting/regenerate", expect=409)
        a.post("/v1/bookings/{id}/end", p + "/end", expect=409)
        r = a.post("/v1/bookings/{id}/reject", p + "/reject", body={"reason": "full"},
                   expect=200)
        self.assertEqual(r.data["status"], "rejected")
        a.get("/v1/bookings/{id}/invite.ics", p + "/invite.ics", expect=409)
        a.post("/v1/bookings/{id}/reject", "/v1/bookings/bkg_missing/reject", expect=404)
        # A manual service without a link: the meeting fails, retry keeps it visible.
        m = self.new_service(h["id"], platform="manual", settings={})
        b = self.new_booking(m["id"])
        p = "/v1/bookings/" + b["id"]
        r = a.post("/v1/bookings/{id}/confirm", p + "/confirm", expect=200)
        self.assertEqual(r.data["meeting"]["status"], "error")
        self.assertIsInstance(r.data["meeting"]["error"], dict)
        r = a.post("/v1/bookings/{id}/meeting/retry", p + "/meeting/retry", expect=200)
        self.assertEqual(r.data["meeting"]["status"], "error")
        a.post("/v1/bookings/{id}/meeting/retry", "/v1/bookings/bkg_missing/meeting/retry",
               expect=404)
        # A manual link given while pending is used on confirm.
        b = self.new_booking(m["id"])
        p = "/v1/bookings/" + b["id"]
        r = a.put("/v1/bookings/{id}/meeting", p + "/meeting",
                  body={"join_url": "https://example.test/given",
                        "host_url": "https://example.test/given?host=1"}, expect=200)
        self.assertEqual(r.data["meeting"]["status"], "none")
        # The same host and hour as the (confirmed) booking above.
        r = a.post("/v1/bookings/{id}/confirm", p + "/confirm", body={"allow_overlap": True},
                   expect=200)
        self.assertEqual(r.data["meeting"]["status"], "ready")
        a.get("/v1/bookings/{id}/participants", p + "/participants", expect=200)
        # An offline service: no meeting at all.
        off = self.new_service(h["id"], is_online=False, platform=None, name="In person")
        b = self.new_booking(off["id"], customer={"email": "walkin@example.test",
                                                  "timezone": "America/New_York"})
        self.assertIsNone(b["meeting"]["platform"])
        p = "/v1/bookings/" + b["id"]
        # The host's hour is taken by the bookings above (in person too): 409 naming one.
        r = a.post("/v1/bookings/{id}/confirm", p + "/confirm", expect=409)
        self.assertEqual(r.data["error"]["code"], "booking_conflict")
        self.assertTrue(r.data["error"]["conflicting_booking"]["id"].startswith("bkg_"))
        r = a.post("/v1/bookings/{id}/confirm", p + "/confirm", body={"allow_overlap": True},
                   expect=200)
        self.assertEqual(r.data["meeting"]["status"], "none")
        a.get("/v1/bookings/{id}/invite.ics", p + "/invite.ics", expect=200)
        a.get("/v1/bookings/{id}/participants", p + "/participants", expect=200)
        # Its service and host may go once nothing is open; the booking stays readable.
        a.delete("/v1/services/{id}", "/v1/services/" + off["id"], expect=409)
        a.post("/v1/bookings/{id}/cancel", p + "/cancel", expect=200)
        a.delete("/v1/services/{id}", "/v1/services/" + off["id"], expect=200)
        a.get("/v1/bookings/{id}", p, expect=200)
        a.get("/v1/bookings/{id}/participants", p + "/participants", expect=200)
        a.get("/v1/bookings/{id}/invite.ics", p + "/invite.ics", expect=200)
        a.get("/v1/bookings/{id}/events", p + "/events", expect=200)

    def test_6_booking_errors_and_lists(self):
        a = self.api
        h = self.new_host()
        s = self.new_service(h["id"])
        base = {"service_id": s["id"], "start": "2026-12-01T15:00:00Z",
                "customer": {"email": "c@example.test"}}
        for bad, field in [({"start": "tomorrow"}, "start"),
                           ({"end": "2026-12-01T14:00:00Z"}, "end"),
                           ({"end": "2026-12-20T14:00:00Z"}, "end"),
                           ({"timezone": "Nowhere/Land"}, "timezone"),
                           ({"customer": {"email": "nope"}}, "customer.email"),
                           ({"customer": {"name": "No email"}}, "customer.email"),
                           ({"customer": "c@example.test"}, "customer"),
                           ({"attendees": {"email": "a@example.test"}}, "attendees"),
                           ({"attendees": [{"email": "a@example.test", "x": 1}]},
                            "attendees[0].x"),
                           ({"status": "completed"}, "status"),
                           ({"service_id": "svc_missing"}, "service_id"),
                           ({"unknown": 1}, "unknown")]:
            body = dict(base)
            body.update(bad)
            r = a.post("/v1/bookings", "/v1/bookings", body=body, expect=400,
                       check_request=False)
            self.assertEqual(r.data["error"].get("field"), field, r.data)
        body = dict(base)
        del body["start"]
        a.post("/v1/bookings", "/v1/bookings", body=body, expect=400, check_request=False)
        self.new_booking(s["id"], external_id="dup-1")
        a.post("/v1/bookings", "/v1/bookings", body=dict(base, external_id="dup-1"),
               expect=409)
        a.get("/v1/bookings/{id}", "/v1/bookings/bkg_missing", expect=404)
        # Lists with every filter, pagination to the end.
        ids = [self.new_booking(s["id"], start="2027-01-0%dT10:00:00Z" % (i + 1))["id"]
               for i in range(5)]
        got, cursor = [], None
        while True:
            q = "/v1/bookings?limit=2&service_id=%s&start_from=2027-01-01T00:00:00Z" % s["id"]
            r = a.get("/v1/bookings", q + ("&cursor=" + cursor if cursor else ""), expect=200)
            got += [x["id"] for x in r.data["data"]]
            if not r.data["has_more"]:
                break
            cursor = r.data["next_cursor"]
        self.assertEqual(got, ids, "lists follow creation order")
        r = a.get("/v1/bookings", "/v1/bookings?status=pending&host_id=%s"
                  "&start_from=2027-01-02T00:00:00Z&start_to=2027-01-04T00:00:00Z" % h["id"],
                  expect=200)
        self.assertEqual(sorted(x["id"] for x in r.data["data"]), sorted(ids[1:3]))
        a.get("/v1/bookings", "/v1/bookings?external_id=dup-1", expect=200)
        a.get("/v1/bookings", "/v1/bookings?status=bogus", expect=400)
        a.get("/v1/bookings", "/v1/bookings?start_from=yesterday", expect=400)
        a.get("/v1/bookings", "/v1/bookings?start_to=2027-13-01", expect=400)
        a.get("/v1/bookings", "/v1/bookings", expect=200)

    def test_7_jobs(self):
        a = self.api
        r = a.get("/v1/jobs", "/v1/jobs", expect=200)
        for j in r.data["data"]:
            self.assertIn(j["state"], ("queued", "running", "waiting", "done", "failed",
                                       "cancelled"))
        a.get("/v1/jobs", "/v1/jobs?state=failed&limit=5", expect=200)
        a.get("/v1/jobs", "/v1/jobs?state=bogus", expect=400)
        a.post("/v1/jobs/{id}/retry", "/v1/jobs/job_missing/retry", expect=404)

    def test_8_webhooks_and_templates(self):
        a = self.api
        # Endpoints: the secret once, then never again.
        r = a.post("/v1/webhook-endpoints", "/v1/webhook-endpoints",
                   body={"url": "http://127.0.0.1:9/hook", "events": ["booking.*"],
                         "description": "conformance"}, expect=201)
        ep = r.data
        self.assertTrue(ep["secret"].startswith("whsec_"))
        a.post("/v1/webhook-endpoints", "/v1/webhook-endpoints",
               body={"url": "ftp://example.test/x"}, expect=400)
        a.post("/v1/webhook-endpoints", "/v1/webhook-endpoints",
               body={"url": "https://example.test/x", "events": ["nope.thing"]}, expect=400)
        r = a.get("/v1/webhook-endpoints/{id}", "/v1/webhook-endpoints/" + ep["id"], expect=200)
        self.assertNotIn("secret", r.data)
        a.get("/v1/webhook-endpoints/{id}", "/v1/webhook-endpoints/whe_missing", expect=404)
        r = a.get("/v1/webhook-endpoints", "/v1/webhook-endpoints?limit=1", expect=200)
        self.assertNotIn("secret", r.data["data"][0])
        a.get("/v1/webhook-endpoints", "/v1/webhook-endpoints?limit=0", expect=400)
        a.get("/v1/webhook-endpoints/{id}/deliveries",
              "/v1/webhook-endpoints/%s/deliveries" % ep["id"], expect=200)
        a.get("/v1/webhook-endpoints/{id}/deliveries",
              "/v1/webhook-endpoints/whe_missing/deliveries", expect=404)
        a.get("/v1/webhook-endpoints/{id}/deliveries",
              "/v1/webhook-endpoints/%s/deliveries?cursor=bogus" % ep["id"], expect=400)
        # A booking event reaches the (unreachable) endpoint: its delivery gets logged with
        # the failed attempt, and can then be redelivered once it is no longer pending.
        h = self.new_host()
        s = self.new_service(h["id"])
        self.new_booking(s["id"])
        path = "/v1/webhook-endpoints/%s/deliveries" % ep["id"]
        deliveries = []
        for _ in range(100):
            deliveries = a.get("/v1/webhook-endpoints/{id}/deliveries", path,
                               expect=200).data["data"]
            if deliveries and deliveries[0]["attempts"]:
                break
            time.sleep(0.05)
        self.assertTrue(deliveries and deliveries[0]["attempts"], deliveries)
        d = deliveries[0]
        tpl = "/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/redeliver"
        a.post(tpl, "/v1/webhook-endpoints/%s/deliveries/msg_missing/redeliver" % ep["id"],
               expect=404)
        r = a.post(tpl, "/v1/webhook-endpoints/%s/deliveries/%s/redeliver" % (ep["id"], d["id"]))
        self.assertIn(r.status, (202, 409), r.data)
        # Disable, enable and change it; a disabled endpoint's delivery is not redelivered.
        tid = "/v1/webhook-endpoints/{id}"
        r = a.patch(tid, tid.replace("{id}", ep["id"]), body={"enabled": False}, expect=200)
        self.assertEqual(r.data["status"], "disabled")
        self.assertIsNotNone(r.data["disabled_at"])
        a.post(tpl, "/v1/webhook-endpoints/%s/deliveries/%s/redeliver" % (ep["id"], d["id"]),
               expect=409)
        r = a.patch(tid, tid.replace("{id}", ep["id"]),
                    body={"enabled": True, "contact_email": "ops@example.test",
                          "description": None, "events": ["*"]}, expect=200)
        self.assertEqual((r.data["status"], r.data["contact_email"], r.data["description"]),
                         ("enabled", "ops@example.test", None))
        self.assertIsNone(r.data["failing_since"])
        a.patch(tid, tid.replace("{id}", ep["id"]), body={"enabled": "yes"}, expect=400)
        a.patch(tid, tid.replace("{id}", ep["id"]), body={"url": "https://x.test/"}, expect=400)
        a.patch(tid, tid.replace("{id}", ep["id"]), body={"contact_email": "nope"}, expect=400)
        a.patch(tid, "/v1/webhook-endpoints/whe_missing", body={"enabled": True}, expect=404)
        a.delete("/v1/webhook-endpoints/{id}", "/v1/webhook-endpoints/" + ep["id"], expect=200)
        a.delete("/v1/webhook-endpoints/{id}", "/v1/webhook-endpoints/" + ep["id"], expect=404)
        # Templates.
        r = a.get("/v1/templates", "/v1/templates", expect=200)
        self.assertEqual([t["name"] for t in r.data["data"]],
                         ["invitation", "update", "cancellation", "reconnect", "join_now"])
        a.get("/v1/templates/{name}", "/v1/templates/invitation", expect=200)
        a.get("/v1/templates/{name}", "/v1/templates/nope", expect=404)
        body = {"subject": "Hi {{recipient_name}}", "text": "Join {{join_url}}",
                "html": "<p>{{title}}</p>"}
        r = a.put("/v1/templates/{name}", "/v1/templates/update", body=body, expect=200)
        self.assertFalse(r.data["is_default"])
        a.put("/v1/templates/{name}", "/v1/templates/update",
              body=dict(body, text="{{nope}}"), expect=400)
        a.put("/v1/templates/{name}", "/v1/templates/update",
              body={"subject": "x"}, expect=400)
        a.put("/v1/templates/{name}", "/v1/templates/nope", body=body, expect=404)
        r = a.delete("/v1/templates/{name}", "/v1/templates/update", expect=200)
        self.assertTrue(r.data["is_default"])
        a.delete("/v1/templates/{name}", "/v1/templates/nope", expect=404)

    def test_8y_waiting_room_and_organization(self):
        a = self.api
        r = a.get("/v1/organization/settings", "/v1/organization/settings", expect=200)
        self.assertFalse(r.data["waiting_room_default"])
        a.patch("/v1/organization/settings", "/v1/organization/settings",
                body={"waiting_room_default": "yes"}, expect=400)
        r = a.patch("/v1/organization/settings", "/v1/organization/settings",
                    body={"waiting_room_default": True}, expect=200)
        self.assertTrue(r.data["waiting_room_default"])
        a.patch("/v1/organization/settings", "/v1/organization/settings",
                body={"waiting_room_default": False}, expect=200)
        h = self.new_host()
        s = self.new_service(h["id"], settings={"waiting_room": True})
        b = self.new_booking(s["id"], status="confirmed")
        p = "/v1/bookings/" + b["id"]
        r = a.get("/v1/bookings/{id}/waiting-room", p + "/waiting-room", expect=200)
        self.assertEqual((r.data["enabled"], r.data["waiting"]), (True, []))
        a.get("/v1/bookings/{id}/waiting-room", "/v1/bookings/bkg_missing/waiting-room",
              expect=404)
        # (The live stream's 200 is test_presence_live.py's: it never ends.)
        a.get("/v1/bookings/{id}/participants/events",
              "/v1/bookings/bkg_missing/participants/events", expect=404)
        cust = b["customer"]["id"]
        tpl = "/v1/bookings/{id}/participants/{participant_id}/admit"
        # Nobody asked yet: not found; a stranger's id: not found.
        a.post(tpl, p + "/participants/%s/admit" % cust, expect=404)
        a.post(tpl, p + "/participants/prt_missing/admit", expect=404)
        a.post(tpl, p + "/participants/%s/admit" % cust, body={"x": 1}, expect=400)
        rt = "/v1/bookings/{id}/participants/{participant_id}/reject"
        a.post(rt, p + "/participants/%s/reject" % cust, body={"reason": 5}, expect=400)
        a.post(rt, p + "/participants/%s/reject" % cust, body={"reason": "x" * 501},
               expect=400)
        a.post(rt, p + "/participants/%s/reject" % cust, body={"reason": "full"}, expect=404)
        at = "/v1/bookings/{id}/waiting-room/admit-all"
        r = a.post(at, p + "/waiting-room/admit-all", expect=200)
        self.assertEqual(r.data["data"], [])
        a.post(at, "/v1/bookings/bkg_missing/waiting-room/admit-all", expect=404)
        a.post("/v1/bookings/{id}/cancel", p + "/cancel", expect=200)
        a.post(at, p + "/waiting-room/admit-all", expect=409)

    def test_8z_connections_and_credentials(self):
        import subprocess
        a = self.api
        h = self.new_host()
        r = a.post("/v1/hosts/{id}/connect-links", "/v1/hosts/%s/connect-links" % h["id"],
                   body={"platform": "google_meet", "expires_in_minutes": 60}, expect=201)
        self.assertIn("/connect?t=", r.data["url"])
        a.post("/v1/hosts/{id}/connect-links", "/v1/hosts/%s/connect-links" % h["id"],
               body={"platform": "jitsi"}, expect=400, check_request=False)
        a.post("/v1/hosts/{id}/connect-links", "/v1/hosts/%s/connect-links" % h["id"],
               body={"platform": "zoom"}, expect=409)
        a.post("/v1/hosts/{id}/connect-links", "/v1/hosts/hst_missing/connect-links",
               body={"platform": "google_meet"}, expect=404)
        r = a.get("/v1/hosts/{id}/connections", "/v1/hosts/%s/connections" % h["id"], expect=200)
        self.assertEqual(r.data["data"], [])
        a.get("/v1/hosts/{id}/connections", "/v1/hosts/hst_missing/connections", expect=404)
        a.delete("/v1/hosts/{id}/connections/{platform}",
                 "/v1/hosts/%s/connections/google_meet" % h["id"], expect=404)
        # An online service on a platform the host has not connected.
        r = a.post("/v1/services", "/v1/services", body={
            "host_id": h["id"], "name": "Meet", "is_online": True, "platform": "google_meet",
            "duration_minutes": 30}, expect=409)
        self.assertEqual(r.data["error"]["code"], "connection_required")
        self.assertIn("/connect?t=", r.data["error"]["connect_url"])

        a.get("/v1/credentials", "/v1/credentials", expect=200)
        a.get("/v1/credentials/{platform}", "/v1/credentials/jaas", expect=404)
        pem = subprocess.run(["openssl", "genrsa", "2048"], capture_output=True,
                             check=True).stdout.decode()
        body = {"app_id": "vpaas-magic-cookie-x", "key_id": "vpaas-magic-cookie-x/k1",
                "private_key": pem}
        r = a.put("/v1/credentials/{platform}", "/v1/credentials/jaas", body=body, expect=200)
        self.assertEqual(r.data["secret_fields"], ["private_key"])
        a.put("/v1/credentials/{platform}", "/v1/credentials/jaas", body={"app_id": "x"},
              expect=400, check_request=False)
        a.put("/v1/credentials/{platform}", "/v1/credentials/nope", body=body, expect=404,
              check_request=False)
        r = a.get("/v1/credentials/{platform}", "/v1/credentials/jaas", expect=200)
        self.assertNotIn("PRIVATE", json.dumps(r.data))
        a.delete("/v1/credentials/{platform}", "/v1/credentials/jaas", expect=200)
        a.delete("/v1/credentials/{platform}", "/v1/credentials/jaas", expect=404)

    def test_8y_inbound_zoom_webhook(self):
        import hashlib
        import hmac
        secret = b"conformance-zoom-secret"

        def signed(body, ts=None):
            raw = json.dumps(body).encode()
            ts = str(ts or int(time.time()))
            sig = hmac.new(secret, b"v0:" + ts.encode() + b":" + raw, hashlib.sha256)
            return raw, {"Content-Type": "application/json", "x-zm-request-timestamp": ts,
                         "x-zm-signature": "v0=" + sig.hexdigest()}

        raw, h = signed({"event": "endpoint.url_validation", "payload": {"plainToken": "abc"}})
        r = self.anon.post("/webhooks/{platform}", "/webhooks/zoom", raw=raw, headers=h, expect=200)
        want = hmac.new(secret, b"abc", hashlib.sha256).hexdigest()
        self.assertEqual(r.data["encryptedToken"], want)
        ev = {"event": "meeting.deleted", "event_ts": 1,
              "payload": {"account_id": "a", "object": {"id": 12345678901}}}
        raw, h = signed(ev)
        r = self.anon.post("/webhooks/{platform}", "/webhooks/zoom", raw=raw, headers=h, expect=200)
        self.assertEqual((r.data["duplicate"], r.data["reported"]), (False, False))
        r = self.anon.post("/webhooks/{platform}", "/webhooks/zoom", raw=raw, headers=h, expect=200)
        self.assertTrue(r.data["duplicate"])
        h["x-zm-signature"] = "v0=" + "0" * 64
        self.anon.post("/webhooks/{platform}", "/webhooks/zoom", raw=raw, headers=h, expect=401)
        raw, h = signed(ev, ts=int(time.time()) - 3600)
        self.anon.post("/webhooks/{platform}", "/webhooks/zoom", raw=raw, headers=h, expect=401)
        raw, h = signed({"payload": {}})
        self.anon.post("/webhooks/{platform}", "/webhooks/zoom", raw=raw, headers=h, expect=400)

    def test_8x_recordings(self):
        # The whole life of a recording is test_recordings.py's (against the MeetingBaas
        # sandbox); here: the lists, the refusals, and the settings' shapes.
        a = self.api
        h = self.new_host()
        # Recording only where a bot joins: jitsi is refused naming the field.
        r = a.post("/v1/services", "/v1/services", body={
            "host_id": h["id"], "name": "Rec", "is_online": True, "platform": "jitsi",
            "duration_minutes": 30, "settings": {"recording": True}}, expect=400)
        self.assertEqual(r.data["error"]["field"], "settings.recording")
        r = a.post("/v1/services", "/v1/services", body={
            "host_id": h["id"], "name": "Rec", "is_online": True, "platform": "jitsi",
            "duration_minutes": 30,
            "settings": {"recording_options": {"recording_mode": "film"}}}, expect=400,
            check_request=False)
        self.assertEqual(r.data["error"]["field"], "settings.recording_options.recording_mode")
        s = self.new_service(h["id"], settings={"recording_options": {
            "bot_name": "Notes", "dispatch_lead_seconds": 60}})
        self.assertEqual(s["settings"]["recording_options"]["bot_name"], "Notes")
        self.assertEqual(s["settings"]["recording_options"]["recording_mode"], "speaker_view")
        b = self.new_booking(s["id"])
        p = "/v1/bookings/%s/recordings" % b["id"]
        r = a.get("/v1/bookings/{id}/recordings", p, expect=200)
        self.assertEqual(r.data["data"], [])
        a.get("/v1/bookings/{id}/recordings", "/v1/bookings/bkg_missing/recordings",
              expect=404)
        r = a.get("/v1/recordings", "/v1/recordings?state=ready&limit=5", expect=200)
        self.assertEqual(r.data["data"], [])
        a.get("/v1/recordings", "/v1/recordings?state=nope", expect=400)
        a.get("/v1/recordings", "/v1/recordings?created_from=yesterday", expect=400)
        a.get("/v1/recordings/{id}", "/v1/recordings/rec_missing", expect=404)
        a.get("/v1/recordings/{id}/transcript.vtt", "/v1/recordings/rec_missing/transcript.vtt",
              expect=404)
        a.post("/v1/recordings/{id}/retranscribe", "/v1/recordings/rec_missing/retranscribe",
               expect=404)
        a.delete("/v1/recordings/{id}", "/v1/recordings/rec_missing", expect=404)
        # Calendar recordings (their life: test_recordings.py).
        hp = "/v1/hosts/%s/recording-calendars" % h["id"]
        r = a.get("/v1/hosts/{id}/recording-calendars", hp, expect=200)
        self.assertEqual(r.data["data"], [])
        a.get("/v1/hosts/{id}/recording-calendars", "/v1/hosts/hst_missing/recording-calendars",
              expect=404)
        a.post("/v1/hosts/{id}/recording-calendars", hp, body={"platform": "jitsi"},
               expect=400, check_request=False)
        r = a.post("/v1/hosts/{id}/recording-calendars", hp, body={"platform": "google_meet"},
                   expect=409)
        self.assertEqual(r.data["error"]["code"], "connection_required")
        a.delete("/v1/recording-calendars/{id}", "/v1/recording-calendars/rcal_missing",
                 expect=404)
        a.get("/v1/recording-calendars/{id}/events", "/v1/recording-calendars/rcal_x/events",
              expect=404)
        ep = "/v1/recording-calendars/rcal_x/events/ev1/recording"
        a.put("/v1/recording-calendars/{id}/events/{event_id}/recording", ep,
              body={"all_occurrences": True}, expect=404)
        a.delete("/v1/recording-calendars/{id}/events/{event_id}/recording", ep, expect=404)

    def test_9_every_operation_exercised(self):
        ops = set(openapi_check.check_document(self.doc))
        done = {(m, t) for (m, t, _) in self.seen}
        missing = sorted(ops - done)
        self.assertEqual(missing, [], "operations of the document never exercised")


if __name__ == "__main__":
    harness.main()
