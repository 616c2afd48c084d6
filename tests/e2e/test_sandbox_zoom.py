"""Zoom emulator conformance: every operation's answer validates against Zoom's published
OpenAPI schema (specs/zoom), malformed requests get Zoom's own errors, OAuth refresh tokens
rotate, S2S account_credentials, both kinds of 429, and webhooks whose x-zm-signature and
endpoint.url_validation answer are checked by an independent Python implementation that is
itself first checked against the spec's computed vector."""

import base64
import calendar
import hashlib
import hmac
import http.server
import json
import os
import re
import secrets
import sys
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import oas  # noqa: E402
from harness import Client, main, start_sandbox  # noqa: E402
from sbutil import consent_form  # noqa: E402

CLIENT_ID, CLIENT_SECRET = "zoom-sandbox-client-id", "zoom-sandbox-client-secret"
S2S_ID, S2S_SECRET = "zoom-s2s-client-id", "zoom-s2s-client-secret"
ACCOUNT = "SbxZoomAccount00000001"
ADA, GRACE = "ada@zoom.sandbox.test", "grace@zoom.sandbox.test"
SECRET = "e2e-webhook-secret-" + secrets.token_hex(4)
REDIRECT = "https://booking.example.test/oauth/zoom/callback"

CORE = oas.load("zoom/zoom-meetings-core.openapi.json")
FULL = oas.load("zoom/zoom-meeting-api.openapi.json")
FACTS = oas.load("zoom/zoom-auth-webhooks-ratelimits.json")


# ---- an independent implementation of Zoom's webhook algorithms -------------------------

def zm_signature(secret, ts, body):
    msg = b"v0:" + ts.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


def zm_encrypted_token(secret, plain):
    return hmac.new(secret.encode(), plain.encode(), hashlib.sha256).hexdigest()


class Receiver(http.server.BaseHTTPRequestHandler):
    got = []
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with Receiver.lock:
            Receiver.got.append((dict(self.headers), body))
        ev = json.loads(body)
        if ev.get("event") == "endpoint.url_validation":
            plain = ev["payload"]["plainToken"]
            out = json.dumps({"plainToken": plain,
                              "encryptedToken": zm_encrypted_token(SECRET, plain)}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
            return
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a):
        pass


def basic(user, pw):
    return {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()}


def form(d):
    return urllib.parse.urlencode(d).encode()


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class ZoomSandbox(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.recv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=cls.recv.serve_forever, daemon=True).start()
        cls.hook = "http://127.0.0.1:%d/zoom/events" % cls.recv.server_address[1]
        cls.sb = start_sandbox()
        cls.c = Client(cls.sb.host, cls.sb.port)
        r = cls.c.post("/_sandbox/config", {"zoom": {"webhook_url": cls.hook,
                                                     "webhook_secret": SECRET}})
        assert r.status == 200, r

    @classmethod
    def tearDownClass(cls):
        cls.sb.close()
        cls.recv.shutdown()

    # ---- helpers -------------------------------------------------------------------------

    def s2s_token(self):
        r = self.c.post("/zoom/oauth/token?grant_type=account_credentials&account_id=" + ACCOUNT,
                        headers=basic(S2S_ID, S2S_SECRET))
        self.assertEqual(r.status, 200, r)
        return r.json["access_token"]

    def authorize(self, verifier=None, user=ADA):
        q = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT,
             "state": "st-" + secrets.token_hex(4)}
        if verifier:
            q["code_challenge"] = base64.urlsafe_b64encode(
                hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
            q["code_challenge_method"] = "S256"
        page = self.c.get("/zoom/oauth/authorize?" + urllib.parse.urlencode(q))
        self.assertEqual(page.status, 200, page)
        self.assertIn(b"Allow", page.body)
        # The page's own form carries every authorize parameter to the POST.
        f = consent_form(page.body)
        self.assertEqual((f["path"], f["method"]), ("/zoom/oauth/authorize", "post"))
        self.assertEqual(f["hidden"], q)
        self.assertEqual(f["buttons"], {"allow": ("decision", "allow"), "deny": ("decision", "deny")})
        q.update({"decision": "allow", "user": user})
        r = self.c.post("/zoom/oauth/authorize", raw=form(q), headers=FORM)
        self.assertEqual(r.status, 302, r)
        loc = urllib.parse.urlparse(r.header("Location"))
        self.assertEqual(loc.scheme + "://" + loc.netloc + loc.path, REDIRECT)
        args = urllib.parse.parse_qs(loc.query)
        self.assertEqual(args["state"], [q["state"]])
        return args["code"][0]

    def token(self, data, auth=(CLIENT_ID, CLIENT_SECRET)):
        h = dict(FORM)
        if auth:
            h.update(basic(*auth))
        return self.c.post("/zoom/oauth/token", raw=form(data), headers=h)

    def api(self, token):
        return Client(self.sb.host, self.sb.port, token=token)

    def create(self, api, body=None, user="me"):
        body = body or {"topic": "Math with Ada", "type": 2,
                        "start_time": "2026-12-01T15:00:00Z", "duration": 50,
                        "timezone": "Europe/London"}
        return api.post("/zoom/v2/users/%s/meetings" % user, body)

    # ---- OAuth -----------------------------------------------------------------------------

    def test_code_flow_with_pkce_and_refresh_rotation(self):
        verifier = secrets.token_urlsafe(48)
        code = self.authorize(verifier)
        bad = self.token({"grant_type": "authorization_code", "code": code,
                          "redirect_uri": REDIRECT, "code_verifier": "x" * 50})
        self.assertEqual(bad.status, 400)
        self.assertEqual(bad.json["error"], "invalid_request")

        code = self.authorize(verifier)
        r = self.token({"grant_type": "authorization_code", "code": code,
                        "redirect_uri": REDIRECT, "code_verifier": verifier})
        self.assertEqual(r.status, 200, r)
        t1 = r.json
        for k in ("access_token", "token_type", "refresh_token", "expires_in", "scope", "api_url"):
            self.assertIn(k, t1)
        self.assertEqual(t1["token_type"], "bearer")
        self.assertEqual(t1["expires_in"], 3599)
        # A code is single use.
        again = self.token({"grant_type": "authorization_code", "code": code,
                            "redirect_uri": REDIRECT, "code_verifier": verifier})
        self.assertEqual(again.status, 400)
        self.assertEqual(again.json["error"], "invalid_grant")

        r = self.token({"grant_type": "refresh_token", "refresh_token": t1["refresh_token"]})
        self.assertEqual(r.status, 200, r)
        t2 = r.json
        self.assertNotEqual(t2["refresh_token"], t1["refresh_token"])
        # Rotation: the refresh token just used is dead.
        old = self.token({"grant_type": "refresh_token", "refresh_token": t1["refresh_token"]})
        self.assertEqual(old.status, 400, old)
        self.assertEqual(old.json, {"reason": "Invalid Token!", "error": "invalid_grant"})
        r = self.token({"grant_type": "refresh_token", "refresh_token": t2["refresh_token"]})
        self.assertEqual(r.status, 200, r)

        me = self.api(t2["access_token"]).get("/zoom/v2/users/me")
        self.assertEqual(me.status, 200, me)
        self.assertEqual(me.json["email"], ADA)
        oas.validate(FULL, "/users/{userId}", "get", 200, me.json)
        # A user-level token does not reach another user.
        other = self.api(t2["access_token"]).get("/zoom/v2/users/" + GRACE)
        self.assertEqual(other.status, 400)
        self.assertEqual(other.json["code"], 4711)

    def test_token_endpoint_errors(self):
        code = self.authorize()
        r = self.token({"grant_type": "authorization_code", "code": code,
                        "redirect_uri": REDIRECT}, auth=None)
        self.assertEqual(r.status, 401)
        self.assertEqual(r.json["error"], "invalid_client")
        r = self.token({"grant_type": "authorization_code", "code": code,
                        "redirect_uri": REDIRECT}, auth=(CLIENT_ID, "wrong"))
        self.assertEqual(r.status, 401)
        r = self.token({"grant_type": "authorization_code", "code": code,
                        "redirect_uri": REDIRECT + "/other"})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json["reason"], "Redirect URI mismatch.")
        r = self.token({"grant_type": "password"})
        self.assertEqual(r.json["error"], "unsupported_grant_type")
        r = self.token({"grant_type": "authorization_code", "code": "nope",
                        "redirect_uri": REDIRECT})
        self.assertEqual(r.json["error"], "invalid_grant")
        # Unknown client at authorize: an error page, no redirect.
        page = self.c.get("/zoom/oauth/authorize?response_type=code&client_id=nope&redirect_uri="
                          + urllib.parse.quote(REDIRECT))
        self.assertEqual(page.status, 400)

    def test_server_to_server_and_revoke(self):
        r = self.c.post("/zoom/oauth/token", raw=form({"grant_type": "account_credentials",
                                                       "account_id": ACCOUNT}),
                        headers=dict(FORM, **basic(S2S_ID, S2S_SECRET)))
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("refresh_token", r.json)
        tok = r.json["access_token"]
        api = self.api(tok)
        g = api.get("/zoom/v2/users/" + GRACE)
        self.assertEqual(g.status, 200, g)
        oas.validate(FULL, "/users/{userId}", "get", 200, g.json)
        self.assertEqual(api.get("/zoom/v2/users/nobody@example.test").json["code"], 1001)
        bad = self.c.post("/zoom/oauth/token?grant_type=account_credentials&account_id=other",
                          headers=basic(S2S_ID, S2S_SECRET))
        self.assertEqual(bad.status, 400)
        # A user-level app cannot use account_credentials.
        bad = self.c.post("/zoom/oauth/token?grant_type=account_credentials&account_id=" + ACCOUNT,
                          headers=basic(CLIENT_ID, CLIENT_SECRET))
        self.assertEqual(bad.json["error"], "unsupported_grant_type")
        # Revoke kills the token.
        rv = self.c.post("/zoom/oauth/revoke?token=" + urllib.parse.quote(tok),
                         headers=basic(S2S_ID, S2S_SECRET))
        self.assertEqual(rv.status, 200, rv)
        self.assertEqual(rv.json, {"status": "success"})
        r = api.get("/zoom/v2/users/me")
        self.assertEqual(r.status, 401)
        self.assertEqual(r.json["code"], 124)

    # ---- meetings ----------------------------------------------------------------------------

    def test_meeting_lifecycle_matches_schemas(self):
        api = self.api(self.s2s_token())
        r = self.create(api, user=GRACE)
        self.assertEqual(r.status, 201, r)
        m = r.json
        oas.validate(CORE, "/users/{userId}/meetings", "post", 201, m)
        self.assertGreater(m["id"], 2 ** 32)
        self.assertEqual(m["start_time"], "2026-12-01T15:00:00Z")
        self.assertEqual(m["host_email"], GRACE)
        for k in ("uuid", "join_url", "start_url", "password", "settings", "created_at"):
            self.assertIn(k, m)
        # The id survives as an exact integer in the raw text (no float rounding).
        self.assertIn(('"id":%d' % m["id"]).encode(), r.body.replace(b" ", b""))

        g = api.get("/zoom/v2/meetings/%d" % m["id"])
        self.assertEqual(g.status, 200, g)
        oas.validate(CORE, "/meetings/{meetingId}", "get", 200, g.json)
        self.assertEqual(g.json["status"], "waiting")

        lst = api.get("/zoom/v2/users/%s/meetings?type=scheduled&page_size=10" % GRACE)
        self.assertEqual(lst.status, 200, lst)
        oas.validate(CORE, "/users/{userId}/meetings", "get", 200, lst.json)
        self.assertIn(m["id"], [x["id"] for x in lst.json["meetings"]])

        p = api.patch("/zoom/v2/meetings/%d" % m["id"],
                      {"topic": "Moved", "start_time": "2026-12-02T10:00:00",
                       "timezone": "America/New_York", "settings": {"waiting_room": True}})
        self.assertEqual(p.status, 204, p)
        self.assertEqual(p.body, b"")
        g = api.get("/zoom/v2/meetings/%d" % m["id"]).json
        self.assertEqual(g["topic"], "Moved")
        self.assertEqual(g["start_time"], "2026-12-02T15:00:00Z")  # EST is UTC-5
        self.assertTrue(g["settings"]["waiting_room"])
        self.assertFalse(g["settings"]["join_before_host"])
        self.assertEqual(g["settings"]["audio"], "voip")  # untouched settings survive

        # The host starts it through start_url, then the API ends it.
        start = urllib.parse.urlparse(m["start_url"])
        self.assertEqual(self.c.get(start.path + "?" + start.query).status, 200)
        self.assertEqual(api.get("/zoom/v2/meetings/%d" % m["id"]).json["status"], "started")
        d = api.delete("/zoom/v2/meetings/%d" % m["id"])
        self.assertEqual(d.status, 400)
        self.assertEqual(d.json["code"], 3002)
        s = api.put("/zoom/v2/meetings/%d/status" % m["id"], {"action": "end"})
        self.assertEqual(s.status, 204, s)
        self.assertEqual(api.get("/zoom/v2/meetings/%d" % m["id"]).json["status"], "waiting")

        d = api.delete("/zoom/v2/meetings/%d" % m["id"])
        self.assertEqual(d.status, 204, d)
        g = api.get("/zoom/v2/meetings/%d" % m["id"])
        self.assertEqual(g.status, 404)
        self.assertEqual(g.json, {"code": 3001, "message": "Meeting does not exist: %d." % m["id"]})
        self.assertEqual(api.delete("/zoom/v2/meetings/%d" % m["id"]).json["code"], 3001)
        rec = api.put("/zoom/v2/meetings/%d/status" % m["id"], {"action": "recover"})
        self.assertEqual(rec.status, 204, rec)
        self.assertEqual(api.get("/zoom/v2/meetings/%d" % m["id"]).status, 200)

        state = self.c.get("/_sandbox/state?provider=zoom").json["zoom"]
        self.assertIn(str(m["id"]), state["meetings"])

    def test_recurring_meeting_has_occurrences(self):
        api = self.api(self.s2s_token())
        r = self.create(api, {"topic": "Weekly", "type": 8, "start_time": "2026-12-01T15:00:00Z",
                              "duration": 30, "recurrence": {"type": 2, "repeat_interval": 1,
                                                             "end_times": 3}})
        self.assertEqual(r.status, 201, r)
        oas.validate(CORE, "/users/{userId}/meetings", "post", 201, r.json)
        self.assertEqual([o["start_time"] for o in r.json["occurrences"]],
                         ["2026-12-01T15:00:00Z", "2026-12-08T15:00:00Z", "2026-12-15T15:00:00Z"])
        r = self.create(api, {"topic": "Weekly", "type": 8})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json["errors"][0]["field"], "recurrence")

    def test_malformed_requests_get_zoom_errors(self):
        api = self.api(self.s2s_token())
        cases = [
            ({"type": 5}, "type"),
            ({"duration": "50"}, "duration"),
            ({"settings": {"jbh_time": 7}}, "settings.jbh_time"),
            ({"settings": {"audio": "pigeon"}}, "settings.audio"),
            ({"start_time": "tomorrow"}, "start_time"),
            ({"timezone": "Mars/Base"}, "timezone"),
            ({"agenda": "x" * 2001}, "agenda"),
            ({"recurrence": {"repeat_interval": 1}}, "recurrence.type"),
        ]
        for body, field in cases:
            r = self.create(api, body)
            self.assertEqual(r.status, 400, (body, r))
            self.assertEqual(r.json["code"], 300)
            self.assertEqual(r.json["message"], "Validation Failed.")
            self.assertEqual(r.json["errors"][0]["field"], field, body)
        r = api.request("POST", "/zoom/v2/users/me/meetings", raw=b"{not json",
                        headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json["code"], 300)
        r = self.create(api, {"password": "bad pass!"})
        self.assertEqual((r.status, r.json["code"]), (400, 300))
        r = Client(self.sb.host, self.sb.port).get("/zoom/v2/users/me")
        self.assertEqual(r.status, 401)
        self.assertEqual(r.json, {"code": 124, "message": "Invalid access token."})
        r = self.api("not-a-token").get("/zoom/v2/meetings/85746065432")
        self.assertEqual(r.status, 401)
        r = api.get("/zoom/v2/meetings/85746065432")
        self.assertEqual((r.status, r.json["code"]), (404, 3001))
        r = api.put("/zoom/v2/meetings/85746065432/status", {"action": "pause"})
        self.assertEqual(r.json["errors"][0]["field"], "action")
        r = self.create(api, {"topic": "x"}, user="nobody@example.test")
        self.assertEqual((r.status, r.json["code"]), (404, 1001))

    def test_expired_access_token(self):
        tok = self.s2s_token()
        try:
            self.c.post("/_sandbox/clock", {"advance_seconds": 3601})
            r = self.api(tok).get("/zoom/v2/users/me")
            self.assertEqual(r.status, 401)
            self.assertEqual(r.json["code"], 124)
        finally:
            self.c.post("/_sandbox/clock", {"advance_seconds": -3601})

    # ---- rate limits -------------------------------------------------------------------------

    def test_rate_limit_headers_and_both_429s(self):
        api = self.api(self.s2s_token())
        r = api.get("/zoom/v2/users/me")
        self.assertEqual(r.header("X-RateLimit-Category"), "Light")
        self.assertEqual(r.header("X-RateLimit-Type"), "QPS")
        self.assertEqual(r.header("X-RateLimit-Limit"), "80")
        self.assertTrue(r.header("X-RateLimit-Remaining").isdigit())

        self.c.post("/_sandbox/config", {"zoom": {"rate_limit_light": 2}})
        try:
            got = None
            for _ in range(20):
                r = api.get("/zoom/v2/users/me")
                if r.status == 429:
                    got = r
                    break
            self.assertIsNotNone(got, "no QPS 429")
            self.assertEqual(got.json["code"], 429)
            self.assertIn("per-second", got.json["message"])
            self.assertEqual(got.header("X-RateLimit-Type"), "QPS")
            self.assertEqual(got.header("X-RateLimit-Remaining"), "0")
            self.assertTrue(got.header("Retry-After").isdigit())
            time.sleep(int(got.header("Retry-After")) + 0.1)
            self.assertEqual(api.get("/zoom/v2/users/me").status, 200)
        finally:
            self.c.post("/_sandbox/config", {"zoom": {"rate_limit_light": 80}})

        # A fresh zoom state so the hosts' daily counters start at zero.
        # (Reset also restores the startup settings: configure the webhook again.)
        self.assertEqual(self.c.post("/_sandbox/reset", {"provider": "zoom"}).status, 200)
        self.c.post("/_sandbox/config", {"zoom": {"webhook_url": self.hook,
                                                  "webhook_secret": SECRET}})
        api = self.api(self.s2s_token())
        self.c.post("/_sandbox/config", {"zoom": {"daily_meeting_writes_per_user": 1}})
        try:
            a = self.create(api, user=ADA)
            self.assertEqual(a.status, 201, a)
            b = self.create(api, user=ADA)
            self.assertEqual(b.status, 429, b)
            self.assertIn("daily", b.json["message"])
            self.assertEqual(b.header("X-RateLimit-Type"), "Daily-limit")
            ra = b.header("Retry-After")
            self.assertRegex(ra, r"^\d{4}-\d\d-\d\dT00:00:00Z$")
            when = calendar.timegm(time.strptime(ra, "%Y-%m-%dT%H:%M:%SZ"))
            self.assertTrue(0 < when - time.time() <= 86400 + 5, ra)
            # Another host has its own daily quota.
            self.assertEqual(self.create(api, user=GRACE).status, 201)
        finally:
            self.c.post("/_sandbox/config", {"zoom": {"daily_meeting_writes_per_user": 100}})

    # ---- webhooks ----------------------------------------------------------------------------

    def test_python_implementation_matches_spec_vector(self):
        v = FACTS["webhooks"]["computed_test_vector"]
        self.assertEqual(zm_signature(v["secret_token"], v["x-zm-request-timestamp"],
                                      v["raw_body"].encode()), v["expected_x-zm-signature"])
        self.assertEqual(zm_encrypted_token(v["secret_token"], v["url_validation"]["plainToken"]),
                         v["url_validation"]["expected_encryptedToken"])

    def test_webhooks_are_signed_and_validated_first(self):
        api = self.api(self.s2s_token())
        m = self.create(api).json
        api.patch("/zoom/v2/meetings/%d" % m["id"], {"topic": "Renamed"})
        start = urllib.parse.urlparse(m["start_url"])
        self.c.get(start.path + "?" + start.query)
        api.put("/zoom/v2/meetings/%d/status" % m["id"], {"action": "end"})
        api.delete("/zoom/v2/meetings/%d" % m["id"])
        def mine_of(got):
            out = []
            for _, b in got:
                ev = json.loads(b)
                if ev["event"].startswith("meeting.") and \
                        str(ev["payload"]["object"]["id"]) == str(m["id"]):
                    out.append(ev)
            return out

        deadline = time.time() + 20
        while time.time() < deadline:
            with Receiver.lock:
                got = list(Receiver.got)
            if len(mine_of(got)) >= 5:
                break
            time.sleep(0.05)
        else:
            out = self.c.get("/_sandbox/requests?direction=out").json
            st = self.c.get("/_sandbox/state?provider=zoom").json["zoom"]
            cfg = self.c.get("/_sandbox/config").json["zoom"]
            self.fail("webhooks missing; state %s, %d events, cfg %s; sandbox sent: %s" % (
                st["webhook"], len(st["events"]), cfg.get("webhook_url"), [
                (o["time"], o["url"][-12:], (o.get("body") or {}).get("event"), o["status"])
                for o in out["requests"]]))
        # The handshake reached the URL before any event.
        self.assertEqual(json.loads(got[0][1])["event"], "endpoint.url_validation")
        for headers, body in got:
            h = {k.lower(): v for k, v in headers.items()}
            ts = h["x-zm-request-timestamp"]
            self.assertTrue(abs(int(ts) - time.time()) < 300)
            self.assertEqual(h["x-zm-signature"], zm_signature(SECRET, ts, body))
            ev = json.loads(body)
            self.assertIsInstance(ev["event_ts"], int)
            if ev["event"] != "endpoint.url_validation":
                self.assertEqual(ev["payload"]["account_id"], ACCOUNT)
        mine = mine_of(got)
        self.assertEqual([e["event"] for e in mine],
                         ["meeting.created", "meeting.updated", "meeting.started",
                          "meeting.ended", "meeting.deleted"])
        upd = mine[1]["payload"]
        self.assertEqual(upd["object"]["topic"], "Renamed")
        self.assertEqual(upd["old_object"]["topic"], m["topic"])
        wh = None
        for _ in range(50):
            wh = self.c.get("/_sandbox/state?provider=zoom").json["zoom"]["webhook"]
            if wh.get("validation") == "passed":
                break
            time.sleep(0.05)
        self.assertEqual(wh["validation"], "passed")
        self.assertEqual(wh["validated_url"], self.hook)

    def test_failed_url_validation_is_recorded(self):
        # A receiver that answers with the wrong token fails validation.
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), BadReceiver)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        url = "http://127.0.0.1:%d/bad" % srv.server_address[1]
        try:
            self.c.post("/_sandbox/config", {"zoom": {"webhook_url": url}})
            r = self.c.post("/zoom/_sandbox/webhook/validate")
            self.assertEqual(r.status, 202, r)
            wh = None
            for _ in range(100):
                wh = self.c.get("/_sandbox/state?provider=zoom").json["zoom"]["webhook"]
                if wh.get("validation") == "failed":
                    break
                time.sleep(0.05)
            self.assertEqual(wh["validation"], "failed")
        finally:
            self.c.post("/_sandbox/config", {"zoom": {"webhook_url": self.hook}})
            srv.shutdown()


class BadReceiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        out = b'{"plainToken":"x","encryptedToken":"wrong"}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *a):
        pass


if __name__ == "__main__":
    main()
