"""The main job end to end: hosts, services, bookings and their lifecycle on Jitsi, through
the public API of the real daemon on a fresh store (SPEC §3, §10)."""

import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
from harness import Client, error_lines, main, start_daemon  # noqa: E402


class Lifecycle(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = start_daemon()
        cls.c = Client(cls.d.host, cls.d.port, cls.d.api_key)

    @classmethod
    def tearDownClass(cls):
        errors = error_lines(cls.d.logs())  # normal operation logs no error
        cls.d.close()
        assert not errors, "\n".join(errors)

    def test_worked_example(self):
        c = self.c
        h = fx.host(c, external_id="teacher-42")
        self.assertTrue(h["id"].startswith("hst_"))
        self.assertEqual(h["external_id"], "teacher-42")
        s = fx.service(c, h["id"], settings={"waiting_room": True})
        self.assertTrue(s["id"].startswith("svc_"))
        self.assertTrue(s["settings"]["waiting_room"])
        b = fx.booking(c, s["id"])
        self.assertTrue(b["id"].startswith("bkg_"))
        self.assertEqual(b["status"], "pending")
        self.assertEqual(b["end"], "2026-12-01T15:50:00Z")
        self.assertEqual(b["meeting"]["status"], "none")
        self.assertIsNone(b["meeting"]["join_url"])

        r = c.post("/v1/bookings/%s/confirm" % b["id"])
        self.assertEqual(r.status, 200, r)
        m = r.json["meeting"]
        self.assertEqual(r.json["status"], "confirmed")
        self.assertEqual(m["status"], "ready")
        self.assertEqual(m["platform"], "jitsi")
        self.assertTrue(m["join_url"].startswith("https://meet.jit.si/"), m)
        self.assertTrue(m["host_url"])
        link = m["join_url"]
        # The room is unguessable: far more than a title slug.
        self.assertGreaterEqual(len(link.rsplit("-", 1)[1]), 26)

        r = c.post("/v1/bookings/%s/reschedule" % b["id"], {"start": "2026-12-02T15:00:00Z"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["start"], "2026-12-02T15:00:00Z")
        self.assertEqual(r.json["end"], "2026-12-02T15:50:00Z")
        self.assertEqual(r.json["meeting"]["join_url"], link, "reschedule keeps the link")
        self.assertEqual(r.json["sequence"], 1)
        ics = c.get("/v1/bookings/%s/invite.ics" % b["id"])
        self.assertEqual(ics.status, 200)
        self.assertIn("text/calendar", ics.header("Content-Type"))
        text = ics.body.decode()
        self.assertIn("METHOD:REQUEST", text)
        self.assertIn("SEQUENCE:1", text)
        self.assertIn("DTSTART;TZID=Europe/London:20261202T150000", text)
        unfolded = text.replace("\r\n ", "")
        self.assertIn("LOCATION:" + link, unfolded)
        self.assertIn("CONFERENCE;VALUE=URI", unfolded)

        r = c.post("/v1/bookings/%s/cancel" % b["id"], {"reason": "customer asked"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "cancelled")
        self.assertEqual(r.json["meeting"]["status"], "cancelled")
        self.assertEqual(r.json["cancel_reason"], "customer asked")
        text = c.get("/v1/bookings/%s/invite.ics" % b["id"]).body.decode()
        self.assertIn("METHOD:CANCEL", text)
        self.assertIn("STATUS:CANCELLED", text)
        self.assertIn("SEQUENCE:2", text)

        ev = c.get("/v1/bookings/%s/events" % b["id"]).json["data"]
        types = [e["type"] for e in ev]
        self.assertEqual(types, ["booking.created", "booking.confirmed", "meeting.ready",
                                 "booking.rescheduled", "meeting.updated",
                                 "booking.cancelled", "meeting.cancelled"])
        for e in ev:
            self.assertTrue(e["actor"].startswith("key_"))
            self.assertEqual(e["ip"], "127.0.0.1")

    def test_same_uid_across_versions(self):
        c = self.c
        _, s = fx.setup_jitsi(c)
        b = fx.booking(c, s["id"], status="confirmed")
        self.assertEqual(b["meeting"]["status"], "ready")
        uid1 = [l for l in c.get("/v1/bookings/%s/invite.ics" % b["id"]).body.decode().split("\r\n")
                if l.startswith("UID:")]
        c.post("/v1/bookings/%s/reschedule" % b["id"], {"start": "2026-12-03T10:00:00+01:00"})
        uid2 = [l for l in c.get("/v1/bookings/%s/invite.ics" % b["id"]).body.decode().split("\r\n")
                if l.startswith("UID:")]
        self.assertEqual(uid1, uid2)
        self.assertEqual(len(uid1), 1)

    def test_create_confirmed_and_offset_times(self):
        c = self.c
        _, s = fx.setup_jitsi(c)
        b = fx.booking(c, s["id"], status="confirmed", start="2026-12-01T16:00:00+01:00",
                       end="2026-12-01T16:30:00+01:00")
        self.assertEqual(b["status"], "confirmed")
        self.assertEqual(b["start"], "2026-12-01T15:00:00Z")
        self.assertEqual(b["end"], "2026-12-01T15:30:00Z")
        self.assertEqual(b["duration_minutes"], 30)
        self.assertEqual(b["meeting"]["status"], "ready")

    def test_illegal_transitions(self):
        c = self.c
        _, s = fx.setup_jitsi(c)
        b = fx.booking(c, s["id"])
        r = c.post("/v1/bookings/%s/complete" % b["id"])
        self.assertEqual(r.status, 409)
        self.assertEqual(r.json["error"]["code"], "invalid_transition")
        self.assertIn("pending", r.json["error"]["message"])
        self.assertEqual(c.post("/v1/bookings/%s/reject" % b["id"]).status, 200)
        for action in ("confirm", "cancel", "reject", "complete"):
            r = c.post("/v1/bookings/%s/%s" % (b["id"], action))
            self.assertEqual(r.status, 409, action)
            self.assertIn("rejected", r.json["error"]["message"])
        r = c.post("/v1/bookings/%s/reschedule" % b["id"], {"start": "2026-12-05T10:00:00Z"})
        self.assertEqual(r.status, 409)
        self.assertEqual(c.get("/v1/bookings/%s/invite.ics" % b["id"]).status, 409)

        b = fx.booking(c, s["id"], status="confirmed")
        self.assertEqual(c.post("/v1/bookings/%s/confirm" % b["id"]).status, 409)
        self.assertEqual(c.post("/v1/bookings/%s/complete" % b["id"]).status, 200)
        r = c.post("/v1/bookings/%s/cancel" % b["id"])
        self.assertEqual(r.status, 409)
        self.assertIn("completed", r.json["error"]["message"])

    def test_participants_have_their_own_links(self):
        c = self.c
        _, s = fx.setup_jitsi(c)
        b = fx.booking(c, s["id"], attendees=[{"name": "Alan Turing", "email": "alan@example.test"},
                                             {"name": "Kurt", "email": "kurt@example.test"}])
        r = c.get("/v1/bookings/%s/participants" % b["id"])
        self.assertEqual(r.status, 200)
        people = r.json["data"]
        self.assertEqual([p["role"] for p in people], ["host", "customer", "attendee", "attendee"])
        self.assertTrue(all(p["platform_url"] is None for p in people), "no link before confirm")
        # The gateway links exist from the start, and stay the same after the confirm.
        before = [p["join_url"] for p in people]
        self.assertTrue(all(re.fullmatch(re.escape(self.d.url) + r"/j/[A-Za-z0-9_-]{43}", u)
                            for u in before), before)
        c.post("/v1/bookings/%s/confirm" % b["id"])
        people = c.get("/v1/bookings/%s/participants" % b["id"]).json["data"]
        self.assertEqual([p["join_url"] for p in people], before)
        self.assertEqual(len(set(before)), 4, before)
        links = [p["platform_url"] for p in people]
        self.assertEqual(len(set(links)), 4, links)
        room = c.get("/v1/bookings/%s" % b["id"]).json["meeting"]["join_url"]
        for p in people:
            self.assertTrue(p["platform_url"].startswith(room), p)
            self.assertTrue(p["id"].startswith("prt_"))
        self.assertIn("Alan%20Turing", links[2])

    def test_manual_platform_and_override(self):
        c = self.c
        h = fx.host(c)
        s = fx.service(c, h["id"], platform="manual",
                       settings={"manual_url": "https://rooms.example.test/ada"})
        b = fx.booking(c, s["id"], status="confirmed")
        self.assertEqual(b["meeting"]["join_url"], "https://rooms.example.test/ada")
        r = c.put("/v1/bookings/%s/meeting" % b["id"], {"join_url": "https://other.example.test/x"})
        self.assertEqual(r.status, 200, r)
        m = r.json["meeting"]
        self.assertEqual(m["status"], "ready")
        self.assertEqual(m["join_url"], "https://other.example.test/x")
        self.assertEqual(m["history"][0]["join_url"], "https://rooms.example.test/ada")
        r = c.put("/v1/bookings/%s/meeting" % b["id"], {"join_url": "javascript:alert(1)"})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json["error"]["field"], "join_url")

    def test_regenerate_changes_link_and_keeps_history(self):
        c = self.c
        _, s = fx.setup_jitsi(c)
        b = fx.booking(c, s["id"], status="confirmed")
        old = b["meeting"]["join_url"]
        r = c.post("/v1/bookings/%s/meeting/regenerate" % b["id"])
        self.assertEqual(r.status, 200, r)
        m = r.json["meeting"]
        self.assertEqual(m["status"], "ready")
        self.assertNotEqual(m["join_url"], old)
        self.assertEqual(m["history"][0]["join_url"], old)
        self.assertEqual(m["history"][0]["replaced_because"], "regenerated")
        # Retry is only for failed meetings.
        r = c.post("/v1/bookings/%s/meeting/retry" % b["id"])
        self.assertEqual(r.status, 409)

    def test_permanent_failure_is_visible_and_fallback_is_never_silent(self):
        c = self.c
        h = fx.host(c)
        # A manual service without a link cannot make a meeting: error, visible.
        s = fx.service(c, h["id"], platform="manual")
        b = fx.booking(c, s["id"], status="confirmed")
        self.assertEqual(b["meeting"]["status"], "error")
        self.assertTrue(b["meeting"]["error"]["code"])
        self.assertIn("meeting.failed", [e["type"] for e in
                                         c.get("/v1/bookings/%s/events" % b["id"]).json["data"]])
        # With a fallback the meeting is made elsewhere, and says so.
        s = fx.service(c, h["id"], platform="manual", settings={"fallback": "jitsi"})
        b = fx.booking(c, s["id"], status="confirmed", allow_overlap=True)  # same host, hour
        m = b["meeting"]
        self.assertEqual(m["status"], "ready")
        self.assertTrue(m["fallback_used"])
        self.assertEqual(m["platform"], "jitsi")
        self.assertEqual(m["requested_platform"], "manual")
        self.assertIn("meeting.fallback_used", [e["type"] for e in
                                                c.get("/v1/bookings/%s/events" % b["id"]).json["data"]])

    def test_offline_service_has_no_meeting(self):
        c = self.c
        h = fx.host(c)
        s = fx.service(c, h["id"], is_online=False, platform=None)
        b = fx.booking(c, s["id"], status="confirmed")
        self.assertEqual(b["meeting"]["status"], "none")
        self.assertIsNone(b["meeting"]["platform"])


if __name__ == "__main__":
    main()
