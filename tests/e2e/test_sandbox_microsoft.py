"""The Microsoft emulator: identity platform v2.0 (code + PKCE, refresh, AADSTS errors) and
Graph v1.0 (/me, onlineMeetings, createOrGet, events with Teams, change notifications:
subscriptions made after the validation handshake, renewed, expiring, notifying), every
answer validated against the Graph CSDL types in specs/msgraph/."""

import datetime
import http.server
import json
import threading
import time
import urllib.parse

from sbutil import (FORM, GRAPH_ERROR_SCHEMA, OAUTH_ERROR_SCHEMA, SandboxTest, consent_form,
                    form, graph_schema, main, pkce, query_of)

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
CLIENT_SECRET = "sandbox~microsoft~secret"
REDIRECT = "http://127.0.0.1:9/oauth/microsoft/callback"
SCOPE = "offline_access User.Read Calendars.ReadWrite OnlineMeetings.ReadWrite"
TOKEN = "/microsoft/common/oauth2/v2.0/token"
ADA = "eyJ0eXAiOiJKV1QiLCJzYiI6MX0.sandbox-ada"

EVENT = graph_schema("event")
MEETING = graph_schema("onlineMeeting")
USER = graph_schema("user")


def event_body(**kw):
    b = {"subject": "Math with Ada", "body": {"contentType": "HTML", "content": "Booking"},
         "start": {"dateTime": "2026-12-01T15:00:00", "timeZone": "UTC"},
         "end": {"dateTime": "2026-12-01T15:50:00", "timeZone": "UTC"},
         "attendees": [{"emailAddress": {"address": "grace@example.test", "name": "Grace"},
                        "type": "required"}],
         "isOnlineMeeting": True, "onlineMeetingProvider": "teamsForBusiness"}
    b.update(kw)
    return b


class MicrosoftIdentity(SandboxTest):
    def code(self, challenge, scope=SCOPE):
        self.config("microsoft", auto_approve=True)
        r = self.c.get("/microsoft/common/oauth2/v2.0/authorize?" + urllib.parse.urlencode({
            "client_id": CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code",
            "scope": scope, "state": "s1", "code_challenge": challenge,
            "code_challenge_method": "S256"}))
        self.assertEqual(r.status, 302, r)
        q = query_of(r.header("Location"))
        self.assertEqual(q["state"], "s1")
        return q["code"]

    def exchange(self, code, verifier, **extra):
        f = {"grant_type": "authorization_code", "code": code, "client_id": CLIENT_ID,
             "client_secret": CLIENT_SECRET, "redirect_uri": REDIRECT, "scope": SCOPE,
             "code_verifier": verifier}
        f.update(extra)
        return self.c.post(TOKEN, raw=form(f), headers=FORM)

    def assertAad(self, r, status, error, aadsts):
        self.assertEqual(r.status, status, r)
        self.assertValid(OAUTH_ERROR_SCHEMA, r.json)
        self.assertEqual(r.json["error"], error)
        self.assertEqual(r.json["error_codes"], [aadsts])
        self.assertTrue(r.json["error_description"].startswith("AADSTS%d:" % aadsts))

    def test_consent_page(self):
        _, challenge = pkce()
        r = self.c.get("/microsoft/organizations/oauth2/v2.0/authorize?" + urllib.parse.urlencode({
            "client_id": CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code",
            "scope": SCOPE, "state": "s", "code_challenge": challenge,
            "code_challenge_method": "S256"}))
        self.assertEqual(r.status, 200)
        self.assertIn(b'id="allow"', r.body)
        self.assertIn(b"/microsoft/organizations/oauth2/v2.0/authorize/decision", r.body)
        d = self.c.post("/microsoft/organizations/oauth2/v2.0/authorize/decision", raw=form({
            "client_id": CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code",
            "scope": SCOPE, "state": "s", "decision": "deny"}), headers=FORM)
        self.assertEqual(query_of(d.header("Location"))["error"], "access_denied")

    def test_consent_form_allow_carries_the_request(self):
        # Submit the consent page's own form, as a browser would: the decision must see every
        # authorize parameter (PKCE included), and state comes back intact however odd.
        verifier, challenge = pkce()
        odd = "s p&a=c/é?#+%"
        r = self.c.get("/microsoft/organizations/oauth2/v2.0/authorize?" + urllib.parse.urlencode({
            "client_id": CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code",
            "scope": SCOPE, "state": odd, "code_challenge": challenge,
            "code_challenge_method": "S256", "login_hint": "grace@sandbox.onmicrosoft.com"}))
        self.assertEqual(r.status, 200, r)
        f = consent_form(r.body)
        self.assertEqual((f["path"], f["method"]),
                         ("/microsoft/organizations/oauth2/v2.0/authorize/decision", "post"))
        self.assertEqual(f["hidden"], {
            "client_id": CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code",
            "scope": SCOPE, "state": odd, "code_challenge": challenge,
            "code_challenge_method": "S256", "login_hint": "grace@sandbox.onmicrosoft.com"})
        self.assertEqual(f["selected"], "grace@sandbox.onmicrosoft.com")
        self.assertIn("ada@sandbox.onmicrosoft.com", f["options"])
        self.assertEqual(f["buttons"], {"allow": ("decision", "allow"), "deny": ("decision", "deny")})
        d = self.c.post(f["path"], raw=form(dict(f["hidden"], account=f["selected"],
                                                 decision="allow")), headers=FORM)
        self.assertEqual(d.status, 302, d)
        loc = d.header("Location")
        self.assertTrue(loc.startswith(REDIRECT + "?"), loc)
        q = query_of(loc)
        self.assertEqual(q["state"], odd)
        self.assertNotIn("error", q)
        self.assertAad(self.exchange(q["code"], verifier[::-1]), 400, "invalid_grant", 501481)
        t = self.exchange(q["code"], verifier)
        self.assertEqual(t.status, 200, t)
        me = self.client(t.json["access_token"]).get("/microsoft/v1.0/me")
        self.assertEqual(me.json["userPrincipalName"], "grace@sandbox.onmicrosoft.com")

    def test_code_pkce_refresh(self):
        verifier, challenge = pkce()
        code = self.code(challenge)
        r = self.exchange(code, verifier)
        self.assertEqual(r.status, 200, r)
        t = r.json
        self.assertEqual(t["token_type"], "Bearer")
        self.assertEqual(t["scope"], "User.Read Calendars.ReadWrite OnlineMeetings.ReadWrite")
        self.assertIn("ext_expires_in", t)
        me = self.client(t["access_token"]).get("/microsoft/v1.0/me")
        self.assertEqual(me.status, 200, me)
        self.assertValid(USER, me.json)
        self.assertEqual(me.json["userPrincipalName"], "ada@sandbox.onmicrosoft.com")
        self.assertAad(self.exchange(code, verifier), 400, "invalid_grant", 54005)
        f = {"grant_type": "refresh_token", "refresh_token": t["refresh_token"],
             "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "scope": SCOPE}
        r2 = self.c.post(TOKEN, raw=form(f), headers=FORM)
        self.assertEqual(r2.status, 200, r2)
        self.assertNotEqual(r2.json["refresh_token"], t["refresh_token"])  # a new one each time
        self.c.post("/_sandbox/tokens/revoke", {"provider": "microsoft", "token": t["refresh_token"]})
        self.assertAad(self.c.post(TOKEN, raw=form(f), headers=FORM), 400, "invalid_grant", 50173)

    def test_token_errors(self):
        verifier, challenge = pkce()
        code = self.code(challenge)
        self.assertAad(self.exchange(code, verifier[::-1]), 400, "invalid_grant", 501481)
        self.assertAad(self.exchange(code, verifier, client_secret="wrong"), 401,
                       "invalid_client", 7000215)
        self.assertAad(self.exchange(code, verifier, client_id="00000000-0000-0000-0000-000000000000"),
                       400, "unauthorized_client", 700016)
        self.assertAad(self.exchange(code, verifier, redirect_uri="http://elsewhere/cb"), 400,
                       "invalid_grant", 500112)
        self.assertAad(self.exchange("0.AXsb-garbage", verifier), 400, "invalid_grant", 9002313)
        self.assertAad(self.c.post(TOKEN, raw=form({"client_id": CLIENT_ID}), headers=FORM),
                       400, "invalid_request", 900144)
        self.assertAad(self.exchange(code, verifier, grant_type="password"), 400,
                       "unsupported_grant_type", 70003)
        # The code is still good after all those failures.
        self.assertEqual(self.exchange(code, verifier).status, 200)
        # Expired codes.
        code2 = self.code(challenge)
        self.c.post("/_sandbox/clock", {"advance_seconds": 601})
        self.assertAad(self.exchange(code2, verifier), 400, "invalid_grant", 70008)

    def test_client_credentials_cannot_use_me(self):
        r = self.c.post(TOKEN, raw=form({
            "grant_type": "client_credentials", "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET, "scope": "https://graph.microsoft.com/.default"}),
            headers=FORM)
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("refresh_token", r.json)
        me = self.client(r.json["access_token"]).get("/microsoft/v1.0/me")
        self.assertEqual(me.status, 400)
        self.assertValid(GRAPH_ERROR_SCHEMA, me.json)


class MicrosoftGraph(SandboxTest):
    def setUp(self):
        super().setUp()
        self.g = self.client(ADA)

    def assertGraphError(self, r, status, code):
        self.assertEqual(r.status, status, r)
        self.assertValid(GRAPH_ERROR_SCHEMA, r.json)
        self.assertEqual(r.json["error"]["code"], code, r)

    def test_online_meeting_create_get_patch_delete(self):
        r = self.g.post("/microsoft/v1.0/me/onlineMeetings", {
            "startDateTime": "2026-12-01T15:00:00Z", "endDateTime": "2026-12-01T15:50:00Z",
            "subject": "Math"})
        self.assertEqual(r.status, 201, r)
        m = r.json
        self.assertValid(MEETING, m)
        self.assertTrue(m["joinWebUrl"].startswith("https://teams.microsoft.com/l/meetup-join/"))
        g = self.g.get("/microsoft/v1.0/me/onlineMeetings/" + m["id"])
        self.assertEqual(g.json["joinWebUrl"], m["joinWebUrl"])
        p = self.g.patch("/microsoft/v1.0/me/onlineMeetings/" + m["id"],
                         {"startDateTime": "2026-12-02T15:00:00Z", "endDateTime": "2026-12-02T15:50:00Z"})
        self.assertEqual(p.status, 200, p)
        self.assertValid(MEETING, p.json)
        self.assertEqual(p.json["joinWebUrl"], m["joinWebUrl"])
        self.assertEqual(p.json["startDateTime"], "2026-12-02T15:00:00Z")
        self.assertEqual(self.g.delete("/microsoft/v1.0/me/onlineMeetings/" + m["id"]).status, 204)
        self.assertGraphError(self.g.get("/microsoft/v1.0/me/onlineMeetings/" + m["id"]), 404, "NotFound")

    def test_create_or_get_is_idempotent(self):
        body = {"externalId": "bkg_42", "startDateTime": "2026-12-01T15:00:00Z",
                "endDateTime": "2026-12-01T15:50:00Z", "subject": "Math"}
        a = self.g.post("/microsoft/v1.0/me/onlineMeetings/createOrGet", body)
        self.assertEqual(a.status, 201, a)
        self.assertValid(MEETING, a.json)
        b = self.g.post("/microsoft/v1.0/me/onlineMeetings/createOrGet", body)
        self.assertEqual(b.status, 200, b)
        self.assertEqual(b.json["id"], a.json["id"])
        self.assertEqual(len(self.state("microsoft")["meetings"]["ada@sandbox.onmicrosoft.com"]), 1)
        no_ext = dict(body)
        del no_ext["externalId"]
        self.assertGraphError(self.g.post("/microsoft/v1.0/me/onlineMeetings/createOrGet", no_ext),
                              400, "BadRequest")

    def test_meeting_validation(self):
        u = "/microsoft/v1.0/me/onlineMeetings"
        self.assertGraphError(self.g.post(u, {"startDateTime": "not a date"}), 400, "BadRequest")
        self.assertGraphError(self.g.post(u, {"subject": 5}), 400, "RequestBodyRead")
        self.assertGraphError(self.g.post(u, {"allowedPresenters": "nobody"}), 400, "RequestBodyRead")
        self.assertGraphError(self.g.post(u, raw=b"{", headers={"Content-Type": "application/json"}),
                              400, "BadRequest")

    def test_event_with_teams_and_transaction_id(self):
        r = self.g.post("/microsoft/v1.0/me/events", event_body(transactionId="tx-bkg-42"))
        self.assertEqual(r.status, 201, r)
        ev = r.json
        self.assertValid(EVENT, ev)
        self.assertTrue(ev["isOnlineMeeting"])
        self.assertEqual(ev["onlineMeetingProvider"], "teamsForBusiness")
        self.assertTrue(ev["onlineMeeting"]["joinUrl"].startswith("https://teams.microsoft.com/"))
        self.assertEqual(ev["start"]["dateTime"], "2026-12-01T15:00:00.0000000")
        # A retry with the same transactionId does not create a second event.
        again = self.g.post("/microsoft/v1.0/me/events", event_body(transactionId="tx-bkg-42"))
        self.assertEqual(again.json["id"], ev["id"])
        lst = self.g.get("/microsoft/v1.0/me/events")
        self.assertEqual(len(lst.json["value"]), 1)
        for item in lst.json["value"]:
            self.assertValid(EVENT, item)
        p = self.g.patch("/microsoft/v1.0/me/events/" + ev["id"], {
            "start": {"dateTime": "2026-12-02T15:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-12-02T15:50:00", "timeZone": "UTC"}})
        self.assertEqual(p.status, 200, p)
        self.assertValid(EVENT, p.json)
        self.assertEqual(p.json["onlineMeeting"]["joinUrl"], ev["onlineMeeting"]["joinUrl"])
        self.assertNotEqual(p.json["changeKey"], ev["changeKey"])
        self.assertGraphError(self.g.patch("/microsoft/v1.0/me/events/" + ev["id"],
                                           {"transactionId": "other"}), 400, "ErrorInvalidRequest")
        self.assertEqual(self.g.delete("/microsoft/v1.0/me/events/" + ev["id"]).status, 204)
        self.assertGraphError(self.g.delete("/microsoft/v1.0/me/events/" + ev["id"]), 404,
                              "ErrorItemNotFound")

    def test_provider_not_allowed_gives_no_meeting(self):
        r = self.g.post("/microsoft/v1.0/me/events", event_body(onlineMeetingProvider="skypeForConsumer"))
        self.assertEqual(r.status, 201)
        self.assertFalse(r.json["isOnlineMeeting"])
        self.assertIsNone(r.json["onlineMeeting"])

    def test_event_validation(self):
        u = "/microsoft/v1.0/me/events"
        no_start = event_body()
        del no_start["start"]
        self.assertGraphError(self.g.post(u, no_start), 400, "ErrorInvalidRequest")
        self.assertGraphError(self.g.post(u, event_body(onlineMeetingProvider="zoom")), 400, "RequestBodyRead")
        self.assertGraphError(self.g.post(u, event_body(isOnlineMeeting="yes")), 400, "RequestBodyRead")
        self.assertGraphError(self.g.post(u, event_body(start={"dateTime": "2026-12-01T15:00:00",
                                                               "timeZone": "Mars/Olympus"})),
                              400, "TimeZoneNotSupportedException")
        self.assertGraphError(self.g.post(u, event_body(end={"dateTime": "2026-12-01T14:00:00",
                                                             "timeZone": "UTC"})), 400, "ErrorInvalidRequest")
        self.assertGraphError(self.g.post(u, event_body(attendees=[{"emailAddress": {"name": "x"}}])),
                              400, "ErrorInvalidRecipients")

    def test_auth_and_permissions(self):
        self.assertGraphError(self.client().get("/microsoft/v1.0/me"), 401, "InvalidAuthenticationToken")
        self.assertGraphError(self.client("nope").get("/microsoft/v1.0/me/events"), 401,
                              "InvalidAuthenticationToken")
        # A token with User.Read only.
        self.config("microsoft", auto_approve=True)
        verifier, challenge = pkce()
        loc = self.c.get("/microsoft/common/oauth2/v2.0/authorize?" + urllib.parse.urlencode({
            "client_id": CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code",
            "scope": "User.Read", "code_challenge": challenge,
            "code_challenge_method": "S256"})).header("Location")
        t = self.c.post(TOKEN, raw=form({
            "grant_type": "authorization_code", "code": query_of(loc)["code"],
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uri": REDIRECT,
            "code_verifier": verifier}), headers=FORM).json
        weak = self.client(t["access_token"])
        self.assertEqual(weak.get("/microsoft/v1.0/me").status, 200)
        self.assertGraphError(weak.post("/microsoft/v1.0/me/events", event_body()), 403, "ErrorAccessDenied")
        self.assertGraphError(weak.post("/microsoft/v1.0/me/onlineMeetings", {}), 403, "Forbidden")

    def test_throttling_429_retry_after(self):
        self.config("microsoft", requests_per_10s=3)
        codes = [self.g.get("/microsoft/v1.0/me/events").status for _ in range(5)]
        self.assertEqual(codes, [200, 200, 200, 429, 429])
        r = self.g.get("/microsoft/v1.0/me/events")
        self.assertGraphError(r, 429, "ApplicationThrottled")
        self.assertGreaterEqual(int(r.header("Retry-After")), 1)
        self.c.post("/_sandbox/clock", {"advance_seconds": 11})
        self.assertEqual(self.g.get("/microsoft/v1.0/me/events").status, 200)
        # And scripted: a fault without a body answers in the Graph envelope.
        self.fault(provider="microsoft", path="/microsoft/v1.0/*", status=429, retry_after=3, count=1)
        self.config("microsoft", requests_per_10s=0)
        r = self.g.post("/microsoft/v1.0/me/events", event_body())
        self.assertGraphError(r, 429, "TooManyRequests")
        self.assertEqual(r.header("Retry-After"), "3")


class Listener(http.server.BaseHTTPRequestHandler):
    """A notificationUrl: answers the validation as `mode` says, records notifications."""
    mode = "echo"
    got = []

    def do_POST(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        if "validationToken" in q:
            tok = q["validationToken"][0]
            ans = {"echo": tok, "wrong": tok + "x", "html": tok}[Listener.mode]
            self.send_response(200)
            self.send_header("Content-Type", "text/html" if Listener.mode == "html"
                             else "text/plain; charset=utf-8")
            data = ans.encode()
        else:
            Listener.got.append(json.loads(body))
            self.send_response(202)
            data = b""
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a):
        pass


class GraphSubscriptions(SandboxTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Listener)
        threading.Thread(target=cls.srv.serve_forever, daemon=True).start()
        cls.url = "http://127.0.0.1:%d/hook?x=1" % cls.srv.server_address[1]

    @classmethod
    def tearDownClass(cls):
        cls.srv.shutdown()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.g = self.client(ADA)
        Listener.mode, Listener.got = "echo", []

    def sub_body(self, minutes=60, **kw):
        now = self.c.get("/_sandbox/clock").json
        base = now.get("now") if isinstance(now, dict) else None
        t = (datetime.datetime.fromisoformat(base.replace("Z", "+00:00")) if base
             else datetime.datetime.now(datetime.timezone.utc))
        b = {"changeType": "updated,deleted", "notificationUrl": self.url,
             "resource": "me/events", "clientState": "secret-state",
             "expirationDateTime": (t + datetime.timedelta(minutes=minutes))
             .strftime("%Y-%m-%dT%H:%M:%SZ")}
        b.update(kw)
        return b

    def test_handshake_then_notifications(self):
        r = self.g.post("/microsoft/v1.0/subscriptions", self.sub_body())
        self.assertEqual(r.status, 201, r)
        sub = r.json
        self.assertNotIn("user", sub)
        v = self.state("microsoft")["validations"][-1]
        self.assertTrue(v["ok"], v)
        self.assertTrue(v["token"].startswith("Validation: "))  # decoded by the listener
        ev = self.g.post("/microsoft/v1.0/me/events", event_body()).json
        self.g.patch("/microsoft/v1.0/me/events/" + ev["id"], {"subject": "Moved"})
        self.g.delete("/microsoft/v1.0/me/events/" + ev["id"])
        deadline = time.time() + 10
        while len(Listener.got) < 2 and time.time() < deadline:
            time.sleep(0.05)
        kinds = [n["value"][0]["changeType"] for n in Listener.got]
        self.assertEqual(kinds, ["updated", "deleted"])  # no "created": not subscribed
        n = Listener.got[0]["value"][0]
        self.assertEqual((n["subscriptionId"], n["clientState"]), (sub["id"], "secret-state"))
        self.assertEqual(n["resourceData"]["id"], ev["id"])
        self.assertEqual(n["resourceData"]["@odata.type"], "#Microsoft.Graph.Event")
        self.assertTrue(n["resource"].endswith("/Events/" + ev["id"]))
        # A forged one and a replay, on demand.
        r = self.c.post("/microsoft/_host/notify", {"subscription_id": sub["id"],
                                                    "event_id": ev["id"], "forge": True})
        self.assertEqual(r.status, 201, r)
        self.assertNotEqual(r.json["body"]["value"][0]["clientState"], "secret-state")
        earlier = r.json["id"] - 1
        r = self.c.post("/microsoft/_host/notify", {"notification_id": earlier})
        self.assertEqual((r.status, r.json["replay_of"]), (201, earlier), r)
        self.assertEqual(r.json["body"], self.state("microsoft")["notify_log"][earlier - 1]["body"])
        deadline = time.time() + 10
        while len(Listener.got) < 4 and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(Listener.got[3], Listener.got[1])  # the replay, as it was

    def test_handshake_failures_make_nothing(self):
        for mode in ("wrong", "html"):
            Listener.mode = mode
            r = self.g.post("/microsoft/v1.0/subscriptions", self.sub_body())
            self.assertGraphError(r, 400, "ValidationError")
        Listener.mode = "echo"
        self.config("microsoft", validation_timeout_ms=10000)
        r = self.g.post("/microsoft/v1.0/subscriptions",
                        self.sub_body(notificationUrl="http://127.0.0.1:9/nothing"))
        self.assertGraphError(r, 400, "ValidationError")
        self.assertEqual(self.g.get("/microsoft/v1.0/subscriptions").json["value"], [])

    def test_validation_and_limits(self):
        cases = [self.sub_body(minutes=4231), self.sub_body(minutes=-1),
                 self.sub_body(changeType="exploded"), self.sub_body(resource="me/messages"),
                 self.sub_body(notificationUrl="http://192.0.2.1/hook"),
                 self.sub_body(notificationUrl="ftp://127.0.0.1/x"),
                 self.sub_body(clientState="x" * 129)]
        for b in cases:
            self.assertGraphError(self.g.post("/microsoft/v1.0/subscriptions", b), 400,
                                  "InvalidRequest")
        self.assertEqual(self.state("microsoft")["validations"], [],
                         "no handshake for a refused request (and none off the machine)")
        self.assertEqual(self.client(None).post("/microsoft/v1.0/subscriptions",
                                                self.sub_body()).status, 401)

    def test_renew_expire_delete(self):
        sub = self.g.post("/microsoft/v1.0/subscriptions", self.sub_body(minutes=10)).json
        r = self.g.patch("/microsoft/v1.0/subscriptions/" + sub["id"],
                         {"expirationDateTime": self.sub_body(minutes=30)["expirationDateTime"]})
        self.assertEqual(r.status, 200, r)
        self.assertGreater(r.json["expirationDateTime"], sub["expirationDateTime"])
        self.assertGraphError(self.g.patch("/microsoft/v1.0/subscriptions/" + sub["id"],
                                           {"expirationDateTime": self.sub_body(
                                               minutes=5000)["expirationDateTime"]}),
                              400, "InvalidRequest")
        # Past its expiration on the sandbox clock: gone, no notification.
        self.c.post("/_sandbox/clock", {"advance_seconds": 31 * 60})
        self.assertGraphError(self.g.get("/microsoft/v1.0/subscriptions/" + sub["id"]), 404,
                              "ResourceNotFound")
        ev = self.g.post("/microsoft/v1.0/me/events", event_body()).json
        self.g.delete("/microsoft/v1.0/me/events/" + ev["id"])
        time.sleep(0.3)
        self.assertEqual([n for n in Listener.got
                          if n["value"][0]["subscriptionId"] == sub["id"]], [])
        sub = self.g.post("/microsoft/v1.0/subscriptions", self.sub_body()).json
        self.assertEqual(self.g.delete("/microsoft/v1.0/subscriptions/" + sub["id"]).status, 204)
        self.assertGraphError(self.g.delete("/microsoft/v1.0/subscriptions/" + sub["id"]), 404,
                              "ResourceNotFound")

    def assertGraphError(self, r, status, code):
        self.assertEqual(r.status, status, r)
        self.assertValid(GRAPH_ERROR_SCHEMA, r.json)
        self.assertEqual(r.json["error"]["code"], code, r)


if __name__ == "__main__":
    main()
