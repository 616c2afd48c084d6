"""Twilio Video emulator conformance: Rooms and Participants answers validate against
twilio_video_v1.json (and carry no member the schema does not declare), Basic auth with the
account SID or an API key, Twilio's error body, UniqueName unique while in progress (53113),
UnusedRoomTimeout applied lazily, and status callbacks whose X-Twilio-Signature is checked
by an independent Python implementation, itself checked against the spec's computed vector."""

import base64
import hashlib
import hmac
import http.server
import json
import os
import sys
import threading
import time
import unittest
import urllib.parse

import jsonschema

sys.path.insert(0, os.path.dirname(__file__))
import oas  # noqa: E402
from harness import Client, main, start_sandbox  # noqa: E402

ACCOUNT, TOKEN = "AC00000000000000000000000000000001", "a1b2c3d4e5f60718293a4b5c6d7e8f90"
KEY, KEY_SECRET = "SK00000000000000000000000000000001", "SandboxApiKeySecret0000000000001"

SPEC = oas.load("twilio/twilio_video_v1.json")
NOTES = oas.load("twilio/twilio-video-notes.json")


def twilio_signature(token, url, params):
    msg = url + "".join(k + params[k] for k in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), msg.encode(), hashlib.sha1).digest()).decode()


class Receiver(http.server.BaseHTTPRequestHandler):
    got = []
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        with Receiver.lock:
            Receiver.got.append((self.path, dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a):
        pass


def auth(user, pw):
    return {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()).decode(),
            "Content-Type": "application/x-www-form-urlencoded"}


ACCT = auth(ACCOUNT, TOKEN)
APIKEY = auth(KEY, KEY_SECRET)


class TwilioSandbox(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.recv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=cls.recv.serve_forever, daemon=True).start()
        cls.hook = "http://127.0.0.1:%d/twilio/room-status" % cls.recv.server_address[1]
        cls.sb = start_sandbox()
        cls.c = Client(cls.sb.host, cls.sb.port)

    @classmethod
    def tearDownClass(cls):
        cls.sb.close()
        cls.recv.shutdown()

    def call(self, method, path, params=None, headers=ACCT):
        raw = urllib.parse.urlencode(params).encode() if params is not None else None
        return self.c.request(method, "/twilio" + path, raw=raw, headers=headers)

    def check(self, path, method, status, r, strict=True):
        self.assertEqual(r.status, status, r)
        schema = oas.validate(SPEC, path, method, status, r.json)
        if strict:
            jsonschema.Draft7Validator(oas.strict(schema)).validate(r.json)

    def callbacks(self, room_sid, n, timeout=5):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with Receiver.lock:
                mine = [g for g in Receiver.got
                        if urllib.parse.parse_qs(g[2]).get("RoomSid") == [room_sid]]
            if len(mine) >= n:
                return mine
            time.sleep(0.05)
        self.fail("expected %d callbacks for %s, got %d" % (n, room_sid, len(mine)))

    def test_python_implementation_matches_spec_vector(self):
        ex = NOTES["status_callbacks"]["signature"]["computed_example"]
        self.assertEqual(twilio_signature(ex["auth_token"], ex["url"], ex["params"]),
                         ex["expected_X-Twilio-Signature"])

    def test_room_lifecycle_matches_schemas(self):
        r = self.call("POST", "/v1/Rooms", {"UniqueName": "booking-1", "Type": "group",
                                            "MaxParticipants": "10",
                                            "StatusCallback": self.hook,
                                            "EmptyRoomTimeout": "5"})
        self.check("/v1/Rooms", "post", 201, r)
        room = r.json
        self.assertRegex(room["sid"], r"^RM[0-9a-f]{32}$")
        self.assertEqual(room["status"], "in-progress")
        self.assertEqual(room["unique_name"], "booking-1")
        self.assertEqual(room["max_participants"], 10)
        self.assertTrue(room["url"].endswith("/twilio/v1/Rooms/" + room["sid"]))
        self.assertIn("participants", room["links"])

        by_name = self.call("GET", "/v1/Rooms/booking-1", headers=APIKEY)
        self.check("/v1/Rooms/{Sid}", "get", 200, by_name)
        self.assertEqual(by_name.json["sid"], room["sid"])
        lst = self.call("GET", "/v1/Rooms?Status=in-progress&PageSize=5")
        self.check("/v1/Rooms", "get", 200, lst)
        self.assertIn(room["sid"], [x["sid"] for x in lst.json["rooms"]])
        self.assertEqual(lst.json["meta"]["key"], "rooms")
        self.assertEqual(lst.json["meta"]["page_size"], 5)

        p = self.c.request("POST", "/twilio/_sandbox/Rooms/%s/Participants" % room["sid"],
                           raw=b"Identity=alice",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(p.status, 201, p)
        pa = p.json
        plist = self.call("GET", "/v1/Rooms/%s/Participants" % room["sid"])
        self.check("/v1/Rooms/{RoomSid}/Participants", "get", 200, plist)
        self.assertEqual([x["identity"] for x in plist.json["participants"]], ["alice"])
        one = self.call("GET", "/v1/Rooms/%s/Participants/alice" % room["sid"])
        self.check("/v1/Rooms/{RoomSid}/Participants/{Sid}", "get", 200, one)
        self.assertEqual(one.json["sid"], pa["sid"])

        done = self.call("POST", "/v1/Rooms/" + room["sid"], {"Status": "completed"})
        self.check("/v1/Rooms/{Sid}", "post", 202, done)
        self.assertEqual(done.json["status"], "completed")
        self.assertIsNotNone(done.json["end_time"])
        self.assertIsInstance(done.json["duration"], int)
        again = self.call("POST", "/v1/Rooms/" + room["sid"], {"Status": "completed"})
        self.assertEqual(again.status, 400)
        # Completed: no longer reachable by UniqueName, still by sid; participants disconnected.
        self.assertEqual(self.call("GET", "/v1/Rooms/booking-1").status, 404)
        gone = self.call("GET", "/v1/Rooms/%s/Participants/%s" % (room["sid"], pa["sid"]))
        self.check("/v1/Rooms/{RoomSid}/Participants/{Sid}", "get", 200, gone)
        self.assertEqual(gone.json["status"], "disconnected")

        cbs = self.callbacks(room["sid"], 4)
        events = [urllib.parse.parse_qs(b)["StatusCallbackEvent"][0] for _, _, b in cbs]
        self.assertEqual(events, ["room-created", "participant-connected",
                                  "participant-disconnected", "room-ended"])
        for path, headers, body in cbs:
            params = {k: v[0] for k, v in urllib.parse.parse_qs(body, keep_blank_values=True).items()}
            h = {k.lower(): v for k, v in headers.items()}
            self.assertEqual(h["x-twilio-signature"], twilio_signature(TOKEN, self.hook, params))
            self.assertEqual(params["AccountSid"], ACCOUNT)
            self.assertEqual(params["RoomName"], "booking-1")
        self.assertEqual([urllib.parse.parse_qs(b)["SequenceNumber"][0] for _, _, b in cbs],
                         ["0", "1", "2", "3"])

    def test_unique_name_conflict_while_in_progress(self):
        r = self.call("POST", "/v1/Rooms", {"UniqueName": "booking-dup"})
        self.assertEqual(r.status, 201, r)
        dup = self.call("POST", "/v1/Rooms", {"UniqueName": "booking-dup"})
        self.assertEqual(dup.status, 400)
        self.assertEqual(dup.json, {"code": 53113, "message": "Unable to create Room: Room exists",
                                    "more_info": "https://www.twilio.com/docs/errors/53113",
                                    "status": 400})
        self.call("POST", "/v1/Rooms/booking-dup", {"Status": "completed"})
        again = self.call("POST", "/v1/Rooms", {"UniqueName": "booking-dup"})
        self.assertEqual(again.status, 201, again)
        self.assertNotEqual(again.json["sid"], r.json["sid"])

    def test_unused_room_times_out_lazily(self):
        r = self.call("POST", "/v1/Rooms", {"UniqueName": "booking-unused",
                                            "UnusedRoomTimeout": "2", "StatusCallback": self.hook})
        self.assertEqual(r.status, 201, r)
        sid = r.json["sid"]
        self.c.post("/_sandbox/clock", {"advance_seconds": 119})
        self.assertEqual(self.call("GET", "/v1/Rooms/" + sid).json["status"], "in-progress")
        self.c.post("/_sandbox/clock", {"advance_seconds": 2})
        try:
            g = self.call("GET", "/v1/Rooms/" + sid)
            self.check("/v1/Rooms/{Sid}", "get", 200, g)
            self.assertEqual(g.json["status"], "completed")
            self.assertEqual(g.json["duration"], 120)
            cbs = self.callbacks(sid, 2)
            self.assertEqual(urllib.parse.parse_qs(cbs[-1][2])["StatusCallbackEvent"], ["room-ended"])
        finally:
            self.c.post("/_sandbox/clock", {"advance_seconds": -121})

    def test_errors_and_auth(self):
        r = self.call("GET", "/v1/Rooms", headers=auth(ACCOUNT, "wrong"))
        self.assertEqual(r.status, 401)
        self.assertEqual(r.json["code"], 20003)
        self.assertEqual(set(r.json), {"code", "message", "more_info", "status"})
        self.assertEqual(self.call("GET", "/v1/Rooms", headers={}).status, 401)
        self.assertEqual(self.call("GET", "/v1/Rooms", headers=APIKEY).status, 200)
        cases = [({"Type": "huge"}, 53108), ({"MaxParticipants": "51"}, 53107),
                 ({"Type": "go", "MaxParticipants": "3"}, 53107),
                 ({"UnusedRoomTimeout": "0"}, 53109), ({"EmptyRoomTimeout": "61"}, 53109),
                 ({"StatusCallback": "not a url"}, 53111),
                 ({"StatusCallbackMethod": "PUT"}, 53110), ({"MediaRegion": "mars1"}, 53115),
                 ({"UniqueName": "x" * 129}, 53102), ({"AudioOnly": "maybe"}, 20001)]
        for params, code in cases:
            r = self.call("POST", "/v1/Rooms", params)
            self.assertEqual(r.status, 400, (params, r))
            self.assertEqual(r.json["code"], code, params)
            self.assertEqual(r.json["status"], 400)
        nf = self.call("GET", "/v1/Rooms/RM00000000000000000000000000000000")
        self.assertEqual((nf.status, nf.json["code"]), (404, 20404))
        r = self.call("POST", "/v1/Rooms", {"UniqueName": "booking-st"})
        bad = self.call("POST", "/v1/Rooms/" + r.json["sid"], {"Status": "paused"})
        self.assertEqual((bad.status, bad.json["code"]), (400, 53112))
        bad = self.call("POST", "/v1/Rooms/" + r.json["sid"], {})
        self.assertEqual(bad.status, 400)
        self.assertEqual(self.call("GET", "/v1/Rooms?PageSize=1001").status, 400)

    def test_max_participants_and_disconnect(self):
        r = self.call("POST", "/v1/Rooms", {"Type": "go"})
        sid = r.json["sid"]
        self.assertEqual(r.json["unique_name"], sid)  # defaults to the sid
        h = {"Content-Type": "application/x-www-form-urlencoded"}
        for who in ("a", "b"):
            self.assertEqual(self.c.request("POST", "/twilio/_sandbox/Rooms/%s/Participants" % sid,
                                            raw=("Identity=" + who).encode(), headers=h).status, 201)
        full = self.c.request("POST", "/twilio/_sandbox/Rooms/%s/Participants" % sid,
                              raw=b"Identity=c", headers=h)
        self.assertEqual((full.status, full.json["code"]), (400, 53105))
        d = self.call("POST", "/v1/Rooms/%s/Participants/a" % sid, {"Status": "disconnected"})
        self.check("/v1/Rooms/{RoomSid}/Participants/{Sid}", "post", 202, d)
        self.assertEqual(d.json["status"], "disconnected")
        lst = self.call("GET", "/v1/Rooms/%s/Participants?Status=disconnected" % sid)
        self.assertEqual([p["identity"] for p in lst.json["participants"]], ["a"])
        state = self.c.get("/_sandbox/state?provider=twilio").json["twilio"]
        self.assertIn(sid, state["rooms"])


if __name__ == "__main__":
    main()
