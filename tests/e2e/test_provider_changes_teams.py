"""Changes made at the provider come back (docs/provider-changes.md), against the sandbox's
Microsoft Graph: a Teams meeting is an Outlook event on the host's calendar; once a host has
one, meetlink subscribes to the host's events (POST /subscriptions: notificationUrl
/webhooks/microsoft, clientState a secret, the validation handshake answered), and the host
deleting or moving the event in Outlook is reported on the booking (meeting.status, audit
entry, webhook out) after the event is read back. Forged clientStates are refused with no
effect, duplicated and replayed notifications have one effect, the subscription is renewed
in place before it expires and removed when nothing is left to watch or the host
disconnects, a daemon killed
between answering a notification and applying it loses nothing and doubles nothing, and
one organization's subscription never touches another's bookings."""

import http.server
import json
import os
import re
import sys
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import fixtures  # noqa: E402
import harness  # noqa: E402
from harness import Client, main  # noqa: E402
from pipeline import Env  # noqa: E402

WAIT = 30  # the issue asks for a minute; the sandbox is local
CLIENT_STATE = re.compile(r"^mlw[0-9a-f]{32}\.[A-Za-z0-9_-]{43}$")


class Receiver(http.server.BaseHTTPRequestHandler):
    """Our own webhook endpoint: records every event meetlink sends."""
    events = []

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        Receiver.events.append(json.loads(self.rfile.read(n) or b"{}"))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


def until(fn, timeout=WAIT, what="condition"):
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError("%s not met after %ss" % (what, timeout))
        time.sleep(0.05)


def ms_root(e):
    st = e.sb_state("microsoft")
    return st.get("microsoft", st)


def live_subs(e):
    now = time.time()
    out = []
    for s in ms_root(e).get("subscriptions", {}).values():
        t = time.mktime(time.strptime(s["expirationDateTime"][:19], "%Y-%m-%dT%H:%M:%S")) \
            - time.timezone
        if t > now:
            out.append(s)
    return out


def event_id(b):
    ext = b["meeting"]["external_id"]
    assert ext.startswith("event:"), ext
    return ext[len("event:"):]


class TeamsChanges(unittest.TestCase):
    ENV = {"MEETLINK_LOG_LEVEL": "warn"}

    @classmethod
    def setUpClass(cls):
        env = dict(cls.ENV)
        if getattr(harness, "STORE", "sqlite") == "postgres":
            # A shared store requeues nothing at start: the killed daemon's sync is taken
            # over when its lease runs out.
            env["MEETLINK_JOB_LEASE_MS"] = "8000"
        cls.e = Env(env)
        cls.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=cls.srv.serve_forever, daemon=True).start()
        r = cls.e.c.post("/v1/webhook-endpoints", {
            "url": "http://127.0.0.1:%d/hook" % cls.srv.server_address[1],
            "events": ["meeting.deleted_at_provider", "meeting.moved_at_provider"]})
        assert r.status == 201, r
        cls.host, cls.svc = cls.e.setup("teams")

    @classmethod
    def tearDownClass(cls):
        cls.srv.shutdown()
        cls.e.close()

    def tearDown(self):
        self.e.clear_faults()

    # --- helpers ---
    def sub(self):
        s = live_subs(self.e)
        return s[0] if len(s) == 1 else None

    def booked(self, start):
        b = self.e.book(self.svc["id"], start=start).json
        b = self.e.wait_meetings([b["id"]])[0]
        until(self.sub, what="a live subscription")
        self.settle()
        return b

    def settle(self):
        """meetlink's own changes of its events are notified too: their syncs done."""
        self.e.wait_idle(kinds=("provider.sync",))
        time.sleep(0.3)
        self.e.wait_idle(kinds=("provider.sync",))

    def host_change(self, eid, **kw):
        kw["event_id"] = eid
        r = self.e.sbc.post("/microsoft/_host/change", kw)
        self.assertEqual(r.status, 200, r)
        return r.json

    def audit(self, bid, typ):
        r = self.e.c.get("/v1/bookings/%s/events?limit=200" % bid)
        self.assertEqual(r.status, 200, r)
        return [x for x in r.json["data"] if x["type"] == typ]

    def hooks(self, typ, bid):
        return [x for x in Receiver.events
                if x.get("type") == typ and x["data"]["booking"]["id"] == bid]

    def notes(self):
        return ms_root(self.e).get("notify_log", [])

    def answered(self, rec_id, n=1, timeout=15):
        def f():
            r = [p for p in self.notes() if p["id"] == rec_id]
            return r and len(r[0]["attempts"]) >= n and r[0]["attempts"]
        return until(f, timeout, "the notification's answer")

    def jobs(self, kind):
        return [j for s in ("queued", "running", "done", "failed")
                for j in self.e.jobs(s) if j["kind"] == kind]

    def reads(self, eid):
        return [r for r in self.e.sb_requests(provider="microsoft", method="GET", limit=2000)
                if r["path"].startswith("/microsoft/v1.0/me/events/")
                and urllib.parse.unquote(r["path"].split("/")[-1].split("?")[0]) == eid]

    # --- tests ---
    def test_subscription_made_after_the_handshake(self):
        b = self.booked("2026-12-20T15:00:00Z")
        s = self.sub()
        self.assertEqual(s["notificationUrl"], self.e.d.url + "/webhooks/microsoft")
        self.assertEqual((s["resource"], s["changeType"]), ("me/events", "updated,deleted"))
        self.assertRegex(s["clientState"], CLIENT_STATE)
        # Graph checked the address first: meetlink echoed the token as plain text.
        v = ms_root(self.e)["validations"]
        self.assertTrue(v and v[-1]["ok"], v[-1:])
        self.assertEqual(v[-1]["status"], 200)
        self.assertTrue(v[-1]["content_type"].startswith("text/plain"), v[-1])
        self.assertIn(" ", v[-1]["token"])  # decoded, as sent
        # Under 4230 minutes (Outlook events' maximum).
        exp = time.mktime(time.strptime(s["expirationDateTime"][:19], "%Y-%m-%dT%H:%M:%S")) \
            - time.timezone
        self.assertLessEqual(exp - time.time(), 4230 * 60 + 5)
        # The meeting is an Outlook event with Teams; the secret is nowhere in the log.
        ev = ms_root(self.e)["events"]["ada@sandbox.onmicrosoft.com"][event_id(b)]
        self.assertEqual(ev["onlineMeeting"]["joinUrl"], b["meeting"]["join_url"])
        self.assertNotIn(s["clientState"].split(".")[1], self.e.d.logs())
        # The handshake straight at meetlink: decoded, echoed, text/plain; bad ones refused.
        anon = Client(self.e.d.host, self.e.d.port)
        r = anon.post("/webhooks/microsoft?validationToken=" +
                      urllib.parse.quote("Validation: a b<c>"), raw=b"",
                      headers={"Content-Type": "text/plain; charset=utf-8"})
        self.assertEqual(r.status, 200, r)
        self.assertTrue((r.header("Content-Type") or "").startswith("text/plain"), r.headers)
        self.assertEqual(r.body, b"Validation: a b<c>")
        r = anon.post("/webhooks/microsoft?validationToken=%0a", raw=b"")
        self.assertEqual((r.status, r.json["error"]["field"]), (400, "validationToken"))

    def test_delete_in_outlook_reported(self):
        b = self.booked("2026-12-21T15:00:00Z")
        eid = event_id(b)
        t0 = time.time()
        self.host_change(eid, action="delete")
        got = until(lambda: (lambda x: x if x["meeting"]["status"] == "error" else None)(
            self.e.booking(b["id"])), what="the deletion reported")
        self.assertLess(time.time() - t0, 60)
        self.assertEqual(got["meeting"]["error"]["code"], "meeting_deleted_at_provider")
        self.assertEqual(got["status"], "confirmed")
        aud = self.audit(b["id"], "meeting.deleted_at_provider")
        self.assertEqual(len(aud), 1, aud)
        self.assertEqual(aud[0]["data"]["detected_by"], "graph_notification")
        self.assertEqual(aud[0]["actor"], "provider:teams")
        until(lambda: self.hooks("meeting.deleted_at_provider", b["id"]), what="webhook out")
        # meetlink read the event back (404) rather than trust the notification.
        self.assertTrue([r for r in self.reads(eid) if r["status"] == 404], self.reads(eid))
        # The notification was answered 202 at once.
        rec = [p for p in self.notes() if p["event_id"] == eid and p["change_type"] == "deleted"]
        a = self.answered(rec[-1]["id"])
        self.assertEqual(a[0]["status"], 202, a)
        self.assertTrue(a[0]["answer"]["sync_queued"])

    def test_move_in_outlook_reported_then_reschedule_matches(self):
        b = self.booked("2026-12-22T15:00:00Z")
        self.host_change(event_id(b), action="move", start="2026-12-22T17:00:00Z",
                         end="2026-12-22T18:00:00Z")
        got = until(lambda: (lambda x: x if x["meeting"].get("moved_at_provider") else None)(
            self.e.booking(b["id"])), what="the move reported")
        mv = got["meeting"]["moved_at_provider"]
        self.assertEqual((mv["start"], mv["end"]), ("2026-12-22T17:00:00Z", "2026-12-22T18:00:00Z"))
        self.assertEqual(got["start"], b["start"])
        self.assertEqual(got["meeting"]["status"], "ready")
        self.assertEqual(len(self.audit(b["id"], "meeting.moved_at_provider")), 1)
        hk = until(lambda: self.hooks("meeting.moved_at_provider", b["id"]), what="webhook")
        self.assertEqual(hk[0]["data"]["details"]["start"], "2026-12-22T17:00:00Z")
        r = self.e.c.post("/v1/bookings/%s/reschedule" % b["id"],
                          {"start": "2026-12-22T17:00:00Z", "end": "2026-12-22T18:00:00Z",
                           "allow_overlap": True})
        self.assertIn(r.status, (200, 202), r)
        until(lambda: "moved_at_provider" not in self.e.booking(b["id"])["meeting"],
              what="the flag cleared")
        self.assertEqual(len(self.audit(b["id"], "meeting.moved_at_provider")), 1)

    def test_forged_client_state_no_effect(self):
        b = self.booked("2026-12-23T15:00:00Z")
        s = self.sub()
        before = len(self.jobs("provider.sync"))
        r = self.e.sbc.post("/microsoft/_host/notify", {"subscription_id": s["id"],
                                                        "event_id": event_id(b),
                                                        "change_type": "deleted",
                                                        "forge": True})
        self.assertEqual(r.status, 201, r)
        a = self.answered(r.json["id"])
        self.assertEqual(a[0]["status"], 401, a)
        self.assertEqual(a[0]["answer"]["error"]["code"], "invalid_client_state")
        anon = Client(self.e.d.host, self.e.d.port)
        note = json.loads(json.dumps(r.json["body"]))
        chan = s["clientState"].split(".")[0]
        # Another channel's id with a made-up secret; the right channel with a wrong one.
        for cs in ("mlw" + "0" * 32 + "." + "A" * 43, chan + "." + "B" * 43):
            note["value"][0]["clientState"] = cs
            self.assertEqual(anon.post("/webhooks/microsoft", note).status, 401)
        # The right secret with another subscription's id: verified, yet not the watch's.
        note["value"][0]["clientState"] = s["clientState"]
        note["value"][0]["subscriptionId"] = "00000000-0000-0000-0000-000000000000"
        r = anon.post("/webhooks/microsoft", note)
        self.assertEqual((r.status, r.json["unknown"], r.json["sync_queued"]), (202, 1, False), r)
        # Malformed: 400 naming the field.
        bad = {"value": [dict(note["value"][0], changeType="exploded")]}
        r = anon.post("/webhooks/microsoft", bad)
        self.assertEqual((r.status, r.json["error"]["field"]), (400, "value[0].changeType"))
        self.assertEqual(anon.post("/webhooks/microsoft", {"value": []}).status, 400)
        time.sleep(0.5)
        self.assertEqual(len(self.jobs("provider.sync")), before)
        self.assertEqual(self.e.booking(b["id"])["meeting"]["status"], "ready")
        self.assertNotIn(s["clientState"].split(".")[1], self.e.d.logs())

    def test_duplicated_and_replayed_one_effect(self):
        b = self.booked("2026-12-24T15:00:00Z")
        self.e.fault(provider="microsoft", direction="out", event="deleted", duplicate=True,
                     count=1)
        self.host_change(event_id(b), action="delete")
        until(lambda: self.e.booking(b["id"])["meeting"]["status"] == "error", what="reported")
        recs = [p for p in self.notes() if p.get("fault") == "duplicated"]
        self.assertTrue(recs)
        a = self.answered(recs[-1]["id"], 2)
        self.assertEqual(sorted(x["answer"]["duplicates"] for x in a), [0, 1], a)
        # Graph redelivering the same notification later: handled once too.
        r = self.e.sbc.post("/microsoft/_host/notify", {"notification_id": recs[-1]["id"]})
        self.assertEqual(r.status, 201, r)
        a = self.answered(r.json["id"])
        self.assertEqual((a[0]["status"], a[0]["answer"]["duplicates"]), (202, 1), a)
        time.sleep(0.5)
        self.assertEqual(len(self.audit(b["id"], "meeting.deleted_at_provider")), 1)
        self.assertEqual(len(self.hooks("meeting.deleted_at_provider", b["id"])), 1)

    def test_killed_between_receiving_and_applying(self):
        b = self.booked("2026-12-25T15:00:00Z")
        eid = event_id(b)
        # The read-back hangs: the notification is answered (its job durable), then the
        # daemon dies before the job can apply anything.
        self.e.fault(provider="microsoft", method="GET", path="/microsoft/v1.0/me/events/*",
                     latency_ms=4000, count=1)
        self.host_change(eid, action="delete")
        rec = until(lambda: [p for p in self.notes() if p["event_id"] == eid
                             and p["change_type"] == "deleted"], what="the notification")
        a = self.answered(rec[0]["id"])
        self.assertEqual(a[0]["status"], 202, a)
        self.assertTrue(a[0]["answer"]["sync_queued"])
        time.sleep(0.3)
        self.e.d.env["MEETLINK_LISTEN"] = "127.0.0.1:%d" % self.e.d.port
        self.e.restart(kill=True)
        until(lambda: self.e.booking(b["id"])["meeting"]["status"] == "error", what="reported")
        time.sleep(1)
        self.assertEqual(len(self.audit(b["id"], "meeting.deleted_at_provider")), 1)
        until(lambda: self.hooks("meeting.deleted_at_provider", b["id"]), what="webhook")
        time.sleep(0.5)
        self.assertEqual(len(self.hooks("meeting.deleted_at_provider", b["id"])), 1)

    def test_host_own_events_not_read(self):
        """A change of an event meetlink did not make is answered and read nowhere."""
        self.booked("2026-12-26T15:00:00Z")
        g = Client(self.e.sb.host, self.e.sb.port, "eyJ0eXAiOiJKV1QiLCJzYiI6MX0.sandbox-ada")
        r = g.post("/microsoft/v1.0/me/events", {
            "subject": "Dentist", "start": {"dateTime": "2026-12-26T08:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-12-26T09:00:00", "timeZone": "UTC"}})
        self.assertEqual(r.status, 201, r)
        self.settle()
        before = len(self.jobs("provider.sync"))
        self.host_change(r.json["id"], action="delete")
        rec = until(lambda: [p for p in self.notes() if p["event_id"] == r.json["id"]],
                    what="the notification")
        a = self.answered(rec[-1]["id"])
        self.assertEqual((a[0]["status"], a[0]["answer"]["accepted"],
                          a[0]["answer"]["sync_queued"]), (202, 1, False), a)
        time.sleep(0.5)
        self.assertEqual(len(self.jobs("provider.sync")), before)
        self.assertEqual(self.reads(r.json["id"]), [])


class SubscriptionRenewal(unittest.TestCase):
    """The subscription is renewed in place (PATCH of its expiration) before it expires, on
    the sandbox's clock; made again if Graph lost it; removed once nothing is left to
    watch."""

    def test_renewed_then_removed(self):
        e = Env({"MEETLINK_WATCH_TTL_SECONDS": "8", "MEETLINK_LOG_LEVEL": "warn"})
        try:
            h, s = e.setup("teams")
            b = e.book(s["id"], start="2026-12-27T15:00:00Z").json
            b = e.wait_meetings([b["id"]])[0]
            first = until(lambda: live_subs(e), what="a subscription")[0]
            exp0 = first["expirationDateTime"]
            # Renewed before it expires: the same subscription, a later expiration.
            renewed = until(lambda: [x for x in live_subs(e) if x["id"] == first["id"]
                                     and x.get("renewals", 0) >= 1], timeout=15,
                            what="a renewal")[0]
            self.assertGreater(renewed["expirationDateTime"], exp0)
            patches = [r for r in e.sb_requests(provider="microsoft", method="PATCH")
                       if r["path"].startswith("/microsoft/v1.0/subscriptions/")]
            self.assertTrue(patches and patches[0]["status"] == 200, patches[:1])
            self.assertEqual(list(patches[0]["body"]), ["expirationDateTime"])
            # Still notified through it.
            r = e.sbc.post("/microsoft/_host/change", {"event_id": event_id(b),
                                                       "action": "delete"})
            self.assertEqual(r.status, 200, r)
            until(lambda: e.booking(b["id"])["meeting"]["status"] == "error", what="reported")
            # Graph loses the subscription: the next renewal makes a new one (same
            # clientState's channel), after the handshake again.
            b2 = e.book(s["id"], start="2026-12-28T15:00:00Z").json
            b2 = e.wait_meetings([b2["id"]])[0]
            cur = until(lambda: live_subs(e), what="a subscription")[0]
            st = e.sb_state("microsoft")
            root = st.get("microsoft", st)
            g = Client(e.sb.host, e.sb.port, "eyJ0eXAiOiJKV1QiLCJzYiI6MX0.sandbox-ada")
            self.assertEqual(g.delete("/microsoft/v1.0/subscriptions/" + cur["id"]).status, 204)
            new = until(lambda: [x for x in live_subs(e) if x["id"] != cur["id"]], timeout=15,
                        what="a new subscription")[0]
            self.assertEqual(new["clientState"], cur["clientState"])
            self.assertTrue(root["validations"])
            r = e.sbc.post("/microsoft/_host/change", {"event_id": event_id(b2),
                                                       "action": "move",
                                                       "start": "2026-12-28T16:00:00Z",
                                                       "end": "2026-12-28T17:00:00Z"})
            self.assertEqual(r.status, 200, r)
            until(lambda: e.booking(b2["id"])["meeting"].get("moved_at_provider"),
                  what="the move reported")
            # Nothing left to watch: the subscription is deleted at the next renewal.
            for bid in (b["id"], b2["id"]):
                r = e.c.post("/v1/bookings/%s/cancel" % bid, {})
                self.assertEqual(r.status, 200, r)
            until(lambda: not live_subs(e), timeout=20, what="the subscription removed")
            dels = [r for r in e.sb_requests(provider="microsoft", method="DELETE")
                    if r["path"].startswith("/microsoft/v1.0/subscriptions/")]
            self.assertTrue(dels)
        finally:
            e.close()


class Disconnect(unittest.TestCase):
    """The host disconnects Microsoft: the subscription is deleted at Graph at once (with the
    token, while it still works) and the watch goes; what Graph still sends for it is
    answered and ignored."""

    def test_subscription_removed_with_the_connection(self):
        e = Env({"MEETLINK_LOG_LEVEL": "warn"})
        try:
            h, s = e.setup("teams")
            b = e.book(s["id"], start="2026-12-30T15:00:00Z").json
            b = e.wait_meetings([b["id"]])[0]
            sub = until(lambda: live_subs(e), what="a subscription")[0]
            # meetlink has recorded it (the watch job's commit after Graph's answer).
            until(lambda: [j for j in e.jobs("done") if j["kind"] == "provider.watch"],
                  what="the subscription recorded")
            r = e.c.delete("/v1/hosts/%s/connections/teams" % h["id"])
            self.assertEqual(r.status, 200, r)
            self.assertEqual(live_subs(e), [])
            dels = [q for q in e.sb_requests(provider="microsoft", method="DELETE")
                    if q["path"] == "/microsoft/v1.0/subscriptions/" + sub["id"]]
            self.assertEqual([q["status"] for q in dels], [204], dels)
            # A late notification of it (the right secret, even): nothing to read.
            note = {"value": [{"subscriptionId": sub["id"], "clientState": sub["clientState"],
                               "changeType": "deleted", "resource": "Users/x/Events/y",
                               "resourceData": {"id": event_id(b)}}]}
            anon = Client(e.d.host, e.d.port)
            r = anon.post("/webhooks/microsoft", note)
            self.assertEqual((r.status, r.json["unknown"], r.json["sync_queued"]),
                             (202, 1, False), r)
            time.sleep(0.5)
            self.assertEqual(e.booking(b["id"])["meeting"]["status"], "ready")
        finally:
            e.close()


class OrgIsolation(unittest.TestCase):
    """Two organizations whose hosts connected the same mailbox: each has its own
    subscription; a change to one's event reports on its booking only."""

    def test_other_org_untouched(self):
        e = Env({"MEETLINK_LOG_LEVEL": "warn"})
        try:
            a = e.c
            b_client = Client(e.d.host, e.d.port, fixtures.create_key(e.d, "org-b"))
            ha, sa = e.setup("teams")
            ba = e.book(sa["id"], start="2026-12-29T15:00:00Z").json
            e.c = b_client
            hb, sb = e.setup("teams")
            bb = e.book(sb["id"], start="2026-12-29T15:00:00Z").json
            bb = e.wait_meetings([bb["id"]])[0]
            e.c = a
            ba = e.wait_meetings([ba["id"]])[0]
            until(lambda: len(live_subs(e)) == 2, what="a subscription per organization")
            r = e.sbc.post("/microsoft/_host/change", {"event_id": event_id(ba),
                                                       "action": "delete"})
            self.assertEqual(r.status, 200, r)
            until(lambda: e.booking(ba["id"])["meeting"]["status"] == "error", what="A reported")
            time.sleep(1.5)
            rb = b_client.get("/v1/bookings/" + bb["id"])
            self.assertEqual(rb.json["meeting"]["status"], "ready")
            ev = b_client.get("/v1/bookings/%s/events?limit=200" % bb["id"]).json["data"]
            self.assertFalse([x for x in ev if "provider" in x["type"]], ev)
            ra = a.get("/v1/bookings/%s/events?limit=200" % ba["id"]).json["data"]
            self.assertEqual(len([x for x in ra if x["type"] == "meeting.deleted_at_provider"]), 1)
        finally:
            e.close()


if __name__ == "__main__":
    main()
