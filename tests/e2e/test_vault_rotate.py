"""`meetlink vault rotate`: with a new key first in MEETLINK_VAULT_KEYS, everything sealed is
re-encrypted under it (connection tokens, organization credentials, webhook endpoint secrets,
the server secrets that sign connect links and name rooms, PKCE verifiers in flight); no value
under the old key id is left in any table or in the store's files; afterwards the old key can
leave the ring and the daemon still uses every one of them:

- a connect link made before the rotation still opens the connect page;
- webhooks are still signed with the endpoint's secret (verified here independently);
- the Zoom Server-to-Server credential (its client secret and its token) still makes meetings;
- a Google sign-in started before the rotation completes after it (its PKCE verifier);
- the Google connection's refresh token still revokes the grant at Google on disconnect."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import connflow as cf  # noqa: E402
import fixtures as fx  # noqa: E402
import harness  # noqa: E402
import test_webhooks_out as wo  # noqa: E402  (its receiver and verifier, not its tests)

NEW = "k2:" + "B" * 43 + "="
OLD_KID = cf.VAULT_KEYS.split(":", 1)[0]


def sealed_values(db):
    """Every text value of every table that is a vault ciphertext, as (table, value)."""
    out = []
    for table in harness.store_tables(db):
        for row in harness.store_query(db, "SELECT * FROM %s" % table):
            out += [(table, v) for v in row if isinstance(v, str) and "mlv1:" in v]
    return out


def store_bytes(db):
    return b"".join(data for _, data in harness.store_blobs(db))


class VaultRotate(unittest.TestCase):
    def test_rotate(self):
        work = tempfile.mkdtemp(prefix="ml-vault-")
        sb = harness.start_sandbox()
        rx = wo.Receiver()
        d = None
        try:
            cf.sandbox_config(sb, {"google": {"auto_approve": True}})
            env = {"MEETLINK_SANDBOX_URL": sb.url, "MEETLINK_VAULT_KEYS": cf.VAULT_KEYS,
                   "MEETLINK_RETRY_BASE_MS": "40", "MEETLINK_PROVIDER_POLL_MS": "50"}
            d = harness.start_daemon(env=env, workdir=work)
            api = harness.Client(d.host, d.port, d.api_key)
            host = cf.make_host(api)
            cf.connect(d, api, host, "google_meet")
            r = api.put("/v1/credentials/twilio", {
                "account_sid": "AC00000000000000000000000000000001",
                "api_key_sid": "SK00000000000000000000000000000001",
                "api_key_secret": "SandboxApiKeySecret0000000000001"})
            self.assertEqual(r.status, 200, r)
            r = api.put("/v1/credentials/zoom", {"account_id": "SbxZoomAccount00000001",
                                                 "client_id": "zoom-s2s-client-id",
                                                 "client_secret": "zoom-s2s-client-secret"})
            self.assertEqual(r.status, 200, r)
            r = api.post("/v1/webhook-endpoints", {"url": rx.url("/hooks"),
                                                   "events": ["booking.confirmed"]})
            self.assertEqual(r.status, 201, r)
            hook_secret = r.json["secret"]
            link = cf.connect_link(api, host, "google_meet")
            # A sign-in in flight across the rotation: its PKCE verifier is sealed too.
            host2 = cf.make_host(api, email="grace@example.test", name="Grace Hopper")
            auth, cookie = cf.start_flow(d, "google_meet",
                                         cf.connect_link(api, host2, "google_meet"))
            in_flight = cf.consent(auth)
            old_port = d.port
            d.close()

            db = d.env["MEETLINK_DB"]
            before = sealed_values(db)
            self.assertTrue(all(v.startswith("mlv1:%s:" % OLD_KID) for _, v in before), before)
            renv = dict(os.environ, MEETLINK_DB=db,
                        MEETLINK_VAULT_KEYS=NEW + "," + cf.VAULT_KEYS)
            p = subprocess.run([harness.BIN, "vault", "rotate"], env=renv, capture_output=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            # Google: access + refresh token; Twilio: its secret; Zoom S2S: its secret and
            # token; the webhook endpoint's secret; the three server secrets (connect links,
            # room names, the join gateway's link tokens); the verifiers of the two Google
            # sign-ins (the finished one is kept a day after its use).
            self.assertIn(b"re-encrypted 11 secret(s) under key k2", p.stdout)
            self.assertEqual(len(before), 11, [t for t, _ in before])
            p = subprocess.run([harness.BIN, "vault", "rotate"], env=renv, capture_output=True)
            self.assertIn(b"re-encrypted 0 secret(s)", p.stdout)
            after = sealed_values(db)
            self.assertEqual(sorted(t for t, _ in after), sorted(t for t, _ in before))
            self.assertTrue(all(v.startswith("mlv1:k2:") for _, v in after), after)
            # Nothing under the old key left anywhere in the files either (the WAL included).
            self.assertNotIn(("mlv1:%s:" % OLD_KID).encode(), store_bytes(db))

            # Only the new key now: the daemon still opens every secret.
            # (on the same port: the in-flight sign-in's redirect URI must stay the same)
            d = harness.start_daemon(env=dict(env, MEETLINK_VAULT_KEYS=NEW,
                                              MEETLINK_LISTEN="127.0.0.1:%d" % old_port),
                                     workdir=work)
            api = harness.Client(d.host, d.port, d.api_key)
            t = urllib.parse.quote(cf.link_token(link))
            st, _, body = cf.http("%s/connect/session?t=%s" % (d.url, t))
            self.assertEqual(st, 200, body[:300])

            h = fx.host(api, email="ada@zoom.sandbox.test")
            svc = fx.service(api, h["id"], platform="zoom")
            b = fx.booking(api, svc["id"])
            r = api.post("/v1/bookings/%s/confirm" % b["id"])
            self.assertEqual(r.status, 202, r)
            got = rx.wait("/hooks", 1)
            headers, body = got[0]
            self.assertTrue(wo.verify(hook_secret, headers, body), headers)
            m = fx.wait_for(lambda: (lambda j: j["meeting"]["status"] != "pending" and j)(
                api.get("/v1/bookings/" + b["id"]).json), timeout=30, what="zoom meeting")
            self.assertEqual(m["meeting"]["status"], "ready", m["meeting"])

            # The sign-in started before the rotation ends after it (its verifier opens).
            st, h, body = cf.callback(in_flight, cookie)
            self.assertEqual(st, 303, body[:500])
            r = api.get("/v1/hosts/%s/connections" % host2)
            self.assertEqual([c["status"] for c in r.json["data"]], ["connected"], r)

            r = api.delete("/v1/hosts/%s/connections/google_meet" % host)
            self.assertEqual(r.status, 200, r)
            self.assertTrue(r.json["revoked_at_provider"])
        finally:
            if d:
                d.close()
            rx.close()
            sb.close()
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    harness.main()
