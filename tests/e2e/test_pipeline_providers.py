"""The meeting pipeline on Zoom, Teams and Twilio against the sandbox: for each platform,
bookings confirmed under injected faults (5xx, 429 with Retry-After, answers lost after the
provider acted, calls timing out while the provider acts late) end with exactly one live
meeting per booking; the same across SIGKILLs of the daemon; reschedules and cancels racing
the create end consistent. (Google Meet: test_pipeline_google.py.)"""

import datetime
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import main  # noqa: E402
from pipeline import Env, teams_meetings, twilio_rooms, zoom_meetings  # noqa: E402


def soon(minutes):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)
    return t.strftime("%Y-%m-%dT%H:%M:00Z")


class Base:
    platform = None
    create = None           # (method, path glob) of the provider call that makes a meeting
    sb = None               # the sandbox provider name
    ready_on_confirm = False

    @classmethod
    def setUpClass(cls):
        cls.e = Env({"MEETLINK_ZOOM_QPS": "50"})
        cls.e.sb_config("zoom", rate_limit_medium=1000, rate_limit_light=1000,
                        daily_meeting_writes_per_user=100000)

    @classmethod
    def tearDownClass(cls):
        cls.e.close()

    def setUp(self):
        self.e.clear_faults()

    def start(self, i):
        return soon(3 + i % 5)

    def setup_service(self):
        h, s = self.e.setup(self.platform, connect=True)
        return h, s

    def live(self, bookings):
        raise NotImplementedError

    def check_one_each(self, ids):
        e = self.e
        bookings = e.wait_meetings(ids, timeout=90)
        e.wait_idle(timeout=90)
        live = self.live(bookings)
        for b in bookings:
            got = live.get(b["id"], [])
            self.assertEqual(len(got), 1, (self.platform, b["id"], [
                (g.get("id"), g.get("sid"), g.get("created_at")) for g in got],
                [(j["kind"], j["state"], j["attempts"], j["payload"].get("state"))
                 for j in e.jobs(booking_id=b["id"])]))
        self.assertEqual([j for j in e.jobs("failed")], [])
        return bookings, live

    def test_faults(self):
        e = self.e
        h, s = self.setup_service()
        m, p = self.create
        kw = dict(provider=self.sb, method=m, path=p)
        e.fault(status=503, count=3, **kw)
        e.fault(status=429, retry_after="1", count=3, **kw)
        e.fault(drop_after=True, count=3, **kw)
        e.fault(latency_ms=2200, count=2, **kw)
        e.fault(drop=True, count=2, **kw)
        ids = []
        for i in range(16):
            r = e.book(s["id"], start=self.start(i))
            self.assertEqual(r.status, 200 if self.ready_on_confirm else 202, r)
            ids.append(r.json["id"])
        self.check_one_each(ids)
        hits = [r for r in e.sb_requests(provider=self.sb, limit=2000) if r.get("fault")]
        self.assertGreaterEqual(len(hits), 10)

    def test_sigkill_mid_run(self):
        e = self.e
        h, s = self.setup_service()
        m, p = self.create
        e.fault(provider=self.sb, method=m, path=p, drop_after=True, probability=0.25)
        e.fault(provider=self.sb, latency_ms=150)
        ids = [e.book(s["id"], start=self.start(i)).json["id"] for i in range(24)]
        for _ in range(2):
            time.sleep(0.3)
            e.restart(kill=True)
        e.clear_faults()
        self.check_one_each(ids)

    def test_reschedule_and_cancel_race(self):
        e = self.e
        h, s = self.setup_service()
        e.fault(provider=self.sb, latency_ms=120)
        moved, gone = [], []
        for i in range(4):
            bid = e.book(s["id"], start=self.start(i)).json["id"]
            r = e.c.post("/v1/bookings/%s/reschedule" % bid,
                         {"start": soon(7 + i), "allow_overlap": True})  # one host
            self.assertEqual(r.status, 200, r)
            moved.append(bid)
        for i in range(4):
            bid = e.book(s["id"], start=self.start(i)).json["id"]
            self.assertEqual(e.c.post("/v1/bookings/%s/cancel" % bid).status, 200)
            gone.append(bid)
        bookings, live = self.check_one_each(moved)
        for b in bookings:
            self.check_moved(b, live[b["id"]][0])
        e.wait_idle()
        live = self.live([e.booking(x) for x in gone])
        for bid in gone:
            self.assertEqual(live.get(bid, []), [], bid)
            self.assertEqual(e.booking(bid)["meeting"]["status"], "cancelled")

    def check_moved(self, booking, meeting):
        pass


class Zoom(Base, unittest.TestCase):
    platform, sb = "zoom", "zoom"
    create = ("POST", "/zoom/v2/users/*/meetings")

    def live(self, bookings):
        return zoom_meetings(self.e)

    def check_moved(self, b, m):
        self.assertEqual(m["start_time"][:16], b["start"][:16])
        self.assertEqual(m["join_url"], b["meeting"]["join_url"])


class Teams(Base, unittest.TestCase):
    platform, sb = "teams", "microsoft"
    create = ("POST", "/microsoft/v1.0/me/events")

    def live(self, bookings):
        return teams_meetings(self.e)

    def check_moved(self, b, m):
        # The Outlook event moved, and its Teams meeting with it; the link stays.
        self.assertEqual(m["_event"]["start"]["dateTime"][:16], b["start"][:16])
        self.assertEqual(m["startDateTime"][:16], b["start"][:16])
        self.assertEqual(m["joinWebUrl"], b["meeting"]["join_url"])
        self.assertEqual(b["meeting"]["external_id"], "event:" + m["_event"]["id"])

    def test_four_calls_per_mailbox(self):
        """Graph allows 4 concurrent requests per mailbox: 12 creates for one host, each
        call taking 250 ms, need at least 3 rounds; another host's meetings are not held
        behind them."""
        e = self.e
        h, s = self.setup_service()
        h2, s2 = self.setup_service()
        e.fault(provider="microsoft", method="POST",
                path="/microsoft/v1.0/me/events", latency_ms=250)
        t0 = time.time()
        ids = [e.book(s["id"], start=self.start(i)).json["id"] for i in range(12)]
        other = e.book(s2["id"], start=self.start(0)).json["id"]
        e.wait_meetings([other])
        t_other = time.time() - t0
        e.wait_meetings(ids)
        elapsed = time.time() - t0
        self.assertGreaterEqual(elapsed, 0.70, "more than 4 calls at once for one mailbox")
        self.assertLess(t_other, elapsed)
        self.check_one_each(ids + [other])


class Twilio(Base, unittest.TestCase):
    platform, sb = "twilio", "twilio"
    create = ("POST", "/twilio/v1/Rooms")
    ready_on_confirm = True

    def setup_service(self):
        self.e.credentials("twilio", {"account_sid": "AC00000000000000000000000000000001",
                                      "api_key_sid": "SK00000000000000000000000000000001",
                                      "api_key_secret": "SandboxApiKeySecret0000000000001"})
        return self.e.setup("twilio", connect=False)

    def live(self, bookings):
        names = {b["meeting"]["external_id"]: b["id"] for b in bookings}
        return twilio_rooms(self.e, names)

    def test_participants_get_access_tokens(self):
        """Each participant's link carries a Twilio Access Token (HS256 under the API key
        secret) granting the booking's room, for the meeting window."""
        import base64
        import hashlib
        import hmac
        e = self.e
        h, s = self.setup_service()
        b = e.book(s["id"], start=self.start(0)).json
        r = e.c.get("/v1/bookings/%s/participants" % b["id"])
        self.assertEqual(r.status, 200, r)
        seen = set()
        for p in r.json["data"]:
            url, _, frag = p["platform_url"].partition("#access_token=")
            self.assertEqual(url, b["meeting"]["join_url"])
            head, body, sig = frag.split(".")
            pad = lambda x: x + "=" * (-len(x) % 4)
            hdr = json.loads(base64.urlsafe_b64decode(pad(head)))
            claims = json.loads(base64.urlsafe_b64decode(pad(body)))
            self.assertEqual((hdr["alg"], hdr["cty"]), ("HS256", "twilio-fpa;v=1"))
            want = hmac.new(b"SandboxApiKeySecret0000000000001", (head + "." + body).encode(),
                            hashlib.sha256).digest()
            self.assertEqual(base64.urlsafe_b64decode(pad(sig)), want)
            self.assertEqual(claims["iss"], "SK00000000000000000000000000000001")
            self.assertEqual(claims["sub"], "AC00000000000000000000000000000001")
            self.assertEqual(claims["grants"]["video"]["room"], b["meeting"]["external_id"])
            self.assertEqual(claims["grants"]["identity"], p["id"])
            self.assertLessEqual(claims["exp"] - claims["iat"], 86400)
            seen.add(claims["grants"]["identity"])
        self.assertEqual(len(seen), 2)
        # A participant joining with that identity reaches the room the pipeline opened.
        e.wait_idle()
        r = e.sbc.post("/twilio/_sandbox/Rooms/%s/Participants" % b["meeting"]["external_id"],
                       raw=("Identity=" + r.json["data"][1]["id"]).encode(),
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertIn(r.status, (200, 201), r)


if __name__ == "__main__":
    main()
