"""The waiting room across nodes (docs/many-nodes.md, "Signals between nodes"): two daemons on
one PostgreSQL database. A guest waits on node A's live page while the host's panel is open on
node B: the panel sees the guest ask within a second, and the guest's page sees the host's
admit (made through node B's API) within a second, then lands on the platform; a reject with a
reason made on node B reaches a second guest's page on node A the same way.

Run on the PostgreSQL suite only (e2e-pg/test_many_nodes_waiting): SQLite has one node."""

import datetime
import json
import os
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixtures as fx  # noqa: E402
import harness  # noqa: E402
from sse import SSE  # noqa: E402


def soon(minutes=5):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@unittest.skipUnless(harness.STORE == "postgres", "several nodes share a PostgreSQL store")
class WaitingAcrossNodes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        db = harness.new_db_url(None)
        env = {"MEETLINK_DB": db, "MEETLINK_SSE_KEEPALIVE_MS": "400"}
        # One after the other: the first makes the organization and its bootstrap key.
        cls.a = harness.start_daemon(env=env)
        cls.b = harness.start_daemon(env=env)
        cls.cb = harness.Client(cls.b.host, cls.b.port, cls.b.api_key)
        cls.h = fx.host(cls.cb)

    @classmethod
    def tearDownClass(cls):
        cls.a.close()
        cls.b.close()

    def booking(self, attendees):
        s = fx.service(self.cb, self.h["id"], settings={"waiting_room": True})
        b = fx.booking(self.cb, s["id"], start=soon(), status="confirmed",
                       attendees=[{"name": "Guest %d" % i, "email": "g%d@example.test" % i}
                                  for i in range(attendees)])
        r = self.cb.get("/v1/bookings/%s/participants" % b["id"])
        self.assertEqual(r.status, 200, r)
        guests, host = [], None
        for p in r.json["data"]:
            path = urllib.parse.urlsplit(p["join_url"]).path
            if p["role"] == "host":
                host = path
            else:
                guests.append((p["id"], path))
        return b, guests, host

    def page_post(self, d, path, body):
        c = harness.Client(d.host, d.port)
        return c.request("POST", path, raw=json.dumps(body).encode(),
                         headers={"Content-Type": "application/json",
                                  "Origin": "http://%s:%d" % (d.host, d.port)})

    def stream(self, d, path):
        s = SSE(d.host, d.port, path)
        self.assertEqual(s.status, 200)
        return s

    def next_of(self, s, event, timeout=5):
        deadline = time.time() + timeout
        while time.time() < deadline:
            ev = s.next_event(max(0.05, deadline - time.time()))
            if ev and ev["event"] == event:
                return json.loads(ev["data"])
        self.fail("no %s event within %ss" % (event, timeout))

    def test_guest_on_a_host_on_b(self):
        b, guests, host = self.booking(attendees=1)
        (pid, path), (pid2, path2) = guests
        panel = self.stream(self.b, host + "/panel/events")
        self.assertEqual(self.next_of(panel, "passes"), [])
        # The guest asks on node A: node B's panel sees it within a second.
        t0 = time.time()
        r = self.page_post(self.a, path + "/wait", {"action": "ask", "name": "Grace"})
        self.assertEqual((r.status, r.json["state"]), (200, "waiting"), r)
        row = self.next_of(panel, "participant")
        self.assertLess(time.time() - t0, 1.0)
        self.assertEqual((row["participant_id"], row["state"]), (pid, "waiting"))
        # The guest's page on node A; the host admits through node B's API.
        s = self.stream(self.a, path + "/events")
        self.assertEqual(self.next_of(s, "state")["state"], "waiting")
        t0 = time.time()
        r = self.cb.post("/v1/bookings/%s/participants/%s/admit" % (b["id"], pid))
        self.assertEqual((r.status, r.json["state"]), (200, "admitted"), r)
        self.assertEqual(self.next_of(s, "state")["state"], "admitted")
        self.assertLess(time.time() - t0, 1.0)
        s.close()
        r = harness.Client(self.a.host, self.a.port).get(path + "/go")
        self.assertEqual(r.status, 303, r)
        self.assertTrue(r.header("Location").startswith("https://meet.jit.si/"), r.header("Location"))
        # A reject with a reason on node B reaches the other guest's page on node A.
        r = self.page_post(self.a, path2 + "/wait", {"action": "ask", "name": "Alan"})
        self.assertEqual(r.status, 200, r)
        s2 = self.stream(self.a, path2 + "/events")
        self.assertEqual(self.next_of(s2, "state")["state"], "waiting")
        t0 = time.time()
        r = self.cb.post("/v1/bookings/%s/participants/%s/reject" % (b["id"], pid2),
                         {"reason": "Not today"})
        self.assertEqual((r.status, r.json["state"]), (200, "rejected"), r)
        ev = self.next_of(s2, "state")
        self.assertLess(time.time() - t0, 1.0)
        self.assertEqual((ev["state"], ev.get("reason")), ("rejected", "Not today"))
        s2.close()
        panel.close()


if __name__ == "__main__":
    harness.main()
