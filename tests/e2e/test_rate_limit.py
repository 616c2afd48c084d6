"""Per-API-key request rate limits (README "Configuration", `meetlink keys limit`): a key that
spends its burst gets 429 `rate_limited` with Retry-After and gets through again after it;
another organization is not slowed; an organization's stored limit overrides the default."""

import os
import subprocess
import tempfile
import time
import unittest

import harness


def cli(env, *args):
    r = subprocess.run([harness.BIN] + list(args), env=env, capture_output=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("meetlink %s: %s" % (" ".join(args), r.stderr.decode()))
    return r.stdout.decode().strip()


class RateLimit(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="ml-e2e-")
        db = "sqlite:" + os.path.join(cls.workdir, "meetlink.db")
        env = dict(os.environ, MEETLINK_DB=db, MEETLINK_LOG_LEVEL="warn")
        cls.keys = {org: cli(env, "keys", "create", "--org", org)
                    for org in ("slow", "other", "unlimited", "tight", "reset")}
        cli(env, "keys", "limit", "--org", "unlimited", "--rps", "0")
        cli(env, "keys", "limit", "--org", "tight", "--rps", "1", "--burst", "2")
        cli(env, "keys", "limit", "--org", "reset", "--rps", "1", "--burst", "1")
        cli(env, "keys", "limit", "--org", "reset", "--default")
        cls.d = harness.start_daemon(env={"MEETLINK_DB": db, "MEETLINK_RATE_LIMIT": "5",
                                          "MEETLINK_RATE_BURST": "10"}, workdir=cls.workdir)

    @classmethod
    def tearDownClass(cls):
        cls.d.close()

    def client(self, org):
        return harness.Client(self.d.host, self.d.port, self.keys[org])

    def until_limited(self, c, most=40):
        """Requests until the first 429; returns (how many got through, the 429)."""
        for i in range(most):
            r = c.get("/v1/hosts")
            if r.status == 429:
                return i, r
            self.assertEqual(r.status, 200, r)
        self.fail("no 429 after %d requests" % most)

    def test_burst_then_429_then_again(self):
        c = self.client("slow")
        n, r = self.until_limited(c)
        # The burst (10), plus what 5/s refilled while they ran.
        self.assertGreaterEqual(n, 10)
        self.assertLessEqual(n, 13)
        self.assertEqual(r.header("Content-Type"), "application/json")
        self.assertEqual(r.json["error"]["code"], "rate_limited")
        after = int(r.header("Retry-After"))
        self.assertGreaterEqual(after, 1)
        self.assertLessEqual(after, 1)  # one token comes back in 1/5 s: rounded up to 1 s
        # Another organization is not slowed by it.
        self.assertEqual(self.client("other").get("/v1/hosts").status, 200)
        time.sleep(after)
        self.assertEqual(c.get("/v1/hosts").status, 200)

    def test_unauthenticated_and_public_requests_spend_nothing(self):
        anon = harness.Client(self.d.host, self.d.port)
        for _ in range(30):
            self.assertEqual(anon.get("/healthz").status, 200)
            self.assertEqual(anon.get("/v1/hosts").status, 401)

    def test_organization_override_off(self):
        c = self.client("unlimited")
        for _ in range(40):
            self.assertEqual(c.get("/v1/hosts").status, 200)

    def test_organization_override_tighter(self):
        n, r = self.until_limited(self.client("tight"))
        self.assertIn(n, (2, 3))
        self.assertEqual(r.header("Retry-After"), "1")

    def test_override_cleared_follows_default(self):
        n, _ = self.until_limited(self.client("reset"))
        self.assertGreaterEqual(n, 10)


if __name__ == "__main__":
    harness.main()
