"""The service's meeting settings (waiting_room, passcode) reach Teams: what Graph received
on create and on update, as the sandbox's Microsoft emulator (which validates the bodies
against the msgraph v1.0 types) recorded it, and what meetlink answers."""

import datetime
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import main  # noqa: E402
from pipeline import Env, teams_meetings  # noqa: E402


def soon(minutes):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)
    return t.strftime("%Y-%m-%dT%H:%M:00Z")


class TeamsSettings(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.e = Env()

    @classmethod
    def tearDownClass(cls):
        cls.e.close()

    def graph_bodies(self, method, since, part="/onlineMeetings"):
        out = []
        for r in self.e.sb_requests(provider="microsoft", method=method, since=since):
            if part in r.get("path", "") and r.get("direction") != "out":
                b = r.get("body")
                out.append(json.loads(b) if isinstance(b, str) else b)
        return [b for b in out if isinstance(b, dict)]

    def last_id(self):
        reqs = self.e.sb_requests(provider="microsoft")
        return reqs[-1]["id"] if reqs else 0

    def test_lobby_and_passcode(self):
        e = self.e
        since = self.last_id()
        _, s = e.setup("teams", settings={"waiting_room": True, "passcode": "271828"})
        bid = e.book(s["id"], start=soon(30)).json["id"]
        b = e.wait_meetings([bid])[0]
        got = teams_meetings(e)[bid]
        self.assertEqual(len(got), 1)
        m = got[0]
        self.assertEqual(m["lobbyBypassSettings"],
                         {"scope": "organizer", "isDialInBypassEnabled": False})
        self.assertTrue(m["joinMeetingIdSettings"]["isPasscodeRequired"])
        # Graph makes the passcode: it is the meeting's.
        self.assertEqual(b["meeting"]["passcode"], m["joinMeetingIdSettings"]["passcode"])
        # The meeting is an Outlook event with Teams; its settings are the Teams meeting's,
        # found by the event's join URL and patched.
        ev = self.graph_bodies("POST", since, "/me/events")
        self.assertTrue(ev, "no event create recorded")
        self.assertEqual((ev[-1]["isOnlineMeeting"], ev[-1]["onlineMeetingProvider"]),
                         (True, "teamsForBusiness"))
        self.assertEqual(m["_event"]["onlineMeeting"]["joinUrl"], b["meeting"]["join_url"])
        sent = self.graph_bodies("PATCH", since)
        self.assertTrue(sent, "no onlineMeeting PATCH recorded")
        self.assertEqual(sent[-1]["lobbyBypassSettings"],
                         {"scope": "organizer", "isDialInBypassEnabled": False})
        self.assertEqual(sent[-1]["joinMeetingIdSettings"], {"isPasscodeRequired": True})

        # The update (a reschedule) sends them again.
        since = self.last_id()
        r = e.c.post("/v1/bookings/%s/reschedule" % bid, {"start": soon(90)})
        self.assertEqual(r.status, 200, r)
        e.wait_idle()
        sent = self.graph_bodies("PATCH", since)
        self.assertTrue(sent, "no PATCH body recorded")
        self.assertEqual(sent[-1]["lobbyBypassSettings"]["scope"], "organizer")
        self.assertTrue(sent[-1]["joinMeetingIdSettings"]["isPasscodeRequired"])

    def test_open_meeting(self):
        e = self.e
        _, s = e.setup("teams")
        bid = e.book(s["id"], start=soon(40)).json["id"]
        b = e.wait_meetings([bid])[0]
        m = teams_meetings(e)[bid][0]
        self.assertEqual(m["lobbyBypassSettings"],
                         {"scope": "everyone", "isDialInBypassEnabled": True})
        self.assertFalse(m["joinMeetingIdSettings"]["isPasscodeRequired"])
        self.assertIsNone(m["joinMeetingIdSettings"]["passcode"])
        self.assertIsNone(b["meeting"].get("passcode"))


if __name__ == "__main__":
    main()
