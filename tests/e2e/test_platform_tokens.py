"""Per-participant tokens: self-hosted Jitsi with prosody token auth (HS256) and 8x8 JaaS
(RS256 with kid), verified here by independent implementations (Python's hmac; the openssl
command line), never by the code under test."""

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
from harness import Client, main, start_daemon  # noqa: E402


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_parts(token):
    h, p, sig = token.split(".")
    return json.loads(b64d(h)), json.loads(b64d(p)), (h + "." + p).encode(), b64d(sig)


def epoch(rfc3339):
    import datetime
    return int(datetime.datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp())


class JitsiTokenAuth(unittest.TestCase):
    SECRET = "prosody-shared-secret-for-tests"

    @classmethod
    def setUpClass(cls):
        cls.d = start_daemon(env={"MEETLINK_JITSI_DOMAIN": "meet.school.test",
                                  "MEETLINK_JITSI_APP_ID": "meetlink-app",
                                  "MEETLINK_JITSI_APP_SECRET": cls.SECRET})
        cls.c = Client(cls.d.host, cls.d.port, cls.d.api_key)

    @classmethod
    def tearDownClass(cls):
        cls.d.close()

    def test_personal_hs256_tokens(self):
        c = self.c
        _, s = fx.setup_jitsi(c)
        b = fx.booking(c, s["id"], status="confirmed",
                       attendees=[{"name": "Alan", "email": "alan@example.test"}])
        room_url = b["meeting"]["join_url"]
        self.assertTrue(room_url.startswith("https://meet.school.test/"))
        self.assertNotIn("jwt=", room_url, "the shared link carries no token")
        room = room_url.rsplit("/", 1)[1]
        people = c.get("/v1/bookings/%s/participants" % b["id"]).json["data"]
        start, end = epoch(b["start"]), epoch(b["end"])
        seen = set()
        for p in people:
            url = urllib.parse.urlparse(p["platform_url"])
            self.assertEqual(url.netloc, "meet.school.test")
            self.assertEqual(url.path, "/" + room)
            token = urllib.parse.parse_qs(url.query)["jwt"][0]
            seen.add(token)
            header, claims, signed, sig = jwt_parts(token)
            self.assertEqual(header["alg"], "HS256")
            want = hmac.new(self.SECRET.encode(), signed, hashlib.sha256).digest()
            self.assertTrue(hmac.compare_digest(want, sig), "signature verifies with the secret")
            self.assertEqual(claims["iss"], "meetlink-app")
            self.assertEqual(claims["sub"], "meet.school.test")
            self.assertEqual(claims["room"], room)
            self.assertEqual(claims["context"]["user"]["email"], p["email"])
            # The top-level moderator claim of the token_affiliation convention (specs).
            self.assertEqual(claims.get("moderator") is True, p["role"] == "host", claims)
            # Valid for the meeting window only (15 minutes early by default).
            self.assertEqual(claims["nbf"], start - 15 * 60)
            self.assertGreaterEqual(claims["exp"], end)
            self.assertLessEqual(claims["exp"], end + 3600)
        self.assertEqual(len(seen), 3)


class JaaS(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ml-jaas-")
        cls.key = os.path.join(cls.tmp, "jaas.pem")
        cls.pub = os.path.join(cls.tmp, "jaas.pub")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", cls.key], check=True, capture_output=True)
        subprocess.run(["openssl", "pkey", "-in", cls.key, "-pubout", "-out", cls.pub],
                       check=True, capture_output=True)
        cls.app = "vpaas-magic-cookie-0123456789abcdef0123456789abcdef"
        cls.d = start_daemon(env={"MEETLINK_JAAS_APP_ID": cls.app,
                                  "MEETLINK_JAAS_KEY_ID": cls.app + "/4f4910",
                                  "MEETLINK_JAAS_PRIVATE_KEY_FILE": cls.key})
        cls.c = Client(cls.d.host, cls.d.port, cls.d.api_key)

    @classmethod
    def tearDownClass(cls):
        cls.d.close()

    def verify_rs256(self, signed, sig, pub=None):
        data, sigf = os.path.join(self.tmp, "data"), os.path.join(self.tmp, "sig")
        with open(data, "wb") as f:
            f.write(signed)
        with open(sigf, "wb") as f:
            f.write(sig)
        r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", pub or self.pub, "-signature",
                            sigf, data], capture_output=True, text=True)
        return r.returncode == 0 and "Verified OK" in r.stdout

    def test_rs256_tokens_with_kid(self):
        c = self.c
        h = fx.host(c)
        s = fx.service(c, h["id"], platform="jaas")
        b = fx.booking(c, s["id"], status="confirmed")
        m = b["meeting"]
        self.assertEqual(m["status"], "ready", m)
        self.assertTrue(m["join_url"].startswith("https://8x8.vc/%s/" % self.app), m)
        people = c.get("/v1/bookings/%s/participants" % b["id"]).json["data"]
        for p in people:
            token = urllib.parse.parse_qs(urllib.parse.urlparse(p["platform_url"]).query)["jwt"][0]
            header, claims, signed, sig = jwt_parts(token)
            self.assertEqual(header["alg"], "RS256")
            self.assertEqual(header["kid"], self.app + "/4f4910")
            self.assertTrue(self.verify_rs256(signed, sig), "openssl verifies the signature")
            self.assertFalse(self.verify_rs256(signed + b"x", sig))
            self.assertEqual(claims["aud"], "jitsi")
            self.assertEqual(claims["iss"], "chat")
            self.assertEqual(claims["sub"], self.app)
            self.assertEqual(claims["context"]["user"]["moderator"],
                             "true" if p["role"] == "host" else "false")

    def test_org_credential_over_server_key(self):
        """An organization's own JaaS credential (PUT /v1/credentials/jaas) signs its
        participants' tokens and names its app in the link; the server's key is only the
        fallback (the bootstrap organization above still uses it)."""
        key, pub = org_key(self.tmp, "org")
        c = Client(self.d.host, self.d.port, fx.create_key(self.d, "jaas-own-key"))
        app = "vpaas-magic-cookie-00000000000000000000000000000abc"
        r = c.put("/v1/credentials/jaas", {"app_id": app, "key_id": app + "/k1",
                                           "private_key": open(key).read()})
        self.assertEqual(r.status, 200, r)
        h = fx.host(c)
        s = fx.service(c, h["id"], platform="jaas")
        b = fx.booking(c, s["id"], status="confirmed")
        m = b["meeting"]
        self.assertTrue(m["join_url"].startswith("https://8x8.vc/%s/" % app), m)
        people = c.get("/v1/bookings/%s/participants" % b["id"]).json["data"]
        self.assertEqual(len(people), 2)
        for p in people:
            self.assertTrue(p["platform_url"].startswith(m["join_url"] + "?jwt="), p)
            token = urllib.parse.parse_qs(urllib.parse.urlparse(p["platform_url"]).query)["jwt"][0]
            header, claims, signed, sig = jwt_parts(token)
            self.assertEqual(header["kid"], app + "/k1")
            self.assertEqual(claims["sub"], app)
            self.assertTrue(self.verify_rs256(signed, sig, pub), "the org's key signed it")
            self.assertFalse(self.verify_rs256(signed, sig), "not the server's key")
        # The credential is gone: back to the server's key.
        self.assertEqual(c.delete("/v1/credentials/jaas").status, 200)
        people = c.get("/v1/bookings/%s/participants" % b["id"]).json["data"]
        token = urllib.parse.parse_qs(urllib.parse.urlparse(people[0]["platform_url"]).query)["jwt"][0]
        header, _, signed, sig = jwt_parts(token)
        self.assertEqual(header["kid"], self.app + "/4f4910")
        self.assertTrue(self.verify_rs256(signed, sig))


def org_key(tmp, name):
    key, pub = os.path.join(tmp, name + ".pem"), os.path.join(tmp, name + ".pub")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                    "rsa_keygen_bits:2048", "-out", key], check=True, capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub],
                   check=True, capture_output=True)
    return key, pub


class JaaSOrgOnly(unittest.TestCase):
    """No JaaS key on the server: an organization's credential is all it takes."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ml-jaas-org-")
        cls.d = start_daemon()
        cls.c = Client(cls.d.host, cls.d.port, cls.d.api_key)

    @classmethod
    def tearDownClass(cls):
        cls.d.close()

    def verify(self, pub, signed, sig):
        data, sigf = os.path.join(self.tmp, "data"), os.path.join(self.tmp, "sig")
        with open(data, "wb") as f:
            f.write(signed)
        with open(sigf, "wb") as f:
            f.write(sig)
        r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", pub, "-signature", sigf,
                            data], capture_output=True, text=True)
        return r.returncode == 0 and "Verified OK" in r.stdout

    def test_credential_enables_jaas(self):
        c = self.c
        key, pub = org_key(self.tmp, "only")
        other, _ = org_key(self.tmp, "other")
        h = fx.host(c)
        body = {"host_id": h["id"], "name": "JaaS", "is_online": True, "platform": "jaas",
                "duration_minutes": 30}
        r = c.post("/v1/services", body)
        self.assertEqual((r.status, r.json["error"]["field"]), (409, "platform"), r)
        self.assertIn("/v1/credentials/jaas", r.json["error"]["message"])
        app = "vpaas-magic-cookie-00000000000000000000000000000def"
        pem = open(key).read()
        r = c.put("/v1/credentials/jaas", {"app_id": app, "key_id": "other/k", "private_key": pem})
        self.assertEqual((r.status, r.json["error"]["field"]), (400, "key_id"), r)
        r = c.put("/v1/credentials/jaas", {"app_id": app, "key_id": app + "/k",
                                           "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n"
                                                          "-----END PRIVATE KEY-----\n"})
        self.assertEqual((r.status, r.json["error"]["field"]), (400, "private_key"), r)
        r = c.put("/v1/credentials/jaas", {"app_id": app, "key_id": app + "/k",
                                           "private_key": pem})
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(b"PRIVATE KEY", r.body)
        s = fx.service(c, h["id"], platform="jaas")
        b = fx.booking(c, s["id"], status="confirmed")
        m = b["meeting"]
        self.assertEqual(m["status"], "ready", m)
        self.assertTrue(m["join_url"].startswith("https://8x8.vc/%s/" % app), m)
        people = c.get("/v1/bookings/%s/participants" % b["id"]).json["data"]
        for p in people:
            token = urllib.parse.parse_qs(urllib.parse.urlparse(p["platform_url"]).query)["jwt"][0]
            header, claims, signed, sig = jwt_parts(token)
            self.assertEqual(header["alg"], "RS256")
            self.assertEqual(header["kid"], app + "/k")
            self.assertTrue(self.verify(pub, signed, sig))
            self.assertEqual(claims["context"]["user"]["moderator"],
                             "true" if p["role"] == "host" else "false")
        # A rotated key signs from then on.
        r = c.put("/v1/credentials/jaas", {"app_id": app, "key_id": app + "/k2",
                                           "private_key": open(other).read()})
        self.assertEqual(r.status, 200, r)
        people = c.get("/v1/bookings/%s/participants" % b["id"]).json["data"]
        token = urllib.parse.parse_qs(urllib.parse.urlparse(people[0]["platform_url"]).query)["jwt"][0]
        header, _, signed, sig = jwt_parts(token)
        self.assertEqual(header["kid"], app + "/k2")
        self.assertFalse(self.verify(pub, signed, sig))


if __name__ == "__main__":
    main()
