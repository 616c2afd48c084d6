"""`meetlink vault rotate`: with a new key first in MEETLINK_VAULT_KEYS, every stored token and
secret is re-encrypted under it; afterwards the old key can leave the ring and the daemon
still uses the connections (a disconnect decrypts the refresh token to revoke it at Google)."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import connflow as cf  # noqa: E402
import harness  # noqa: E402

NEW = "k2:" + "B" * 43 + "="


class VaultRotate(unittest.TestCase):
    def test_rotate(self):
        work = tempfile.mkdtemp(prefix="ml-vault-")
        sb = harness.start_sandbox()
        try:
            cf.sandbox_config(sb, {"google": {"auto_approve": True}})
            env = {"MEETLINK_SANDBOX_URL": sb.url, "MEETLINK_VAULT_KEYS": cf.VAULT_KEYS}
            d = harness.start_daemon(env=env, workdir=work)
            api = harness.Client(d.host, d.port, d.api_key)
            host = cf.make_host(api)
            cf.connect(d, api, host, "google_meet")
            r = api.put("/v1/credentials/twilio", {
                "account_sid": "AC00000000000000000000000000000001",
                "api_key_sid": "SK00000000000000000000000000000001",
                "api_key_secret": "SandboxApiKeySecret0000000000001"})
            self.assertEqual(r.status, 200, r)
            d.close()

            db = os.path.join(work, "meetlink.db")
            renv = dict(os.environ, MEETLINK_DB="sqlite:" + db,
                        MEETLINK_VAULT_KEYS=NEW + "," + cf.VAULT_KEYS)
            p = subprocess.run([harness.BIN, "vault", "rotate"], env=renv, capture_output=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(b"re-encrypted 3 secret(s) under key k2", p.stdout)
            p = subprocess.run([harness.BIN, "vault", "rotate"], env=renv, capture_output=True)
            self.assertIn(b"re-encrypted 0 secret(s)", p.stdout)
            data = b""
            for suffix in ("", "-wal"):
                if os.path.exists(db + suffix):
                    with open(db + suffix, "rb") as f:
                        data += f.read()
            # (the WAL may keep old pages until a checkpoint; the live rows are what count)
            import sqlite3
            con = sqlite3.connect(db)
            cols = con.execute("SELECT access_token, refresh_token, secret FROM connections "
                               "WHERE status = 'connected'").fetchall()
            con.close()
            values = [v for row in cols for v in row if v]
            self.assertEqual(len(values), 3, values)
            self.assertTrue(all(v.startswith("mlv1:k2:") for v in values), values)

            # Only the new key now: the daemon still reads every secret.
            d = harness.start_daemon(env=dict(env, MEETLINK_VAULT_KEYS=NEW), workdir=work)
            api = harness.Client(d.host, d.port, d.api_key)
            r = api.delete("/v1/hosts/%s/connections/google_meet" % host)
            self.assertEqual(r.status, 200, r)
            self.assertTrue(r.json["revoked_at_provider"])
            d.close()
        finally:
            sb.close()
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    harness.main()
