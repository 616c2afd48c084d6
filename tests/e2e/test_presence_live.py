"""Live presence for the dashboard (issue 18 point 2): GET /v1/bookings/{id}/participants/events
streams the body of GET …/participants (state, joined_at, left_at, presence_source) at once and
again whenever it changes, authenticated by the API key in the Authorization header (never in
the URL), for the key's own organization only. Against the sandbox: Twilio's signed status
callbacks (participant-connected/disconnected, sent by the sandbox when a participant joins
and leaves its room) reach an open stream without anyone asking again."""

import base64
import datetime
import json
import os
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from harness import Client, main  # noqa: E402
import openapi_check  # noqa: E402
from pipeline import Env  # noqa: E402
from sse import SSE  # noqa: E402
import fixtures  # noqa: E402

ACCOUNT = "AC00000000000000000000000000000001"
TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
CRED = {"account_sid": ACCOUNT, "api_key_sid": "SK00000000000000000000000000000001",
        "api_key_secret": "SandboxApiKeySecret0000000000001", "auth_token": TOKEN}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def iso(t):
    return datetime.datetime.fromtimestamp(int(t), datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


class LivePresence(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.e = Env()
        cls.e.credentials("twilio", CRED)
        cls.pub = Client(cls.e.d.host, cls.e.d.port)

    @classmethod
    def tearDownClass(cls):
        cls.e.close()

    def stream(self, bid, key=None, path=None):
        h = {} if key is False else {"Authorization": "Bearer " + (key or self.e.d.api_key)}
        s = SSE(self.e.d.host, self.e.d.port,
                path or "/v1/bookings/%s/participants/events" % bid, headers=h)
        self.addCleanup(s.close)
        return s

    def next_list(self, s, want, what):
        """The next `participants` event whose list satisfies want(list)."""
        deadline = time.time() + 15
        while time.time() < deadline:
            ev = s.next_event(timeout=max(0.1, deadline - time.time()))
            if ev is None:
                break
            self.assertEqual(ev["event"], "participants", ev)
            body = json.loads(ev["data"])
            if want(body):
                return body
        self.fail("no participants event: " + what)

    def twilio_booking(self):
        h = fixtures.host(self.e.c)
        s = fixtures.service(self.e.c, h["id"], platform="twilio",
                             settings={"join_window_minutes": 120})
        b = fixtures.booking(self.e.c, s["id"], start=iso(time.time() + 3600))
        r = self.e.c.post("/v1/bookings/%s/confirm" % b["id"])
        self.assertIn(r.status, (200, 202), r)
        b = self.e.wait_meetings([b["id"]])[0]
        ppl = {p["role"]: p for p in self.e.c.get(
            "/v1/bookings/%s/participants" % b["id"]).json["data"]}
        return b, ppl

    def room_of(self, b):
        st = self.e.sb_state("twilio")
        rooms = [x for x in st.get("twilio", st)["rooms"].values()
                 if x["unique_name"] == b["meeting"]["external_id"]
                 and x["status"] == "in-progress"]
        self.assertEqual(len(rooms), 1, rooms)
        return rooms[0]

    def test_twilio_join_and_leave_reach_an_open_stream(self):
        b, ppl = self.twilio_booking()
        cust = ppl["customer"]["id"]
        s = self.stream(b["id"])
        self.assertEqual(s.status, 200)
        self.assertTrue(s.headers["content-type"].startswith("text/event-stream"))
        first = self.next_list(s, lambda x: True, "the list at once")
        self.assertEqual(first["presence_source"], "platform")
        self.assertEqual({p["state"] for p in first["data"]}, {"invited"})
        self.assertEqual(first, self.e.c.get("/v1/bookings/%s/participants" % b["id"]).json)
        # Each event's data is a ParticipantList, as the document says.
        openapi_check.validate(openapi_check.load(), "GET", "/v1/bookings/{id}/participants",
                               200, first)
        # The customer passes the gateway: the room opens at Twilio, the stream says admitted.
        r = self.pub.get(urllib.parse.urlparse(ppl["customer"]["join_url"]).path,
                         headers={"Accept": "text/html"})
        self.assertEqual(r.status, 303, r)
        self.next_list(s, lambda x: [p for p in x["data"] if p["id"] == cust
                                     and p["state"] == "admitted"], "admitted after the pass")
        room = self.room_of(b)
        # The sandbox connects them: its signed participant-connected reaches the stream.
        r = self.e.sbc.post("/twilio/_sandbox/Rooms/%s/Participants" % room["sid"],
                            raw=urllib.parse.urlencode({"Identity": cust}).encode(),
                            headers=FORM)
        self.assertEqual(r.status, 201, r)
        psid = r.json["sid"]
        body = self.next_list(s, lambda x: [p for p in x["data"] if p["id"] == cust
                                            and p["state"] == "in_meeting"], "in the meeting")
        p = [p for p in body["data"] if p["id"] == cust][0]
        self.assertIsNotNone(p["joined_at"])
        self.assertIsNone(p["left_at"])
        # They leave at Twilio (the real API): participant-disconnected reaches the stream.
        r = self.e.sbc.post("/twilio/v1/Rooms/%s/Participants/%s" % (room["sid"], psid),
                            raw=b"Status=disconnected", headers=dict(
                                FORM, Authorization="Basic " + base64.b64encode(
                                    (ACCOUNT + ":" + TOKEN).encode()).decode()))
        self.assertIn(r.status, (200, 202), r)
        body = self.next_list(s, lambda x: [p for p in x["data"] if p["id"] == cust
                                            and p["state"] == "left"], "left")
        p = [p for p in body["data"] if p["id"] == cust][0]
        self.assertGreaterEqual(p["left_at"], p["joined_at"])
        # What the sandbox holds: the participant connected once and disconnected.
        st = self.e.sb_state("twilio")
        pas = [x for x in st.get("twilio", st)["participants"].values()
               if x["room_sid"] == room["sid"] and x["identity"] == cust]
        self.assertEqual([x["status"] for x in pas], ["disconnected"])
        # A participant added through the API shows on the stream too.
        r = self.e.c.post("/v1/bookings/%s/participants" % b["id"],
                          {"role": "attendee", "name": "Late Larry",
                           "email": "larry@example.test"})
        self.assertEqual(r.status, 201, r)
        self.next_list(s, lambda x: [p for p in x["data"] if p["name"] == "Late Larry"],
                       "the added participant")

    def test_only_the_key_of_the_organization_in_the_header(self):
        b, _ = self.twilio_booking()
        path = "/v1/bookings/%s/participants/events" % b["id"]
        s = self.stream(b["id"], key=False)
        self.assertEqual(s.status, 401)
        # A key in the URL is not a key.
        s = self.stream(b["id"], key=False,
                        path=path + "?api_key=" + urllib.parse.quote(self.e.d.api_key))
        self.assertEqual(s.status, 401)
        other = fixtures.create_key(self.e.d, "other-live")
        self.assertEqual(self.stream(b["id"], key=other).status, 404)
        self.assertEqual(self.stream("bkg_doesnotexist", key=None).status, 404)


if __name__ == "__main__":
    main()
