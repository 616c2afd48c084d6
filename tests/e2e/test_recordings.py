"""Recording bots end to end (docs/recordings.md) against the sandbox's MeetingBaas: a
Google Meet booking whose service records gets exactly one bot at start − lead, the bot's
webhooks move the recording through its states, the recording and its transcript are
readable (JSON and WebVTT), a refused bot fails visibly, forged and repeated webhooks change
nothing, a lost webhook is healed by asking the bot, a daemon killed while sending the bot
still makes one bot, a cancel takes the bot out, and another organization sees nothing.
Asserts both sides: what meetlink answers, and what the sandbox's MeetingBaas received."""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fixtures  # noqa: E402
import harness  # noqa: E402
import openapi_check  # noqa: E402
from recbase import LEAD, MB_KEY, Receiver, RecordingBase, iso  # noqa: E402


class Recordings(RecordingBase):
    # --- the tests ---
    def test_1_bot_at_lead_time_states_recording_transcript(self):
        svc = self.service()
        b, start = self.book(svc)
        recs = self.recordings(b["id"])
        self.assertEqual(len(recs), 1)
        rec = recs[0]
        self.assertEqual(rec["state"], "scheduled")
        self.assertEqual(rec["options"]["bot_name"], "Lesson notes")
        # Not before start − lead: no bot yet.
        if time.time() < start - LEAD - 0.5:
            self.assertEqual(self.bots(b["id"]), [])
        bot = fixtures.wait_for(lambda: self.bots(b["id"]), 20, "the bot")
        self.assertEqual(len(bot), 1)
        bot = bot[0]
        sent = bot["created_at"] / 1000.0
        self.assertGreaterEqual(sent, start - LEAD - 1)
        # What MeetingBaas was asked.
        reqs = [r for r in self.e.sb_requests(provider="meetingbaas")
                if r["method"] == "POST" and r["path"].rstrip("/").endswith("/bots")]
        self.assertTrue(reqs)
        join = reqs[-1].get("body") or {}
        if isinstance(join, str):
            join = json.loads(join)
        self.assertEqual(join["bot_name"], "Lesson notes")
        self.assertEqual(join["recording_mode"], "audio_only")
        self.assertEqual(join["meeting_url"], self.e.booking(b["id"])["meeting"]["join_url"])
        self.assertTrue(join["deduplication_key"].startswith("meetlink-%s-" % b["id"]))
        self.assertTrue(join["webhook_url"].endswith("/webhooks/meetingbaas"))
        self.assertEqual(join["speech_to_text"], {"provider": "Default"})
        self.assertEqual(join["automatic_leave"], {"waiting_room_timeout": 300})
        self.assertEqual(join["start_time"], start)
        rec = self.wait_state(rec["id"], ("ready",))
        self.assertEqual(rec["bot_id"], bot["uuid"])
        self.assertTrue(rec["media_url"])
        self.assertGreater(rec["duration_seconds"], 0)
        self.assertEqual(rec["transcript_state"], "ready")
        self.assertTrue(rec["transcript"])
        seg = rec["transcript"][0]
        self.assertTrue(seg["speaker"] and seg["words"] and seg["text"])
        self.assertGreaterEqual(seg["end"], seg["start"])
        # Every state, in order, on the booking's trail.
        ev = self.events(b["id"])
        want = ["recording.scheduled", "recording.dispatched", "recording.joining",
                "recording.waiting_room", "recording.recording", "recording.processing",
                "recording.ready", "recording.transcript_ready"]
        self.assertEqual([e for e in ev if e in want], want, ev)
        # WebVTT.
        r = self.c.get("/v1/recordings/%s/transcript.vtt" % rec["id"])
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type").startswith("text/vtt"))
        vtt = r.body.decode()
        self.assertTrue(vtt.startswith("WEBVTT\n"))
        self.assertIn(" --> ", vtt)
        self.assertIn("<v %s>" % seg["speaker"], vtt)
        # Webhooks out.
        got = fixtures.wait_for(
            lambda: {e["type"] for e in Receiver.events
                     if e["data"].get("id") == rec["id"]} >= {"recording.ready",
                                                                "transcript.ready"},
            15, "recording.ready and transcript.ready")
        self.assertTrue(got)
        # Lists and filters.
        r = self.c.get("/v1/recordings?state=ready&host_id=" + self.host["id"])
        self.assertEqual(r.status, 200)
        self.assertIn(rec["id"], [x["id"] for x in r.json["data"]])
        self.assertNotIn("transcript", r.json["data"][0])
        r = self.c.get("/v1/recordings?state=failed&booking_id=" + b["id"])
        self.assertEqual(r.json["data"], [])
        type(self).ready = rec

    def test_2_duplicate_and_forged_webhooks(self):
        rec = getattr(type(self), "ready", None)
        if not rec:
            self.skipTest("needs test_1")
        late = {"event": "bot.status_change", "data": {
            "bot_id": rec["bot_id"], "status": {"code": "joining_call",
                                                "created_at": "2026-01-01T00:00:00Z"}}}
        # Forged: another key, no key.
        r = self.hook(late, key="not-the-key")
        self.assertEqual(r.status, 401)
        r = harness.Client(self.e.d.host, self.e.d.port).request(
            "POST", "/webhooks/meetingbaas", raw=json.dumps(late).encode(),
            headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 401)
        r = self.hook({"event": "complete", "data": {"bot_id": "00000000-dead"}})
        self.assertEqual(r.status, 401)
        # A late joining after ready: accepted, changes nothing.
        n = len(self.events(rec["booking_id"]))
        r = self.hook(late)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["duplicate"], r.json["reported"]), (False, False))
        r = self.hook(late)
        self.assertTrue(r.json["duplicate"])
        self.assertEqual(self.recording(rec["id"])["state"], "ready")
        self.assertEqual(len(self.events(rec["booking_id"])), n)
        # A repeated complete: handled once.
        done = {"event": "complete", "data": {"bot_id": rec["bot_id"], "mp4": "x"}}
        self.assertFalse(self.hook(done).json["duplicate"])
        self.assertTrue(self.hook(done).json["duplicate"])
        self.assertEqual(self.hook({"event": "bot.status_change", "data": {}}).status, 401)

    def test_3_refused_bot_fails_visibly(self):
        svc = self.service(transcription=False)
        b, _ = self.book(svc)
        url = self.e.booking(b["id"])["meeting"]["join_url"]
        r = self.e.sbc.post("/meetingbaas/_sandbox/scripts", {
            "meeting_url": url, "outcome": "failed", "error": "BotNotAccepted"})
        self.assertIn(r.status, (200, 201), r)
        rec = self.recordings(b["id"])[0]
        rec = self.wait_state(rec["id"], ("failed",))
        self.assertTrue(rec["failure"]["reason"])
        self.assertIsNone(rec["media_url"])
        self.assertEqual(rec["transcript_state"], "off")
        fixtures.wait_for(lambda: any(e["type"] == "recording.failed" and
                                      e["data"].get("id") == rec["id"]
                                      for e in Receiver.events), 15, "recording.failed")
        r = self.c.post("/v1/recordings/%s/retranscribe" % rec["id"])
        self.assertEqual(r.status, 409)
        r = self.c.get("/v1/recordings/%s/transcript.vtt" % rec["id"])
        self.assertEqual(r.status, 409)

    def test_4_lost_webhooks_healed_by_reconcile(self):
        # Every complete webhook is lost: the recording is overdue once processing has
        # lasted the margin, and the reconcile asks the bot itself.
        fid = self.e.fault(provider="meetingbaas", direction="out", event="complete",
                           drop=True)
        try:
            svc = self.service()
            b, _ = self.book(svc)
            rec = self.recordings(b["id"])[0]
            rec = self.wait_state(rec["id"], ("ready",), timeout=60)
            self.assertTrue(rec["media_url"])
            self.assertTrue(rec["transcript"])
            # The complete webhook never came: the data came from GET meeting_data.
            hooks = self.e.sbc.get("/meetingbaas/_sandbox/webhooks?event=complete&bot_id=" +
                                   rec["bot_id"]).json
            self.assertTrue(hooks, hooks)
            self.assertTrue(any("meeting_data" in r["path"] and
                                rec["bot_id"] in json.dumps(r)
                                for r in self.e.sb_requests(provider="meetingbaas")))
        finally:
            self.e.sbc.delete("/_sandbox/faults/%d" % fid)

    def test_5_kill_during_dispatch_one_bot(self):
        svc = self.service()
        # The create is answered late: the daemon is killed while it is in flight (the
        # sandbox still makes the bot once the latency is over).
        fid = self.e.fault(provider="meetingbaas", method="POST", path="/meetingbaas/bots*",
                           latency_ms=2500, count=1)
        try:
            b, start = self.book(svc, in_s=LEAD + 1)
            rec = self.recordings(b["id"])[0]
            fixtures.wait_for(lambda: self.rec_jobs(rec["id"], "running"), 20,
                              "the dispatch in flight")
            time.sleep(0.5)
            self.assertEqual(self.bots(b["id"]), [])  # still held by the latency
            self.e.restart(kill=True)
            rec = fixtures.wait_for(lambda: (lambda x: x if x["bot_id"] else None)(
                self.recording(rec["id"])), 30, "the bot id")
            time.sleep(3)  # the first create's late arrival has been handled too
            bots = self.bots(b["id"])
            self.assertEqual(len(bots), 1, bots)
            self.assertEqual(bots[0]["uuid"], rec["bot_id"])
            jobs = self.rec_jobs(rec["id"])
            self.assertEqual(len(jobs), 1, jobs)
            # The restarted daemon's attempt knew an earlier one may have sent the bot.
            self.assertGreaterEqual(jobs[0]["payload"]["state"]["attempt"], 2, jobs)
        finally:
            self.e.sbc.delete("/_sandbox/faults/%d" % fid)

    def test_6_cancel_takes_the_bot_out(self):
        svc = self.service()
        b, start = self.book(svc, in_s=LEAD + 30)
        # Sent early, so it is in the meeting before the start: move the booking so the
        # dispatch is due now, then cancel once the bot is there.
        r = self.c.post("/v1/bookings/%s/reschedule" % b["id"],
                        {"start": iso(int(time.time()) + LEAD),
                         "allow_overlap": True})  # one host, booked around now all along
        self.assertIn(r.status, (200, 202), r)
        bot = fixtures.wait_for(lambda: self.bots(b["id"]), 20, "the bot")[0]
        rec = self.recordings(b["id"])[0]
        self.assertEqual(len(self.bots(b["id"])), 1)
        r = self.c.post("/v1/bookings/%s/cancel" % b["id"], {"reason": "ill"})
        self.assertEqual(r.status, 200, r)
        fixtures.wait_for(lambda: any(
            r["method"] == "DELETE" and bot["uuid"] in r["path"]
            for r in self.e.sb_requests(provider="meetingbaas")), 20, "the leave")
        self.assertIn("recording.bot_removed", fixtures.wait_for(
            lambda: (lambda ev: ev if "recording.bot_removed" in ev else None)(
                self.events(b["id"])), 20, "bot_removed"))
        # A booking cancelled before its bot was sent: cancelled, no bot.
        b2, _ = self.book(svc, in_s=LEAD + 60)
        self.assertEqual(self.c.post("/v1/bookings/%s/cancel" % b2["id"], {}).status, 200)
        rec2 = self.recordings(b2["id"])[0]
        self.assertEqual(rec2["state"], "cancelled")
        self.assertEqual(self.bots(b2["id"]), [])
        self.assertTrue(rec["id"])

    def test_7_delete_and_org_isolation(self):
        rec = getattr(type(self), "ready", None)
        if not rec:
            self.skipTest("needs test_1")
        other = harness.Client(self.e.d.host, self.e.d.port,
                               fixtures.create_key(self.e.d, "other-org"))
        self.assertEqual(other.get("/v1/recordings/" + rec["id"]).status, 404)
        self.assertEqual(other.get("/v1/recordings").json["data"], [])
        self.assertEqual(other.get("/v1/recordings/%s/transcript.vtt" % rec["id"]).status, 404)
        self.assertEqual(other.delete("/v1/recordings/" + rec["id"]).status, 404)
        self.assertEqual(other.post("/v1/recordings/%s/retranscribe" % rec["id"]).status, 404)
        self.assertEqual(other.get("/v1/bookings/%s/recordings" % rec["booking_id"]).status,
                         404)
        # Retranscribe, then delete (at MeetingBaas too).
        r = self.c.post("/v1/recordings/%s/retranscribe" % rec["id"])
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.json["transcript_state"], "pending")
        fixtures.wait_for(lambda: self.recording(rec["id"])["transcript_state"] == "ready",
                          30, "the new transcript")
        r = self.c.delete("/v1/recordings/" + rec["id"])
        self.assertEqual(r.status, 200, r)
        openapi_check.validate(self.doc, "DELETE", "/v1/recordings/{id}", 200, r.json)
        self.assertEqual(r.json["state"], "deleted")
        self.assertIsNone(r.json["media_url"])
        fixtures.wait_for(lambda: any(
            r["method"] == "POST" and r["path"].endswith("/%s/delete_data" % rec["bot_id"])
            for r in self.e.sb_requests(provider="meetingbaas")), 20, "delete_data")
        self.assertEqual(self.recording(rec["id"])["transcript"], [])

    def test_8_settings_refused(self):
        r = self.c.post("/v1/services", {
            "host_id": self.host["id"], "name": "x", "is_online": True, "platform": "jitsi",
            "duration_minutes": 30, "settings": {"recording": True}})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json["error"]["field"], "settings.recording")
        r = self.c.post("/v1/services", {
            "host_id": self.host["id"], "name": "x", "is_online": True,
            "platform": "google_meet", "duration_minutes": 30,
            "settings": {"recording": True,
                         "recording_options": {"waiting_room_timeout": 5}}})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json["error"]["field"],
                         "settings.recording_options.waiting_room_timeout")
        # Without the organization's credential: 409 naming it.
        other = harness.Client(self.e.d.host, self.e.d.port,
                               fixtures.create_key(self.e.d, "no-credential-org"))
        h = fixtures.host(other)
        r = other.post("/v1/services", {
            "host_id": h["id"], "name": "x", "is_online": True, "platform": "jitsi",
            "duration_minutes": 30})
        self.assertEqual(r.status, 201)
        r = other.patch("/v1/services/" + r.json["id"], {"settings": {"recording": True}})
        self.assertEqual(r.status, 400)  # jitsi first: the platform is wrong anyway
        # (google_meet needs the host's connection first; the credential check comes after)


    def test_9_calendar_recordings(self):
        h = self.host
        # The sandbox's Google issued the host's refresh token: it must reach MeetingBaas
        # only, never an answer or the daemon's log.
        r = self.c.post("/v1/hosts/%s/recording-calendars" % h["id"], {"platform": "google_meet"})
        self.assertEqual(r.status, 201, r)
        openapi_check.validate(self.doc, "POST", "/v1/hosts/{id}/recording-calendars", 201, r.json)
        cal = r.json
        self.assertEqual(cal["platform"], "google_meet")
        self.assertTrue(cal["external_id"])
        # (The sandbox's Google refresh tokens all start with "1//sb-".)
        self.assertNotIn("1//sb-", json.dumps(cal))
        self.assertNotIn("1//sb-", self.e.d.logs())
        reqs = [x for x in self.e.sb_requests(provider="meetingbaas")
                if x["method"] == "POST" and x["path"].rstrip("/").endswith("/calendars")]
        self.assertEqual(len(reqs), 1, reqs)
        sbcal = [c for c in self.e.sbc.get("/meetingbaas/_sandbox/calendars").json["calendars"]
                 if c["uuid"] == cal["external_id"]]
        self.assertEqual(len(sbcal), 1)
        self.assertTrue(str(sbcal[0].get("oauth_refresh_token", "1//sb-")).startswith("1//sb-"))
        self.assertEqual(sbcal[0].get("platform"), "Google")
        r = self.c.get("/v1/hosts/%s/recording-calendars" % h["id"])
        self.assertEqual([x["id"] for x in r.json["data"]], [cal["id"]])
        # Events with their recording state.
        r = self.c.get("/v1/recording-calendars/%s/events" % cal["id"])
        self.assertEqual(r.status, 200, r)
        openapi_check.validate(self.doc, "GET", "/v1/recording-calendars/{id}/events", 200, r.json)
        evs = r.json["data"]
        self.assertTrue(evs)
        rec = [e for e in evs if e["is_recurring"]] or evs
        ev = rec[0]
        self.assertFalse(ev["recording"])
        p = "/v1/recording-calendars/%s/events/%s/recording" % (cal["id"], ev["id"])
        r = self.c.put(p, {"all_occurrences": ev["is_recurring"],
                           "recording_options": {"bot_name": "Standup notes"}})
        self.assertEqual(r.status, 200, r)
        on = [e for e in r.json["data"] if e["recording"]]
        self.assertIn(ev["id"], [e["id"] for e in on])
        if ev["is_recurring"]:
            self.assertGreater(len(on), 1)
        self.assertTrue(all(e["bot_name"] == "Standup notes" for e in on))
        r = self.c.get("/v1/recording-calendars/%s/events" % cal["id"])
        self.assertIn(ev["id"], [e["id"] for e in r.json["data"] if e["recording"]])
        r = self.c.delete(p + ("?all_occurrences=true" if ev["is_recurring"] else ""))
        self.assertEqual(r.status, 200, r)
        self.assertFalse(any(e["recording"] for e in r.json["data"] if e["id"] == ev["id"]))
        self.assertEqual(self.c.delete(p + "?all_occurrences=maybe").status, 400)
        # Kept in step: the calendar's owner adds an event; MeetingBaas says so by webhook.
        r = self.e.sbc.post("/meetingbaas/accounts/webhook_url",
                            {"webhook_url": self.e.d.url + "/webhooks/meetingbaas"},
                            headers={"x-meeting-baas-api-key": MB_KEY})
        self.assertEqual(r.status, 200, r)
        r = self.e.sbc.post("/meetingbaas/_sandbox/calendars/%s/events" % cal["external_id"], {
            "name": "Extra lesson", "start_time": iso(time.time() + 86400),
            "end_time": iso(time.time() + 90000), "meeting_url": "https://meet.google.com/xyz-abcd-efg"})
        self.assertIn(r.status, (200, 201), r)
        fixtures.wait_for(lambda: self.c.get("/v1/hosts/%s/recording-calendars" % h["id"])
                          .json["data"][0]["synced_at"], 20, "synced_at")
        r = self.c.get("/v1/recording-calendars/%s/events" % cal["id"])
        self.assertIn("Extra lesson", [e.get("name") for e in r.json["data"]])
        # Another organization sees none of it; a host without a connection is refused.
        other = harness.Client(self.e.d.host, self.e.d.port,
                               fixtures.create_key(self.e.d, "calendar-other-org"))
        self.assertEqual(other.get("/v1/recording-calendars/%s/events" % cal["id"]).status, 404)
        self.assertEqual(other.delete("/v1/recording-calendars/" + cal["id"]).status, 404)
        self.assertEqual(other.get("/v1/hosts/%s/recording-calendars" % h["id"]).status, 404)
        h2 = fixtures.host(self.c)
        r = self.c.post("/v1/hosts/%s/recording-calendars" % h2["id"], {"platform": "google_meet"})
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.json["error"]["code"], "connection_required")
        r = self.c.post("/v1/hosts/%s/recording-calendars" % h["id"], {"platform": "jitsi"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json["error"]["field"], "platform")
        # Unregistered, at MeetingBaas too.
        r = self.c.delete("/v1/recording-calendars/" + cal["id"])
        self.assertEqual(r.status, 200, r)
        self.assertFalse([c for c in self.e.sbc.get("/meetingbaas/_sandbox/calendars").json["calendars"]
                          if c["uuid"] == cal["external_id"]])
        self.assertEqual(self.c.get("/v1/recording-calendars/%s/events" % cal["id"]).status, 404)

if __name__ == "__main__":
    harness.main()
