"""Server secrets sealed by the vault, across the upgrade: a store as migrations 0001-0009 left
it (the connect-link signing secret and the room secret as raw bytes, a webhook endpoint's
secret as plain "whsec_…") is sealed on the daemon's first start, with the same secrets:

- the columns then hold vault ciphertexts (mlv1:<kid>:…), and neither the store file nor its
  WAL holds a raw byte of any of them, while the daemon runs or after it stopped;
- a connect link signed with the old secret (here: by this test, with the raw bytes) still
  opens the connect page, and the links the daemon makes now are signed with that secret;
- a Jitsi room is still named with the old room secret (same names for the same bookings);
- the endpoint's webhooks are still signed with its old secret (Standard Webhooks, verified
  here independently);
- a second start seals nothing more."""

import base64
import glob
import hashlib
import hmac
import os
import shutil
import sqlite3
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import connflow as cf  # noqa: E402
import fixtures as fx  # noqa: E402
import harness  # noqa: E402
import test_webhooks_out as wo  # noqa: E402  (its receiver and verifier, not its tests)

SRC = os.environ.get("ML_SRC") or os.path.join(os.path.dirname(__file__), "..", "..")
MIGRATIONS = os.path.join(SRC, "src", "store", "migrations", "sqlite")
ORG = "org_legacy00000000001"


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def sign_link(secret, org, host, platform, exp):
    """A connect link token as conn/links.c makes it, written here from its format."""
    payload = ("v1|%s|%s|%s|%d" % (org, host, platform, exp)).encode()
    return b64url(payload) + "." + b64url(hmac.new(secret, payload, hashlib.sha256).digest())


def room_tag(secret, org, booking, generation):
    """The 26-character tag of a room name (providers/room.c), from its definition."""
    msg = b"meetlink-room\0" + org.encode() + b"\0" + booking.encode() + b"\0" + \
        str(generation).encode()
    mac = hmac.new(secret, msg, hashlib.sha256).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    out = ""
    for i in range(26):
        bit = i * 5
        v = mac[bit // 8] << 8 | mac[bit // 8 + 1]
        out += alphabet[(v >> (11 - bit % 8)) & 31]
    return out


def old_store(path, upto, rows):
    """A SQLite store as migrations 0001..upto left it, schema_migrations filled in as the
    daemon does, with `rows(con)` written into it."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT "
                "NULL, applied_at INTEGER NOT NULL)")
    for f in sorted(glob.glob(os.path.join(MIGRATIONS, "*.sql"))):
        v = int(os.path.basename(f).split("_", 1)[0])
        if v > upto:
            continue
        with open(f) as fh:
            con.executescript(fh.read())
        con.execute("INSERT INTO schema_migrations VALUES (?, ?, 0)", (v, os.path.basename(f)))
    rows(con)
    con.close()


def store_bytes(db):
    data = b""
    for suffix in ("", "-wal"):
        if os.path.exists(db + suffix):
            with open(db + suffix, "rb") as f:
                data += f.read()
    return data


class SealedSecrets(unittest.TestCase):
    # A store that kept its secrets raw (before migration 0010) exists on SQLite only: a
    # PostgreSQL store seals them from its first migration.
    @unittest.skipIf(harness.STORE == "postgres", "stores from before 0010 are SQLite's")
    def test_upgrade_from_0009(self):
        work = tempfile.mkdtemp(prefix="ml-sealed-")
        db = os.path.join(work, "meetlink.db")
        raw_link, raw_room, hook_key = os.urandom(32), os.urandom(32), os.urandom(32)
        raw_hook = "whsec_" + base64.b64encode(hook_key).decode()
        rx = wo.Receiver()

        def rows(con):
            now = int(time.time() * 1000)
            con.execute("INSERT INTO orgs(id, name, created_at) VALUES (?, 'default', ?)",
                        (ORG, now))
            con.execute("INSERT INTO server_secrets VALUES ('connect_link', ?, ?)",
                        (raw_link, now))
            con.execute("INSERT INTO server_secrets VALUES ('room_secret', ?, ?)",
                        (raw_room, now))
            con.execute("INSERT INTO webhook_endpoints(id, org_id, url, events, description, "
                        "secret, created_at, updated_at) VALUES ('whe_legacy0000000001', ?, ?, "
                        "'[\"booking.confirmed\"]', 'made before 0010', ?, ?, ?)",
                        (ORG, rx.url("/legacy"), raw_hook, now, now))

        old_store(db, 9, rows)
        self.assertIn(raw_link, store_bytes(db))
        env = {"MEETLINK_VAULT_KEYS": cf.VAULT_KEYS, "MEETLINK_RETRY_BASE_MS": "100",
               # (a client for the connect links; nothing is ever sent to it)
               "MEETLINK_ZOOM_CLIENT_ID": "zoom-client", "MEETLINK_ZOOM_CLIENT_SECRET": "x"}
        d = harness.start_daemon(env=env, workdir=work)
        try:
            api = harness.Client(d.host, d.port, d.api_key)
            # Sealed, with the vault's key id, and the raw bytes gone from every file.
            con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
            secrets = dict(con.execute("SELECT name, value FROM server_secrets WHERE legacy "
                                       "IS NULL").fetchall())
            hooks = [r[0] for r in con.execute("SELECT secret FROM webhook_endpoints")]
            con.close()
            self.assertEqual(sorted(secrets), ["connect_link", "gateway_secret", "room_secret"])
            for v in list(secrets.values()) + hooks:
                self.assertTrue(v.startswith("mlv1:t1:"), v[:12])
            data = store_bytes(db)
            for raw in (raw_link, raw_room, hook_key, raw_hook.encode()):
                self.assertNotIn(raw, data)
            self.assertIn("sealed 3 secret(s)", d.logs())

            # A link signed with the secret as it was before the upgrade still opens.
            host = fx.host(api)["id"]
            old = sign_link(raw_link, ORG, host, "google_meet", int(time.time()) + 3600)
            st, _, body = cf.http("%s/connect/session?t=%s" % (d.url, urllib.parse.quote(old)))
            self.assertEqual(st, 200, body[:300])
            forged = sign_link(os.urandom(32), ORG, host, "google_meet", int(time.time()) + 60)
            st, _, _ = cf.http("%s/connect/session?t=%s" % (d.url, urllib.parse.quote(forged)))
            self.assertEqual(st, 401)
            # ... and the daemon signs new ones with the same secret.
            tok = cf.link_token(cf.connect_link(api, host, "zoom"))
            payload, mac = tok.split(".")
            payload = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
            want = hmac.new(raw_link, payload, hashlib.sha256).digest()
            self.assertEqual(b64url(want), mac)

            # Rooms keep their names: the tag comes from the old room secret.
            svc = fx.service(api, host, platform="jitsi")
            b = fx.booking(api, svc["id"])
            r = api.post("/v1/bookings/%s/confirm" % b["id"])
            self.assertEqual(r.status, 200, r)
            url = r.json["meeting"]["join_url"]
            tags = [room_tag(raw_room, ORG, b["id"], g) for g in range(4)]
            self.assertTrue(any(url.split("?")[0].endswith("-" + t) for t in tags), url)

            # The endpoint made before the upgrade still gets webhooks signed with its secret.
            got = rx.wait("/legacy", 1)
            headers, body = got[0]
            self.assertTrue(wo.verify(raw_hook, headers, body), headers)
            d.close()
            for raw in (raw_link, raw_room, hook_key, raw_hook.encode()):
                self.assertNotIn(raw, store_bytes(db))

            # A second start has nothing left to seal.
            d = harness.start_daemon(env=env, workdir=work)
            self.assertEqual(d.logs().count("kept in plaintext"), 1)
            st, _, body = cf.http("%s/connect/session?t=%s" % (d.url, urllib.parse.quote(old)))
            self.assertEqual(st, 200, body[:300])
        finally:
            d.close()
            rx.close()
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    harness.main()
