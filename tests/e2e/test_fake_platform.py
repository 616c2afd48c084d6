"""A platform is one driver: the test-only `fake` platform (tests/platforms/fake.c, built into
meetlink-testplat only) goes through every platform path of the core without the core naming
it. A host connects it on the hosted connect page (OAuth with PKCE against the emulator
below), a confirmed booking gets its meeting through the pipeline (the worker's HTTP call to
the emulator), and the provider's webhook reporting the meeting deleted is verified and
reported on the booking; a forged one is refused (401) and changes nothing.

The emulator is a few lines of http.server on 127.0.0.1: the provider as the driver's header
comment describes it, recording what it received."""

import base64
import hashlib
import hmac
import http.cookiejar
import http.server
import json
import os
import sys
import threading
import time
import unittest
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
# The daemon with the test-only platforms in it (tests/CMakeLists.txt).
os.environ["MEETLINK_BIN"] = os.environ.get("ML_TESTPLAT_BIN") or os.path.join(
    HERE, "..", "..", "build", "tests", "meetlink-testplat")
sys.path.insert(0, HERE)
import harness  # noqa: E402
import fixtures  # noqa: E402

CLIENT_ID, CLIENT_SECRET = "fake-client", "fake-client-secret"
HOOK_SECRET = "fake-webhook-secret"
VAULT_KEYS = "t1:" + "A" * 43 + "="


class Fake(http.server.BaseHTTPRequestHandler):
    """The provider: OAuth, identity, meetings."""
    state = None

    def log_message(self, *a):
        pass

    def answer(self, status, obj=None, headers=None):
        body = json.dumps(obj).encode() if obj is not None else b""
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if obj is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def record(self, body=b""):
        self.state["requests"].append((self.command, self.path.split("?")[0],
                                       dict(self.headers), body))

    def bearer_ok(self):
        return self.headers.get("Authorization") == "Bearer " + self.state["access_token"]

    def do_GET(self):
        self.record()
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        if u.path == "/authorize":
            # Consent given at once: back to the redirect URI with a code bound to the
            # PKCE challenge.
            assert q["client_id"] == CLIENT_ID and q["code_challenge_method"] == "S256"
            self.state["codes"]["code-1"] = (q["code_challenge"], q["redirect_uri"])
            loc = "%s?%s" % (q["redirect_uri"], urllib.parse.urlencode(
                {"code": "code-1", "state": q["state"]}))
            return self.answer(302, None, {"Location": loc})
        if u.path == "/me":
            if not self.bearer_ok():
                return self.answer(401, {"error": "invalid_token"})
            return self.answer(200, {"email": "ada@fake.example"})
        self.answer(404, {"error": "not_found"})

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        self.record(body)
        if self.path == "/token":
            f = dict(urllib.parse.parse_qsl(body.decode()))
            ch, redirect = self.state["codes"].pop(f.get("code"), (None, None))
            want = base64.urlsafe_b64encode(
                hashlib.sha256(f.get("code_verifier", "").encode()).digest()).rstrip(b"=")
            if (f.get("grant_type") != "authorization_code" or ch is None
                    or want.decode() != ch or f.get("redirect_uri") != redirect
                    or f.get("client_id") != CLIENT_ID
                    or f.get("client_secret") != CLIENT_SECRET):
                return self.answer(400, {"error": "invalid_grant"})
            return self.answer(200, {"access_token": self.state["access_token"],
                                     "refresh_token": "fake-refresh", "expires_in": 3600})
        if self.path == "/meetings":
            if not self.bearer_ok():
                return self.answer(401, {"error": "invalid_token"})
            m = json.loads(body)
            for mid, old in self.state["meetings"].items():
                if old["key"] == m["key"]:
                    return self.answer(200, dict(old, id=mid))
            mid = "fm-%d" % (len(self.state["meetings"]) + 1)
            m["join_url"] = "https://fake.example/j/" + mid
            self.state["meetings"][mid] = m
            return self.answer(201, dict(m, id=mid))
        self.answer(404, {"error": "not_found"})

    def do_DELETE(self):
        self.record()
        mid = self.path.rsplit("/", 1)[1]
        if self.state["meetings"].pop(mid, None) is None:
            return self.answer(404, {"error": "not_found"})
        self.answer(204)


class FakePlatform(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        Fake.state = {"requests": [], "codes": {}, "meetings": {},
                      "access_token": "fake-access-token"}
        cls.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Fake)
        threading.Thread(target=cls.srv.serve_forever, daemon=True).start()
        base = "http://127.0.0.1:%d" % cls.srv.server_address[1]
        cls.d = harness.start_daemon(env={
            "MEETLINK_FAKE_URL": base,
            "MEETLINK_FAKE_CLIENT_ID": CLIENT_ID,
            "MEETLINK_FAKE_CLIENT_SECRET": CLIENT_SECRET,
            "MEETLINK_FAKE_WEBHOOK_SECRET": HOOK_SECRET,
            "MEETLINK_VAULT_KEYS": VAULT_KEYS,
            "MEETLINK_RETRY_BASE_MS": "40",
            "MEETLINK_LOG_LEVEL": "warn",
        })
        cls.c = harness.Client(cls.d.host, cls.d.port, cls.d.api_key)
        cls.anon = harness.Client(cls.d.host, cls.d.port)

    @classmethod
    def tearDownClass(cls):
        cls.d.close()
        cls.srv.shutdown()

    def connect(self, host_id):
        r = self.c.post("/v1/hosts/%s/connect-links" % host_id, {"platform": "fake"})
        self.assertEqual(r.status, 201, r)
        t = urllib.parse.parse_qs(urllib.parse.urlsplit(r.json["url"]).query)["t"][0]
        # The connect page lists the platform as a card, by its driver's label.
        r = self.anon.get("/connect/session?t=" + urllib.parse.quote(t))
        self.assertEqual(r.status, 200, r)
        cards = {x["platform"]: x for x in r.json["platforms"]}
        self.assertEqual(cards["fake"]["label"], "Fake Meet")
        self.assertTrue(cards["fake"]["configured"])
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        url = "%s/oauth/fake/start?t=%s" % (self.d.url, urllib.parse.quote(t))
        with opener.open(url, timeout=20) as resp:
            resp.read()

    def signed(self, obj, secret=HOOK_SECRET):
        raw = json.dumps(obj).encode()
        sig = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        return raw, {"Content-Type": "application/json", "x-fake-signature": sig}

    def wait_meeting(self, bid, want):
        deadline = time.time() + 30
        while time.time() < deadline:
            b = self.c.get("/v1/bookings/" + bid).json
            if b["meeting"]["status"] in want:
                return b
            time.sleep(0.05)
        self.fail("meeting of %s not %s: %s" % (bid, want, b["meeting"]))

    def test_connect_book_webhook(self):
        h = fixtures.host(self.c)
        self.connect(h["id"])
        r = self.c.get("/v1/hosts/%s/connections" % h["id"])
        conns = {x["platform"]: x for x in r.json["data"]}
        self.assertEqual(conns["fake"]["status"], "connected", r)
        self.assertEqual(conns["fake"]["account_email"], "ada@fake.example")
        paths = [(m, p) for (m, p, _, _) in Fake.state["requests"]]
        self.assertIn(("POST", "/token"), paths)
        self.assertIn(("GET", "/me"), paths)

        # A booking on the platform gets its meeting through the pipeline.
        s = fixtures.service(self.c, h["id"], platform="fake")
        b = fixtures.booking(self.c, s["id"], start="2026-12-01T15:00:00Z")
        r = self.c.post("/v1/bookings/%s/confirm" % b["id"])
        self.assertIn(r.status, (200, 202), r)
        b = self.wait_meeting(b["id"], ("ready",))
        self.assertEqual(b["meeting"]["platform"], "fake")
        mid = [k for k, m in Fake.state["meetings"].items()
               if m["key"].startswith(b["id"])]
        self.assertEqual(len(mid), 1, Fake.state["meetings"])
        self.assertEqual(b["meeting"]["join_url"], "https://fake.example/j/" + mid[0])
        posts = [hd for (m, p, hd, _) in Fake.state["requests"] if (m, p) == ("POST", "/meetings")]
        self.assertEqual(posts[0]["Authorization"], "Bearer fake-access-token")

        # A forged webhook: refused, nothing changes.
        ev = {"id": "evt-1", "type": "meeting.deleted", "meeting_id": mid[0]}
        raw, hd = self.signed(ev, secret="not-the-secret")
        r = self.anon.post("/webhooks/fake", raw=raw, headers=hd)
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json["error"]["code"], "invalid_signature")
        raw, hd = self.signed(ev)
        del hd["x-fake-signature"]
        self.assertEqual(self.anon.post("/webhooks/fake", raw=raw, headers=hd).status, 401)
        self.assertEqual(self.c.get("/v1/bookings/" + b["id"]).json["meeting"]["status"],
                         "ready")

        # The verified one: the meeting deleted at the provider is reported on the booking.
        raw, hd = self.signed(ev)
        r = self.anon.post("/webhooks/fake", raw=raw, headers=hd)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["duplicate"], r.json["reported"]), (False, True))
        b = self.c.get("/v1/bookings/" + b["id"]).json
        self.assertEqual(b["meeting"]["status"], "error")
        self.assertEqual(b["meeting"]["error"]["code"], "meeting_deleted_at_provider")
        self.assertIn("Fake Meet", b["meeting"]["error"]["message"])
        # Handled once.
        r = self.anon.post("/webhooks/fake", raw=raw, headers=hd)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json["duplicate"])

    def test_unknown_webhook_platform(self):
        # A platform without webhooks has no endpoint.
        raw, hd = self.signed({"id": "x", "type": "t"})
        self.assertEqual(self.anon.post("/webhooks/jitsi", raw=raw, headers=hd).status, 404)


if __name__ == "__main__":
    harness.main()
