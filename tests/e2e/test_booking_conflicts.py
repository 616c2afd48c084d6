"""Conflicts (issue 18 §5): a booking confirmed over another confirmed or in_progress booking
of the same host answers 409 booking_conflict naming the other one, unless the request says
allow_overlap; many concurrent confirms of overlapping bookings: exactly one wins."""

import os
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
import harness  # noqa: E402
from harness import Client, error_lines, main, start_daemon  # noqa: E402

T0 = "2027-03-01T10:00:00Z"  # the services here last 50 minutes


# On PostgreSQL each request holds a pooled connection while it waits its turn on the host
# (overlap.c): 20 at once on one node need more than the default 16, or the last ones wait for
# a connection until store_busy under a heavy load.
POOL = {"MEETLINK_DB_POOL": "48"} if harness.STORE == "postgres" else {}


class Conflicts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = start_daemon(POOL)
        cls.c = Client(cls.d.host, cls.d.port, cls.d.api_key)

    @classmethod
    def tearDownClass(cls):
        errors = error_lines(cls.d.logs())
        cls.d.close()
        assert not errors, "\n".join(errors)

    def confirmed(self, s, start, **kw):
        return fx.booking(self.c, s["id"], start=start, status="confirmed", **kw)

    def assert_conflict(self, r, other):
        self.assertEqual(r.status, 409, r)
        e = r.json["error"]
        self.assertEqual(e["code"], "booking_conflict", e)
        cb = e["conflicting_booking"]
        self.assertEqual(cb["id"], other["id"])
        self.assertEqual(cb["start"], other["start"])
        self.assertEqual(cb["end"], other["end"])
        self.assertIn(other["id"], e["message"])

    def test_create_confirmed_overlap(self):
        _, s = fx.setup_jitsi(self.c)
        a = self.confirmed(s, T0)
        body = {"service_id": s["id"], "start": "2027-03-01T10:30:00Z", "status": "confirmed",
                "customer": {"name": "B", "email": "b@example.test"}}
        r = self.c.post("/v1/bookings", body)
        self.assert_conflict(r, a)
        # Nothing was written: the host still has one booking.
        lst = self.c.get("/v1/bookings?service_id=%s" % s["id"]).json["data"]
        self.assertEqual([b["id"] for b in lst], [a["id"]])
        # A booking containing the other, and one inside it, conflict too.
        body.update(start="2027-03-01T09:00:00Z", end="2027-03-01T12:00:00Z")
        self.assert_conflict(self.c.post("/v1/bookings", body), a)
        body.update(start="2027-03-01T10:10:00Z", end="2027-03-01T10:20:00Z")
        self.assert_conflict(self.c.post("/v1/bookings", body), a)
        # allow_overlap books it anyway.
        body["allow_overlap"] = True
        r = self.c.post("/v1/bookings", body)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["status"], "confirmed")
        self.assertNotIn("allow_overlap", r.json)
        # A pending booking may overlap (it conflicts when confirmed).
        p = fx.booking(self.c, s["id"], start=T0)
        self.assertEqual(p["status"], "pending")
        self.assert_conflict(self.c.post("/v1/bookings/%s/confirm" % p["id"]), a)
        self.assertEqual(self.c.get("/v1/bookings/" + p["id"]).json["status"], "pending")
        r = self.c.post("/v1/bookings/%s/confirm" % p["id"], {"allow_overlap": True})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "confirmed")

    def test_back_to_back_hosts_and_cancelled(self):
        h, s = fx.setup_jitsi(self.c)
        a = self.confirmed(s, T0)
        # end == start on either side: no conflict.
        b = self.confirmed(s, "2027-03-01T10:50:00Z")
        c = self.confirmed(s, "2027-03-01T09:10:00Z")
        self.assertEqual(b["start"], a["end"])
        self.assertEqual(c["end"], a["start"])
        # Another service of the same host shares the host's time.
        s2 = fx.service(self.c, h["id"], duration_minutes=30)
        r = self.c.post("/v1/bookings", {"service_id": s2["id"], "start": "2027-03-01T10:45:00Z",
                                         "status": "confirmed",
                                         "customer": {"name": "B", "email": "b@example.test"}})
        self.assert_conflict(r, a)
        # Another host at the same time does not conflict.
        _, other = fx.setup_jitsi(self.c)
        self.assertEqual(self.confirmed(other, T0)["status"], "confirmed")
        # A cancelled booking frees its time.
        r = self.c.post("/v1/bookings/%s/cancel" % a["id"], {})
        self.assertEqual(r.status, 200, r)
        d = self.confirmed(s, T0)
        self.assertEqual(d["status"], "confirmed")
        # A completed one too.
        r = self.c.post("/v1/bookings/%s/complete" % d["id"], {})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.confirmed(s, T0)["status"], "confirmed")

    def test_reschedule_into_conflict(self):
        _, s = fx.setup_jitsi(self.c)
        a = self.confirmed(s, T0)
        b = self.confirmed(s, "2027-03-01T12:00:00Z")
        r = self.c.post("/v1/bookings/%s/reschedule" % b["id"], {"start": "2027-03-01T10:40:00Z"})
        self.assert_conflict(r, a)
        got = self.c.get("/v1/bookings/" + b["id"]).json
        self.assertEqual(got["start"], "2027-03-01T12:00:00Z", "a refused reschedule changes nothing")
        self.assertEqual(got["sequence"], 0)
        # Moving within its own time is no conflict with itself.
        r = self.c.post("/v1/bookings/%s/reschedule" % b["id"], {"start": "2027-03-01T12:10:00Z"})
        self.assertEqual(r.status, 200, r)
        # Back to back after the other.
        r = self.c.post("/v1/bookings/%s/reschedule" % b["id"], {"start": a["end"]})
        self.assertEqual(r.status, 200, r)
        r = self.c.post("/v1/bookings/%s/reschedule" % b["id"],
                        {"start": "2027-03-01T10:40:00Z", "allow_overlap": True})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["start"], "2027-03-01T10:40:00Z")
        # A pending booking reschedules freely.
        p = fx.booking(self.c, s["id"], start="2027-03-01T15:00:00Z")
        r = self.c.post("/v1/bookings/%s/reschedule" % p["id"], {"start": T0})
        self.assertEqual(r.status, 200, r)

    def test_service_host_change_checks_the_new_host(self):
        """A service moved to another host takes its confirmed bookings there: each is checked
        against the NEW host's bookings (409 naming host_id, both bookings, nothing moved)."""
        ha, sa = fx.setup_jitsi(self.c)
        hb, sb = fx.setup_jitsi(self.c)
        a = self.confirmed(sa, T0)  # the new host's own booking
        y = self.confirmed(sb, "2027-03-01T10:30:00Z")  # would overlap a under host A
        z = self.confirmed(sb, "2027-03-01T14:00:00Z")  # free under host A
        p = fx.booking(self.c, sb["id"], start=T0)  # pending: never blocks, never blocked
        r = self.c.patch("/v1/services/" + sb["id"], {"host_id": ha["id"]})
        self.assert_conflict(r, a)
        e = r.json["error"]
        self.assertEqual(e["field"], "host_id", e)
        self.assertEqual(e["booking"], {"id": y["id"], "start": y["start"], "end": y["end"]})
        self.assertIn(y["id"], e["message"])
        # Nothing moved: the service, and every booking, still belong to host B.
        self.assertEqual(self.c.get("/v1/services/" + sb["id"]).json["host_id"], hb["id"])
        for b in (y, z, p):
            self.assertEqual(self.c.get("/v1/bookings/" + b["id"]).json["host_id"], hb["id"])
        # The old host's own time is not what is checked: y does not conflict with itself.
        # With y cancelled, the move goes through (z and the pending p follow).
        self.assertEqual(self.c.post("/v1/bookings/%s/cancel" % y["id"], {}).status, 200)
        r = self.c.patch("/v1/services/" + sb["id"], {"host_id": ha["id"]})
        self.assertEqual(r.status, 200, r)
        for b in (z, p):
            self.assertEqual(self.c.get("/v1/bookings/" + b["id"]).json["host_id"], ha["id"])
        # Now under host A, z and p conflict with A's time like any of A's bookings.
        self.assert_conflict(self.c.post("/v1/bookings/%s/confirm" % p["id"]), a)
        # Back to host B, then to A again over a conflict, allowed this time.
        y2 = self.confirmed(sb, "2027-03-01T10:30:00Z", allow_overlap=True)
        self.assertEqual(self.c.patch("/v1/services/" + sb["id"],
                                      {"host_id": hb["id"]}).status, 200)
        r = self.c.patch("/v1/services/" + sb["id"], {"host_id": ha["id"]})
        self.assert_conflict(r, a)
        r = self.c.patch("/v1/services/" + sb["id"], {"host_id": ha["id"], "allow_overlap": True})
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("allow_overlap", r.json)
        self.assertEqual(self.c.get("/v1/bookings/" + y2["id"]).json["host_id"], ha["id"])
        # allow_overlap is a flag of the move only: not a service field.
        r = self.c.patch("/v1/services/" + sb["id"], {"allow_overlap": "yes"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json["error"]["field"], "allow_overlap", r)
        r = self.c.post("/v1/services", {"host_id": ha["id"], "name": "X", "is_online": False,
                                         "duration_minutes": 30, "allow_overlap": True})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json["error"]["field"], "allow_overlap", r)

    def test_bad_input_names_the_field(self):
        _, s = fx.setup_jitsi(self.c)
        p = fx.booking(self.c, s["id"], start=T0)
        for path, body in (("/v1/bookings", {"service_id": s["id"], "start": T0,
                                             "customer": {"name": "B", "email": "b@x.test"},
                                             "allow_overlap": "yes"}),
                           ("/v1/bookings/%s/confirm" % p["id"], {"allow_overlap": 1}),
                           ("/v1/bookings/%s/reschedule" % p["id"],
                            {"start": T0, "allow_overlap": None})):
            r = self.c.post(path, body)
            self.assertEqual(r.status, 400, (path, r))
            self.assertEqual(r.json["error"]["field"], "allow_overlap", r)
        r = self.c.post("/v1/bookings/%s/confirm" % p["id"], {"allow": True})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json["error"]["field"], "allow", r)

    def test_org_isolation(self):
        _, s = fx.setup_jitsi(self.c)
        a = self.confirmed(s, T0)
        other = Client(self.d.host, self.d.port, fx.create_key(self.d, "conflict-other-org"))
        _, s2 = fx.setup_jitsi(other)
        # The same times in another organization: no conflict, nothing of ours named.
        b = fx.booking(other, s2["id"], start=T0, status="confirmed")
        self.assertEqual(b["status"], "confirmed")
        # Another organization cannot confirm, reschedule or book against ours.
        p = fx.booking(self.c, s["id"], start=T0)
        self.assertEqual(other.post("/v1/bookings/%s/confirm" % p["id"]).status, 404)
        r = other.post("/v1/bookings", {"service_id": s["id"], "start": T0, "status": "confirmed",
                                        "customer": {"name": "B", "email": "b@x.test"}})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json["error"]["field"], "service_id")
        self.assertNotIn(a["id"], r.body.decode())
        # Ours still conflicts with ours only.
        self.assert_conflict(self.c.post("/v1/bookings/%s/confirm" % p["id"]), a)

    def race(self, n, call, nodes=None):
        """Runs call(i) on n threads released at once, thread i through nodes[i % len]
        (default: this test's daemon); returns the responses."""
        nodes = nodes or [self.d]
        barrier = threading.Barrier(n)
        out = [None] * n

        def run(i):
            d = nodes[i % len(nodes)]
            cl = Client(d.host, d.port, d.api_key)
            barrier.wait()
            out[i] = call(cl, i)

        ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(120)
        return out

    def check_one_winner(self, rs, s):
        wins = [r for r in rs if r.status in (200, 201)]
        self.assertEqual(len(wins), 1, [r.status for r in rs])
        winner = wins[0].json
        for r in rs:
            if r is not wins[0]:
                self.assert_conflict(r, winner)
        # The store agrees: one confirmed booking of the host.
        lst = self.c.get("/v1/bookings?service_id=%s&status=confirmed&limit=200" % s["id"])
        self.assertEqual([b["id"] for b in lst.json["data"]], [winner["id"]])

    def test_concurrent_confirms_one_wins(self):
        _, s = fx.setup_jitsi(self.c)
        n = 20
        # Staggered by 2 minutes: every pair overlaps (50-minute bookings, starts within 38).
        ps = [fx.booking(self.c, s["id"], start="2027-04-01T10:%02d:00Z" % (i * 2))
              for i in range(n)]
        rs = self.race(n, lambda cl, i: cl.post("/v1/bookings/%s/confirm" % ps[i]["id"]))
        self.check_one_winner(rs, s)

    def test_concurrent_creates_one_wins(self):
        _, s = fx.setup_jitsi(self.c)
        n = 20

        def create(cl, i):
            return cl.post("/v1/bookings", {
                "service_id": s["id"], "start": "2027-05-01T10:%02d:00Z" % i,
                "status": "confirmed", "customer": {"name": "C%d" % i, "email": "c@x.test"}})
        self.check_one_winner(self.race(n, create), s)


@unittest.skipUnless(harness.STORE == "postgres", "several nodes share a PostgreSQL store")
class ConflictsTwoNodes(unittest.TestCase):
    """Many at once through two daemons on one PostgreSQL database: each node's transactions
    run at once on the server, so only the per-host lock keeps two of them from both finding
    the host free."""

    race = Conflicts.race
    check_one_winner = Conflicts.check_one_winner
    assert_conflict = Conflicts.assert_conflict

    @classmethod
    def setUpClass(cls):
        cls.d = start_daemon(POOL)
        cls.c = Client(cls.d.host, cls.d.port, cls.d.api_key)
        cls.d2 = start_daemon(dict(POOL, MEETLINK_DB=cls.d.env["MEETLINK_DB"]))

    @classmethod
    def tearDownClass(cls):
        errors = error_lines(cls.d.logs()) + error_lines(cls.d2.logs())
        cls.d2.close()
        cls.d.close()
        assert not errors, "\n".join(errors)

    def test_two_nodes_confirms_one_wins(self):
        _, s = fx.setup_jitsi(self.c)
        n = 24
        ps = [fx.booking(self.c, s["id"], start="2027-08-01T10:%02d:00Z" % (i * 2))
              for i in range(n)]
        rs = self.race(n, lambda cl, i: cl.post("/v1/bookings/%s/confirm" % ps[i]["id"]),
                       nodes=[self.d, self.d2])
        self.check_one_winner(rs, s)

    def test_two_nodes_creates_one_wins(self):
        _, s = fx.setup_jitsi(self.c)

        def create(cl, i):
            return cl.post("/v1/bookings", {
                "service_id": s["id"], "start": "2027-09-01T10:%02d:00Z" % i,
                "status": "confirmed", "customer": {"name": "C%d" % i, "email": "c@x.test"}})
        self.check_one_winner(self.race(24, create, nodes=[self.d, self.d2]), s)


if __name__ == "__main__":
    main()
