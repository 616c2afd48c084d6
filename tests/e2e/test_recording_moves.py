"""Recording bots as bookings move (docs/recordings.md), against the sandbox's MeetingBaas:
a booking that goes in_progress (the host joined early, live presence) still gets exactly
one bot, and ending it still takes the bot out or cancels it; a booking moved after its bot
was sent has that bot removed at MeetingBaas and a new one sent for the new time at its
lead, with a key of its own, exactly once with the daemon SIGKILLed while the new bot is
being sent. Asserts what meetlink answers and what the sandbox's MeetingBaas received."""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fixtures  # noqa: E402
import harness  # noqa: E402
import openapi_check  # noqa: E402
from recbase import LEAD, RecordingBase, iso  # noqa: E402


class RecordingMoves(RecordingBase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        e = cls.e
        e.sb_config("zoom", webhook_url=e.d.url + "/webhooks/zoom")
        cls.zhost = fixtures.host(e.c)
        e.connect(cls.zhost["id"], "zoom")

    def mb_calls(self, method, needle):
        return [r for r in self.e.sb_requests(provider="meetingbaas")
                if r["method"] == method and needle in r["path"]]

    def host_joins(self, b):
        mid = self.e.booking(b["id"])["meeting"]["external_id"]
        r = self.e.sbc.post("/zoom/_sandbox/meetings/%s/participants" % mid,
                            {"user_name": "Host", "email": self.zhost["email"]})
        self.assertEqual(r.status, 201, r)
        fixtures.wait_for(lambda: self.e.booking(b["id"])["status"] == "in_progress", 20,
                          "in_progress")

    def end(self, b):
        r = self.c.post("/v1/bookings/%s/end" % b["id"], {})
        self.assertIn(r.status, (200, 202), r)

    def test_1_in_progress_before_the_lead_keeps_its_bot(self):
        svc = self.service(platform="zoom", host=self.zhost)
        b, start = self.book(svc, in_s=LEAD + 8)
        rec = self.recordings(b["id"])[0]
        # The host is in the meeting before the bot is due: the booking is in_progress.
        self.host_joins(b)
        self.assertEqual(self.bots(b["id"]), [])
        self.assertEqual(self.recording(rec["id"])["state"], "scheduled")
        bot = fixtures.wait_for(lambda: self.bots(b["id"]), 20, "the bot")
        time.sleep(1)
        bots = self.bots(b["id"])
        self.assertEqual(len(bots), 1, bots)
        self.assertEqual(bots[0]["meeting_url"], self.e.booking(b["id"])["meeting"]["join_url"])
        self.assertGreaterEqual(bot[0]["created_at"] / 1000.0, start - LEAD - 1)
        rec = self.wait_state(rec["id"], ("joining", "waiting_room", "recording"))
        self.assertEqual(rec["bot_id"], bots[0]["uuid"])
        self.assertEqual(len(self.recordings(b["id"])), 1)
        # Ending the in_progress booking takes the bot out at MeetingBaas.
        self.end(b)
        fixtures.wait_for(lambda: self.mb_calls("DELETE", bots[0]["uuid"]), 20, "the leave")
        self.assertIn("recording.bot_removed", fixtures.wait_for(
            lambda: (lambda ev: ev if "recording.bot_removed" in ev else None)(
                self.events(b["id"])), 20, "bot_removed"))

    def test_2_in_progress_then_ended_before_the_lead_no_bot(self):
        svc = self.service(platform="zoom", host=self.zhost)
        b, start = self.book(svc, in_s=LEAD + 6)
        rec = self.recordings(b["id"])[0]
        self.host_joins(b)
        self.end(b)
        rec = self.wait_state(rec["id"], ("cancelled",), timeout=10)
        # Past the old dispatch time: no bot was ever sent.
        time.sleep(max(0, start - LEAD - time.time()) + 2)
        self.assertEqual(self.bots(b["id"]), [])
        self.assertEqual(self.recording(rec["id"])["state"], "cancelled")

    def test_3_moved_after_its_bot_was_sent_kill_9(self):
        svc = self.service()
        # The first bot is sent at start − lead and joins at the start, 4 s later.
        b, start = self.book(svc, in_s=LEAD + 4)
        old = self.recordings(b["id"])[0]
        bot = fixtures.wait_for(lambda: self.bots(b["id"]), 20, "the first bot")[0]
        self.assertEqual(bot["extra"]["meetlink_key"], "meetlink-%s-g0" % b["id"])
        old = fixtures.wait_for(lambda: (lambda x: x if x["bot_id"] else None)(
            self.recording(old["id"])), 20, "the first bot noted")
        # Moved shortly before the old start (inside the lead): the new bot's create is held
        # by latency, and the daemon is SIGKILLed while it is in flight.
        fid = self.e.fault(provider="meetingbaas", method="POST", path="/meetingbaas/bots*",
                           latency_ms=2500, count=1)
        try:
            new_start = int(time.time()) + LEAD + 4
            r = self.c.post("/v1/bookings/%s/reschedule" % b["id"],
                            {"start": iso(new_start), "allow_overlap": True})
            self.assertIn(r.status, (200, 202), r)
            recs = self.recordings(b["id"])
            self.assertEqual(len(recs), 2, recs)
            self.assertEqual(recs[0]["id"], old["id"])
            self.assertEqual(recs[0]["state"], "cancelled")
            new = recs[1]
            self.assertEqual(new["state"], "scheduled")
            self.assertIsNone(new["bot_id"])
            # The old bot is told to leave at MeetingBaas.
            fixtures.wait_for(lambda: self.mb_calls("DELETE", old["bot_id"]), 20, "the leave")
            # Not before the new start − lead.
            if time.time() < new_start - LEAD - 0.5:
                self.assertEqual(len(self.bots(b["id"])), 1)
            fixtures.wait_for(lambda: self.rec_jobs(new["id"], "running"), 20,
                              "the new dispatch in flight")
            self.assertGreaterEqual(time.time(), new_start - LEAD - 1)
            time.sleep(0.5)
            self.e.restart(kill=True)
            new = fixtures.wait_for(lambda: (lambda x: x if x["bot_id"] else None)(
                self.recording(new["id"])), 30, "the new bot id")
            time.sleep(3)  # the first create's late arrival has been handled too
        finally:
            self.e.sbc.delete("/_sandbox/faults/%d" % fid)
        bots = self.bots(b["id"])
        self.assertEqual(len(bots), 2, bots)
        fresh = [x for x in bots if x["uuid"] != old["bot_id"]]
        self.assertEqual(len(fresh), 1, bots)
        self.assertEqual(fresh[0]["uuid"], new["bot_id"])
        key = fresh[0]["extra"]["meetlink_key"]
        self.assertTrue(key.startswith("meetlink-%s-g" % b["id"]) and key.endswith("-r2"), key)
        # The new bot joins at the new start (made before it: start_time; by an attempt
        # after it, at once), never at the old one.
        self.assertGreaterEqual(fresh[0]["join_at"], new_start * 1000, fresh)
        self.assertEqual(fresh[0]["deduplication_key"], key)
        creates = [x for x in self.mb_calls("POST", "/bots")
                   if x["path"].rstrip("/").endswith("/bots")]
        bodies = [x["body"] if isinstance(x["body"], dict) else json.loads(x["body"])
                  for x in creates]
        mine = [x for x in bodies if x["deduplication_key"] == key]
        self.assertTrue(all(x.get("start_time") in (new_start, None) for x in mine), mine)
        self.assertEqual(self.recording(old["id"])["state"], "cancelled")
        self.assertEqual(len(self.rec_jobs(new["id"])), 1)
        # The new bot lives its life on the new recording; the old one changes nothing.
        # (Its first webhooks may come while the daemon is down, and MeetingBaas's next
        # retries are minutes away: then the reconcile after the booking's end, 60 s on,
        # finds its state.)
        self.wait_state(new["id"], ("joining", "waiting_room", "recording", "processing",
                                    "ready"), timeout=120)
        self.assertEqual(self.recording(old["id"])["state"], "cancelled")
        ev = self.events(b["id"])
        self.assertEqual(ev.count("recording.dispatched"), 2, ev)

    def recorder(self, bid):
        r = self.c.get("/v1/bookings/%s/participants" % bid)
        self.assertEqual(r.status, 200, r)
        openapi_check.validate(self.doc, "GET", "/v1/bookings/{id}/participants", 200, r.json)
        bots = [p for p in r.json["data"] if p["role"] == "recorder"]
        self.assertLessEqual(len(bots), 1, bots)
        return bots[0] if bots else None

    def recorder_in(self, bid, state, timeout=30):
        return fixtures.wait_for(lambda: (lambda p: p if p and p["state"] == state else None)(
            self.recorder(bid)), timeout, "the recorder %s" % state)

    def test_4_the_bot_is_a_known_participant(self):
        svc = self.service()
        b, start = self.book(svc, in_s=LEAD + 30)
        url = self.e.booking(b["id"])["meeting"]["join_url"]
        # The platform's lobby holds the bot until someone admits it (the sandbox's admit).
        r = self.e.sbc.post("/meetingbaas/_sandbox/scripts", {"meeting_url": url,
                                                               "waiting_room_seconds": 600})
        self.assertIn(r.status, (200, 201), r)
        rec = self.recordings(b["id"])[0]
        p = self.recorder(b["id"])
        self.assertEqual((p["id"], p["recording_id"], p["name"], p["state"]),
                         (rec["id"], rec["id"], "Lesson notes", "invited"))
        self.assertIsNone(p["joined_at"])
        # The other participants are as they were.
        people = self.c.get("/v1/bookings/%s/participants" % b["id"]).json["data"]
        self.assertTrue([x for x in people if x["role"] == "host"])
        # Moved so the bot is due now: it joins, and waits in the lobby.
        r = self.c.post("/v1/bookings/%s/reschedule" % b["id"],
                        {"start": iso(int(time.time()) + LEAD), "allow_overlap": True})
        self.assertIn(r.status, (200, 202), r)
        p = self.recorder_in(b["id"], "waiting")
        self.assertEqual(self.recording(rec["id"])["state"], "waiting_room")
        bot = self.bots(b["id"])[0]
        self.assertEqual(bot["status"], "in_waiting_room")
        # Admitted: in the meeting (recording), with the time it came in.
        r = self.e.sbc.post("/meetingbaas/_sandbox/bots/%s/admit" % bot["uuid"], {})
        self.assertIn(r.status, (200, 201), r)
        p = self.recorder_in(b["id"], "in_meeting")
        self.assertTrue(p["joined_at"])
        self.assertIsNone(p["left_at"])
        # The meeting ends: the bot left.
        r = self.e.sbc.post("/meetingbaas/_sandbox/bots/%s/end" % bot["uuid"], {})
        self.assertIn(r.status, (200, 201), r)
        p = self.recorder_in(b["id"], "left")
        self.assertTrue(p["left_at"] >= p["joined_at"])
        # Another organization sees none of it.
        other = harness.Client(self.e.d.host, self.e.d.port,
                               fixtures.create_key(self.e.d, "recorder-other-org"))
        self.assertEqual(other.get("/v1/bookings/%s/participants" % b["id"]).status, 404)


if __name__ == "__main__":
    harness.main()
