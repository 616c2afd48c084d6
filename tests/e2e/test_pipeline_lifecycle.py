"""The lifecycle of SPEC §3 for remote platforms, through the pipeline, against the sandbox:
regenerate, manual override, platform and host changes (old meeting deleted at the
provider, kept in meeting.history), a visible fallback, retries (meeting and job), a host
who must reconnect (jobs wait, then resume), meetings deleted at the provider (Google event
found cancelled on update; Zoom's signed meeting.deleted webhook) reported on the booking."""

import base64
import json
import os
import sys
import time
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import Client, error_lines, main  # noqa: E402
import fixtures  # noqa: E402
from pipeline import Env, google_events, zoom_meetings  # noqa: E402


def audit_types(e, bid):
    return [x["type"] for x in e.c.get("/v1/bookings/%s/events" % bid).json["data"]]


class Lifecycle(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.e = Env({"MEETLINK_MEETING_MAX_ATTEMPTS": "3"})

    @classmethod
    def tearDownClass(cls):
        # Every step above is normal operation (retries and fallbacks included): the log
        # has no error line (a write tried on a read snapshot once logged "attempt to write
        # a readonly database" on its way to the writer).
        errors = error_lines(cls.e.d.logs())
        cls.e.close()
        assert not errors, "\n".join(errors)

    def setUp(self):
        self.e.clear_faults()

    def ready(self, bid):
        return self.e.wait_meetings([bid])[0]

    def test_regenerate_and_manual_override(self):
        e = self.e
        h, s = e.setup("google_meet")
        b = self.ready(e.book(s["id"]).json["id"])
        first = b["meeting"]
        r = e.c.post("/v1/bookings/%s/meeting/regenerate" % b["id"])
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.json["meeting"]["status"], "pending")
        b = self.ready(b["id"])
        e.wait_idle()
        self.assertNotEqual(b["meeting"]["join_url"], first["join_url"])
        self.assertEqual(b["meeting"]["generation"], 1)
        self.assertEqual(b["meeting"]["history"][0]["id"], first["id"])
        self.assertTrue(b["meeting"]["history"][0].get("deleted_at_provider"))
        live = google_events(e)[b["id"]]
        self.assertEqual([x["id"] for x in live], [b["meeting"]["external_id"]])
        # A link typed by hand replaces it; the Google event goes.
        r = e.c.put("/v1/bookings/%s/meeting" % b["id"], {"join_url": "https://example.test/room"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["meeting"]["platform"], "manual")
        e.wait_idle()
        self.assertEqual(google_events(e).get(b["id"], []), [])
        self.assertIn("meeting.deleted", audit_types(e, b["id"]))

    def test_platform_and_host_change(self):
        e = self.e
        h, s = e.setup("google_meet")
        e.connect(h["id"], "zoom")
        bids = [self.ready(e.book(s["id"], start="2026-12-0%dT10:00:00Z" % (i + 1)).json["id"])["id"]
                for i in range(2)]
        pending = e.book(s["id"], confirm=False)
        r = e.c.patch("/v1/services/" + s["id"], {"platform": "zoom"})
        self.assertEqual(r.status, 200, r)
        bookings = e.wait_meetings(bids)
        e.wait_idle()
        zm = zoom_meetings(e)
        for b in bookings:
            m = b["meeting"]
            self.assertEqual(m["platform"], "zoom")
            self.assertEqual(m["history"][-1]["platform"], "google_meet")
            self.assertEqual(m["history"][-1]["replaced_because"], "platform_changed")
            self.assertEqual(len(zm.get(b["id"], [])), 1)
            self.assertEqual(google_events(e).get(b["id"], []), [])
        self.assertEqual(e.booking(pending["id"])["meeting"]["platform"], "zoom")
        # Another host: the meeting moves (deleted with the old host's connection).
        h2 = fixtures.host(e.c)
        e.connect(h2["id"], "zoom")
        r = e.c.patch("/v1/services/" + s["id"], {"host_id": h2["id"]})
        self.assertEqual(r.status, 200, r)
        bookings = e.wait_meetings(bids)
        e.wait_idle()
        zm = zoom_meetings(e)
        for b in bookings:
            self.assertEqual(b["host_id"], h2["id"])
            self.assertEqual(b["meeting"]["history"][-1]["replaced_because"], "host_changed")
            live = zm.get(b["id"], [])
            self.assertEqual(len(live), 1, live)
            self.assertEqual(str(live[0]["id"]), b["meeting"]["external_id"])
        self.assertEqual([j for j in e.jobs("failed") if j["group_key"] in bids], [])

    def test_fallback_is_visible_and_retry(self):
        e = self.e
        h, s = e.setup("zoom", settings={"fallback": "jitsi"})
        e.fault(provider="zoom", method="POST", path="/zoom/v2/users/*/meetings", status=400,
                body={"code": 300, "message": "Validation Failed."}, count=1)
        b = self.ready(e.book(s["id"]).json["id"])
        m = b["meeting"]
        self.assertTrue(m["fallback_used"])
        self.assertEqual(m["requested_platform"], "zoom")
        self.assertEqual(m["platform"], "jitsi")
        self.assertIn("meet.jit.si", m["join_url"])
        self.assertIn("meeting.fallback_used", audit_types(e, b["id"]))
        # Without a fallback the failure is an error; retry makes it once Zoom agrees.
        h, s = e.setup("zoom")
        e.fault(provider="zoom", method="POST", path="/zoom/v2/users/*/meetings", status=400,
                body={"code": 300, "message": "Validation Failed."}, count=1)
        bid = e.book(s["id"]).json["id"]
        b = e.wait_meetings([bid], want=("error",))[0]
        self.assertEqual(b["meeting"]["error"]["code"], "zoom_300")
        failed = [j for j in e.jobs("failed") if j["group_key"] == bid]
        self.assertEqual(len(failed), 1)
        r = e.c.post("/v1/bookings/%s/meeting/retry" % bid)
        self.assertEqual(r.status, 202, r)
        b = self.ready(bid)
        self.assertEqual(len(zoom_meetings(e)[bid]), 1)

    def test_cleanup_and_reconcile_get_the_configured_attempts(self):
        # The jobs an outcome queues (the cleanup after a fallback, the reconcile after an
        # ambiguous create) get MEETLINK_MEETING_MAX_ATTEMPTS (3 here), not the store's 8.
        e = self.e
        create = dict(provider="zoom", method="POST", path="/zoom/v2/users/*/meetings")
        lookup = dict(provider="zoom", method="GET", path="/zoom/v2/users/*/meetings")
        h, s = e.setup("zoom", settings={"fallback": "jitsi"})
        e.fault(drop_after=True, count=1, **create)  # made at Zoom, the answer lost
        e.fault(status=503, count=2, **lookup)       # both lookups after it fail
        bid = e.book(s["id"]).json["id"]
        b = self.ready(bid)
        self.assertTrue(b["meeting"]["fallback_used"])
        e.wait_idle()
        cleanup = [j for j in e.jobs(booking_id=bid) if j["kind"] == "meeting.delete"]
        self.assertEqual([(j["max_attempts"], j["state"]) for j in cleanup], [(3, "done")])
        self.assertEqual(zoom_meetings(e).get(bid, []), [])

        h, s = e.setup("zoom")
        e.fault(drop_after=True, count=1, **create)
        bid = e.book(s["id"]).json["id"]
        self.ready(bid)
        rec = [j for j in e.jobs() if j["group_key"] == "reconcile:" + bid]
        self.assertEqual([(j["kind"], j["max_attempts"]) for j in rec],
                         [("meeting.reconcile", 3)])
        e.wait_idle()
        self.assertEqual(len(zoom_meetings(e)[bid]), 1)

    def test_retries_exhausted_then_job_retry(self):
        e = self.e
        h, s = e.setup("teams")
        e.fault(provider="microsoft", method="POST", path="/microsoft/v1.0/me/events",
                status=503, count=3)
        bid = e.book(s["id"]).json["id"]
        b = e.wait_meetings([bid], want=("error",))[0]
        self.assertIn("gave up after 3 attempts", b["meeting"]["error"]["message"])
        job = [j for j in e.jobs("failed") if j["group_key"] == bid][0]
        self.assertEqual(job["kind"], "meeting.create")
        self.assertEqual(job["attempts"], 3)
        r = e.c.post("/v1/jobs/%s/retry" % job["id"])
        self.assertEqual(r.status, 200, r)
        b = self.ready(bid)
        self.assertTrue(b["meeting"]["join_url"].startswith("https://teams.microsoft.com/"))

    def test_reconnect_resumes_waiting_jobs(self):
        e = self.e
        h, s = e.setup("google_meet")
        # The host removes access at Google: the next call is refused.
        r = e.sbc.post("/_sandbox/tokens/revoke", {"provider": "google", "account": "ada@sandbox.test"})
        self.assertEqual(r.status, 200, r)
        bid = e.book(s["id"]).json["id"]
        b = e.wait_meetings([bid], want=("error",))[0]
        self.assertEqual(b["meeting"]["error"]["code"], "reconnect_required")
        # The error says where the host reconnects: the signed connect page of this host.
        url = b["meeting"]["error"]["connect_url"]
        self.assertIn("/connect?t=", url)
        page = e.c.request("GET", url[url.index("/connect?"):], headers={"Accept": "text/html"})
        self.assertEqual(page.status, 200, page)
        waiting = [j for j in e.jobs("waiting") if j["group_key"] == bid]
        self.assertEqual(len(waiting), 1)
        conns = e.c.get("/v1/hosts/%s/connections" % h["id"]).json["data"]
        self.assertEqual(conns[0]["status"], "reauth_required")
        e.connect(h["id"], "google_meet")
        b = self.ready(bid)
        self.assertEqual(len(google_events(e)[bid]), 1)

    def test_google_event_cancelled_at_provider_is_reported(self):
        e = self.e
        h, s = e.setup("google_meet")
        b = self.ready(e.book(s["id"]).json["id"])
        sb = Client(e.sb.host, e.sb.port, "ya29.sandbox-ada")
        r = sb.delete("/google/calendar/v3/calendars/primary/events/" + b["meeting"]["external_id"])
        self.assertEqual(r.status, 204, r)
        r = e.c.post("/v1/bookings/%s/reschedule" % b["id"], {"start": "2026-12-03T10:00:00Z"})
        self.assertEqual(r.status, 200, r)
        b = e.wait_meetings([b["id"]], want=("error",))[0]
        self.assertEqual(b["meeting"]["error"]["code"], "meeting_deleted_at_provider")
        self.assertIn("meeting.deleted_at_provider", audit_types(e, b["id"]))

    def test_zoom_meeting_deleted_webhook(self):
        e = self.e
        e.sb_config("zoom", webhook_url=e.d.url + "/webhooks/zoom")
        h, s = e.setup("zoom")
        b = self.ready(e.book(s["id"]).json["id"])
        gone = self.ready(e.book(s["id"], start="2026-12-04T10:00:00Z").json["id"])
        # Our own delete (a cancel) is not reported as a provider-side deletion.
        self.assertEqual(e.c.post("/v1/bookings/%s/cancel" % gone["id"]).status, 200)
        e.wait_idle()
        # The host deletes the meeting in Zoom (with an account token).
        basic = base64.b64encode(b"zoom-s2s-client-id:zoom-s2s-client-secret").decode()
        r = e.sbc.post("/zoom/oauth/token?grant_type=account_credentials&account_id=SbxZoomAccount00000001",
                       headers={"Authorization": "Basic " + basic})
        self.assertEqual(r.status, 200, r)
        z = Client(e.sb.host, e.sb.port, r.json["access_token"])
        r = z.delete("/zoom/v2/meetings/" + b["meeting"]["external_id"])
        self.assertEqual(r.status, 204, r)
        b = e.wait_meetings([b["id"]], want=("error",), timeout=20)[0]
        self.assertEqual(b["meeting"]["error"]["code"], "meeting_deleted_at_provider")
        types = audit_types(e, b["id"])
        self.assertIn("meeting.deleted_at_provider", types)
        self.assertEqual(e.booking(gone["id"])["meeting"]["status"], "cancelled")
        self.assertNotIn("meeting.deleted_at_provider", audit_types(e, gone["id"]))
        st = e.sb_state("zoom")
        self.assertEqual(st.get("zoom", st)["webhook"]["validation"], "passed")

    def test_zoom_server_to_server(self):
        e = self.e
        e.credentials("zoom", {"account_id": "SbxZoomAccount00000001",
                               "client_id": "zoom-s2s-client-id",
                               "client_secret": "zoom-s2s-client-secret"})
        h = fixtures.host(e.c, email="ada@zoom.sandbox.test")
        s = fixtures.service(e.c, h["id"], platform="zoom")
        b = self.ready(e.book(s["id"]).json["id"])
        live = zoom_meetings(e)[b["id"]]
        self.assertEqual(len(live), 1)
        self.assertEqual(live[0]["host_email"], "ada@zoom.sandbox.test")
        e.c.delete("/v1/credentials/zoom")


if __name__ == "__main__":
    main()
