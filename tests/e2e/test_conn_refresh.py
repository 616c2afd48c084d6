"""Single-flight refresh, reauth and the vault, end to end: a host connects Zoom and Google
through the daemon (the real OAuth round trip against the sandbox); then tests/tools/conn_tool
uses the connection the way the pipeline's jobs do, on the daemon's own store.

- 500 concurrent users of one expired Zoom connection (refresh tokens rotate on every
  refresh) cause exactly one refresh at the sandbox, and all end with the same new token.
- A revoked Google grant turns the connection reauth_required after one refresh attempt (no
  retry storm), with the reason and a fresh connect_url; reconnecting returns it to connected
  and wakes the job parked on it.
- Neither the store files nor the logs hold any token the sandbox issued."""

import json
import os
import subprocess
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import connflow as cf  # noqa: E402
import harness  # noqa: E402

TOOL = os.environ.get("ML_CONN_TOOL") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "tests", "conn_tool")


class ConnRefresh(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sb, cls.d = cf.start()
        cf.sandbox_config(cls.sb, {"google": {"auto_approve": True},
                                   "zoom": {"auto_approve": True},
                                   "microsoft": {"auto_approve": True}})
        cls.api = harness.Client(cls.d.host, cls.d.port, cls.d.api_key)
        cls.host = cf.make_host(cls.api)
        cls.tool_logs = []

    @classmethod
    def tearDownClass(cls):
        cls.d.close()
        cls.sb.close()

    def tool(self, *args, timeout=240):
        env = dict(os.environ)
        env.update({"MEETLINK_DB": self.d.env["MEETLINK_DB"],
                    "MEETLINK_SANDBOX_URL": self.sb.url,
                    "MEETLINK_VAULT_KEYS": cf.VAULT_KEYS,
                    "MEETLINK_PUBLIC_URL": self.d.url})
        p = subprocess.run([TOOL] + list(args), env=env, capture_output=True, timeout=timeout)
        self.tool_logs.append(p.stderr)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace")[-3000:])
        return json.loads(p.stdout.decode().strip().splitlines()[-1])

    def connections(self):
        r = self.api.get("/v1/hosts/%s/connections" % self.host)
        self.assertEqual(r.status, 200, r)
        return {c["platform"]: c for c in r.json["data"]}

    def test_1_single_flight_refresh(self):
        cf.connect(self.d, self.api, self.host, "zoom")
        before = self.connections()["zoom"]
        self.assertEqual(before["status"], "connected")
        cf.http(self.sb.url + "/_sandbox/requests", "DELETE")

        out = self.tool("storm", self.host, "zoom", "500")
        print("storm:", out, file=sys.stderr)

        refreshes = [r for r in cf.sandbox_requests(self.sb, provider="zoom", method="POST",
                                                     path="/zoom/oauth/token")
                     if (r.get("body") or {}).get("grant_type") == "refresh_token"]
        self.assertEqual(len(refreshes), 1, refreshes)
        self.assertEqual(refreshes[0]["status"], 200)
        self.assertEqual(out["threads"], 500, out)
        self.assertEqual(out["valid"], 500, out)
        self.assertEqual(out["refreshed"], 1, out)
        self.assertEqual(out["failed"], 0, out)
        self.assertEqual(out["distinct_tokens"], 1, out)
        after = self.connections()["zoom"]
        self.assertEqual(after["status"], "connected")
        self.assertGreaterEqual(after["expires_at"], before["expires_at"])

        # The rotated refresh token was persisted: a second refresh spends it successfully
        # (Zoom killed the first one when it rotated).
        out = self.tool("refresh", self.host, "zoom")
        self.assertEqual(out["state"], "valid", out)
        self.assertEqual(out["refreshed"], 1, out)

    def test_2_revoked_grant_turns_reauth_and_reconnect_wakes_jobs(self):
        cf.connect(self.d, self.api, self.host, "google_meet")
        parked = self.tool("park", self.host, "google_meet")
        st, _, body = cf.http(self.sb.url + "/_sandbox/tokens/revoke", "POST",
                              json.dumps({"provider": "google", "account": "ada@sandbox.test"}),
                              {"Content-Type": "application/json"})
        self.assertEqual(st, 200, body)
        cf.http(self.sb.url + "/_sandbox/requests", "DELETE")

        out = self.tool("refresh", self.host, "google_meet")
        self.assertEqual(out["state"], "reauth", out)
        # One refresh attempt, then the connection stops trying: no storm.
        grants = [r for r in cf.sandbox_requests(self.sb, provider="google", method="POST")
                  if (r.get("body") or {}).get("grant_type") == "refresh_token"]
        self.assertEqual(len(grants), 1, grants)
        out = self.tool("refresh", self.host, "google_meet")
        self.assertEqual(out["state"], "reauth", out)
        grants = [r for r in cf.sandbox_requests(self.sb, provider="google", method="POST")
                  if (r.get("body") or {}).get("grant_type") == "refresh_token"]
        self.assertEqual(len(grants), 1, grants)

        c = self.connections()["google_meet"]
        self.assertEqual(c["status"], "reauth_required")
        self.assertEqual(c["last_error"]["code"], "reauth_required")
        self.assertIn("invalid_grant", c["last_error"]["message"])
        self.assertIsNone(c["expires_at"])
        url = c["connect_url"]
        self.assertTrue(url.startswith(self.d.url + "/connect?t="), url)

        r = self.api.get("/v1/jobs?state=waiting")
        self.assertIn(parked["job_id"], [j["id"] for j in r.json["data"]])
        # The host is nudged to reconnect (notify/nudge.h): four emails over a week.
        nudges = [j for j in self.api.get("/v1/jobs?limit=200").json["data"]
                  if j["kind"] == "email.reconnect_nudge"]
        self.assertEqual(len(nudges), 4, nudges)

        # Reconnect through the link the API handed out.
        auth, cookie = cf.start_flow(self.d, "google_meet", url)
        st, h, body = cf.callback(cf.consent(auth), cookie)
        self.assertEqual(st, 303, body)
        c = self.connections()["google_meet"]
        self.assertEqual(c["status"], "connected")
        self.assertIsNone(c["last_error"])
        self.assertEqual(c["id"], parked["conn_id"])  # same connection, same wait key
        r = self.api.get("/v1/jobs?state=waiting")
        self.assertNotIn(parked["job_id"], [j["id"] for j in r.json["data"]])
        # Reconnected: the nudges not yet sent are called off.
        left = [j for j in self.api.get("/v1/jobs?limit=200").json["data"]
                if j["kind"] == "email.reconnect_nudge" and j["state"] == "queued"]
        self.assertEqual(left, [])

    def test_3_no_plaintext_token_at_rest_or_in_logs(self):
        cf.connect(self.d, self.api, self.host, "teams")
        issued = set()
        for provider in ("google", "zoom", "microsoft"):
            st, _, body = cf.http(self.sb.url + "/_sandbox/state?provider=" + provider)
            self.assertEqual(st, 200)
            state = json.loads(body)
            state = state.get(provider, state)
            for tok in (state.get("tokens") or {}):
                if len(tok) >= 16:
                    issued.add(tok)
        self.assertGreater(len(issued), 5)
        blobs = harness.store_blobs(self.d.env["MEETLINK_DB"])
        blobs.append(("daemon log", self.d.logs().encode()))
        for i, e in enumerate(self.tool_logs):
            blobs.append(("conn_tool stderr %d" % i, e))
        for tok in issued:
            for name, data in blobs:
                self.assertNotIn(tok.encode(), data, "a token in %s" % name)
                self.assertNotIn(urllib.parse.quote(tok, safe="").encode(), data, name)
        # ...while the vault ciphertexts are there.
        self.assertIn(b"mlv1:t1:", b"".join(d for _, d in blobs[:-1 - len(self.tool_logs)]))


if __name__ == "__main__":
    harness.main()
