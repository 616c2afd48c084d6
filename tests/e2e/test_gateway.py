"""The join gateway (docs/gateway.md) through the public API and the public /j/{token}
pages: links stored hashed, revoked on removal and regenerate, the time gate, the
destination per platform and role, passes recorded, organizations isolated, bad input."""
import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
import harness  # noqa: E402
from harness import Client, error_lines, main, start_daemon  # noqa: E402
from pipeline import Env, twilio_rooms  # noqa: E402

SECRET = "prosody-shared-secret-for-tests"


def iso(t):
    return datetime.datetime.fromtimestamp(int(t), datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_claims(token):
    h, p, sig = token.split(".")
    want = hmac.new(SECRET.encode(), (h + "." + p).encode(), hashlib.sha256).digest()
    assert hmac.compare_digest(want, b64d(sig)), "signature"
    return json.loads(b64d(p))


def token_of(url):
    m = re.search(r"/j/([A-Za-z0-9_-]{43})$", url)
    assert m, url
    return m.group(1)


class Gateway(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Jitsi on a self-hosted domain with token auth: personal JWTs minted at the pass.
        cls.d = start_daemon(env={"MEETLINK_JITSI_DOMAIN": "meet.school.test",
                                  "MEETLINK_JITSI_APP_ID": "meetlink-app",
                                  "MEETLINK_JITSI_APP_SECRET": SECRET})
        cls.c = Client(cls.d.host, cls.d.port, cls.d.api_key)
        cls.pub = Client(cls.d.host, cls.d.port)  # no API key: what a guest's browser has
        cls.db = cls.d.env["MEETLINK_DB"]

    @classmethod
    def tearDownClass(cls):
        logs = cls.d.logs()
        errors = error_lines(logs)
        cls.d.close()
        assert not errors, "\n".join(errors)

    # --- helpers ---

    def book(self, start_in_s, svc=None, duration=50, confirm=True, **kw):
        c = self.c
        if svc is None:
            _, svc = fx.setup_jitsi(c)
        b = fx.booking(c, svc["id"], start=iso(time.time() + start_in_s),
                       status="confirmed" if confirm else "pending",
                       attendees=[{"name": "Alan Turing", "email": "alan@example.test"}], **kw)
        return b

    def people(self, bid, client=None):
        r = (client or self.c).get("/v1/bookings/%s/participants" % bid)
        self.assertEqual(r.status, 200, r)
        return {p["role"]: p for p in r.json["data"]}

    def go(self, url, ua="gateway-test/1.0"):
        path = urllib.parse.urlparse(url).path
        return self.pub.get(path, headers={"Accept": "text/html", "User-Agent": ua})

    def passes(self, bid):
        r = self.c.get("/v1/bookings/%s/events" % bid)
        return [e for e in r.json["data"] if e["type"] == "participant.passed"]

    # --- tests ---

    def test_links_are_stored_hashed(self):
        b = self.book(60)
        ppl = self.people(b["id"])
        self.assertEqual(sorted(ppl), ["attendee", "customer", "host"])
        for p in ppl.values():
            self.assertTrue(p["join_url"].startswith(self.d.url + "/j/"), p)
        toks = [token_of(p["join_url"]) for p in ppl.values()]
        self.assertEqual(len(set(toks)), 3)
        # The same links every time they are shown.
        again = self.people(b["id"])
        self.assertEqual({r: p["join_url"] for r, p in again.items()},
                         {r: p["join_url"] for r, p in ppl.items()})
        rows = harness.store_query(self.db, "SELECT token_hash, org_id, booking_id, "
                                   "participant_id, role FROM gateway_links WHERE booking_id = ?",
                                   (b["id"],))
        by_hash = {r[0]: r for r in rows}
        for role, p in ppl.items():
            h = hashlib.sha256(token_of(p["join_url"]).encode()).hexdigest()
            self.assertIn(h, by_hash)
            self.assertEqual(by_hash[h][3:], (p["id"], role))
        # No token anywhere in the store's files (the database and its WAL).
        for f, data in harness.store_blobs(self.db):
            for t in toks:
                self.assertFalse(t.encode() in data, "a token is in " + f)
        # ...nor in the log.
        logs = self.d.logs()
        for t in toks:
            self.assertNotIn(t, logs)

    def test_gate_before_the_window(self):
        b = self.book(3600)  # starts in an hour; the window opens 15 minutes before
        ppl = self.people(b["id"])
        for role in ("customer", "attendee"):
            r = self.go(ppl[role]["join_url"])
            self.assertEqual(r.status, 200, r)
            page = r.body.decode()
            self.assertIn('data-state="early"', page)
            self.assertIn('id="countdown"', page)
            self.assertIn('datetime="%s"' % b["start"], page)
            opens = re.search(r'data-opens-at="([^"]+)"', page).group(1)
            start = datetime.datetime.fromisoformat(b["start"].replace("Z", "+00:00"))
            self.assertEqual(datetime.datetime.fromisoformat(opens.replace("Z", "+00:00")),
                             start - datetime.timedelta(minutes=15))
            self.assertIn("data-now=", page)
            self.assertIn("script-src 'self'", r.header("Content-Security-Policy"))
            self.assertNotIn("<script>", page, "no inline script")
            self.assertEqual(r.header("Referrer-Policy"), "no-referrer")
        # Hosts are never held by the time: straight in, as moderator.
        r = self.go(ppl["host"]["join_url"])
        self.assertEqual(r.status, 303, r)
        self.assertEqual(self.passes(b["id"])[-1]["data"]["role"], "host")
        # An admin added later is never held either.
        r = self.c.post("/v1/bookings/%s/participants" % b["id"],
                        {"role": "admin", "name": "Ops", "email": "ops@example.test"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.go(r.json["join_url"]).status, 303)

    def test_window_is_a_service_setting(self):
        h = fx.host(self.c)
        s = fx.service(self.c, h["id"], settings={"join_window_minutes": 90})
        b = self.book(3600, svc=s)
        r = self.go(self.people(b["id"])["customer"]["join_url"])
        self.assertEqual(r.status, 303, r)  # an hour ahead is inside a 90-minute window
        bad = self.c.post("/v1/services", {"host_id": h["id"], "name": "x", "is_online": True,
                                           "platform": "jitsi", "duration_minutes": 30,
                                           "settings": {"join_window_minutes": -1}})
        self.assertEqual(bad.status, 400, bad)
        self.assertEqual(bad.json["error"]["field"], "settings.join_window_minutes")

    def test_gate_after_the_end_and_cancelled(self):
        b = self.book(-3 * 3600)  # ended two hours ago
        ppl = self.people(b["id"])
        r = self.go(ppl["customer"]["join_url"])
        self.assertEqual(r.status, 410, r)
        self.assertIn('data-state="ended"', r.body.decode())
        self.assertEqual(self.go(ppl["host"]["join_url"]).status, 303, "hosts are not held")
        b = self.book(60)
        ppl = self.people(b["id"])
        self.assertEqual(self.c.post("/v1/bookings/%s/cancel" % b["id"]).status, 200)
        for role in ("customer", "host"):
            r = self.go(ppl[role]["join_url"])
            self.assertEqual(r.status, 410, r)
            self.assertIn('data-state="cancelled"', r.body.decode())
        # A completed booking is over for its guests.
        b = self.book(60)
        ppl = self.people(b["id"])
        self.assertEqual(self.c.post("/v1/bookings/%s/complete" % b["id"]).status, 200)
        self.assertEqual(self.go(ppl["customer"]["join_url"]).status, 410)

    def test_pending_booking_is_not_ready(self):
        b = self.book(60, confirm=False)
        r = self.go(self.people(b["id"])["customer"]["join_url"])
        self.assertEqual(r.status, 503, r)
        self.assertEqual(r.header("Retry-After"), "5")
        self.assertIn('data-state="not_ready"', r.body.decode())

    def test_unknown_and_malformed_links(self):
        for path in ("/j/" + "A" * 43, "/j/short", "/j/" + "A" * 44, "/j/" + "A" * 42 + "%21",
                     "/j/" + "A" * 43 + "/go"):
            r = self.pub.get(path, headers={"Accept": "text/html"})
            self.assertEqual(r.status, 404, (path, r))
            self.assertIn("This link does not work", r.body.decode())
            self.assertNotIn("AAAAAAAAAAAAAAAA", r.body.decode(), "the token is not echoed")
        self.assertEqual(self.pub.post("/j/" + "A" * 43).status, 405)

    def test_destinations_per_role_with_minted_tokens(self):
        b = self.book(60)
        ppl = self.people(b["id"])
        room = b["meeting"]["join_url"]
        self.assertTrue(room.startswith("https://meet.school.test/"), room)
        self.assertEqual(b["meeting"]["platform_url"], room)
        for role in ("host", "customer", "attendee"):
            before = time.time()
            r = self.go(ppl[role]["join_url"])
            after = time.time()
            self.assertEqual(r.status, 303, r)
            loc = urllib.parse.urlparse(r.header("Location"))
            self.assertEqual("https://%s%s" % (loc.netloc, loc.path), room)
            claims = jwt_claims(urllib.parse.parse_qs(loc.query)["jwt"][0])
            self.assertEqual(claims["context"]["user"]["id"], ppl[role]["id"])
            self.assertEqual(claims.get("moderator") is True, role == "host", claims)
            # Minted now and short-lived, not valid for the whole meeting window.
            self.assertTrue(int(before) - 61 <= claims["nbf"] <= after - 59, claims)
            self.assertTrue(int(before) + 599 <= claims["exp"] <= after + 601, claims)
        # The host of a manual meeting goes to its host URL, the guests to the join URL.
        b2 = self.book(60)
        r = self.c.put("/v1/bookings/%s/meeting" % b2["id"],
                       {"join_url": "https://rooms.example.test/r1",
                        "host_url": "https://rooms.example.test/r1?host=1"})
        self.assertEqual(r.status, 200, r)
        ppl2 = self.people(b2["id"])
        self.assertEqual(self.go(ppl2["host"]["join_url"]).header("Location"),
                         "https://rooms.example.test/r1?host=1")
        self.assertEqual(self.go(ppl2["customer"]["join_url"]).header("Location"),
                         "https://rooms.example.test/r1")

    def test_passes_are_recorded(self):
        b = self.book(60)
        ppl = self.people(b["id"])
        ua = "Mozilla/5.0 " + "x" * 400
        self.assertEqual(self.go(ppl["customer"]["join_url"], ua=ua).status, 303)
        self.assertEqual(self.go(ppl["customer"]["join_url"]).status, 303)
        self.assertEqual(self.go(ppl["host"]["join_url"]).status, 303)
        ev = self.passes(b["id"])
        self.assertEqual(len(ev), 3)
        first = ev[0]
        self.assertEqual(first["data"]["participant_id"], ppl["customer"]["id"])
        self.assertEqual(first["data"]["role"], "customer")
        self.assertEqual(first["data"]["destination"], "personal_token")
        self.assertEqual(first["data"]["user_agent"], ua[:200])
        self.assertEqual(first["ip"], "127.0.0.1")
        self.assertEqual(first["actor"], "participant:" + ppl["customer"]["id"])
        after = self.people(b["id"])
        self.assertEqual(len(after["customer"]["passes"]), 2)
        self.assertEqual(len(after["host"]["passes"]), 1)
        self.assertEqual(after["attendee"]["passes"], [])
        self.assertEqual(after["customer"]["passes"][0]["ip"], "127.0.0.1")
        # The audit trail carries no token.
        text = json.dumps(self.c.get("/v1/bookings/%s/events" % b["id"]).json)
        for p in ppl.values():
            self.assertNotIn(token_of(p["join_url"]), text)

    def test_add_and_remove_participants(self):
        b = self.book(60)
        c = self.c
        path = "/v1/bookings/%s/participants" % b["id"]
        key = {"Idempotency-Key": "add-cohost-" + b["id"]}
        r = c.post(path, {"role": "host", "name": "Co Host", "email": "co@example.test"},
                   headers=key)
        self.assertEqual(r.status, 201, r)
        co = r.json
        self.assertEqual((co["role"], co["object"]), ("host", "participant"))
        again = c.post(path, {"role": "host", "name": "Co Host", "email": "co@example.test"},
                       headers=key)
        self.assertEqual(again.status, 201)
        self.assertEqual(again.header("Idempotent-Replayed"), "true")
        self.assertEqual(again.json["id"], co["id"])
        r = c.post(path, {"role": "attendee", "name": "Kurt", "email": "kurt@example.test"})
        self.assertEqual(r.status, 201, r)
        kurt = r.json
        booking = c.get("/v1/bookings/%s" % b["id"]).json
        self.assertEqual([a["id"] for a in booking["attendees"]][-1], kurt["id"])
        self.assertEqual(booking["extra_participants"][0]["id"], co["id"])
        self.assertEqual(self.go(co["join_url"]).status, 303)  # a co-host passes
        self.assertEqual(self.go(kurt["join_url"]).status, 303)
        # Removing a participant revokes its link at once; the store forgets its hash.
        r = c.delete(path + "/" + kurt["id"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"id": kurt["id"], "object": "participant", "deleted": True})
        self.assertEqual(self.go(kurt["join_url"]).status, 404)
        n = harness.store_query(self.db, "SELECT count(*) FROM gateway_links WHERE "
                                "participant_id = ?", (kurt["id"],))[0][0]
        self.assertEqual(int(n), 0)
        self.assertEqual(c.delete(path + "/" + kurt["id"]).status, 404)
        r = c.delete(path + "/" + b["host_participant_id"])
        self.assertEqual((r.status, r.json["error"]["code"]), (409, "participant_required"))
        types = [e["type"] for e in c.get("/v1/bookings/%s/events" % b["id"]).json["data"]]
        self.assertIn("participant.added", types)
        self.assertIn("participant.removed", types)
        # The others still get in.
        self.assertEqual(self.go(self.people(b["id"])["customer"]["join_url"]).status, 303)

    def test_regenerate_revokes_every_link(self):
        b = self.book(60)
        old = self.people(b["id"])
        r = self.c.post("/v1/bookings/%s/meeting/regenerate" % b["id"])
        self.assertEqual(r.status, 200, r)
        new = self.people(b["id"])
        for role in old:
            self.assertNotEqual(old[role]["join_url"], new[role]["join_url"])
            self.assertEqual(self.go(old[role]["join_url"]).status, 404)
            r = self.go(new[role]["join_url"])
            self.assertEqual(r.status, 303, r)
            room = self.c.get("/v1/bookings/%s" % b["id"]).json["meeting"]["join_url"]
            self.assertEqual(r.header("Location").split("?")[0], room)

    def test_bad_input_names_the_field(self):
        b = self.book(60)
        path = "/v1/bookings/%s/participants" % b["id"]
        cases = [({"name": "X", "email": "x@example.test"}, "role"),
                 ({"role": "owner", "name": "X", "email": "x@example.test"}, "role"),
                 ({"role": "admin", "email": "x@example.test"}, "name"),
                 ({"role": "admin", "name": "X\nY", "email": "x@example.test"}, "name"),
                 ({"role": "admin", "name": "X" * 201, "email": "x@example.test"}, "name"),
                 ({"role": "admin", "name": "X", "email": "not-an-email"}, "email"),
                 ({"role": "admin", "name": "X", "email": "x@example.test", "x": 1}, "x"),
                 ({"role": 7, "name": "X", "email": "x@example.test"}, "role")]
        for body, field in cases:
            r = self.c.post(path, body)
            self.assertEqual(r.status, 400, (body, r))
            self.assertEqual(r.json["error"]["field"], field, (body, r))
        r = self.c.post(path, raw=b"{", headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400)
        self.assertEqual(self.c.post("/v1/bookings/bkg_nope/participants",
                                     {"role": "admin", "name": "X",
                                      "email": "x@example.test"}).status, 404)
        # A closed booking takes no one.
        self.c.post("/v1/bookings/%s/cancel" % b["id"])
        r = self.c.post(path, {"role": "admin", "name": "X", "email": "x@example.test"})
        self.assertEqual(r.status, 409, r)

    def test_organizations_are_isolated(self):
        b = self.book(60)
        other = Client(self.d.host, self.d.port, fx.create_key(self.d, "gateway-other-org"))
        path = "/v1/bookings/%s/participants" % b["id"]
        self.assertEqual(other.get(path).status, 404)
        self.assertEqual(other.post(path, {"role": "admin", "name": "Mallory",
                                           "email": "m@example.test"}).status, 404)
        pid = self.people(b["id"])["attendee"]["id"]
        self.assertEqual(other.delete(path + "/" + pid).status, 404)
        self.assertEqual(len(self.people(b["id"])), 3, "nothing changed")
        # The other organization's own booking: its links are its own, and the gateway
        # tells them apart only by the token.
        h = fx.host(other)
        s = fx.service(other, h["id"])
        ob = fx.booking(other, s["id"], start=iso(time.time() + 60), status="confirmed")
        mine = {p["join_url"] for p in self.people(b["id"]).values()}
        theirs = {p["join_url"] for p in self.people(ob["id"], other).values()}
        self.assertFalse(mine & theirs)
        for u in theirs:
            self.assertEqual(self.go(u).status, 303)
        self.assertEqual(self.passes(b["id"]), [], "their passes are not on our booking")


class GatewayJaaS(unittest.TestCase):
    """JaaS through the gateway: the RS256 token is minted at the pass, short-lived,
    moderator for the host and an admin, verified here with the openssl command line."""

    @classmethod
    def setUpClass(cls):
        import subprocess
        import tempfile
        cls.tmp = tempfile.mkdtemp(prefix="ml-gw-jaas-")
        cls.key = os.path.join(cls.tmp, "jaas.pem")
        cls.pubkey = os.path.join(cls.tmp, "jaas.pub")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", cls.key], check=True, capture_output=True)
        subprocess.run(["openssl", "pkey", "-in", cls.key, "-pubout", "-out", cls.pubkey],
                       check=True, capture_output=True)
        cls.app = "vpaas-magic-cookie-0123456789abcdef0123456789abcdef"
        cls.d = start_daemon(env={"MEETLINK_JAAS_APP_ID": cls.app,
                                  "MEETLINK_JAAS_KEY_ID": cls.app + "/4f4910",
                                  "MEETLINK_JAAS_PRIVATE_KEY_FILE": cls.key})
        cls.c = Client(cls.d.host, cls.d.port, cls.d.api_key)
        cls.pub = Client(cls.d.host, cls.d.port)

    @classmethod
    def tearDownClass(cls):
        import shutil
        cls.d.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def verify(self, token):
        import subprocess
        h, p, sig = token.split(".")
        data, sigf = os.path.join(self.tmp, "data"), os.path.join(self.tmp, "sig")
        with open(data, "wb") as f:
            f.write((h + "." + p).encode())
        with open(sigf, "wb") as f:
            f.write(b64d(sig))
        r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", self.pubkey, "-signature",
                            sigf, data], capture_output=True, text=True)
        self.assertIn("Verified OK", r.stdout)
        return json.loads(b64d(h)), json.loads(b64d(p))

    def test_tokens_minted_at_the_pass(self):
        h = fx.host(self.c)
        s = fx.service(self.c, h["id"], platform="jaas")
        b = fx.booking(self.c, s["id"], start=iso(time.time() + 60), status="confirmed")
        r = self.c.post("/v1/bookings/%s/participants" % b["id"],
                        {"role": "admin", "name": "Ops", "email": "ops@example.test"})
        self.assertEqual(r.status, 201, r)
        ppl = {p["role"]: p for p in self.c.get(
            "/v1/bookings/%s/participants" % b["id"]).json["data"]}
        for role in ("host", "customer", "admin"):
            now = time.time()
            r = self.pub.get(urllib.parse.urlparse(ppl[role]["join_url"]).path)
            after = time.time()
            self.assertEqual(r.status, 303, r)
            loc = urllib.parse.urlparse(r.header("Location"))
            self.assertEqual("https://%s%s" % (loc.netloc, loc.path), b["meeting"]["join_url"])
            hdr, claims = self.verify(urllib.parse.parse_qs(loc.query)["jwt"][0])
            self.assertEqual(hdr["kid"], self.app + "/4f4910")
            self.assertEqual(claims["context"]["user"]["moderator"],
                             "true" if role in ("host", "admin") else "false")
            self.assertTrue(int(now) - 61 <= claims["nbf"] <= after - 59, claims)
            self.assertTrue(int(now) + 599 <= claims["exp"] <= after + 601, claims)


class GatewayTwilio(unittest.TestCase):
    """A Twilio booking's emailed link works end to end against the sandbox: the room is
    opened on the first arrival, the access token is minted now and handed to a video page
    in the URL fragment."""

    @classmethod
    def setUpClass(cls):
        cls.e = Env()
        cls.pub = Client(cls.e.d.host, cls.e.d.port)
        cls.e.credentials("twilio", {"account_sid": "AC00000000000000000000000000000001",
                                     "api_key_sid": "SK00000000000000000000000000000001",
                                     "api_key_secret": "SandboxApiKeySecret0000000000001"})

    @classmethod
    def tearDownClass(cls):
        cls.e.close()

    def book(self, **settings):
        settings.setdefault("join_window_minutes", 120)
        _, s = self.e.setup("twilio", connect=False, settings=settings)
        # An hour ahead: the room's own open (ten minutes before the start) is far off.
        r = self.e.book(s["id"], start=iso(time.time() + 3600))
        self.assertIn(r.status, (200, 202), r)
        b = self.e.booking(r.json["id"])
        self.assertEqual(b["meeting"]["status"], "ready", b["meeting"])
        ppl = {p["role"]: p for p in self.e.c.get(
            "/v1/bookings/%s/participants" % b["id"]).json["data"]}
        return b, ppl

    def go(self, url):
        return self.pub.get(urllib.parse.urlparse(url).path, headers={"Accept": "text/html"})

    def creates(self):
        """How many rooms were asked for at the sandbox's Twilio so far."""
        return len([q for q in self.e.sb_requests(provider="twilio", method="POST",
                                                  path="/twilio/v1/Rooms", limit=1000)
                    if q["method"] == "POST"])

    def test_first_arrival_opens_the_room_and_gets_a_token(self):
        b, ppl = self.book()
        room = b["meeting"]["external_id"]
        self.assertEqual(twilio_rooms(self.e, {room: b["id"]}), {}, "not open yet")
        n0 = self.creates()
        r = self.go(ppl["customer"]["join_url"])
        self.assertEqual(r.status, 303, r)
        loc = r.header("Location")
        page, _, frag = loc.partition("#")
        self.assertEqual(page, self.e.d.url + "/video/" + room)
        self.assertNotIn("?", loc, "the token never travels in a query")
        tok = urllib.parse.parse_qs(frag)["access_token"][0]
        h, p, sig = tok.split(".")
        want = hmac.new(b"SandboxApiKeySecret0000000000001", (h + "." + p).encode(),
                        hashlib.sha256).digest()
        self.assertTrue(hmac.compare_digest(want, b64d(sig)))
        claims = json.loads(b64d(p))
        self.assertEqual(claims["grants"]["identity"], ppl["customer"]["id"])
        self.assertEqual(claims["grants"]["video"]["room"], room)
        self.assertLessEqual(claims["exp"] - time.time(), 600 + 5, "minted now, short-lived")
        # The room was opened at Twilio (the sandbox) before the answer.
        rooms = twilio_rooms(self.e, {room: b["id"]})
        self.assertEqual(len(rooms.get(b["id"], [])), 1, rooms)
        self.assertEqual(self.creates(), n0 + 1)
        # The participant joins the room with that identity at the sandbox.
        r = self.e.sbc.post("/twilio/_sandbox/Rooms/%s/Participants" % room,
                            raw=("Identity=" + ppl["customer"]["id"]).encode(),
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertIn(r.status, (200, 201), r)
        # A second arrival does not open it again.
        self.assertEqual(self.go(ppl["host"]["join_url"]).status, 303)
        self.assertEqual(self.creates(), n0 + 1)
        # The video page the link leads to is served (it was a 404 before the gateway).
        r = self.pub.get("/video/" + room, headers={"Accept": "text/html"})
        self.assertEqual(r.status, 200, r)
        self.assertIn(b"/web/video.js", r.body)
        self.assertIn("connect-src", r.header("Content-Security-Policy"))
        self.assertEqual(self.pub.get("/video/bad%20room").status, 404)
        sdk = self.pub.get("/web/vendor/twilio-video.min.js")
        self.assertEqual(sdk.status, 200, "the SDK from npm (vendor/) is served")
        self.assertGreater(len(sdk.body), 100000)
        passes = [e for e in self.e.c.get("/v1/bookings/%s/events" % b["id"]).json["data"]
                  if e["type"] == "participant.passed"]
        self.assertEqual([x["data"]["destination"] for x in passes], ["video_page"] * 2)

    def test_the_platforms_own_video_page(self):
        b, ppl = self.book(video_page_url="https://video.example.test/room")
        r = self.go(ppl["attendee"]["join_url"] if "attendee" in ppl else
                    ppl["customer"]["join_url"])
        self.assertEqual(r.status, 303, r)
        page, _, frag = r.header("Location").partition("#")
        self.assertEqual(page, "https://video.example.test/room")
        q = urllib.parse.parse_qs(frag)
        self.assertEqual(q["room"], [b["meeting"]["external_id"]])
        self.assertTrue(q["access_token"][0].count(".") == 2)
        bad = self.e.c.post("/v1/services", {"host_id": b["host_id"], "name": "x",
                                             "is_online": True, "platform": "twilio",
                                             "duration_minutes": 30,
                                             "settings": {"video_page_url": "https://v.test/#x"}})
        self.assertEqual((bad.status, bad.json["error"]["field"]),
                         (400, "settings.video_page_url"))


if __name__ == "__main__":
    main()
