"""Recordings of calendar bots (docs/recordings.md, "Calendar recordings"), against the
sandbox's MeetingBaas: a host's registered calendar, an event recorded through meetlink; the
bot MeetingBaas sends to it reports its outcome, which becomes a recording of the host's in
GET /v1/recordings (linked to the booking whose meeting the event is), with its transcript
(JSON and WebVTT) and recording.ready / transcript.ready out; a failed calendar bot is a
failed recording; repeated, late, forged and other organizations' webhooks change nothing.
Asserts what meetlink answers and what the sandbox's MeetingBaas received."""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fixtures  # noqa: E402
import harness  # noqa: E402
from recbase import MB_KEY, Receiver, RecordingBase, iso  # noqa: E402


class CalendarRecordings(RecordingBase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.e.sb_config("meetingbaas", calendar_join_lead_seconds=1)

    def calendar(self):
        # (MeetingBaas integrates a calendar once: the tests share it.)
        if not getattr(type(self), "cal", None):
            r = self.c.post("/v1/hosts/%s/recording-calendars" % self.host["id"],
                            {"platform": "google_meet"})
            self.assertEqual(r.status, 201, r)
            type(self).cal = r.json
        return type(self).cal

    def event(self, cal, url, in_s=3, name="Lesson"):
        t = time.time() + in_s
        r = self.e.sbc.post("/meetingbaas/_sandbox/calendars/%s/events" % cal["external_id"], {
            "name": name, "start_time": iso(t), "end_time": iso(t + 600), "meeting_url": url})
        self.assertIn(r.status, (200, 201), r)
        ev = r.json.get("uuid") or r.json.get("data", {}).get("uuid")
        self.assertTrue(ev, r.json)
        p = "/v1/recording-calendars/%s/events/%s/recording" % (cal["id"], ev)
        r = self.c.put(p, {"recording_options": {"bot_name": "Calendar notes"}})
        self.assertEqual(r.status, 200, r)
        return ev

    def host_recordings(self, **q):
        qs = "&".join("%s=%s" % kv for kv in q.items())
        r = self.c.get("/v1/recordings?host_id=%s%s" % (self.host["id"], "&" + qs if qs else ""))
        self.assertEqual(r.status, 200, r)
        return r.json["data"]

    def calendar_bot(self, ev):
        def find():
            return [b for b in self.bots() if b.get("event_uuid") == ev or
                    b.get("event_id") == ev or
                    (b.get("extra") or {}).get("meetlink_calendar") and ev in json.dumps(b)]
        return fixtures.wait_for(find, 20, "the calendar's bot")[0]

    def test_1_calendar_bot_recording_linked_to_its_booking(self):
        cal = self.calendar()
        # A booking of the host on Google Meet (its service does not record): the calendar
        # event is that booking's meeting.
        s = fixtures.service(self.c, self.host["id"], platform="google_meet",
                             duration_minutes=30)
        b = self.e.book(s["id"], start=iso(int(time.time()) + 5)).json
        b = self.e.wait_meetings([b["id"]])[0]
        url = b["meeting"]["join_url"]
        # MeetingBaas sends the bot's complete twice.
        fid = self.e.fault(provider="meetingbaas", direction="out", event="complete",
                           duplicate=True, count=1)
        ev = self.event(cal, url)
        bot = self.calendar_bot(ev)
        # What MeetingBaas was asked: the event's bot, tagged with the calendar, reporting
        # to meetlink.
        self.assertEqual(bot["extra"], {"meetlink_calendar": cal["external_id"]})
        self.assertTrue(bot["webhook_url"].endswith("/webhooks/meetingbaas"), bot)
        self.assertEqual(bot["meeting_url"], url)
        rec = fixtures.wait_for(lambda: [x for x in self.host_recordings()
                                         if x["bot_id"] == bot["uuid"]], 40, "the recording")[0]
        self.assertEqual(rec["source"], "calendar")
        self.assertEqual(rec["calendar_id"], cal["id"])
        self.assertEqual(rec["calendar_event_id"], ev)
        rec = self.wait_state(rec["id"], ("ready",), timeout=40)
        self.assertEqual(rec["booking_id"], b["id"])
        self.assertEqual(rec["meeting_id"], b["meeting"]["id"])
        self.assertEqual(rec["host_id"], self.host["id"])
        self.assertTrue(rec["media_url"])
        self.assertTrue(rec["transcript"] and rec["transcript"][0]["words"])
        self.assertEqual(rec["transcript_state"], "ready")
        type(self).ready = rec
        self.assertTrue(any("meeting_data" in r["path"] and bot["uuid"] in r["path"] +
                            json.dumps(r.get("query") or "")
                            for r in self.e.sb_requests(provider="meetingbaas")))
        r = self.c.get("/v1/recordings/%s/transcript.vtt" % rec["id"])
        self.assertEqual(r.status, 200, r)
        self.assertIn("<v %s>" % rec["transcript"][0]["speaker"], r.body.decode())
        self.assertIn(rec["id"], [x["id"] for x in self.recordings(b["id"])])
        self.assertIn(rec["id"], [x["id"] for x in self.host_recordings(state="ready")])
        fixtures.wait_for(
            lambda: {e["type"] for e in Receiver.events
                     if e["data"].get("id") == rec["id"]} >= {"recording.ready",
                                                                "transcript.ready"},
            15, "recording.ready and transcript.ready")
        # The complete came twice (handled once: below), then a late status and a failed
        # after it (reordered), a forged one: nothing changes.
        sent = self.e.sbc.get("/meetingbaas/_sandbox/webhooks?event=complete&bot_id=" +
                              bot["uuid"]).json["webhooks"]
        self.e.sbc.delete("/_sandbox/faults/%d" % fid)
        self.assertEqual(len(sent), 1, sent)
        self.assertEqual((sent[0]["fault"] or {}).get("kind"), "duplicated", sent)
        fixtures.wait_for(lambda: len(sent[0]["attempts"]) >= 2 or len(
            self.e.sbc.get("/meetingbaas/_sandbox/webhooks?event=complete&bot_id=" +
                           bot["uuid"]).json["webhooks"][0]["attempts"]) >= 2, 10,
            "both deliveries answered")
        late = {"event": "bot.status_change", "data": {
            "bot_id": bot["uuid"], "status": {"code": "joining_call",
                                              "created_at": "2026-01-01T00:00:00Z"}}}
        self.assertEqual(self.hook(late).status, 200)
        failed = {"event": "failed", "data": {
            "bot_id": bot["uuid"], "event_uuid": ev, "error": "BotRemoved", "message": "x",
            "extra": {"meetlink_calendar": cal["external_id"]}}}
        self.assertEqual(self.hook(failed, key="not-the-key").status, 401)
        self.assertEqual(self.hook(failed).status, 200)
        self.assertEqual(self.recording(rec["id"])["state"], "ready")
        n = len([x for x in self.host_recordings() if x["bot_id"] == bot["uuid"]])
        self.assertEqual(n, 1)
        n = len([e for e in Receiver.events if e["type"] == "recording.ready" and
                 e["data"].get("id") == rec["id"]])
        self.assertEqual(n, 1)
        # Another organization sees nothing.
        ok = fixtures.create_key(self.e.d, "calendar-bot-other-org")
        other = harness.Client(self.e.d.host, self.e.d.port, ok)
        self.assertEqual(other.get("/v1/recordings/" + rec["id"]).status, 404)
        self.assertEqual(other.get("/v1/recordings").json["data"], [])

    def test_2_failed_calendar_bot(self):
        cal = self.calendar()
        url = "https://meet.google.com/cal-fail-bot"
        r = self.e.sbc.post("/meetingbaas/_sandbox/scripts", {
            "meeting_url": url, "outcome": "failed", "error": "BotNotAccepted"})
        self.assertIn(r.status, (200, 201), r)
        ev = self.event(cal, url, name="Refused")
        bot = self.calendar_bot(ev)
        rec = fixtures.wait_for(lambda: [x for x in self.host_recordings(state="failed")
                                         if x["bot_id"] == bot["uuid"]], 40,
                                "the failed recording")[0]
        self.assertEqual(rec["failure"]["reason"], "BotNotAccepted")
        self.assertIsNone(rec["booking_id"])
        self.assertEqual(rec["source"], "calendar")
        fixtures.wait_for(lambda: any(e["type"] == "recording.failed" and
                                      e["data"].get("id") == rec["id"]
                                      for e in Receiver.events), 15, "recording.failed")
        # A forged outcome naming the calendar for an unknown bot, with another key: 401,
        # no recording.
        forged = {"event": "complete", "data": {
            "bot_id": "0b0b0b0b-0000-4000-8000-000000000001", "event_uuid": ev,
            "extra": {"meetlink_calendar": cal["external_id"]}}}
        self.assertEqual(self.hook(forged, key="nope").status, 401)
        self.assertFalse([x for x in self.host_recordings()
                          if x["bot_id"] == forged["data"]["bot_id"]])

    def test_3_another_organizations_calendar_cannot_claim_a_bot(self):
        rec = getattr(type(self), "ready", None)
        if not rec:
            self.skipTest("needs test_1")
        # Organization B: its own MeetingBaas account, host, connection and calendar.
        other_key = "mb-other-org-key"
        r = self.e.sbc.post("/meetingbaas/_sandbox/accounts", {"api_key": other_key})
        self.assertIn(r.status, (200, 201), r)
        other = harness.Client(self.e.d.host, self.e.d.port,
                               fixtures.create_key(self.e.d, "calendar-claim-org"))
        r = other.put("/v1/credentials/meetingbaas", {"api_key": other_key})
        self.assertIn(r.status, (200, 201), r)
        h = fixtures.host(other)
        mine, self.e.c = self.e.c, other
        try:
            self.e.connect(h["id"], "google_meet")
        finally:
            self.e.c = mine
        r = other.post("/v1/hosts/%s/recording-calendars" % h["id"], {"platform": "google_meet"})
        self.assertEqual(r.status, 201, r)
        bcal = r.json
        # B's key and B's calendar, A's bot: verified as B's, and the bot is A's: nothing.
        # (A complete would have A's recording fetched again: reported.)
        claim = {"event": "complete", "data": {
            "bot_id": rec["bot_id"], "event_uuid": rec["calendar_event_id"],
            "extra": {"meetlink_calendar": bcal["external_id"]}}}
        r = self.hook(claim, key=other_key)
        self.assertEqual(r.status, 200, r)
        self.assertFalse(r.json["reported"], r.json)
        self.assertEqual(self.recording(rec["id"])["state"], "ready")
        self.assertEqual(other.get("/v1/recordings").json["data"], [])
        # A's key with B's calendar: 401.
        self.assertEqual(self.hook(claim).status, 401)


if __name__ == "__main__":
    harness.main()
