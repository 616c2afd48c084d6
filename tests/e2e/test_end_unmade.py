"""Ending (or cancelling) a booking whose remote meeting is not made yet (issue 18 point 3):
POST /v1/bookings/{id}/end while the meeting's create is still queued, or in flight at the
provider, must not leave a meeting at the provider afterwards. A queued create is dropped; a
create the provider acted on is followed by a delete there; exactly once when the daemon is
SIGKILLed in between. Against the sandbox's Zoom (no idempotency of its own: the hardest
case), held by its faults (a 429 with a long Retry-After keeps the create queued;
latency_after_ms lets Zoom make the meeting and hold the answer), asserting what meetlink
answers and what Zoom holds afterwards (no live meeting of the booking). Twilio, whose room
opens lazily, is checked the same way: an open in flight is followed by the room's end. A
cancel racing the create is checked too."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixtures as fx  # noqa: E402
import harness  # noqa: E402
from harness import main  # noqa: E402
from pipeline import Env, twilio_rooms, zoom_meetings  # noqa: E402

CREATE = "/zoom/v2/users/*/meetings"
TWILIO = {"account_sid": "AC00000000000000000000000000000001",
          "api_key_sid": "SK00000000000000000000000000000001",
          "api_key_secret": "SandboxApiKeySecret0000000000001"}
SHARED = getattr(harness, "STORE", "sqlite") != "sqlite"


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class EndUnmade(unittest.TestCase):
    env = {"MEETLINK_PROVIDER_TIMEOUT_MS": "10000"}

    def setUp(self):
        self.e = Env(self.env)
        self.addCleanup(self.e.close)
        self.h = fx.host(self.e.c)
        self.e.connect(self.h["id"], "zoom")
        self.s = fx.service(self.e.c, self.h["id"], platform="zoom")

    def book(self):
        b = fx.booking(self.e.c, self.s["id"], start=iso(time.time() + 3600),
                       status="confirmed", allow_overlap=True)
        self.assertEqual(b["meeting"]["status"], "pending")
        return b

    def creates(self):
        return [q for q in self.e.sb_requests(provider="zoom", method="POST", limit=100000)
                if q["path"].startswith("/zoom/v2/users/") and q["path"].endswith("/meetings")]

    def live(self, bid):
        return zoom_meetings(self.e).get(bid, [])

    def idle(self, bid, timeout=30):
        return fx.wait_for(lambda: (lambda js: js if js and all(
            j["state"] not in ("queued", "running") for j in js) else None)(
                self.e.jobs(booking_id=bid)), timeout, "the booking's jobs to finish")

    def end(self, bid):
        r = self.e.c.post("/v1/bookings/%s/end" % bid, {"reason": "called off"})
        self.assertEqual(r.status, 200, r)
        e = r.json["ended"]
        self.assertEqual(r.json["status"], "completed")
        self.assertEqual((e["method"], e["platform_status"], e["ended_at_platform"]),
                         ("not_made", "ended", True), e)
        self.assertIn("not made at Zoom", e["message"])
        self.assertEqual(r.json["meeting"]["status"], "cancelled")
        return r.json

    def test_queued_create_is_dropped(self):
        # Zoom answers the first create 429 with a minute's Retry-After: it made nothing,
        # and the create waits, queued, for a minute.
        fid = self.e.fault(provider="zoom", method="POST", path=CREATE, status=429,
                           retry_after="60", count=1)
        b = self.book()
        fx.wait_for(lambda: self.creates(), 10, "the first create at Zoom")
        fx.wait_for(lambda: [j for j in self.e.jobs(booking_id=b["id"])
                             if j["kind"] == "meeting.create" and j["state"] == "queued"],
                    10, "the create queued for its retry")
        self.e.sbc.delete("/_sandbox/faults/%d" % fid)
        self.end(b["id"])
        jobs = self.idle(b["id"])  # well within the minute: the delete did not wait for it
        kinds = {j["kind"]: j["state"] for j in jobs}
        self.assertEqual(kinds.get("meeting.create"), "cancelled", jobs)
        self.assertEqual(kinds.get("meeting.delete"), "done", jobs)
        self.assertNotIn("meeting.end", kinds)
        time.sleep(0.5)
        self.assertEqual(len(self.creates()), 1, "no create after the end")
        self.assertEqual(self.live(b["id"]), [])
        b2 = self.e.booking(b["id"])
        self.assertEqual(b2["meeting"]["status"], "cancelled")
        self.assertIsNone(b2["meeting"].get("join_url"))
        types = [x["type"] for x in
                 self.e.c.get("/v1/bookings/%s/events" % b["id"]).json["data"]]
        self.assertEqual(types.count("meeting.ended"), 1, types)

    def test_create_in_flight_is_followed_by_a_delete(self):
        # Zoom makes the meeting and holds its answer 2.5 s: the end comes in between.
        self.e.fault(provider="zoom", method="POST", path=CREATE, latency_after_ms=2500,
                     count=1)
        b = self.book()
        made = fx.wait_for(lambda: self.live(b["id"]), 10, "Zoom made the meeting")
        mid = made[0]["id"]
        self.assertEqual(self.e.booking(b["id"])["meeting"]["status"], "pending",
                         "its answer is still held")
        self.end(b["id"])
        fx.wait_for(lambda: not self.live(b["id"]), 30, "the meeting deleted at Zoom")
        jobs = self.idle(b["id"])
        kinds = {j["kind"]: j["state"] for j in jobs}
        self.assertEqual((kinds.get("meeting.create"), kinds.get("meeting.delete")),
                         ("done", "done"), jobs)
        dels = [q for q in self.e.sb_requests(provider="zoom", method="DELETE", limit=100000)
                if q["path"] == "/zoom/v2/meetings/%s" % mid]
        self.assertEqual(len(dels), 1, dels)
        self.assertEqual(len(self.creates()), 1)
        b2 = self.e.booking(b["id"])
        self.assertEqual((b2["status"], b2["meeting"]["status"]), ("completed", "cancelled"))
        self.assertIs(b2["meeting"].get("deleted_at_provider"), True)

    def test_sigkill_between_the_end_and_the_answer(self):
        # Zoom makes the meeting and holds the answer; the end commits; the daemon dies
        # before the answer arrives. Restarted, the create is not repeated and the meeting
        # it made is found (by its marker) and deleted, once.
        self.e.fault(provider="zoom", method="POST", path=CREATE, latency_after_ms=6000,
                     count=1)
        b = self.book()
        mid = fx.wait_for(lambda: self.live(b["id"]), 10, "Zoom made the meeting")[0]["id"]
        self.end(b["id"])
        self.e.d.kill()
        self.e.restart(kill=False)
        fx.wait_for(lambda: not self.live(b["id"]), 150 if SHARED else 40,
                    "the meeting deleted at Zoom after the restart")
        self.idle(b["id"], 150 if SHARED else 40)
        time.sleep(0.5)
        self.assertEqual(len(self.creates()), 1, "the create was not repeated")
        dels = [q for q in self.e.sb_requests(provider="zoom", method="DELETE", limit=100000)
                if q["path"] == "/zoom/v2/meetings/%s" % mid and q["status"] < 300]
        self.assertEqual(len(dels), 1, dels)
        self.assertEqual(self.live(b["id"]), [])
        types = [x["type"] for x in
                 self.e.c.get("/v1/bookings/%s/events" % b["id"]).json["data"]]
        self.assertEqual(types.count("meeting.ended"), 1, types)
        self.assertEqual(types.count("meeting.deleted"), 1, types)

    def test_cancel_racing_the_create(self):
        # The same race through cancel: a create in flight, then one queued.
        self.e.fault(provider="zoom", method="POST", path=CREATE, latency_after_ms=2500,
                     count=1)
        b = self.book()
        fx.wait_for(lambda: self.live(b["id"]), 10, "Zoom made the meeting")
        r = self.e.c.post("/v1/bookings/%s/cancel" % b["id"])
        self.assertEqual(r.status, 200, r)
        fx.wait_for(lambda: not self.live(b["id"]), 30, "the meeting deleted at Zoom")
        self.idle(b["id"])
        n = len(self.creates())
        fid = self.e.fault(provider="zoom", method="POST", path=CREATE, status=429,
                           retry_after="3", count=1)
        b = self.book()
        fx.wait_for(lambda: len(self.creates()) > n, 10, "the create at Zoom")
        self.e.sbc.delete("/_sandbox/faults/%d" % fid)
        r = self.e.c.post("/v1/bookings/%s/cancel" % b["id"])
        self.assertEqual(r.status, 200, r)
        self.idle(b["id"])
        time.sleep(0.5)
        self.assertEqual(len(self.creates()), n + 1, "no create after the cancel")
        self.assertEqual(self.live(b["id"]), [])


class EndUnopenedTwilio(unittest.TestCase):
    def test_open_in_flight_is_followed_by_the_room_end(self):
        e = Env({"MEETLINK_PROVIDER_TIMEOUT_MS": "10000"})
        self.addCleanup(e.close)
        e.credentials("twilio", TWILIO)
        h = fx.host(e.c)
        s = fx.service(e.c, h["id"], platform="twilio")
        # Starting in a minute: its room opens at once (the lead is ten minutes); Twilio
        # makes it and holds the answer while the end comes.
        e.fault(provider="twilio", method="POST", path="/twilio/v1/Rooms",
                latency_after_ms=2500, count=1)
        b = fx.booking(e.c, s["id"], start=iso(time.time() + 60), status="confirmed")
        name = b["meeting"]["external_id"]
        fx.wait_for(lambda: twilio_rooms(e, {name: b["id"]}).get(b["id"]), 10,
                    "Twilio opened the room")
        r = e.c.post("/v1/bookings/%s/end" % b["id"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["ended"]["method"], "provider")
        fx.wait_for(lambda: e.booking(b["id"])["ended"]["platform_status"] != "pending", 30,
                    "the end settled")
        self.assertEqual(twilio_rooms(e, {name: b["id"]}), {}, "no room in progress")
        st = e.sb_state("twilio")
        rooms = [x for x in st.get("twilio", st)["rooms"].values() if x["unique_name"] == name]
        self.assertEqual([x["status"] for x in rooms], ["completed"])


if __name__ == "__main__":
    main()
