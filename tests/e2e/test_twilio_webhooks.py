"""Twilio Video status callbacks (POST /webhooks/twilio) against the sandbox's Twilio: rooms
meetlink opens carry StatusCallback = PUBLIC_URL/webhooks/twilio; the sandbox posts each room
event there, form-encoded and signed with X-Twilio-Signature (HMAC-SHA1 under the account's
auth token over the URL and the sorted parameters, specs/twilio/twilio-video-notes.json).
Verified with the organization's credential (auth_token), handled once per RoomSid +
ParticipantSid + event + SequenceNumber; forged, foreign and malformed callbacks refused;
duplicated and reordered deliveries (the sandbox's outbound faults) each handled once."""

import base64
import datetime
import hashlib
import hmac
import os
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from harness import Client, main  # noqa: E402
from pipeline import Env  # noqa: E402
import fixtures  # noqa: E402

ACCOUNT = "AC00000000000000000000000000000001"
TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f90"  # the sandbox account's auth token
CRED = {"account_sid": ACCOUNT, "api_key_sid": "SK00000000000000000000000000000001",
        "api_key_secret": "SandboxApiKeySecret0000000000001", "auth_token": TOKEN}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def iso(t):
    return datetime.datetime.fromtimestamp(int(t), datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def twilio_sig(token, url, params):
    msg = url + "".join(k + params[k] for k in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), msg.encode(), hashlib.sha1).digest()).decode()


class TwilioCallbacks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.e = Env()
        cls.pub = Client(cls.e.d.host, cls.e.d.port)
        cls.e.credentials("twilio", CRED)

    @classmethod
    def tearDownClass(cls):
        cls.e.close()

    def tearDown(self):
        self.e.clear_faults()
        self.e.sb_config("twilio", forge_callbacks=False)

    def open_room(self, c=None):
        """A Twilio booking whose room the customer's gateway pass opened: (booking, people,
        the sandbox's room)."""
        c = c or self.e.c
        h = fixtures.host(c)
        s = fixtures.service(c, h["id"], platform="twilio",
                             settings={"join_window_minutes": 120})
        b = fixtures.booking(c, s["id"], start=iso(time.time() + 3600))
        self.assertIn(c.post("/v1/bookings/%s/confirm" % b["id"]).status, (200, 202))
        ppl = {p["role"]: p for p in c.get("/v1/bookings/%s/participants" % b["id"]).json["data"]}
        r = self.pub.get(urllib.parse.urlparse(ppl["customer"]["join_url"]).path,
                         headers={"Accept": "text/html"})
        self.assertEqual(r.status, 303, r)
        name = c.get("/v1/bookings/" + b["id"]).json["meeting"]["external_id"]
        st = self.e.sb_state("twilio")
        rooms = [r for r in st.get("twilio", st)["rooms"].values()
                 if r["unique_name"] == name and r["status"] == "in-progress"]
        self.assertEqual(len(rooms), 1, rooms)
        return b, ppl, rooms[0]

    def connect(self, room, identity):
        r = self.e.sbc.post("/twilio/_sandbox/Rooms/%s/Participants" % room["sid"],
                            raw=("Identity=" + identity).encode(), headers=FORM)
        self.assertEqual(r.status, 201, r)
        return r.json

    def disconnect(self, room, psid):
        r = self.e.sbc.post("/twilio/v1/Rooms/%s/Participants/%s" % (room["sid"], psid),
                            raw=b"Status=disconnected",
                            headers=dict(FORM, Authorization="Basic " + base64.b64encode(
                                (ACCOUNT + ":" + TOKEN).encode()).decode()))
        self.assertIn(r.status, (200, 202), r)

    def callbacks(self, room_sid, event=None, psid=None, attempts=1, timeout=15):
        """The sandbox's callbacks of the room (filtered), once each has `attempts` answers."""
        deadline = time.time() + timeout
        while True:
            st = self.e.sb_state("twilio")
            cbs = [c for c in st.get("twilio", st)["callbacks"]
                   if c["params"].get("RoomSid") == room_sid
                   and (event is None or c["event"] == event)
                   and (psid is None or c["params"].get("ParticipantSid") == psid)]
            if (cbs and all(len(c["attempts"]) >= attempts for c in cbs)) or \
                    time.time() > deadline:
                return cbs
            time.sleep(0.05)

    def test_room_carries_status_callback_and_events_are_accepted_once(self):
        b, ppl, room = self.open_room()
        # What Twilio (the sandbox) was asked for: the public callback URL, POST.
        self.assertEqual(room["status_callback"], self.e.d.url + "/webhooks/twilio")
        self.assertEqual(room["status_callback_method"], "POST")
        created = self.callbacks(room["sid"], "room-created")
        self.assertEqual(len(created), 1)
        a = created[0]["attempts"][0]
        self.assertEqual(a["status"], 200, a)
        self.assertEqual((a["answer"]["received"], a["answer"]["duplicate"]), (True, False))
        pa = self.connect(room, ppl["customer"]["id"])
        cb = self.callbacks(room["sid"], "participant-connected", pa["sid"])
        self.assertEqual(cb[0]["attempts"][0]["status"], 200, cb)
        self.assertFalse(cb[0]["attempts"][0]["answer"]["duplicate"])
        # The same callback again, as Twilio retries it: handled once.
        params = cb[0]["params"]
        url = self.e.d.url + "/webhooks/twilio"
        raw = urllib.parse.urlencode(params).encode()
        r = self.pub.post("/webhooks/twilio", raw=raw, headers=dict(
            FORM, **{"X-Twilio-Signature": twilio_sig(TOKEN, url, params)}))
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json["duplicate"])

    def test_forged_signature_refused_and_consumes_nothing(self):
        b, ppl, room = self.open_room()
        self.e.sb_config("twilio", forge_callbacks=True)
        pa = self.connect(room, ppl["customer"]["id"])
        cb = self.callbacks(room["sid"], "participant-connected", pa["sid"])
        a = cb[0]["attempts"][0]
        self.assertEqual(a["status"], 401, a)
        self.assertEqual(a["answer"]["error"]["code"], "invalid_signature")
        # The genuine callback is still new: the forgery consumed nothing.
        params = cb[0]["params"]
        url = self.e.d.url + "/webhooks/twilio"
        r = self.pub.post("/webhooks/twilio", raw=urllib.parse.urlencode(params).encode(),
                          headers=dict(FORM, **{"X-Twilio-Signature":
                                                twilio_sig(TOKEN, url, params)}))
        self.assertEqual(r.status, 200, r)
        self.assertFalse(r.json["duplicate"])
        # Signed for another URL (the listening one, say) or with a parameter changed: 401.
        for u, p in ((url + "?x=1", params), (url, dict(params, ParticipantIdentity="mallory"))):
            r = self.pub.post("/webhooks/twilio", raw=urllib.parse.urlencode(p).encode(),
                              headers=dict(FORM, **{"X-Twilio-Signature":
                                                    twilio_sig(TOKEN, u, params)}))
            self.assertEqual(r.status, 401, r)
        # No signature at all, or JSON instead of a form: 401.
        r = self.pub.post("/webhooks/twilio", raw=urllib.parse.urlencode(params).encode(),
                          headers=FORM)
        self.assertEqual(r.status, 401, r)
        r = self.pub.post("/webhooks/twilio", body=params,
                          headers={"X-Twilio-Signature": twilio_sig(TOKEN, url, params)})
        self.assertEqual(r.status, 401, r)

    def test_duplicated_delivery_handled_once(self):
        b, ppl, room = self.open_room()
        self.e.fault(provider="twilio", direction="out", event="participant-connected",
                     duplicate=True, count=1)
        pa = self.connect(room, ppl["customer"]["id"])
        cb = self.callbacks(room["sid"], "participant-connected", pa["sid"], attempts=2)
        self.assertEqual(cb[0]["fault"], "duplicated")
        a = cb[0]["attempts"]
        self.assertEqual([x["status"] for x in a], [200, 200], a)
        self.assertEqual(sorted(x["answer"]["duplicate"] for x in a), [False, True])

    def test_reordered_deliveries_both_handled(self):
        b, ppl, room = self.open_room()
        self.e.fault(provider="twilio", direction="out", event="participant-connected",
                     reorder=True, count=1)
        pa = self.connect(room, ppl["customer"]["id"])
        held = self.callbacks(room["sid"], "participant-connected", pa["sid"], timeout=0.5)
        self.assertEqual(held[0]["fault"], "reordered")
        self.assertEqual(held[0]["attempts"], [])
        self.disconnect(room, pa["sid"])
        cbs = self.callbacks(room["sid"], psid=pa["sid"])
        self.assertEqual({c["event"]: c["attempts"][0]["status"] for c in cbs},
                         {"participant-connected": 200, "participant-disconnected": 200})
        out = [r["body"]["StatusCallbackEvent"]
               for r in self.e.sb_requests(provider="twilio", direction="out")
               if r["body"].get("ParticipantSid") == pa["sid"]]
        self.assertEqual(out, ["participant-disconnected", "participant-connected"])

    def test_other_organization_token_and_unknown_room_refused(self):
        b, ppl, room = self.open_room()
        params = {"AccountSid": ACCOUNT, "RoomSid": room["sid"], "RoomName": room["unique_name"],
                  "RoomStatus": "in-progress", "RoomType": "group",
                  "StatusCallbackEvent": "participant-connected", "ParticipantSid": "PA" + "1" * 32,
                  "ParticipantIdentity": "intruder", "ParticipantStatus": "connected",
                  "SequenceNumber": "99", "Timestamp": "2026-12-07T10:00:00.000Z"}
        url = self.e.d.url + "/webhooks/twilio"
        # Another organization with its own Twilio credential: its token vouches for nothing
        # of ours.
        other = Client(self.e.d.host, self.e.d.port, fixtures.create_key(self.e.d, "other-tw"))
        r = other.put("/v1/credentials/twilio", dict(CRED, auth_token="f" * 32))
        self.assertIn(r.status, (200, 201), r)
        raw = urllib.parse.urlencode(params).encode()
        r = self.pub.post("/webhooks/twilio", raw=raw, headers=dict(
            FORM, **{"X-Twilio-Signature": twilio_sig("f" * 32, url, params)}))
        self.assertEqual(r.status, 401, r)
        # A room meetlink never opened: nobody's token applies.
        p2 = dict(params, RoomName="ml-not-a-room-of-ours")
        r = self.pub.post("/webhooks/twilio", raw=urllib.parse.urlencode(p2).encode(),
                          headers=dict(FORM, **{"X-Twilio-Signature": twilio_sig(TOKEN, url, p2)}))
        self.assertEqual(r.status, 401, r)
        # Ours, rightly signed: accepted.
        r = self.pub.post("/webhooks/twilio", raw=raw, headers=dict(
            FORM, **{"X-Twilio-Signature": twilio_sig(TOKEN, url, params)}))
        self.assertEqual(r.status, 200, r)

    def test_malformed_forms_refused(self):
        for raw, field in ((b"RoomSid=%zz", "body"), (b"a=1&a=2", "a"),
                           (b"x=" + b"y" * (70 * 1024), None)):
            r = self.pub.post("/webhooks/twilio", raw=raw, headers=FORM)
            self.assertIn(r.status, (400, 413), r)
            if field:
                self.assertEqual(r.json["error"]["field"], field, r)
        # A credential without auth_token stays valid; its callbacks cannot be verified.
        r = self.e.c.get("/v1/credentials/twilio")
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(TOKEN, r.text if hasattr(r, "text") else str(r.json))


if __name__ == "__main__":
    main()
