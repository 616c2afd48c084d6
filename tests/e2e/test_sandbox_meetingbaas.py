"""MeetingBaas emulator conformance (docs/sandbox-meetingbaas.md): every /meetingbaas answer
validates against specs/meetingbaas/meetingbaas-v1.openapi.json (strictly: no member the
schema does not declare) and errors against v2's ErrorResponse; bots live their documented
life on the sandbox clock (joining_call -> in_waiting_room -> in_call_not_recording ->
in_call_recording -> call_ended -> complete, or failed with the documented error codes);
deduplication; webhooks reach a local receiver with the x-meeting-baas-api-key header, and
the outbound faults lose, duplicate, delay and reorder them; the calendar API against the
sandbox's own Google credentials."""

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

SPEC = oas.load("meetingbaas/meetingbaas-v1.openapi.json")
V2 = oas.load("meetingbaas/meetingbaas-v2.openapi.json")
KEY, KEY2 = "mb-sandbox-api-key", "mb-sandbox-api-key-2"
MEET = "https://meet.google.com/abc-defg-hij"
GOOGLE_CLIENT = ("meetlink-sandbox.apps.googleusercontent.com", "GOCSPX-sandbox-secret")
ADA_REFRESH = "1//sandbox-ada-refresh"


class Receiver(http.server.BaseHTTPRequestHandler):
    got = []
    fail_paths = set()
    lock = threading.Lock()

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with Receiver.lock:
            Receiver.got.append((self.path, {k.lower(): v for k, v in self.headers.items()},
                                 json.loads(body)))
            fail = self.path in Receiver.fail_paths
        self.send_response(500 if fail else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


class MeetingBaasSandbox(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.recv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=cls.recv.serve_forever, daemon=True).start()
        cls.hook = "http://127.0.0.1:%d/mb" % cls.recv.server_address[1]
        cls.sb = start_sandbox()
        cls.c = Client(cls.sb.host, cls.sb.port)

    @classmethod
    def tearDownClass(cls):
        cls.sb.close()
        cls.recv.shutdown()

    def setUp(self):
        self.assertEqual(self.c.post("/_sandbox/reset", {}).status, 200)
        with Receiver.lock:
            Receiver.got.clear()
            Receiver.fail_paths.clear()
        r = self.mb("POST", "/accounts/webhook_url", {"webhook_url": self.hook})
        self.assertEqual(r.status, 200, r)

    # ---- helpers ---------------------------------------------------------------------

    def mb(self, method, path, body=None, key=KEY):
        h = {"x-meeting-baas-api-key": key} if key else {}
        return self.c.request(method, "/meetingbaas" + path, body=body, headers=h)

    def check(self, path, method, status, r, strict=True):
        self.assertEqual(r.status, status, r)
        schema = oas.validate(SPEC, path, method, status, r.json)
        if strict:
            jsonschema.Draft7Validator(oas.strict(schema)).validate(r.json)

    def check_error(self, r, status, code=None, field=None):
        self.assertEqual(r.status, status, r)
        schema = oas._resolve(V2, V2["components"]["schemas"]["ErrorResponse"])
        jsonschema.Draft7Validator(schema).validate(r.json)
        if code:
            self.assertEqual(r.json["code"], code)
        if field:
            self.assertIn("body/" + field, r.json["message"])

    def advance(self, seconds):
        r = self.c.post("/_sandbox/clock", {"advance_seconds": seconds})
        self.assertEqual(r.status, 200, r)

    def hooks(self, n, pred=lambda p, h, b: True, timeout=10):
        deadline = time.time() + timeout
        while True:
            with Receiver.lock:
                mine = [g for g in Receiver.got if pred(*g)]
            if len(mine) >= n or time.time() > deadline:
                return mine
            time.sleep(0.05)

    def bot_hooks(self, bot, n, timeout=10):
        return self.hooks(n, lambda p, h, b: b["data"].get("bot_id") == bot, timeout)

    def join(self, **kw):
        body = {"meeting_url": MEET, "bot_name": "Recorder"}
        body.update(kw)
        r = self.mb("POST", "/bots/", body)
        self.check("/bots/", "post", 200, r)
        return r.json["bot_id"]

    def codes(self, hooks):
        return [b["data"]["status"]["code"] if b["event"] == "bot.status_change"
                else b["event"] for _, _, b in hooks]

    def script(self, **kw):
        r = self.c.post("/meetingbaas/_sandbox/scripts", kw)
        self.assertEqual(r.status, 200, r)

    # ---- bots and their life --------------------------------------------------------

    def test_life_to_complete_with_transcript_and_media(self):
        bot = self.join(speech_to_text={"provider": "Default"}, recording_mode="speaker_view",
                        extra={"booking": "b1"}, deduplication_key="b1-g1",
                        automatic_leave={"waiting_room_timeout": 600,
                                         "noone_joined_timeout": 300})
        self.assertEqual(self.codes(self.bot_hooks(bot, 1)), ["joining_call"])
        self.advance(10)
        got = self.bot_hooks(bot, 4)
        self.assertEqual(self.codes(got), ["joining_call", "in_waiting_room",
                                           "in_call_not_recording", "in_call_recording"])
        self.assertIn("start_time", got[3][2]["data"]["status"])
        for path, headers, body in got:
            self.assertEqual(path, "/mb")
            self.assertEqual(headers["x-meeting-baas-api-key"], KEY)
            self.assertEqual(headers["content-type"], "application/json")
            self.assertEqual(set(body), {"event", "data"})
        self.advance(300)
        self.assertEqual(self.codes(self.bot_hooks(bot, 5))[-1], "call_ended")
        self.advance(10)
        got = self.bot_hooks(bot, 6)
        self.assertEqual(self.codes(got)[-1], "complete")
        data = got[-1][2]["data"]
        self.assertEqual(data["extra"], {"booking": "b1"})
        self.assertIsNone(data["event_uuid"])
        self.assertEqual(data["speakers"], ["Ada Lovelace", "Grace Hopper"])
        first = data["transcript"][0]
        self.assertEqual((first["speaker"], first["start_time"]), ("Ada Lovelace", 1.5))
        self.assertEqual([w["word"] for w in first["words"]][:2], ["Hello", "everyone,"])
        self.assertEqual(first["words"][0], {"start": 1.5, "end": 1.85, "word": "Hello"})
        self.assertEqual(len(data["transcript"]), 38)  # one utterance per 8 s of 300 s

        md = self.mb("GET", "/bots/meeting_data?bot_id=" + bot)
        self.check("/bots/meeting_data", "get", 200, md)
        self.assertEqual(md.json["duration"], 300)
        self.assertEqual(md.json["bot_data"]["bot"]["deduplication_key"], "b1-g1")
        self.assertEqual(md.json["bot_data"]["bot"]["noone_joined_timeout"], 300)
        self.assertTrue(md.json["bot_data"]["bot"]["is_stopped"])
        tr = md.json["bot_data"]["transcripts"]
        self.assertEqual(tr[1]["speaker"], "Grace Hopper")
        self.assertEqual(tr[0]["words"][0]["text"], "Hello")
        no_tr = self.mb("GET", "/bots/meeting_data?bot_id=%s&include_transcripts=false" % bot)
        self.check("/bots/meeting_data", "get", 200, no_tr)
        self.assertEqual(no_tr.json["bot_data"]["transcripts"], [])

        for url, ctype in ((data["mp4"], "video/mp4"), (md.json["audio"], "audio/wav")):
            u = urllib.parse.urlsplit(url)
            self.assertEqual((u.hostname, u.port), (self.sb.host, int(self.sb.port)))
            r = self.c.get(u.path + "?" + u.query)
            self.assertEqual((r.status, r.header("Content-Type")), (200, ctype))
            bad = self.c.get(u.path + "?" + u.query.replace("signature=", "signature=0"))
            self.assertEqual(bad.status, 403)
        shots = self.mb("GET", "/bots/%s/screenshots" % bot)
        self.check("/bots/{uuid}/screenshots", "get", 200, shots)
        self.assertEqual(len(shots.json), 2)

        # Media URLs expire (2 h), the API gives fresh ones.
        self.advance(7300)
        u = urllib.parse.urlsplit(data["mp4"])
        self.assertEqual(self.c.get(u.path + "?" + u.query).status, 403)
        fresh = urllib.parse.urlsplit(self.mb("GET", "/bots/meeting_data?bot_id=" + bot).json["mp4"])
        self.assertEqual(self.c.get(fresh.path + "?" + fresh.query).status, 200)

    def test_no_speech_to_text_no_transcript(self):
        bot = self.join()
        self.advance(400)
        done = self.bot_hooks(bot, 6)[-1][2]
        self.assertEqual(done["event"], "complete")
        self.assertEqual((done["data"]["transcript"], done["data"]["speakers"]), ([], []))

    def test_deduplication(self):
        first = self.join(deduplication_key="booking-7")
        again = self.mb("POST", "/bots/", {"meeting_url": MEET, "bot_name": "Recorder",
                                           "deduplication_key": "booking-7"})
        self.check_error(again, 409, "BOT_ALREADY_EXISTS")
        other = self.join(deduplication_key="booking-8")
        self.assertNotEqual(first, other)
        self.join()  # no key: a bot of its own
        self.check_error(self.mb("POST", "/bots/", {"meeting_url": MEET, "bot_name": "R"}), 409)
        # Another account, another meeting: not a duplicate.
        r = self.mb("POST", "/bots/", {"meeting_url": MEET, "bot_name": "R",
                                       "deduplication_key": "booking-7"}, key=KEY2)
        self.assertEqual(r.status, 200, r)
        self.join(meeting_url="https://zoom.us/j/81234567890", deduplication_key="booking-7")
        bots = self.c.get("/meetingbaas/_sandbox/bots?account_id=1").json["bots"]
        self.assertEqual(len(bots), 4)
        # Still refused while the first is live, past the 5 minutes...
        self.c.post("/meetingbaas/_sandbox/bots/%s/script" % first, {"recording_seconds": 3600})
        self.advance(600)
        self.check_error(self.mb("POST", "/bots/", {"meeting_url": MEET, "bot_name": "R",
                                                    "deduplication_key": "booking-7"}), 409)
        # ...allowed once it has left and 5 minutes have passed.
        self.assertEqual(self.mb("DELETE", "/bots/" + first).json, {"ok": True})
        self.advance(20)
        self.join(deduplication_key="booking-7")

    def test_failures_with_documented_error_codes(self):
        cases = [
            ("CannotJoinMeeting", "https://meet.google.com/aaa-bbbb-ccc",
             ["joining_call", "failed"]),
            ("BotNotAccepted", "https://meet.google.com/ddd-eeee-fff",
             ["joining_call", "in_waiting_room", "bot_rejected", "failed"]),
            ("TimeoutWaitingToStart", "https://meet.google.com/ggg-hhhh-iii",
             ["joining_call", "in_waiting_room", "waiting_room_timeout", "failed"]),
            ("BotRemoved", "https://zoom.us/j/81111111111",
             ["joining_call", "in_waiting_room", "in_call_not_recording",
              "in_call_recording", "bot_removed", "failed"]),
            ("InternalError", "https://teams.microsoft.com/l/meetup-join/x",
             ["joining_call", "in_waiting_room", "in_call_not_recording",
              "in_call_recording", "meeting_error", "failed"]),
        ]
        bots = {}
        for err, url, _ in cases:
            self.script(meeting_url=url, outcome="failed", error=err)
            bots[err] = self.join(meeting_url=url, extra={"case": err})
        bogus = self.join(meeting_url="https://example.com/meeting")
        self.advance(1000)
        for err, url, want in cases:
            got = self.bot_hooks(bots[err], len(want))
            self.assertEqual(self.codes(got), want, err)
            data = got[-1][2]["data"]
            self.assertEqual((data["error"], data["extra"]), (err, {"case": err}))
            self.assertTrue(data["message"])
        self.assertEqual(self.codes(self.bot_hooks(bogus, 3)),
                         ["joining_call", "invalid_meeting_url", "failed"])
        self.assertEqual(self.bot_hooks(bogus, 3)[-1][2]["data"]["error"], "InvalidMeetingUrl")
        md = self.mb("GET", "/bots/meeting_data?bot_id=" + bots["BotRemoved"])
        self.check("/bots/meeting_data", "get", 200, md)
        self.assertEqual((md.json["mp4"], md.json["bot_data"]["bot"]["errors"]), ("", "BotRemoved"))

    def test_waiting_room_held_then_admitted_or_timed_out(self):
        self.script(meeting_url=MEET, hold_waiting_room=True)
        a = self.join(automatic_leave={"waiting_room_timeout": 120})
        b = self.join(deduplication_key="second")
        self.advance(60)
        self.assertEqual(self.codes(self.bot_hooks(a, 2)), ["joining_call", "in_waiting_room"])
        r = self.c.post("/meetingbaas/_sandbox/bots/%s/admit" % b)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "in_call_not_recording")
        self.advance(70)  # a's own waiting_room_timeout (120 s) is over
        self.assertEqual(self.codes(self.bot_hooks(a, 4))[-2:], ["waiting_room_timeout", "failed"])
        self.assertEqual(self.bot_hooks(a, 4)[-1][2]["data"]["error"], "TimeoutWaitingToStart")
        self.assertEqual(self.codes(self.bot_hooks(b, 4))[-1], "in_call_recording")
        self.assertEqual(self.c.post("/meetingbaas/_sandbox/bots/%s/admit" % a).status, 409)

    def test_leave_and_meeting_end(self):
        recording = self.join(deduplication_key="a")
        waiting = self.join(deduplication_key="b")
        self.c.post("/meetingbaas/_sandbox/bots/%s/script" % waiting, {"hold_waiting_room": True})
        self.advance(30)
        r = self.mb("DELETE", "/bots/" + recording)
        self.check("/bots/{uuid}", "delete", 200, r)
        self.assertEqual(r.json, {"ok": True})
        self.assertEqual(self.codes(self.bot_hooks(recording, 5))[-1], "call_ended")
        r = self.mb("DELETE", "/bots/" + waiting)
        self.assertEqual(self.codes(self.bot_hooks(waiting, 4))[-2:], ["call_ended", "failed"])
        self.advance(15)
        self.assertEqual(self.codes(self.bot_hooks(recording, 6))[-1], "complete")
        self.assertEqual(self.mb("DELETE", "/bots/" + recording).json, {"ok": False})
        self.check_error(self.mb("DELETE", "/bots/00000000-0000-4000-8000-000000000000"), 404)
        third = self.join(deduplication_key="c")
        self.advance(30)
        self.assertEqual(self.c.post("/meetingbaas/_sandbox/bots/%s/end" % third).status, 200)
        self.advance(15)
        self.assertEqual(self.codes(self.bot_hooks(third, 6))[-2:], ["call_ended", "complete"])

    def test_silence_and_nobody_joins_follow_automatic_leave(self):
        self.script(meeting_url=MEET, silence=True)
        bot = self.join(automatic_leave={"silence_timeout": 300})
        self.advance(7 + 280)  # recording since +7 s; silence_timeout 300 s
        self.assertNotIn("call_ended", self.codes(self.bot_hooks(bot, 4)))
        self.advance(25)
        self.assertEqual(self.codes(self.bot_hooks(bot, 5))[-1], "call_ended")
        url = "https://meet.google.com/nob-odyj-oin"
        self.script(meeting_url=url, nobody_joins=True)
        lone = self.join(meeting_url=url, automatic_leave={"noone_joined_timeout": 120})
        self.advance(130)
        got = self.bot_hooks(lone, 5)
        self.assertEqual(self.codes(got)[-2:], ["call_ended", "failed"])
        self.assertEqual(got[-1][2]["data"]["error"], "TimeoutWaitingToStart")

    def test_scheduled_start_time(self):
        start = int(time.time()) + 3600
        bot = self.join(start_time=start)
        self.advance(60)
        self.assertEqual(self.bot_hooks(bot, 1, timeout=0.5), [])
        self.advance(3600)
        self.assertEqual(self.codes(self.bot_hooks(bot, 1))[0], "joining_call")

    def test_list_filters_sorting_and_paging(self):
        for i in range(7):
            self.join(meeting_url="https://zoom.us/j/8100000000%d" % i,
                      bot_name="Sales %d" % i if i % 2 else "Support %d" % i,
                      extra={"customer": "c%d" % (i % 3), "rank": str(9 - i)})
        r = self.mb("GET", "/bots/bots_with_metadata?limit=3")
        self.check("/bots/bots_with_metadata", "get", 200, r)
        self.assertEqual(len(r.json["bots"]), 3)
        seen = [b["bot_name"] for b in r.json["bots"]]
        self.assertEqual(seen[0], "Support 6")  # newest first
        while r.json["next_cursor"]:
            r = self.mb("GET", "/bots/bots_with_metadata?limit=3&cursor=" +
                        urllib.parse.quote(r.json["next_cursor"]))
            self.check("/bots/bots_with_metadata", "get", 200, r)
            seen += [b["bot_name"] for b in r.json["bots"]]
        self.assertEqual(len(seen), 7)
        r = self.mb("GET", "/bots/bots_with_metadata?bot_name=sales")
        self.assertEqual(sorted(b["bot_name"] for b in r.json["bots"]),
                         ["Sales 1", "Sales 3", "Sales 5"])
        r = self.mb("GET", "/bots/bots_with_metadata?filter_by_extra=customer:c1")
        self.assertEqual(sorted(b["extra"]["rank"] for b in r.json["bots"]), ["5", "8"])
        r = self.mb("GET", "/bots/bots_with_metadata?sort_by_extra=rank:asc&limit=50")
        self.assertEqual([b["extra"]["rank"] for b in r.json["bots"]],
                         ["3", "4", "5", "6", "7", "8", "9"])
        r = self.mb("GET", "/bots/bots_with_metadata?meeting_url=81000000003")
        self.assertEqual(len(r.json["bots"]), 1)
        r = self.mb("GET", "/bots/bots_with_metadata?created_after=2099-01-01T00:00:00")
        self.assertEqual(r.json["bots"], [])
        self.advance(400)
        r = self.mb("GET", "/bots/bots_with_metadata?ended_after=2000-01-01T00:00:00&limit=50")
        self.check("/bots/bots_with_metadata", "get", 200, r)
        self.assertTrue(all(b["duration"] == 300 for b in r.json["bots"]))
        for bad in ("limit=0", "limit=51", "created_after=yesterday", "cursor=@@"):
            self.check_error(self.mb("GET", "/bots/bots_with_metadata?" + bad), 400,
                             "FST_ERR_VALIDATION")
        # Another account sees none of these.
        r = self.mb("GET", "/bots/bots_with_metadata", key=KEY2)
        self.assertEqual(r.json["bots"], [])
        bot = seen and self.c.get("/meetingbaas/_sandbox/bots").json["bots"][0]["uuid"]
        self.check_error(self.mb("GET", "/bots/meeting_data?bot_id=" + bot, key=KEY2), 404)
        self.check_error(self.mb("DELETE", "/bots/" + bot, key=KEY2), 404)

    def test_retranscribe_and_delete_data(self):
        bot = self.join(speech_to_text="Default")
        live = self.mb("POST", "/bots/retranscribe", {"bot_uuid": bot})
        self.check_error(live, 400, "NO_AUDIO")
        self.advance(400)
        self.bot_hooks(bot, 6)
        r = self.mb("POST", "/bots/retranscribe",
                    {"bot_uuid": bot, "speech_to_text": {"provider": "Gladia", "api_key": "g"},
                     "webhook_url": self.hook + "/retranscribed"})
        self.assertEqual((r.status, r.body), (202, b""))
        self.advance(11)
        done = self.hooks(1, lambda p, h, b: b["event"] == "transcription_complete")
        self.assertEqual(done[0][0], "/mb/retranscribed")
        self.assertEqual(done[0][2], {"event": "transcription_complete", "data": {"bot_id": bot}})
        md = self.mb("GET", "/bots/meeting_data?bot_id=" + bot).json
        self.assertEqual(md["bot_data"]["bot"]["speech_to_text_provider"], "Gladia")
        self.check_error(self.mb("POST", "/bots/retranscribe", {"speech_to_text": "Default"}),
                         400, field="bot_uuid")

        r = self.mb("POST", "/bots/%s/delete_data" % bot)
        self.check("/bots/{uuid}/delete_data", "post", 200, r)
        self.assertEqual(r.json, {"ok": True, "status": "deleted"})
        self.assertEqual(self.mb("POST", "/bots/%s/delete_data" % bot).json["status"],
                         "alreadyDeleted")
        md = self.mb("GET", "/bots/meeting_data?bot_id=" + bot)
        self.check("/bots/meeting_data", "get", 200, md)
        self.assertEqual((md.json["mp4"], md.json["bot_data"]["transcripts"]), ("", []))
        self.assertEqual(self.mb("GET", "/bots/%s/screenshots" % bot).json, [])
        other = self.join(deduplication_key="x")
        self.assertEqual(self.mb("POST", "/bots/%s/delete_data" % other).json,
                         {"ok": False, "status": "noDataFound"})
        # "Rate limited to 5 requests per minute per API key": 3 made so far.
        for _ in range(2):
            self.assertEqual(self.mb("POST", "/bots/%s/delete_data" % other).status, 200)
        limited = self.mb("POST", "/bots/%s/delete_data" % other)
        self.assertEqual((limited.status, limited.body), (429, b""))
        self.advance(61)
        self.assertEqual(self.mb("POST", "/bots/%s/delete_data" % other).status, 200)
        missing = self.mb("POST", "/bots/00000000-0000-4000-8000-000000000000/delete_data")
        self.assertEqual((missing.status, missing.body), (404, b""))

    def test_bad_requests_are_answered_as_validation_errors(self):
        cases = [
            ({"bot_name": "x"}, "meeting_url"),
            ({"meeting_url": MEET}, "bot_name"),
            ({"meeting_url": MEET, "bot_name": 5}, "bot_name"),
            ({"meeting_url": "", "bot_name": "x"}, "meeting_url"),
            ({"meeting_url": MEET, "bot_name": "x", "recording_mode": "4k"}, "recording_mode"),
            ({"meeting_url": MEET, "bot_name": "x", "speech_to_text": "Whisper"},
             "speech_to_text"),
            ({"meeting_url": MEET, "bot_name": "x", "speech_to_text": {"provider": "Gladia"}},
             "speech_to_text/api_key"),
            ({"meeting_url": MEET, "bot_name": "x",
              "automatic_leave": {"waiting_room_timeout": 60}},
             "automatic_leave/waiting_room_timeout"),
            ({"meeting_url": MEET, "bot_name": "x",
              "automatic_leave": {"silence_timeout": 5000}}, "automatic_leave/silence_timeout"),
            ({"meeting_url": MEET, "bot_name": "x", "start_time": -1}, "start_time"),
            ({"meeting_url": MEET, "bot_name": "x", "webhook_url": "ftp://x"}, "webhook_url"),
            ({"meeting_url": MEET, "bot_name": "x", "webhook_url": "http://h/\r\nX-A: b"},
             "webhook_url"),
            ({"meeting_url": MEET, "bot_name": "x", "colour": "red"}, "colour"),
            ({"meeting_url": MEET, "bot_name": "x", "streaming": {"audio_frequency": "8khz"}},
             "streaming/audio_frequency"),
        ]
        for body, field in cases:
            self.check_error(self.mb("POST", "/bots/", body), 400, "FST_ERR_VALIDATION", field)
        r = self.c.request("POST", "/meetingbaas/bots/", raw=b"{nope",
                           headers={"x-meeting-baas-api-key": KEY})
        self.check_error(r, 400, "FST_ERR_VALIDATION")
        self.check_error(self.mb("POST", "/bots/", {"meeting_url": MEET, "bot_name": "x"},
                                 key=None), 401, "INVALID_API_KEY")
        self.check_error(self.mb("GET", "/bots/bots_with_metadata", key="wrong"), 401)
        self.check_error(self.mb("GET", "/bots/meeting_data"), 400)
        self.check_error(self.mb("POST", "/accounts/webhook_url", {"webhook_url": "http://a b"}),
                         400, field="webhook_url")
        self.check_error(self.mb("GET", "/nope"), 404)
        self.check_error(self.mb("PUT", "/bots/"), 405)
        self.assertEqual(self.c.get("/meetingbaas/_sandbox/bots").json["bots"], [])

    def test_request_log_redacts_the_api_key(self):
        self.join(speech_to_text={"provider": "Runpod", "api_key": "runpod-secret"})
        log = self.c.get("/_sandbox/requests?provider=meetingbaas&method=POST").json["requests"]
        entry = [e for e in log if e["path"] == "/meetingbaas/bots/"][-1]
        self.assertEqual(entry["headers"]["x-meeting-baas-api-key"], "[redacted]")
        self.assertEqual(entry["body"]["speech_to_text"]["api_key"], "[redacted]")
        self.assertEqual(entry["status"], 200)
        self.hooks(1)
        # The delivery's log entry is written once its answer is in, which may be just after
        # the receiver saw it: looked for until it is there.
        deadline = time.time() + 10
        while True:
            out = self.c.get("/_sandbox/requests?provider=meetingbaas&direction=out").json
            if out["requests"] or time.time() > deadline:
                break
            time.sleep(0.05)
        self.assertTrue(out["requests"])
        self.assertNotIn(KEY, json.dumps(out))

    # ---- webhook delivery and its faults --------------------------------------------

    def test_webhook_faults_lost_duplicated_late_reordered(self):
        faults = [{"provider": "meetingbaas", "direction": "out", "event": "bot.status_change",
                   "drop": True, "count": 1},
                  {"provider": "meetingbaas", "direction": "out", "event": "bot.status_change",
                   "duplicate": True, "count": 1},
                  {"provider": "meetingbaas", "direction": "out", "event": "bot.status_change",
                   "reorder": True, "count": 1},
                  {"provider": "meetingbaas", "direction": "out", "event": "complete",
                   "latency_ms": 300000}]
        r = self.c.post("/_sandbox/faults", {"faults": faults})
        self.assertEqual(r.status, 201, r)
        bot = self.join()
        self.advance(10)
        got = self.codes(self.bot_hooks(bot, 4))
        # joining_call lost; in_waiting_room twice; in_call_not_recording after
        # in_call_recording.
        self.assertEqual(got, ["in_waiting_room", "in_waiting_room", "in_call_recording",
                               "in_call_not_recording"])
        self.advance(310)
        self.assertEqual(self.codes(self.bot_hooks(bot, 5))[-1], "call_ended")
        time.sleep(0.3)
        self.assertNotIn("complete", self.codes(self.bot_hooks(bot, 6, timeout=0.3)))
        self.advance(300)  # the late complete arrives 300 s later on the sandbox clock
        self.assertEqual(self.codes(self.bot_hooks(bot, 6))[-1], "complete")
        made = self.c.get("/meetingbaas/_sandbox/webhooks?bot_id=" + bot).json["webhooks"]
        self.assertEqual([w["fault"]["kind"] for w in made if w["fault"]],
                         ["lost", "duplicated", "reordered", "late"])
        self.assertFalse(made[0]["delivered"])

    def test_failed_deliveries_are_retried(self):
        with Receiver.lock:
            Receiver.fail_paths.add("/mb")
        bot = self.join()
        self.assertEqual(len(self.bot_hooks(bot, 1)), 1)
        with Receiver.lock:
            Receiver.fail_paths.clear()
        self.advance(5)
        got = [b for _, _, b in self.bot_hooks(bot, 5)
               if b["event"] == "bot.status_change" and
               b["data"]["status"]["code"] == "joining_call"]
        self.assertEqual(len(got), 2)  # first answered 500, retried after 5 s
        made = self.c.get("/meetingbaas/_sandbox/webhooks?event=bot.status_change").json
        first = made["webhooks"][0]
        self.assertEqual([a["status"] for a in first["attempts"]], [500, 200])
        self.assertTrue(first["delivered"])

    def test_per_bot_webhook_url(self):
        bot = self.join(webhook_url=self.hook + "/bot")
        self.assertEqual(self.bot_hooks(bot, 1)[0][0], "/mb/bot")

    # ---- calendars -------------------------------------------------------------------

    def oauth(self, **kw):
        body = {"oauth_client_id": GOOGLE_CLIENT[0], "oauth_client_secret": GOOGLE_CLIENT[1],
                "oauth_refresh_token": ADA_REFRESH, "platform": "Google"}
        body.update(kw)
        return body

    def calendar(self):
        r = self.mb("POST", "/calendars/", self.oauth())
        self.check("/calendars/", "post", 200, r)
        return r.json["calendar"]

    def test_calendar_integration(self):
        r = self.mb("POST", "/calendars/raw", self.oauth())
        self.check("/calendars/raw", "post", 200, r)
        self.assertEqual(r.json["calendars"][0], {"id": "ada@sandbox.test",
                                                  "email": "ada@sandbox.test",
                                                  "is_primary": True})
        self.check_error(self.mb("POST", "/calendars/raw",
                                 self.oauth(oauth_client_secret="wrong")), 401)
        self.check_error(self.mb("POST", "/calendars/", self.oauth(oauth_refresh_token="1//x")),
                         401, "CALENDAR_AUTH_FAILED")
        self.check_error(self.mb("POST", "/calendars/", self.oauth(platform="Yahoo")), 400,
                         field="platform")
        cal = self.calendar()
        self.assertEqual((cal["email"], cal["google_id"]), ("ada@sandbox.test",) * 2)
        self.check_error(self.mb("POST", "/calendars/", self.oauth()), 409)
        sync = self.hooks(1, lambda p, h, b: b["event"] == "calendar.sync_events")[0][2]
        self.assertEqual(sync["data"]["calendar_id"], cal["uuid"])
        self.assertEqual(len(sync["data"]["affected_event_uuids"]), 8)
        r = self.mb("GET", "/calendars/")
        self.check("/calendars/", "get", 200, r)
        self.assertEqual([c["uuid"] for c in r.json], [cal["uuid"]])
        self.check("/calendars/{uuid}", "get", 200, self.mb("GET", "/calendars/" + cal["uuid"]))
        self.check_error(self.mb("GET", "/calendars/" + cal["uuid"], key=KEY2), 404)
        self.assertEqual(self.mb("GET", "/calendars/", key=KEY2).json, [])

        r = self.mb("GET", "/calendar_events/?calendar_id=" + cal["uuid"])
        self.check("/calendar_events/", "get", 200, r)
        names = [e["name"] for e in r.json["data"]]
        self.assertEqual(names, ["Daily standup", "Lunch", "Design review", "Daily standup",
                                 "Customer call", "Daily standup", "Daily standup",
                                 "Daily standup"])
        standup = r.json["data"][0]
        self.assertTrue(standup["start_time"].endswith("T09:00:00Z"))
        self.assertTrue(standup["meeting_url"].startswith("https://meet.google.com/"))
        self.assertTrue(standup["is_recurring"])
        self.assertEqual(self.mb("GET", "/calendar_events/?calendar_id=%s&status=past"
                                 % cal["uuid"]).json["data"], [])
        r = self.mb("GET", "/calendar_events/?calendar_id=%s&organizer_email=customer@sandbox.test"
                    % cal["uuid"])
        self.assertEqual([e["name"] for e in r.json["data"]], ["Customer call"])
        self.assertFalse(r.json["data"][0]["is_organizer"])
        r = self.mb("GET", "/calendar_events/?calendar_id=%s&attendee_email=guest@sandbox.test"
                    % cal["uuid"])
        self.assertEqual(len(r.json["data"]), 6)
        self.c.post("/_sandbox/config", {"meetingbaas": {"calendar_events_page_size": 3}})
        r, seen = self.mb("GET", "/calendar_events/?calendar_id=" + cal["uuid"]), 0
        while True:
            self.check("/calendar_events/", "get", 200, r)
            seen += len(r.json["data"])
            if not r.json["next"]:
                break
            r = self.mb("GET", "/calendar_events/?calendar_id=%s&cursor=%s"
                        % (cal["uuid"], urllib.parse.quote(r.json["next"])))
        self.assertEqual(seen, 8)
        self.check_error(self.mb("GET", "/calendar_events/"), 400, "FST_ERR_VALIDATION")
        self.check_error(self.mb("GET", "/calendar_events/?calendar_id=%s&status=soon"
                                 % cal["uuid"]), 400)
        ev = self.mb("GET", "/calendar_events/" + standup["uuid"])
        self.check("/calendar_events/{uuid}", "get", 200, ev)
        self.assertIsNone(ev.json["bot_param"])

        # Schedule a bot on every standup; the first one is dispatched at its start.
        r = self.mb("POST", "/calendar_events/%s/bot?all_occurrences=true" % standup["uuid"],
                    {"bot_name": "Notes", "speech_to_text": {"provider": "Default"},
                     "extra": {"host": "h1"}, "waiting_room_timeout": 300})
        self.check("/calendar_events/{uuid}/bot", "post", 200, r)
        self.assertEqual(len(r.json), 5)
        self.assertTrue(all(e["bot_param"]["bot_name"] == "Notes" for e in r.json))
        r = self.mb("PATCH", "/calendar_events/%s/bot?all_occurrences=false" % r.json[4]["uuid"],
                    {"bot_name": "Late notes"})
        self.check("/calendar_events/{uuid}/bot", "patch", 200, r)
        self.assertEqual(r.json[0]["bot_param"]["bot_name"], "Late notes")
        lunch = [e for e in self.mb("GET", "/calendar_events/?calendar_id=" + cal["uuid"]).json["data"]
                 if e["name"] == "Lunch"]
        self.check_error(self.mb("POST", "/calendar_events/%s/bot" % lunch[0]["uuid"],
                                 {"bot_name": "x"}), 400, "EVENT_HAS_NO_MEETING_URL")
        self.check_error(self.mb("POST", "/calendar_events/%s/bot" % standup["uuid"], {}), 400,
                         field="bot_name")
        start = int(time.mktime(time.strptime(standup["start_time"], "%Y-%m-%dT%H:%M:%SZ"))
                    - time.timezone)
        self.advance(start - int(time.time()) + 5)
        joined = self.hooks(1, lambda p, h, b: b["event"] == "bot.status_change")
        bot = joined[0][2]["data"]["bot_id"]
        self.advance(20)
        self.c.post("/meetingbaas/_sandbox/bots/%s/end" % bot)
        self.advance(20)
        done = self.bot_hooks(bot, 6)[-1][2]
        self.assertEqual((done["event"], done["data"]["event_uuid"], done["data"]["extra"]),
                         ("complete", standup["uuid"], {"host": "h1"}))
        md = self.mb("GET", "/bots/meeting_data?bot_id=" + bot).json
        self.assertEqual(md["bot_data"]["event_uuid"], standup["uuid"])
        self.assertEqual(md["bot_data"]["bot"]["waiting_room_timeout"], 300)
        r = self.mb("DELETE", "/calendar_events/%s/bot?all_occurrences=true" % standup["uuid"])
        self.check("/calendar_events/{uuid}/bot", "delete", 200, r)
        self.assertTrue(all(e["bot_param"] is None for e in r.json))

    def microsoft_refresh_token(self):
        """A Microsoft refresh token as a host gets one: the sandbox's consent (auto), then
        the code exchanged at the token endpoint."""
        app = ("11111111-2222-3333-4444-555555555555", "sandbox~microsoft~secret")
        q = urllib.parse.urlencode({"client_id": app[0], "redirect_uri": "http://127.0.0.1/cb",
                                    "response_type": "code", "state": "s",
                                    "scope": "offline_access Calendars.ReadWrite",
                                    "sandbox_auto": "allow"})
        r = self.c.get("/microsoft/common/oauth2/v2.0/authorize?" + q)
        self.assertEqual(r.status, 302, r)
        code = urllib.parse.parse_qs(urllib.parse.urlsplit(r.header("Location")).query)["code"][0]
        form = urllib.parse.urlencode({"grant_type": "authorization_code", "code": code,
                                       "redirect_uri": "http://127.0.0.1/cb",
                                       "client_id": app[0], "client_secret": app[1]})
        r = self.c.request("POST", "/microsoft/common/oauth2/v2.0/token", raw=form.encode(),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 200, r)
        return app, r.json["refresh_token"]

    def test_microsoft_calendar(self):
        app, rt = self.microsoft_refresh_token()
        body = {"oauth_client_id": app[0], "oauth_client_secret": app[1],
                "oauth_refresh_token": rt, "platform": "Microsoft"}
        r = self.mb("POST", "/calendars/", body)
        self.check("/calendars/", "post", 200, r)
        self.assertEqual(r.json["calendar"]["email"], "ada@sandbox.onmicrosoft.com")
        # A Google client with a Microsoft token, or the token under "Google": refused.
        self.check_error(self.mb("POST", "/calendars/raw", dict(body, platform="Google")), 401)
        self.check_error(self.mb("POST", "/calendars/raw",
                                 dict(body, oauth_client_id=GOOGLE_CLIENT[0])), 401)
        events = self.mb("GET", "/calendar_events/?calendar_id=" + r.json["calendar"]["uuid"])
        self.check("/calendar_events/", "get", 200, events)
        self.assertEqual(len(events.json["data"]), 8)

    def test_calendar_changes_resync_and_delete(self):
        cal = self.calendar()
        self.hooks(1)
        r = self.c.post("/meetingbaas/_sandbox/calendars/%s/events" % cal["uuid"],
                        {"name": "Tutoring", "start_time": "2099-01-01T10:00:00Z",
                         "end_time": "2099-01-01T11:00:00Z",
                         "meeting_url": "https://zoom.us/j/81234567890",
                         "attendees": ["pupil@sandbox.test"]})
        self.assertEqual(r.status, 201, r)
        added = r.json["uuid"]
        sync = self.hooks(2, lambda p, h, b: b["event"] == "calendar.sync_events")
        self.assertEqual(sync[1][2]["data"]["affected_event_uuids"], [added])
        moved = self.c.patch("/meetingbaas/_sandbox/calendar_events/" + added,
                             {"start_time": "2099-01-02T10:00:00Z",
                              "end_time": "2099-01-02T11:00:00Z"})
        self.assertEqual(moved.json["start_time"], "2099-01-02T10:00:00Z")
        self.c.delete("/meetingbaas/_sandbox/calendar_events/" + added)
        ev = self.mb("GET", "/calendar_events/" + added)
        self.check("/calendar_events/{uuid}", "get", 200, ev)
        self.assertTrue(ev.json["deleted"])
        self.assertEqual(len(self.hooks(4, lambda p, h, b: b["event"] == "calendar.sync_events")), 4)

        r = self.mb("PATCH", "/calendars/" + cal["uuid"], self.oauth())
        self.check("/calendars/{uuid}", "patch", 200, r)
        r = self.mb("POST", "/calendars/resync_all")
        self.check("/calendars/resync_all", "post", 200, r)
        self.assertEqual(r.json, {"synced_calendars": [cal["uuid"]], "errors": []})
        # The host revokes Google access: MeetingBaas can no longer sync.
        self.c.post("/_sandbox/tokens/revoke", {"provider": "google", "token": ADA_REFRESH})
        r = self.mb("POST", "/calendars/resync_all?days=7")
        self.check("/calendars/resync_all", "post", 200, r)
        self.assertEqual(r.json["synced_calendars"], [])
        self.assertEqual(r.json["errors"][0][0], cal["uuid"])

        r = self.mb("DELETE", "/calendars/" + cal["uuid"])
        self.assertEqual((r.status, r.body), (200, b""))
        self.check_error(self.mb("GET", "/calendars/" + cal["uuid"]), 404)
        self.check_error(self.mb("GET", "/calendar_events/" + added), 404)


if __name__ == "__main__":
    main()
