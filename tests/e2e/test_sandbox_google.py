"""The Google emulator: OAuth 2.0 (consent, code + PKCE, refresh, revoke, userinfo) and
Calendar v3 events, every answer validated against specs/google/."""

import base64
import time
import urllib.parse

from sbutil import (FORM, OAUTH_ERROR_SCHEMA, SandboxTest, consent_form, form,
                    google_error_schema, google_schema, main, pkce, query_of)

CLIENT_ID = "meetlink-sandbox.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-sandbox-secret"
REDIRECT = "http://127.0.0.1:9/oauth/google/callback"
SCOPE = "openid email https://www.googleapis.com/auth/calendar.events"
EVENTS = "/google/calendar/v3/calendars/primary/events"

EVENT = google_schema("Event")
EVENTS_LIST = google_schema("Events")
ERROR = google_error_schema()


def event_body(**kw):
    b = {"summary": "Math with Ada", "start": {"dateTime": "2026-12-01T15:00:00Z"},
         "end": {"dateTime": "2026-12-01T15:50:00Z"},
         "attendees": [{"email": "grace@example.test"}]}
    b.update(kw)
    return b


class GoogleOAuth(SandboxTest):
    def authorize(self, challenge, **extra):
        q = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code",
             "scope": SCOPE, "state": "st-123", "access_type": "offline",
             "code_challenge": challenge, "code_challenge_method": "S256"}
        q.update(extra)
        return self.c.get("/google/o/oauth2/v2/auth?" + urllib.parse.urlencode(q))

    def consent(self, challenge, decision="allow", state="st-123"):
        page = self.authorize(challenge, state=state)
        self.assertEqual(page.status, 200, page)
        self.assertIn(b'id="allow"', page.body)
        self.assertIn(b"ada@sandbox.test", page.body)
        # Submit the page's own form, as a browser would: it must carry every authorize
        # parameter over to the decision.
        f = consent_form(page.body)
        self.assertEqual((f["path"], f["method"]), ("/google/o/oauth2/v2/auth/decision", "post"))
        self.assertEqual(f["hidden"], {
            "client_id": CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code",
            "scope": SCOPE, "state": state, "access_type": "offline",
            "code_challenge": challenge, "code_challenge_method": "S256"})
        self.assertEqual(f["options"], ["ada@sandbox.test", "grace@sandbox.test"])
        self.assertEqual(f["selected"], "ada@sandbox.test")
        self.assertEqual(f["buttons"], {"allow": ("decision", "allow"), "deny": ("decision", "deny")})
        fields = dict(f["hidden"], account="ada@sandbox.test", decision=decision)
        r = self.c.post(f["path"], raw=form(fields), headers=FORM)
        self.assertEqual(r.status, 302, r)
        loc = r.header("Location")
        self.assertTrue(loc.startswith(REDIRECT + "?"), loc)
        return query_of(loc)

    def exchange(self, code, verifier, **extra):
        f = {"grant_type": "authorization_code", "code": code, "client_id": CLIENT_ID,
             "client_secret": CLIENT_SECRET, "redirect_uri": REDIRECT, "code_verifier": verifier}
        f.update(extra)
        return self.c.post("/google/oauth2/token", raw=form(f), headers=FORM)

    def test_consent_allow_then_code_with_pkce(self):
        verifier, challenge = pkce()
        q = self.consent(challenge)
        self.assertEqual(q["state"], "st-123")
        self.assertIn("code", q)
        r = self.exchange(q["code"], verifier)
        self.assertEqual(r.status, 200, r)
        t = r.json
        self.assertEqual(t["token_type"], "Bearer")
        self.assertEqual(t["expires_in"], 3599)
        self.assertEqual(t["scope"], SCOPE)
        self.assertTrue(t["access_token"] and t["refresh_token"])
        # The access token works on Calendar and userinfo.
        u = self.client(t["access_token"]).get("/google/oauth2/v3/userinfo")
        self.assertEqual(u.status, 200, u)
        self.assertEqual(u.json["email"], "ada@sandbox.test")
        self.assertEqual(self.client(t["access_token"]).get(EVENTS).status, 200)
        # The spec's success redirect: code (4/…), scope and state.
        self.assertTrue(q["code"].startswith("4/"), q)
        self.assertEqual(q["scope"], SCOPE)
        # Codes are single use; a replay also kills what the code issued.
        again = self.exchange(q["code"], verifier)
        self.assertEqual(again.status, 400)
        self.assertEqual(again.json["error"], "invalid_grant")
        self.assertValid(OAUTH_ERROR_SCHEMA, again.json)
        self.assertEqual(self.client(t["access_token"]).get(EVENTS).status, 401)
        f = {"grant_type": "refresh_token", "refresh_token": t["refresh_token"],
             "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
        r = self.c.post("/google/token", raw=form(f), headers=FORM)
        self.assertEqual((r.status, r.json["error"]), (400, "invalid_grant"))

    def test_state_round_trips_and_basic_client_auth(self):
        # state is opaque: any characters come back intact (URL-encoded in the redirect).
        verifier, challenge = pkce()
        odd = "a b&c=d/é?#+%"
        q = self.consent(challenge, state=odd)
        self.assertEqual(q["state"], odd)
        # client_secret_basic (discovery lists it) instead of client_secret_post.
        basic = base64.b64encode((CLIENT_ID + ":" + CLIENT_SECRET).encode()).decode()
        f = {"grant_type": "authorization_code", "code": q["code"], "redirect_uri": REDIRECT,
             "code_verifier": verifier}
        r = self.c.post("/google/token", raw=form(f),
                        headers=dict(FORM, Authorization="Basic " + basic))
        self.assertEqual(r.status, 200, r)
        wrong = base64.b64encode((CLIENT_ID + ":nope").encode()).decode()
        f["code"] = self.consent(challenge)["code"]
        r = self.c.post("/google/token", raw=form(f),
                        headers=dict(FORM, Authorization="Basic " + wrong))
        self.assertEqual((r.status, r.json["error"]), (401, "invalid_client"))

    def test_online_access_has_no_refresh_token(self):
        # access_type defaults to online (spec): no refresh_token then.
        self.config("google", auto_approve=True)
        verifier, challenge = pkce()
        q = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code",
             "scope": SCOPE, "code_challenge": challenge, "code_challenge_method": "S256"}
        r = self.c.get("/google/o/oauth2/v2/auth?" + urllib.parse.urlencode(q))
        self.assertEqual(r.status, 302, r)
        t = self.exchange(query_of(r.header("Location"))["code"], verifier)
        self.assertEqual(t.status, 200, t)
        self.assertNotIn("refresh_token", t.json)

    def test_consent_deny(self):
        _, challenge = pkce()
        q = self.consent(challenge, decision="deny")
        self.assertEqual(q, {"state": "st-123", "error": "access_denied"})
        self.assertEqual(self.state("google")["codes"], {})

    def test_auto_approve_switch(self):
        self.config("google", auto_approve=True)
        _, challenge = pkce()
        r = self.authorize(challenge, login_hint="grace@sandbox.test")
        self.assertEqual(r.status, 302, r)
        code = query_of(r.header("Location"))["code"]
        st = self.state("google")
        self.assertEqual(st["codes"][code]["account"], "grace@sandbox.test")

    def test_pkce_verifier_checked(self):
        verifier, challenge = pkce()
        q = self.consent(challenge)
        r = self.exchange(q["code"], verifier[:-1] + ("A" if verifier[-1] != "A" else "B"))
        self.assertEqual((r.status, r.json["error"]), (400, "invalid_grant"))
        self.assertIn("verifier", r.json["error_description"])
        missing = self.exchange(q["code"], None, code_verifier="")
        self.assertEqual(missing.status, 400)

    def test_token_validation(self):
        verifier, challenge = pkce()
        q = self.consent(challenge)
        bad_secret = self.exchange(q["code"], verifier, client_secret="nope")
        self.assertEqual((bad_secret.status, bad_secret.json["error"]), (401, "invalid_client"))
        bad_redirect = self.exchange(q["code"], verifier, redirect_uri=REDIRECT + "x")
        self.assertEqual(bad_redirect.status, 400)
        no_code = self.exchange("", verifier)
        self.assertEqual((no_code.status, no_code.json["error"]), (400, "invalid_request"))
        bad_code = self.exchange("4/nonsense", verifier)
        self.assertEqual((bad_code.status, bad_code.json["error"]), (400, "invalid_grant"))
        gt = self.c.post("/google/token", raw=form({"grant_type": "password"}), headers=FORM)
        self.assertEqual((gt.status, gt.json["error"]), (400, "unsupported_grant_type"))
        for r in (bad_secret, bad_redirect, no_code, bad_code, gt):
            self.assertValid(OAUTH_ERROR_SCHEMA, r.json)

    def test_refresh_revoke_invalid_grant(self):
        verifier, challenge = pkce()
        t = self.exchange(self.consent(challenge)["code"], verifier).json
        f = {"grant_type": "refresh_token", "refresh_token": t["refresh_token"],
             "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
        r = self.c.post("/google/oauth2/token", raw=form(f), headers=FORM)
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("refresh_token", r.json)  # Google does not rotate
        self.assertNotEqual(r.json["access_token"], t["access_token"])
        rv = self.c.post("/google/revoke", raw=form({"token": t["refresh_token"]}), headers=FORM)
        self.assertEqual(rv.status, 200, rv)
        r = self.c.post("/google/oauth2/token", raw=form(f), headers=FORM)
        self.assertEqual((r.status, r.json["error"]), (400, "invalid_grant"))
        self.assertEqual(r.json["error_description"], "Token has been expired or revoked.")
        # Revoking the refresh token revoked the grant's access tokens too.
        self.assertEqual(self.client(t["access_token"]).get(EVENTS).status, 401)
        rv2 = self.c.post("/google/revoke?token=" + t["refresh_token"])
        self.assertEqual((rv2.status, rv2.json["error"]), (400, "invalid_token"))

    def test_control_revoke_and_expiry(self):
        verifier, challenge = pkce()
        t = self.exchange(self.consent(challenge)["code"], verifier).json
        r = self.c.post("/_sandbox/tokens/revoke", {"provider": "google", "account": "ada@sandbox.test"})
        self.assertEqual(r.status, 200, r)
        self.assertGreaterEqual(r.json["revoked"], 2)
        f = {"grant_type": "refresh_token", "refresh_token": t["refresh_token"],
             "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
        self.assertEqual(self.c.post("/google/token", raw=form(f), headers=FORM).json["error"],
                         "invalid_grant")
        # Access tokens expire with the sandbox clock.
        t2 = self.exchange(self.consent(challenge)["code"], verifier).json
        self.assertEqual(self.client(t2["access_token"]).get(EVENTS).status, 200)
        self.c.post("/_sandbox/clock", {"advance_seconds": 3600})
        self.assertEqual(self.client(t2["access_token"]).get(EVENTS).status, 401)

    def test_authorize_errors(self):
        _, challenge = pkce()
        r = self.authorize(challenge, client_id="unknown")
        self.assertEqual(r.status, 401)
        self.assertIn(b"invalid_client", r.body)
        r = self.c.get("/google/o/oauth2/v2/auth?" + urllib.parse.urlencode({
            "client_id": "strict-client.apps.googleusercontent.com", "redirect_uri": REDIRECT,
            "response_type": "code", "scope": SCOPE}))
        self.assertEqual(r.status, 400)
        self.assertIn(b"redirect_uri_mismatch", r.body)
        r = self.authorize(challenge, scope="")
        self.assertEqual(r.status, 400)

    def test_discovery_document(self):
        r = self.c.get("/google/.well-known/openid-configuration")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.json["token_endpoint"].endswith("/google/token"))
        self.assertIn("S256", r.json["code_challenge_methods_supported"])


class GoogleCalendar(SandboxTest):
    def setUp(self):
        super().setUp()
        self.g = self.client("ya29.sandbox-ada")

    def insert(self, body, query="conferenceDataVersion=1"):
        return self.g.post(EVENTS + ("?" + query if query else ""), body)

    def assertGoogleError(self, r, status, reason):
        self.assertEqual(r.status, status, r)
        self.assertValid(ERROR, r.json)
        self.assertEqual(r.json["error"]["code"], status)
        self.assertEqual(r.json["error"]["errors"][0]["reason"], reason, r)

    def test_insert_with_meet_conference(self):
        body = event_body(id="bkg0123456789abcdef", conferenceData={"createRequest": {
            "requestId": "req-1", "conferenceSolutionKey": {"type": "hangoutsMeet"}}})
        r = self.insert(body)
        self.assertEqual(r.status, 200, r)
        ev = r.json
        self.assertValid(EVENT, ev)
        self.assertEqual(ev["id"], "bkg0123456789abcdef")
        self.assertEqual(ev["status"], "confirmed")
        cd = ev["conferenceData"]
        self.assertEqual(cd["createRequest"]["status"]["statusCode"], "success")
        self.assertRegex(cd["conferenceId"], r"^[a-z]{3}-[a-z]{4}-[a-z]{3}$")
        self.assertEqual(ev["hangoutLink"], "https://meet.google.com/" + cd["conferenceId"])
        video = [e for e in cd["entryPoints"] if e["entryPointType"] == "video"]
        self.assertEqual(video[0]["uri"], ev["hangoutLink"])
        got = self.g.get(EVENTS + "/bkg0123456789abcdef")
        self.assertEqual(got.status, 200)
        self.assertValid(EVENT, got.json)
        self.assertEqual(got.json["hangoutLink"], ev["hangoutLink"])

    def test_conference_pending_then_success(self):
        self.config("google", conference_pending_ms=400)
        body = event_body(conferenceData={"createRequest": {
            "requestId": "req-2", "conferenceSolutionKey": {"type": "hangoutsMeet"}}})
        ev = self.insert(body).json
        self.assertValid(EVENT, ev)
        self.assertEqual(ev["conferenceData"]["createRequest"]["status"]["statusCode"], "pending")
        self.assertNotIn("hangoutLink", ev)
        time.sleep(0.5)
        later = self.g.get(EVENTS + "/" + ev["id"]).json
        self.assertValid(EVENT, later)
        self.assertEqual(later["conferenceData"]["createRequest"]["status"]["statusCode"], "success")
        self.assertIn("hangoutLink", later)

    def test_conference_failure_scripted(self):
        self.config("google", conference_result="failure")
        ev = self.insert(event_body(conferenceData={"createRequest": {
            "requestId": "r", "conferenceSolutionKey": {"type": "hangoutsMeet"}}})).json
        self.assertValid(EVENT, ev)
        self.assertEqual(ev["conferenceData"]["createRequest"]["status"]["statusCode"], "failure")
        self.assertNotIn("entryPoints", ev["conferenceData"])
        self.assertNotIn("hangoutLink", ev)

    def test_conference_data_version_zero_ignores_it(self):
        ev = self.insert(event_body(conferenceData={"createRequest": {
            "requestId": "r", "conferenceSolutionKey": {"type": "hangoutsMeet"}}}), query="").json
        self.assertNotIn("conferenceData", ev)
        self.assertNotIn("hangoutLink", ev)

    def test_client_ids_validated_and_unique(self):
        for bad in ("abc", "UPPERCASE123", "has-dash-1234", "wxyz12345", "a" * 1025):
            self.assertGoogleError(self.insert(event_body(id=bad)), 400, "invalid")
        self.assertEqual(self.insert(event_body(id="a" * 1024)).status, 200)
        self.assertEqual(self.insert(event_body(id="0123v")).status, 200)
        self.assertGoogleError(self.insert(event_body(id="0123v")), 409, "duplicate")

    def test_delete_lingers_cancelled_then_410(self):
        ev = self.insert(event_body(id="cancelme01")).json
        d = self.g.delete(EVENTS + "/cancelme01?sendUpdates=all")
        self.assertEqual(d.status, 204, d)
        got = self.g.get(EVENTS + "/cancelme01")
        self.assertEqual(got.json["status"], "cancelled")
        self.assertValid(EVENT, got.json)
        self.assertGoogleError(self.g.delete(EVENTS + "/cancelme01"), 410, "deleted")
        # The id stays taken; a patch revives the event (the documented recovery).
        self.assertGoogleError(self.insert(event_body(id="cancelme01")), 409, "duplicate")
        p = self.g.patch(EVENTS + "/cancelme01", {"status": "confirmed"})
        self.assertEqual(p.json["status"], "confirmed")
        lst = self.g.get(EVENTS).json
        self.assertEqual([e["id"] for e in lst["items"]], [ev["id"]])
        notes = self.state("google")["notifications"]
        cancel = [n for n in notes if n["action"] == "cancelled"][0]
        self.assertEqual(cancel["recipients"], ["grace@example.test"])
        self.assertGoogleError(self.g.delete(EVENTS + "/nosuchevent"), 404, "notFound")

    def test_list_excludes_cancelled_unless_show_deleted(self):
        a = self.insert(event_body(summary="A")).json
        b = self.insert(event_body(summary="B", start={"dateTime": "2026-12-02T10:00:00Z"},
                                   end={"dateTime": "2026-12-02T11:00:00Z"})).json
        self.g.delete(EVENTS + "/" + a["id"])
        lst = self.g.get(EVENTS)
        self.assertEqual(lst.status, 200)
        self.assertValid(EVENTS_LIST, lst.json)
        self.assertEqual([e["id"] for e in lst.json["items"]], [b["id"]])
        all_ = self.g.get(EVENTS + "?showDeleted=true").json["items"]
        self.assertEqual({e["id"] for e in all_}, {a["id"], b["id"]})
        win = self.g.get(EVENTS + "?timeMin=2026-12-02T00:00:00Z&timeMax=2026-12-03T00:00:00Z")
        self.assertEqual([e["id"] for e in win.json["items"]], [b["id"]])
        self.assertGoogleError(self.g.get(EVENTS + "?timeMin=2026-12-03T00:00:00Z&timeMax=2026-12-02T00:00:00Z"),
                               400, "timeRangeEmpty")
        page = self.g.get(EVENTS + "?showDeleted=true&maxResults=1").json
        self.assertEqual(len(page["items"]), 1)
        nxt = self.g.get(EVENTS + "?showDeleted=true&maxResults=1&pageToken=" + page["nextPageToken"]).json
        self.assertEqual(len(nxt["items"]), 1)
        self.assertNotEqual(nxt["items"][0]["id"], page["items"][0]["id"])
        self.assertGoogleError(self.g.get(EVENTS + "?orderBy=startTime"), 400, "badRequest")

    def test_patch_moves_and_bumps_sequence(self):
        ev = self.insert(event_body(conferenceData={"createRequest": {
            "requestId": "r1", "conferenceSolutionKey": {"type": "hangoutsMeet"}}})).json
        p = self.g.patch(EVENTS + "/" + ev["id"] + "?conferenceDataVersion=1&sendUpdates=all",
                         {"start": {"dateTime": "2026-12-01T16:00:00Z"},
                          "end": {"dateTime": "2026-12-01T16:50:00Z"}})
        self.assertEqual(p.status, 200, p)
        self.assertValid(EVENT, p.json)
        self.assertEqual(p.json["sequence"], 1)
        self.assertEqual(p.json["hangoutLink"], ev["hangoutLink"])  # same link when moved
        self.assertEqual(p.json["summary"], "Math with Ada")
        self.assertNotEqual(p.json["etag"], ev["etag"])
        # Same requestId again: ignored, the conference stays.
        same = self.g.patch(EVENTS + "/" + ev["id"] + "?conferenceDataVersion=1",
                            {"conferenceData": {"createRequest": {
                                "requestId": "r1", "conferenceSolutionKey": {"type": "hangoutsMeet"}}}})
        self.assertEqual(same.json["hangoutLink"], ev["hangoutLink"])
        new = self.g.patch(EVENTS + "/" + ev["id"] + "?conferenceDataVersion=1",
                           {"conferenceData": {"createRequest": {
                               "requestId": "r2", "conferenceSolutionKey": {"type": "hangoutsMeet"}}}})
        self.assertNotEqual(new.json["hangoutLink"], ev["hangoutLink"])
        bad = self.g.patch(EVENTS + "/" + ev["id"], {"end": {"dateTime": "2026-11-30T00:00:00Z"}})
        self.assertGoogleError(bad, 400, "timeRangeEmpty")
        stale = self.g.patch(EVENTS + "/" + ev["id"], {"summary": "y"}, headers={"If-Match": ev["etag"]})
        self.assertGoogleError(stale, 412, "conditionNotMet")
        fresh = self.g.patch(EVENTS + "/" + ev["id"], {"summary": "y"},
                             headers={"If-Match": new.json["etag"]})
        self.assertEqual(fresh.status, 200, fresh)
        put = self.g.put(EVENTS + "/" + ev["id"], event_body(summary="Replaced"))
        self.assertEqual(put.status, 200, put)
        self.assertValid(EVENT, put.json)
        self.assertEqual(put.json["summary"], "Replaced")

    def test_send_updates(self):
        self.insert(event_body(attendees=[{"email": "x@sandbox.test"}, {"email": "y@other.test"}]),
                    query="sendUpdates=externalOnly")
        self.insert(event_body(), query="sendUpdates=none")
        notes = self.state("google")["notifications"]
        self.assertEqual(notes[0]["recipients"], ["y@other.test"])
        self.assertEqual(notes[1]["recipients"], [])
        r = self.insert(event_body(), query="sendUpdates=everyone")
        self.assertGoogleError(r, 400, "invalid")
        self.assertEqual(r.json["error"]["errors"][0]["location"], "sendUpdates")

    def test_validation_errors_are_googles(self):
        no_end = event_body()
        del no_end["end"]
        self.assertGoogleError(self.insert(no_end), 400, "required")
        self.assertGoogleError(self.insert(event_body(end={"dateTime": "2026-12-01T14:00:00Z"})),
                               400, "timeRangeEmpty")
        self.assertGoogleError(self.insert(event_body(start={"dateTime": "tomorrow"})), 400, "invalid")
        self.assertGoogleError(self.insert(event_body(summary=42)), 400, "invalid")
        self.assertGoogleError(self.insert(event_body(status="done")), 400, "invalid")
        self.assertGoogleError(self.insert(event_body(attendees=[{"displayName": "x"}])), 400, "required")
        self.assertGoogleError(self.insert(event_body(conferenceData={"createRequest": {
            "requestId": "r", "conferenceSolutionKey": {"type": "zoom"}}})), 400, "invalid")
        self.assertGoogleError(self.insert(event_body(conferenceData={"createRequest": {
            "conferenceSolutionKey": {"type": "hangoutsMeet"}}})), 400, "invalid")
        self.assertGoogleError(self.insert(event_body(), query="conferenceDataVersion=7"), 400, "invalid")
        raw = self.g.post(EVENTS, raw=b"{not json", headers={"Content-Type": "application/json"})
        self.assertGoogleError(raw, 400, "parseError")
        self.assertGoogleError(self.g.get("/google/calendar/v3/calendars/someone@else.test/events"),
                               404, "notFound")

    def test_auth_errors(self):
        anon = self.client()
        r = anon.post(EVENTS, event_body())
        self.assertGoogleError(r, 401, "authError")
        self.assertIn("invalid_token", r.header("WWW-Authenticate"))
        self.assertGoogleError(self.client("ya29.bogus").get(EVENTS), 401, "authError")
        # A token without a Calendar scope.
        self.config("google", auto_approve=True)
        verifier, challenge = pkce()
        loc = self.c.get("/google/o/oauth2/v2/auth?" + urllib.parse.urlencode({
            "client_id": CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code",
            "scope": "openid email", "code_challenge": challenge,
            "code_challenge_method": "S256"})).header("Location")
        t = self.c.post("/google/token", raw=form({
            "grant_type": "authorization_code", "code": query_of(loc)["code"],
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uri": REDIRECT,
            "code_verifier": verifier}), headers=FORM).json
        self.assertNotIn("refresh_token", t)  # no access_type=offline
        self.assertGoogleError(self.client(t["access_token"]).post(EVENTS, event_body()), 403,
                               "insufficientPermissions")

    def test_fault_uses_google_envelope(self):
        self.fault(provider="google", method="POST", path="/google/calendar/v3/*", status=429,
                   retry_after=7, count=1)
        r = self.insert(event_body())
        self.assertGoogleError(r, 429, "rateLimitExceeded")
        self.assertEqual(r.header("Retry-After"), "7")
        self.assertEqual(self.insert(event_body()).status, 200)

    def test_fields_partial_responses(self):
        meet = {"createRequest": {"requestId": "r1",
                                  "conferenceSolutionKey": {"type": "hangoutsMeet"}}}
        sel = "id,status,conferenceData(createRequest/status/statusCode,entryPoints(entryPointType,uri))"
        r = self.insert(event_body(id="fields0001", conferenceData=meet),
                        query="conferenceDataVersion=1&fields=" + urllib.parse.quote(sel, safe=""))
        self.assertEqual(r.status, 200, r)
        ev = r.json
        self.assertEqual(set(ev), {"id", "status", "conferenceData"})
        self.assertEqual((ev["id"], ev["status"]), ("fields0001", "confirmed"))
        cd = ev["conferenceData"]
        self.assertEqual(cd["createRequest"], {"status": {"statusCode": "success"}})
        self.assertEqual(set(cd), {"createRequest", "entryPoints"})
        self.assertEqual([set(e) for e in cd["entryPoints"]], [{"entryPointType", "uri"}] * 2)
        self.assertValid(EVENT, ev)
        # The event is stored whole: an answer without fields shows all of it, as before.
        full = self.g.get(EVENTS + "/fields0001")
        self.assertValid(EVENT, full.json)
        for k in ("summary", "attendees", "hangoutLink", "etag", "htmlLink", "start", "end"):
            self.assertIn(k, full.json)
        self.assertEqual(full.json["conferenceData"]["entryPoints"][0]["uri"],
                         cd["entryPoints"][0]["uri"])
        self.assertIn("conferenceSolution", full.json["conferenceData"])
        # Parentheses, commas and slashes may also come unencoded; absent fields are absent.
        g = self.g.get(EVENTS + "/fields0001?fields=hangoutLink,start/dateTime,nosuch,location")
        self.assertEqual(g.json, {"hangoutLink": full.json["hangoutLink"],
                                  "start": {"dateTime": "2026-12-01T15:00:00Z"}})
        self.assertEqual(self.g.get(EVENTS + "/fields0001?fields=*").json, full.json)
        # patch and update answer the selection of the new event.
        p = self.g.patch(EVENTS + "/fields0001?fields=summary,sequence",
                         {"summary": "Moved", "start": {"dateTime": "2026-12-01T16:00:00Z"},
                          "end": {"dateTime": "2026-12-01T16:50:00Z"}})
        self.assertEqual((p.status, p.json), (200, {"summary": "Moved", "sequence": 1}), p)
        u = self.g.put(EVENTS + "/fields0001?fields=id,summary", event_body(summary="Replaced"))
        self.assertEqual((u.status, u.json), (200, {"id": "fields0001", "summary": "Replaced"}), u)
        # events.list: the selection applies to the list resource.
        self.insert(event_body(id="fields0002"))
        lst = self.g.get(EVENTS + "?maxResults=1&fields=" +
                         urllib.parse.quote("items(id,status),nextPageToken"))
        self.assertEqual(lst.status, 200, lst)
        self.assertEqual(set(lst.json), {"items", "nextPageToken"})
        self.assertEqual(lst.json["items"], [{"id": "fields0001", "status": "confirmed"}])
        nxt = self.g.get(EVENTS + "?maxResults=1&fields=items/id&pageToken=" +
                         lst.json["nextPageToken"])
        self.assertEqual(nxt.json, {"items": [{"id": "fields0002"}]})
        # Without fields every answer is whole.
        whole = self.g.get(EVENTS).json
        self.assertValid(EVENTS_LIST, whole)
        self.assertEqual(whole["kind"], "calendar#events")
        self.assertEqual(len(whole["items"]), 2)
        self.assertIn("attendees", whole["items"][0])
        cl = self.g.get("/google/calendar/v3/users/me/calendarList?fields=items/id")
        self.assertEqual(cl.json, {"items": [{"id": "ada@sandbox.test"}]})

    def test_fields_syntax_errors_before_acting(self):
        meet = {"createRequest": {"requestId": "r1",
                                  "conferenceSolutionKey": {"type": "hangoutsMeet"}}}
        cases = {"id,conferenceData(entryPoints(uri)": "conferenceData(entryPoints(uri)",
                 "id)": "id)", "a()": "a()", "id,": "id,", ",id": ",id",
                 "id,,status": "id,,status", "a//b": "a//b", "a(b)c": "a(b)c", "i*d": "i*d"}
        for sel, part in cases.items():
            r = self.insert(event_body(id="badfields01", conferenceData=meet),
                            query="conferenceDataVersion=1&sendUpdates=all&fields=" +
                                  urllib.parse.quote(sel, safe=""))
            self.assertGoogleError(r, 400, "invalidParameter")
            err = r.json["error"]["errors"][0]
            self.assertEqual((err["location"], err["locationType"]), ("fields", "parameter"))
            self.assertEqual(err["message"], "Invalid field selection " + part)
            self.assertEqual(r.json["error"]["message"], err["message"])
        # Nothing was made: no event, no notification, no pending conference.
        st = self.state("google")
        self.assertEqual(st["calendars"].get("ada@sandbox.test", {}).get("events", {}), {})
        self.assertEqual((st["notifications"], st["pending"]), ([], {}))
        self.assertEqual(self.g.get(EVENTS + "/badfields01").status, 404)
        # Nor changed by patch, update or delete; get and list refuse it too.
        ev = self.insert(event_body(id="badfields02")).json
        q = "?fields=" + urllib.parse.quote("id,(status)", safe="")
        self.assertGoogleError(self.g.patch(EVENTS + "/badfields02" + q, {"summary": "x"}),
                               400, "invalidParameter")
        self.assertGoogleError(self.g.put(EVENTS + "/badfields02" + q, event_body(summary="x")),
                               400, "invalidParameter")
        self.assertGoogleError(self.g.delete(EVENTS + "/badfields02" + q), 400, "invalidParameter")
        self.assertGoogleError(self.g.get(EVENTS + "/badfields02" + q), 400, "invalidParameter")
        self.assertGoogleError(self.g.get(EVENTS + q), 400, "invalidParameter")
        self.assertEqual(self.g.get(EVENTS + "/badfields02").json, ev)
        self.assertEqual(len(self.state("google")["notifications"]), 1)

    def test_unknown_path_is_google_404(self):
        r = self.g.get("/google/calendar/v3/nothing")
        self.assertGoogleError(r, 404, "notFound")


if __name__ == "__main__":
    main()
