"""What the recording tests share (test_recordings.py, test_recording_moves.py): a daemon and
the sandbox with MeetingBaas's key, a Google Meet host, our own webhook receiver, and helpers
reading both sides (meetlink's recordings, the sandbox's bots and requests)."""

import http.server
import json
import os
import sys
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fixtures  # noqa: E402
import harness  # noqa: E402
import openapi_check  # noqa: E402
from pipeline import Env  # noqa: E402

MB_KEY = "mb-sandbox-api-key"
LEAD = 3  # seconds between the dispatch and the start


class Receiver(http.server.BaseHTTPRequestHandler):
    """Our own webhook endpoint: records every event meetlink sends."""
    events = []

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n) or b"{}")
        Receiver.events.append(body)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class RecordingBase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        env = {"MEETLINK_RECORDING_RECONCILE_SECONDS": "2",
               "MEETLINK_RECORDING_RECONCILE_MAX": "20",
               "MEETLINK_LOG_LEVEL": "info"}
        if harness.STORE == "postgres":
            # A shared store requeues nothing at start: the killed daemon's dispatch (test_5)
            # is taken over when its lease runs out.
            env["MEETLINK_JOB_LEASE_MS"] = "8000"
        cls.e = Env(env)
        c = cls.e.c
        if cls.e.sbc.get("/meetingbaas/_sandbox/bots").status == 404:
            # (Until the sandbox's MeetingBaas emulator lands: it is built alongside.)
            cls.e.close()
            raise unittest.SkipTest("the sandbox has no MeetingBaas emulator yet")
        cls.doc = openapi_check.load()
        # The bots' life, short: join, wait, admitted, record, process.
        cls.e.sb_config("meetingbaas", join_seconds=1, waiting_room_seconds=1, admit_seconds=1,
                        recording_seconds=10, processing_seconds=1)
        cls.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=cls.srv.serve_forever, daemon=True).start()
        r = c.post("/v1/webhook-endpoints", {
            "url": "http://127.0.0.1:%d/hook" % cls.srv.server_address[1],
            "events": ["recording.*", "transcript.ready"]})
        assert r.status == 201, r
        cls.e.credentials("meetingbaas", {"api_key": MB_KEY})
        h = fixtures.host(c)
        cls.e.connect(h["id"], "google_meet")
        cls.host = h

    @classmethod
    def tearDownClass(cls):
        cls.srv.shutdown()
        cls.e.close()

    # --- helpers ---
    @property
    def c(self):
        return self.e.c  # (a new client after a restart)

    def service(self, platform="google_meet", host=None, settings=None, **opts):
        o = {"bot_name": "Lesson notes", "recording_mode": "audio_only",
             "dispatch_lead_seconds": LEAD, "waiting_room_timeout": 300}
        o.update(opts)
        st = {"recording": True, "recording_options": o}
        st.update(settings or {})
        r = self.c.post("/v1/services", {
            "host_id": (host or self.host)["id"], "name": "Recorded lesson",
            "is_online": True, "platform": platform, "duration_minutes": 1,
            "settings": st})
        self.assertEqual(r.status, 201, r)
        return r.json

    def book(self, svc, in_s=LEAD + 2):
        start = int(time.time()) + in_s
        b = self.e.book(svc["id"], start=iso(start)).json
        self.e.wait_meetings([b["id"]])
        return b, start

    def recordings(self, bid):
        r = self.c.get("/v1/bookings/%s/recordings" % bid)
        self.assertEqual(r.status, 200, r)
        openapi_check.validate(self.doc, "GET", "/v1/bookings/{id}/recordings", 200, r.json)
        return r.json["data"]

    def recording(self, rid):
        r = self.c.get("/v1/recordings/" + rid)
        self.assertEqual(r.status, 200, r)
        openapi_check.validate(self.doc, "GET", "/v1/recordings/{id}", 200, r.json)
        return r.json

    def wait_state(self, rid, states, timeout=40):
        return fixtures.wait_for(
            lambda: (lambda x: x if x["state"] in states else None)(self.recording(rid)),
            timeout, "recording %s in %s" % (rid, states))

    def bots(self, bid=None):
        r = self.e.sbc.get("/meetingbaas/_sandbox/bots")
        self.assertEqual(r.status, 200, r)
        out = r.json["bots"]
        if bid:
            out = [b for b in out
                   if (b.get("extra") or {}).get("meetlink_key", "").startswith(
                       "meetlink-%s-" % bid)]
        return out

    def events(self, bid):
        r = self.c.get("/v1/bookings/%s/events" % bid)
        self.assertEqual(r.status, 200, r)
        return [e["type"] for e in r.json["data"] if e["type"].startswith("recording.")]

    def hook(self, body, key=MB_KEY):
        raw = json.dumps(body).encode()
        return harness.Client(self.e.d.host, self.e.d.port).request(
            "POST", "/webhooks/meetingbaas", raw=raw,
            headers={"Content-Type": "application/json", "x-meeting-baas-api-key": key})

    def rec_jobs(self, rid, state=None):
        q = "/v1/jobs?limit=200&booking_id=" + urllib.parse.quote("rec:" + rid)
        if state:
            q += "&state=" + state
        r = self.c.get(q)
        self.assertEqual(r.status, 200, r)
        return [j for j in r.json["data"] if j["kind"] == "recording.dispatch"]
