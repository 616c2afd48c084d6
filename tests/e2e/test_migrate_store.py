"""`meetlink migrate --from sqlite:PATH --to postgres://...` moves a store: a daemon fills a
SQLite store (hosts, a Google connection, bookings with meetings, their audit trail, a webhook
endpoint and its deliveries, mail jobs, an idempotency key), stops; the store is copied into
an empty PostgreSQL schema; a daemon on PostgreSQL with the same key ring then shows the same
documents, trail and jobs, opens the sealed secrets (the connection's tokens make the next
meeting, the endpoint's secret signs the next webhook), replays the idempotency key, and the
copy holds no secret in the clear. Refused into a store that is not empty.

Run on the PostgreSQL suite only (e2e-pg/test_migrate_store)."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixtures as fx  # noqa: E402
import harness  # noqa: E402
import pipeline  # noqa: E402
import test_webhooks_out as wo  # noqa: E402
from pipeline import google_events  # noqa: E402


@unittest.skipUnless(harness.STORE == "postgres", "moves a SQLite store into PostgreSQL")

def copied_jobs(e):
    """The jobs the copy must keep as they were: not the calendar watch's (provider.*),
    which run on their own schedule (a sync on a notification, a renewal) in the daemon
    before the stop and in the one started on the copy alike."""
    return [j for j in e.jobs() if not j["kind"].startswith("provider.")]

class MigrateStore(unittest.TestCase):
    def test_copy_sqlite_to_postgres(self):
        work = tempfile.mkdtemp(prefix="ml-move-")
        rx = wo.Receiver()
        keys = harness.PG_VAULT_KEYS
        sqlite_url = "sqlite:" + os.path.join(work, "meetlink.db")
        e = pipeline.Env({"MEETLINK_DB": sqlite_url, "MEETLINK_VAULT_KEYS": keys})
        try:
            h, s = e.setup("google_meet")
            ep = e.c.post("/v1/webhook-endpoints", {"url": rx.url("/moved"),
                                                    "events": ["booking.confirmed"]})
            self.assertEqual(ep.status, 201, ep)
            secret = ep.json["secret"]
            ids = [e.book(s["id"], start="2026-12-%02dT10:00:00Z" % (i + 1)).json["id"]
                   for i in range(5)]
            e.wait_meetings(ids)
            # (and the calendar watch's syncs: a job running at the copy is done after it)
            e.wait_idle(kinds=("meeting.", "provider.sync"))
            rx.wait("/moved", 5)
            idem = e.c.post("/v1/hosts", {"name": "Idem", "email": "idem@example.test",
                                          "timezone": "UTC"},
                            headers={"Idempotency-Key": "moved-key-1"})
            self.assertEqual(idem.status, 201, idem)
            before = {
                "bookings": e.c.get("/v1/bookings?limit=100").json["data"],
                "hosts": e.c.get("/v1/hosts?limit=100").json["data"],
                "jobs": copied_jobs(e),
                "events": {b: e.c.get("/v1/bookings/%s/events" % b).json["data"] for b in ids},
                "deliveries": e.c.get("/v1/webhook-endpoints/%s/deliveries"
                                      % ep.json["id"]).json["data"],
            }
            e.d.stop()

            pg = harness.new_db_url(work)
            p = subprocess.run([harness.BIN, "migrate", "--from", sqlite_url, "--to", pg],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("copied", p.stdout)
            # Into a store that is not empty: refused, nothing changed.
            again = subprocess.run([harness.BIN, "migrate", "--from", sqlite_url, "--to", pg],
                                   capture_output=True, text=True, timeout=120)
            self.assertNotEqual(again.returncode, 0)
            self.assertIn("not empty", again.stderr)

            # At rest: sealed as before, no secret in the clear.
            dump = b"".join(d for _, d in harness.store_blobs(pg))
            self.assertIn(b"mlv1:", dump)
            self.assertNotIn(secret.encode(), dump)
            self.assertNotIn(secret[len("whsec_"):].encode(), dump)

            e.d.env["MEETLINK_DB"] = pg
            e.d.start()
            e.c = harness.Client(e.d.host, e.d.port, e.d.api_key)
            self.assertEqual(e.c.get("/v1/bookings?limit=100").json["data"], before["bookings"])
            self.assertEqual(e.c.get("/v1/hosts?limit=100").json["data"], before["hosts"])
            self.assertEqual(copied_jobs(e), before["jobs"])
            for b in ids:
                self.assertEqual(e.c.get("/v1/bookings/%s/events" % b).json["data"],
                                 before["events"][b])
            self.assertEqual(e.c.get("/v1/webhook-endpoints/%s/deliveries"
                                     % ep.json["id"]).json["data"], before["deliveries"])
            # Pages continue where SQLite's rows left off.
            page = e.c.get("/v1/bookings?limit=2")
            nxt = e.c.get("/v1/bookings?limit=10&cursor=" + page.json["next_cursor"])
            self.assertEqual([b["id"] for b in page.json["data"] + nxt.json["data"]],
                             [b["id"] for b in before["bookings"]])
            # The idempotency key is answered as before.
            r = e.c.post("/v1/hosts", {"name": "Idem", "email": "idem@example.test",
                                       "timezone": "UTC"},
                         headers={"Idempotency-Key": "moved-key-1"})
            self.assertEqual((r.status, r.json["id"]), (201, idem.json["id"]))
            # The sealed secrets open: the Google tokens make the next meeting, the
            # endpoint's secret signs the next webhook; new rows get new sequence numbers.
            nb = e.book(s["id"], start="2026-12-20T10:00:00Z").json["id"]
            e.wait_meetings([nb])
            self.assertEqual(len(google_events(e).get(nb, [])), 1)
            got = rx.wait("/moved", 6)
            headers, body = [x for x in got if json.loads(x[1])["data"]["booking"]["id"] == nb][0]
            self.assertTrue(wo.verify(secret, headers, body), headers)
            evs = e.c.get("/v1/bookings/%s/events" % nb).json["data"]
            last_old = max(int(x["id"][4:]) for b in ids for x in before["events"][b])
            self.assertTrue(all(int(x["id"][4:]) > last_old for x in evs), evs)
            self.assertEqual(harness.error_lines(e.d.logs()), [])
            # (all of it served from PostgreSQL: the new booking is there)
            self.assertEqual(harness.store_query(pg, "SELECT count(*) FROM bookings"), [("6",)])
        finally:
            e.close()
            rx.close()
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    harness.main()
