"""The refresh-ahead window follows the token's lifetime (conn/connections.c): a provider that
issues access tokens living less than the usual 5-minute window must not be asked for a new
one at every use.

- Google's sandbox issuing 120 s tokens: while a Meet conference stays `pending` (polled
  every 200 ms) for several seconds, its token endpoint sees no refresh at all (at most one
  is allowed), and the meeting ends ready.
- 6 s tokens: the connection is still refreshed as each token nears its end (half its
  lifetime left), a few times over those seconds, never at every poll, and the meeting ends
  ready."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import main  # noqa: E402
from pipeline import Env  # noqa: E402

PENDING_MS = 5000
POLL_MS = 200


class RefreshWindow(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.e = Env({"MEETLINK_PROVIDER_POLL_MS": str(POLL_MS)})

    @classmethod
    def tearDownClass(cls):
        cls.e.close()

    def refreshes(self):
        return [r for r in self.e.sb_requests(provider="google", method="POST",
                                               path="/google/token", limit=100000)
                if (r.get("body") or {}).get("grant_type") == "refresh_token"]

    def polls(self):
        return [r for r in self.e.sb_requests(provider="google", method="GET", limit=100000)
                if "/events/" in r["path"]]

    def run_pending(self, ttl):
        """Connects a host while Google issues `ttl`-second tokens, then books a Meet whose
        conference stays pending for PENDING_MS; returns (refreshes, polls) it caused."""
        e = self.e
        e.sb_config("google", access_token_ttl=ttl, conference_pending_ms=0)
        h, s = e.setup("google_meet")
        before, polls_before = len(self.refreshes()), len(self.polls())
        e.sb_config("google", conference_pending_ms=PENDING_MS)
        t0 = time.time()
        b = e.book(s["id"]).json
        self.assertEqual(b["meeting"]["status"], "pending")
        b = e.wait_meetings([b["id"]], timeout=60)[0]
        self.assertGreaterEqual(time.time() - t0, PENDING_MS / 1000.0 - 0.5)
        self.assertEqual(b["meeting"]["status"], "ready")
        e.sb_config("google", conference_pending_ms=0)
        return len(self.refreshes()) - before, len(self.polls()) - polls_before

    def test_1_short_lived_tokens_are_not_refreshed_at_every_use(self):
        refreshed, polls = self.run_pending(120)
        # The conference really was polled again and again (the storm's trigger: each poll
        # refreshed before the fix). A loaded machine polls less often than every POLL_MS.
        self.assertGreaterEqual(polls, 5, polls)
        # ... and a 120 s token just issued was not refreshed for it.
        self.assertLessEqual(refreshed, 1, refreshed)

    def test_2_tokens_are_still_refreshed_near_their_end(self):
        refreshed, polls = self.run_pending(6)
        # 6 s tokens over ~5 s of polling: refreshed once half their life is gone (every
        # ~3 s), so one or two times, far fewer than the polls.
        self.assertGreaterEqual(refreshed, 1, (refreshed, polls))
        self.assertLessEqual(refreshed, 3, (refreshed, polls))
        self.assertGreater(polls, 3 * refreshed)


if __name__ == "__main__":
    main()
