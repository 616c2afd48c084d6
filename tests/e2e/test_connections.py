"""Connections end to end against `meetlink sandbox`: the connect link, the OAuth round trip
for Google, Zoom and Microsoft (authorization code + PKCE S256, state bound to a cookie, the
exact redirect URI), what the API shows, disconnecting (revoked at the provider, tokens
erased), every way the round trip can go wrong (nothing stored), organization credentials
checked with the provider, the services' connection_required answer, and organization
isolation."""

import http.server
import json
import os
import sys
import threading
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import connflow as cf  # noqa: E402
import harness  # noqa: E402

TEST_PEM = None  # generated once (openssl), for the JaaS key pair


class MeetingBaasStub(http.server.BaseHTTPRequestHandler):
    """MeetingBaas is not emulated by the sandbox: a stub that knows one API key."""

    def do_GET(self):  # noqa: N802
        ok = self.headers.get("x-meeting-baas-api-key") == "mb-good-key"
        body = b'{"bots":[]}' if ok else b'{"error":"Unauthorized"}'
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def rsa_pem():
    import subprocess
    return subprocess.run(["openssl", "genrsa", "2048"], capture_output=True,
                          check=True).stdout.decode()


class Connections(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mb = http.server.ThreadingHTTPServer(("127.0.0.1", 0), MeetingBaasStub)
        threading.Thread(target=cls.mb.serve_forever, daemon=True).start()
        cls.sb, cls.d = cf.start({"MEETLINK_MEETINGBAAS_URL":
                                  "http://127.0.0.1:%d" % cls.mb.server_port})
        cls.api = harness.Client(cls.d.host, cls.d.port, cls.d.api_key)

    @classmethod
    def tearDownClass(cls):
        cls.d.close()
        cls.sb.close()
        cls.mb.shutdown()

    def setUp(self):
        cf.sandbox_config(self.sb, {"google": {"auto_approve": True},
                                    "zoom": {"auto_approve": True},
                                    "microsoft": {"auto_approve": True}})

    def conns(self, host):
        r = self.api.get("/v1/hosts/%s/connections" % host)
        self.assertEqual(r.status, 200, r)
        return {c["platform"]: c for c in r.json["data"]}

    # --- the round trip, per platform ---

    def roundtrip(self, platform, provider, email, scopes):
        host = cf.make_host(self.api)
        link = cf.connect_link(self.api, host, platform)
        self.assertTrue(link.startswith(self.d.url + "/connect?t="), link)
        self.assertNotIn("secret", link)
        auth, cookie = cf.start_flow(self.d, platform, link)
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(auth).query)
        self.assertTrue(auth.startswith(self.sb.url + "/"), auth)
        self.assertEqual(q["redirect_uri"], [self.d.url + "/oauth/%s/callback" % platform])
        self.assertEqual(q["code_challenge_method"], ["S256"])
        self.assertEqual(len(q["code_challenge"][0]), 43)
        self.assertEqual(q["response_type"], ["code"])
        self.assertGreaterEqual(len(q["state"][0]), 43)
        for s in scopes:
            self.assertIn(s, q["scope"][0].split())
        self.assertTrue(cookie.startswith("ml_oauth_%s=" % platform))
        # The cookie is HTTP-only, SameSite=Lax and scoped to the callback.
        st, h, _ = cf.http("%s/oauth/%s/start?t=%s" % (self.d.url, platform, cf.link_token(link)))
        attrs = h["set-cookie"].lower()
        for a in ("httponly", "samesite=lax", "path=/oauth/%s/" % platform, "max-age=600"):
            self.assertIn(a, attrs)

        cb = cf.consent(auth)
        self.assertTrue(cb.startswith(self.d.url + "/oauth/%s/callback?" % platform), cb)
        st, h, body = cf.callback(cb, cookie)
        self.assertEqual(st, 303, body)
        self.assertIn("/connect?t=", h["location"])
        self.assertIn("connected=" + platform, h["location"])
        self.assertIn("max-age=0", h["set-cookie"].lower())

        c = self.conns(host)[platform]
        self.assertEqual(c["status"], "connected")
        self.assertEqual(c["account_email"], email)
        self.assertIsNotNone(c["expires_at"])
        self.assertIsNone(c["last_error"])
        self.assertTrue(c["id"].startswith("con_"))
        self.assertNotIn("access_token", json.dumps(c))

        # What the provider received: PKCE verifier and the exact redirect URI.
        reqs = cf.sandbox_requests(self.sb, provider=provider, method="POST")
        codes = [r for r in reqs if (r.get("body") or {}).get("grant_type") ==
                 "authorization_code"]
        self.assertTrue(codes)
        b = codes[-1]["body"]
        self.assertEqual(b["redirect_uri"], self.d.url + "/oauth/%s/callback" % platform)
        self.assertIn("code_verifier", b)
        self.assertEqual(codes[-1]["status"], 200)

        # A replay of the same callback changes nothing.
        st, _, body = cf.callback(cb, cookie)
        self.assertEqual(st, 400)
        self.assertIn(b"already used", body)
        return host

    def test_google(self):
        host = self.roundtrip("google_meet", "google", "ada@sandbox.test",
                              ["https://www.googleapis.com/auth/calendar.events", "openid",
                               "email"])
        q = cf.sandbox_requests(self.sb, provider="google", method="GET",
                                path="/google/o/oauth2/v2/auth")[-1]["query"]
        self.assertEqual(q.get("access_type"), "offline")
        # Disconnect revokes the grant at Google and erases the tokens.
        r = self.api.delete("/v1/hosts/%s/connections/google_meet" % host)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "revoked")
        self.assertTrue(r.json["revoked_at_provider"])
        self.assertIsNone(r.json["expires_at"])
        rev = cf.sandbox_requests(self.sb, provider="google", method="POST",
                                  path="/google/revoke")
        self.assertEqual(rev[-1]["status"], 200)
        self.assertEqual(self.conns(host)["google_meet"]["status"], "revoked")
        r = self.api.delete("/v1/hosts/%s/connections/google_meet" % host)
        self.assertEqual(r.status, 404, r)

    def test_zoom(self):
        host = self.roundtrip("zoom", "zoom", "ada@zoom.sandbox.test", [])
        r = self.api.delete("/v1/hosts/%s/connections/zoom" % host)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json["revoked_at_provider"])
        rev = cf.sandbox_requests(self.sb, provider="zoom", method="POST",
                                  path="/zoom/oauth/revoke")
        self.assertEqual(rev[-1]["status"], 200)

    def test_teams(self):
        host = self.roundtrip("teams", "microsoft", "ada@sandbox.onmicrosoft.com",
                              ["OnlineMeetings.ReadWrite", "Calendars.ReadWrite",
                               "offline_access"])
        # Microsoft has no revocation endpoint: the tokens are erased, and the answer says so.
        r = self.api.delete("/v1/hosts/%s/connections/teams" % host)
        self.assertEqual(r.status, 200, r)
        self.assertFalse(r.json["revoked_at_provider"])
        self.assertEqual(r.json["status"], "revoked")

    def test_reconnect_keeps_one_connection(self):
        host = cf.make_host(self.api)
        cf.connect(self.d, self.api, host, "zoom")
        first = self.conns(host)["zoom"]["id"]
        cf.connect(self.d, self.api, host, "zoom")
        c = self.conns(host)
        self.assertEqual(len(c), 1)
        self.assertEqual(c["zoom"]["id"], first)

    # --- what goes wrong lands on a clear page, and nothing is stored ---

    def test_denied_consent(self):
        cf.sandbox_config(self.sb, {"google": {"auto_approve": False}})
        host = cf.make_host(self.api)
        auth, cookie = cf.start_flow(self.d, "google_meet",
                                     cf.connect_link(self.api, host, "google_meet"))
        st, h, body = cf.callback(cf.consent(auth, "deny"), cookie)
        self.assertEqual(st, 403)
        self.assertIn(b"You declined access", body)
        self.assertIn(b'id="back"', body)
        self.assertEqual(self.conns(host), {})
        self.assertIn("script-src 'self'", h["content-security-policy"])

    def test_forged_state_and_foreign_browser(self):
        host = cf.make_host(self.api)
        auth, cookie = cf.start_flow(self.d, "google_meet",
                                     cf.connect_link(self.api, host, "google_meet"))
        cb = cf.consent(auth)
        forged = cb.replace("state=", "state=x")
        st, _, body = cf.callback(forged, cookie)
        self.assertEqual(st, 400)
        self.assertIn(b"does not belong to a sign-in we started", body)
        # The right state from another browser (no cookie, or another one), or sent to
        # another platform's callback: refused, and the state is not spent by it.
        name, _, value = cookie.partition("=")
        for bad_cb, bad_cookie in ((cb, "ml_oauth_google_meet=someone-else"), (cb, None),
                                   (cb, "ml_oauth_google_meet=" + value[:-1]),
                                   (cb.replace("/google_meet/", "/zoom/"),
                                    "ml_oauth_zoom=" + value)):
            st, h, body = cf.callback(bad_cb, bad_cookie)
            self.assertEqual(st, 400, body[:300])
            self.assertIn(b"did not start in this browser", body)
            self.assertNotIn("set-cookie", h)  # (the host's cookie is not cleared either)
        self.assertEqual(self.conns(host), {})
        st, _, body = cf.callback(self.d.url + "/oauth/google_meet/callback?code=x", None)
        self.assertEqual(st, 400)
        # The host's own callback, with the cookie, still goes through.
        st, h, body = cf.callback(cb, cookie)
        self.assertEqual(st, 303, body[:500])
        self.assertIn("connected=google_meet", h["location"])
        self.assertEqual(self.conns(host)["google_meet"]["status"], "connected")

    def test_provider_error_on_exchange(self):
        host = cf.make_host(self.api)
        auth, cookie = cf.start_flow(self.d, "teams", cf.connect_link(self.api, host, "teams"))
        cb = cf.consent(auth)
        st, _, body = cf.http(self.sb.url + "/_sandbox/faults", "POST", json.dumps(
            {"provider": "microsoft", "method": "POST", "path": "/microsoft/*/oauth2/v2.0/token",
             "status": 503, "count": 1}), {"Content-Type": "application/json"})
        self.assertEqual(st, 201, body)
        st, _, body = cf.callback(cb, cookie)
        self.assertEqual(st, 502)
        self.assertIn(b"nothing was connected", body)
        self.assertEqual(self.conns(host), {})

    def test_invalid_and_expired_links(self):
        host = cf.make_host(self.api)
        link = cf.connect_link(self.api, host, "zoom")
        t = cf.link_token(link)
        bad = t[:-2] + ("AA" if not t.endswith("AA") else "BB")
        st, _, body = cf.http("%s/oauth/zoom/start?t=%s" % (self.d.url, bad))
        self.assertEqual(st, 401)
        self.assertIn(b"not valid", body)
        st, _, body = cf.http("%s/connect/session?t=%s" % (self.d.url, bad))
        self.assertEqual(st, 401)
        self.assertEqual(json.loads(body)["error"]["code"], "invalid_link")
        r = self.api.post("/v1/hosts/%s/connect-links" % host,
                          {"platform": "zoom", "expires_in_minutes": 1})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json["error"]["field"], "expires_in_minutes")
        r = self.api.post("/v1/hosts/%s/connect-links" % host, {"platform": "jitsi"})
        self.assertEqual(r.status, 400, r)
        r = self.api.post("/v1/hosts/hst_nope/connect-links", {"platform": "zoom"})
        self.assertEqual(r.status, 404, r)

    # --- the page ---

    def test_page_and_session(self):
        host = cf.make_host(self.api, name="Grace Hopper")
        link = cf.connect_link(self.api, host, "teams")
        st, h, body = cf.http(link)
        self.assertEqual(st, 200)
        self.assertIn(b'src="/web/connect.js"', body)
        self.assertNotIn(b"<script>", body)
        self.assertNotIn(b"style=", body)
        self.assertIn("default-src 'self'", h["content-security-policy"])
        self.assertEqual(h["cache-control"], "no-store")
        st, _, body = cf.http("%s/connect/session?t=%s" % (self.d.url, cf.link_token(link)))
        s = json.loads(body)
        self.assertEqual(s["host"]["name"], "Grace Hopper")
        self.assertEqual(s["platform"], "teams")
        self.assertEqual([p["platform"] for p in s["platforms"]],
                         ["google_meet", "zoom", "teams"])
        self.assertTrue(all(p["status"] == "not_connected" and p["configured"]
                            for p in s["platforms"]))
        cf.connect(self.d, self.api, host, "teams")
        st, _, body = cf.http("%s/connect/session?t=%s" % (self.d.url, cf.link_token(link)))
        teams = [p for p in json.loads(body)["platforms"] if p["platform"] == "teams"][0]
        self.assertEqual(teams["status"], "connected")
        self.assertEqual(teams["account_email"], "ada@sandbox.onmicrosoft.com")
        # Disconnect from the page: JSON only.
        st, _, _ = cf.http(self.d.url + "/connect/disconnect", "POST",
                           "t=%s&platform=teams" % cf.link_token(link),
                           {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(st, 415)
        st, _, body = cf.http(self.d.url + "/connect/disconnect", "POST",
                              json.dumps({"t": cf.link_token(link), "platform": "teams"}),
                              {"Content-Type": "application/json"})
        self.assertEqual(st, 200, body)
        self.assertEqual(self.conns(host)["teams"]["status"], "revoked")
        for asset in ("/web/connect.js", "/web/connect.css"):
            st, _, _ = cf.http(self.d.url + asset)
            self.assertEqual(st, 200, asset)

    # --- services need the connection ---

    def test_service_needs_connection(self):
        host = cf.make_host(self.api)
        # (google_meet: the organization may hold a Zoom Server-to-Server credential.)
        body = {"host_id": host, "name": "Tutoring", "is_online": True,
                "platform": "google_meet", "duration_minutes": 50}
        r = self.api.post("/v1/services", body)
        self.assertEqual(r.status, 409, r)
        e = r.json["error"]
        self.assertEqual(e["code"], "connection_required")
        self.assertEqual(e["field"], "platform")
        self.assertTrue(e["connect_url"].startswith(self.d.url + "/connect?t="))
        # The link works: it is the connect page for this host.
        st, _, s = cf.http("%s/connect/session?t=%s" % (self.d.url,
                                                       cf.link_token(e["connect_url"])))
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(s)["platform"], "google_meet")
        # A PATCH onto such a platform answers the same.
        r = self.api.post("/v1/services", dict(body, platform="jitsi"))
        self.assertEqual(r.status, 201, r)
        r = self.api.patch("/v1/services/" + r.json["id"], {"platform": "teams"})
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.json["error"]["code"], "connection_required")
        # Once connected, connection_required no longer applies.
        cf.connect(self.d, self.api, host, "google_meet")
        r = self.api.post("/v1/services", body)
        self.assertNotEqual(r.status == 409 and r.json["error"]["code"], "connection_required")

    # --- organization credentials ---

    def test_credentials(self):
        r = self.api.put("/v1/credentials/zoom", {"account_id": "SbxZoomAccount00000001",
                                                  "client_id": "zoom-s2s-client-id",
                                                  "client_secret": "wrong"})
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.json["error"]["code"], "invalid_credentials")
        r = self.api.put("/v1/credentials/zoom", {"account_id": "SbxZoomAccount00000001",
                                                  "client_id": "zoom-s2s-client-id",
                                                  "client_secret": "zoom-s2s-client-secret"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["settings"], {"account_id": "SbxZoomAccount00000001",
                                              "client_id": "zoom-s2s-client-id"})
        self.assertNotIn("zoom-s2s-client-secret", json.dumps(r.json))
        grants = [q for q in cf.sandbox_requests(self.sb, provider="zoom", method="POST",
                                                  path="/zoom/oauth/token")
                  if (q.get("body") or q.get("query") or {}).get("grant_type") ==
                  "account_credentials"]
        self.assertTrue(grants)

        # Zoom S2S stands in for a host's own Zoom connection.
        host = cf.make_host(self.api)
        r = self.api.post("/v1/services", {"host_id": host, "name": "S2S", "is_online": True,
                                           "platform": "zoom", "duration_minutes": 30})
        self.assertFalse(r.status == 409 and r.json["error"]["code"] == "connection_required",
                         r)

        r = self.api.put("/v1/credentials/twilio", {"account_sid": "AC0",
                                                    "api_key_sid": "SK00000000000000000000000000000001",
                                                    "api_key_secret": "nope"})
        self.assertEqual(r.status, 422, r)
        r = self.api.put("/v1/credentials/twilio", {
            "account_sid": "AC00000000000000000000000000000001",
            "api_key_sid": "SK00000000000000000000000000000001",
            "api_key_secret": "SandboxApiKeySecret0000000000001"})
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("SandboxApiKeySecret", json.dumps(r.json))

        r = self.api.put("/v1/credentials/meetingbaas", {"api_key": "bad"})
        self.assertEqual(r.status, 422, r)
        r = self.api.put("/v1/credentials/meetingbaas", {"api_key": "mb-good-key"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["secret_fields"], ["api_key"])

        pem = rsa_pem()
        r = self.api.put("/v1/credentials/jaas", {"app_id": "vpaas-magic-cookie-1",
                                                  "key_id": "other/abc", "private_key": pem})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json["error"]["field"], "key_id")
        r = self.api.put("/v1/credentials/jaas", {"app_id": "vpaas-magic-cookie-1",
                                                  "key_id": "vpaas-magic-cookie-1/abc",
                                                  "private_key": "not a key"})
        self.assertEqual(r.status, 400, r)
        r = self.api.put("/v1/credentials/jaas", {"app_id": "vpaas-magic-cookie-1",
                                                  "key_id": "vpaas-magic-cookie-1/abc",
                                                  "private_key": pem})
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("PRIVATE KEY", json.dumps(r.json))

        r = self.api.get("/v1/credentials")
        self.assertEqual(sorted(c["platform"] for c in r.json["data"]),
                         ["jaas", "meetingbaas", "twilio", "zoom"])
        r = self.api.get("/v1/credentials/twilio")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json["settings"]["api_key_sid"], "SK00000000000000000000000000000001")
        r = self.api.delete("/v1/credentials/twilio")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.api.get("/v1/credentials/twilio").status, 404)
        self.assertEqual(self.api.get("/v1/credentials/nope").status, 404)
        r = self.api.put("/v1/credentials/zoom", {"account_id": "x"})
        self.assertEqual(r.status, 400, r)

    # --- organizations see only their own ---

    def test_org_isolation(self):
        host = cf.make_host(self.api)
        cf.connect(self.d, self.api, host, "google_meet")
        other_key = "ml_other_org_key_0123456789abcdef"
        import subprocess
        env = dict(os.environ, MEETLINK_DB=self.d.env["MEETLINK_DB"])
        p = subprocess.run([harness.BIN, "keys", "create", "--org", "other"], env=env,
                           capture_output=True, cwd=self.d.workdir)
        self.assertEqual(p.returncode, 0, p.stderr)
        other_key = p.stdout.decode().split()[-1]
        b = harness.Client(self.d.host, self.d.port, other_key)
        self.assertEqual(b.get("/v1/hosts/%s/connections" % host).status, 404)
        self.assertEqual(b.delete("/v1/hosts/%s/connections/google_meet" % host).status, 404)
        self.assertEqual(b.post("/v1/hosts/%s/connect-links" % host,
                                {"platform": "zoom"}).status, 404)
        self.assertEqual(b.get("/v1/credentials").json["data"], [])
        self.assertEqual(self.conns(host)["google_meet"]["status"], "connected")


if __name__ == "__main__":
    harness.main()
