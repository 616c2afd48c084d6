"""The meeting pipeline on Google Meet against the sandbox: confirm answers 202 and never
waits on Google; the worker makes exactly one event per booking whatever Google does (5xx,
429 with Retry-After, answers lost after the event was made, a pending conference), and
reschedule/cancel keep the provider in step."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import main  # noqa: E402
from pipeline import Env, google_events  # noqa: E402

# The partial response the driver asks for: exactly what it reads of an event.
FIELDS = ("id,status,hangoutLink,"
          "conferenceData(createRequest/status/statusCode,entryPoints(entryPointType,uri))")
SELECTED = {"id", "status", "hangoutLink", "conferenceData"}


class GoogleMeetPipeline(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.e = Env()

    @classmethod
    def tearDownClass(cls):
        cls.e.close()

    def setUp(self):
        self.e.clear_faults()

    def assertPartial(self, since=0):
        """Every Calendar request of the driver after log entry `since` asked for a partial
        response, and every event that came back was one (deletes answer no body)."""
        reqs = self.e.sb_requests(provider="google", path="/google/calendar/v3/calendars/*",
                                  since=since, limit=100000)
        # (The calendar watch's own calls, events.watch and the sync's listings, are not the
        # driver's: tests/e2e/test_provider_changes.py.)
        reqs = [r for r in reqs if not r["path"].endswith("/events/watch")
                and not (r["method"] == "GET" and r["path"].endswith("/events"))]
        self.assertTrue(reqs)
        for r in reqs:
            if r["method"] == "DELETE":
                self.assertNotIn("fields", r["query"], r)
                continue
            self.assertEqual(r["query"].get("fields"), FIELDS, r)
            if r["status"] == 200:
                self.assertLessEqual(set(r["response"]), SELECTED, r)
                self.assertIn("id", r["response"], r)
        return {r["method"] for r in reqs}

    def log_mark(self):
        """The id of the sandbox's newest log entry (0 when empty)."""
        return self.e.sbc.get("/_sandbox/requests?limit=100000").json["next_since"]

    def test_confirm_202_then_ready(self):
        e = self.e
        h, s = e.setup("google_meet")
        since = self.log_mark()
        r = e.book(s["id"])
        self.assertEqual(r.status, 202, r)
        m = r.json["meeting"]
        self.assertEqual(m["status"], "pending")
        self.assertIsNone(m["join_url"])
        b = e.wait_meetings([r.json["id"]])[0]
        m = b["meeting"]
        self.assertTrue(m["join_url"].startswith("https://meet.google.com/"), m)
        self.assertEqual(m["platform"], "google_meet")
        self.assertTrue(m["external_id"].startswith("ml"))
        evs = google_events(e)[b["id"]]
        self.assertEqual(len(evs), 1)
        self.assertEqual(evs[0]["hangoutLink"], m["join_url"])
        self.assertEqual(evs[0]["id"], m["external_id"])
        self.assertEqual(self.assertPartial(since), {"POST"})
        types = [x["type"] for x in e.c.get("/v1/bookings/%s/events" % b["id"]).json["data"]]
        self.assertIn("meeting.requested", types)
        self.assertIn("meeting.ready", types)
        done = e.jobs("done", booking_id=b["id"])
        self.assertEqual([j["kind"] for j in done], ["meeting.create"])

    def test_faults_exactly_one_event_per_booking(self):
        """5xx, 429 bursts with Retry-After, answers dropped after Google made the event,
        calls that time out while Google acts late, a pending conference: every meeting
        ends ready with exactly one live event per booking."""
        e = self.e
        h, s = e.setup("google_meet")
        since = self.log_mark()
        e.sb_config("google", conference_pending_ms=120)
        ins = dict(provider="google", method="POST", path="/google/calendar/v3/calendars/*/events")
        e.fault(status=503, count=4, **ins)
        e.fault(status=429, retry_after="1", count=4, **ins)
        e.fault(drop_after=True, count=4, **ins)
        e.fault(latency_ms=2200, count=2, **ins)   # the client gives up at 1.5 s; Google acts later
        e.fault(drop=True, count=2, **ins)
        e.fault(provider="google", method="GET", path="/google/calendar/v3/calendars/*/events/*",
                status=500, count=3)
        ids = [e.book(s["id"], start="2026-12-%02dT10:00:00Z" % (i % 28 + 1)).json["id"]
               for i in range(24)]
        bookings = e.wait_meetings(ids, timeout=90)
        e.wait_idle()
        evs = google_events(e)
        for b in bookings:
            live = evs.get(b["id"], [])
            self.assertEqual(len(live), 1, (b["id"], live))
            self.assertEqual(live[0]["hangoutLink"], b["meeting"]["join_url"])
        reqs = e.sb_requests(provider="google", method="POST", limit=1000)
        self.assertTrue(any(r["status"] == 409 for r in reqs), "no repeat insert was answered 409")
        self.assertTrue(any(r.get("fault") for r in reqs))
        polls = e.sb_requests(provider="google", method="GET", limit=1000)
        self.assertTrue(polls, "the pending conference was never polled")
        self.assertEqual(self.assertPartial(since), {"POST", "GET"})
        self.assertEqual(e.jobs("failed"), [])
        e.sb_config("google", conference_pending_ms=0)

    def test_reschedule_and_cancel_race_the_create(self):
        """Reschedules and cancels sent while the create is still in flight end consistent:
        a cancelled booking leaves no live event, a moved one keeps its link and Google has
        the new time."""
        e = self.e
        h, s = e.setup("google_meet")
        since = self.log_mark()
        e.fault(provider="google", latency_ms=150)
        moved, cancelled, both = [], [], []
        for i in range(6):
            bid = e.book(s["id"], start="2026-11-%02dT09:00:00Z" % (i + 1)).json["id"]
            r = e.c.post("/v1/bookings/%s/reschedule" % bid,
                         {"start": "2026-11-%02dT11:30:00Z" % (i + 1)})
            self.assertEqual(r.status, 200, r)
            r = e.c.post("/v1/bookings/%s/reschedule" % bid,
                         {"start": "2026-11-%02dT12:30:00Z" % (i + 1)})
            self.assertEqual(r.status, 200, r)
            moved.append(bid)
        for i in range(6):
            bid = e.book(s["id"], start="2026-10-%02dT09:00:00Z" % (i + 1)).json["id"]
            r = e.c.post("/v1/bookings/%s/cancel" % bid, {"reason": "changed my mind"})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["meeting"]["status"], "cancelled")
            cancelled.append(bid)
        for i in range(4):
            bid = e.book(s["id"], start="2026-09-%02dT09:00:00Z" % (i + 1)).json["id"]
            e.c.post("/v1/bookings/%s/reschedule" % bid, {"start": "2026-09-%02dT10:00:00Z" % (i + 1)})
            r = e.c.post("/v1/bookings/%s/cancel" % bid)
            self.assertEqual(r.status, 200, r)
            both.append(bid)
        e.wait_meetings(moved)
        e.wait_idle()
        evs = google_events(e)
        for bid in moved:
            b = e.booking(bid)
            live = evs.get(bid, [])
            self.assertEqual(len(live), 1, live)
            self.assertEqual(live[0]["start"]["dateTime"][:19], b["start"][:19])
            self.assertEqual(live[0]["hangoutLink"], b["meeting"]["join_url"])
        for bid in cancelled + both:
            self.assertEqual(evs.get(bid, []), [], bid)
            self.assertEqual(e.booking(bid)["meeting"]["status"], "cancelled")
        self.assertLessEqual({"POST", "PATCH", "DELETE"}, self.assertPartial(since))
        self.assertEqual(e.jobs("failed"), [])

    def test_sigkill_mid_run(self):
        """The daemon is killed with SIGKILL three times while 40 creates are in flight
        (Google answering slowly, some answers lost): after each restart the work resumes
        and every booking ends with exactly one live event."""
        import time
        e = self.e
        h, s = e.setup("google_meet")
        e.fault(provider="google", method="POST", path="/google/calendar/v3/calendars/*/events",
                drop_after=True, probability=0.2)
        e.fault(provider="google", latency_ms=200)
        ids = [e.book(s["id"], start="2026-08-%02dT08:00:00Z" % (i % 28 + 1)).json["id"]
               for i in range(40)]
        for _ in range(3):
            time.sleep(0.25)
            e.restart(kill=True)
            ids.append(e.book(s["id"], start="2026-07-01T08:00:00Z").json["id"])
        e.clear_faults()
        bookings = e.wait_meetings(ids, timeout=90)
        e.wait_idle()
        evs = google_events(e)
        for b in bookings:
            live = evs.get(b["id"], [])
            self.assertEqual(len(live), 1, (b["id"], live))
            self.assertEqual(live[0]["hangoutLink"], b["meeting"]["join_url"])
        self.assertEqual(e.jobs("failed"), [])


if __name__ == "__main__":
    main()
