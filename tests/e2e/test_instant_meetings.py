"""Instant meetings (issue 18 §4): POST /v1/bookings with "start": "now" creates a confirmed
booking starting at the server's time, its meeting made at once (Jitsi in the answer; Teams
through the pipeline, taken before a backlog of scheduled creates for the same mailbox queued
earlier: the next create the provider receives once the mailbox's slot frees), and a
"join now" email with the host's optional message to every participant, each with their own
link. Bad input names its field; conflicts apply."""

import datetime
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixtures as fx  # noqa: E402
import mailutil  # noqa: E402
from harness import Client, error_lines, main, start_daemon  # noqa: E402
from pipeline import Env  # noqa: E402
from test_notify_email import JITSI, by_rcpt  # noqa: E402

MESSAGE = 'Running late? <b>Bring</b> the "notes" & your questions.\nSee you now.'


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc)


def parse_time(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


class InstantJitsi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.smtp = mailutil.SMTPServer().start()
        env = dict(JITSI, MEETLINK_SMTP_URL="smtp://127.0.0.1:%d" % cls.smtp.port,
                   MEETLINK_SMTP_FROM="Meet Link <noreply@example.test>")
        cls.d = start_daemon(env=env)
        cls.c = Client(cls.d.host, cls.d.port, cls.d.api_key)

    @classmethod
    def tearDownClass(cls):
        cls.smtp.stop()
        errors = error_lines(cls.d.logs())
        cls.d.close()
        assert not errors, "\n".join(errors)

    n = 0

    def instant(self, s, **kw):
        InstantJitsi.n += 1
        body = {"service_id": s["id"], "start": "now", "title": "Math with Ada",
                "customer": {"name": "Grace Hopper", "email": "grace%d@example.test" % self.n},
                "attendees": [{"name": "Alan Turing", "email": "alan%d@example.test" % self.n}]}
        body.update(kw)
        return self.c.post("/v1/bookings", body)

    def mail_to(self, people, n):
        """The messages to these addresses (other tests' mail may arrive meanwhile)."""
        def mine():
            ms = [m for m in self.smtp.messages if m.rcpt_tos[0] in people]
            return ms if len(ms) >= n else None
        ms = fx.wait_for(mine, what="%d messages" % n)
        time.sleep(0.2)
        self.assertEqual(len([m for m in self.smtp.messages if m.rcpt_tos[0] in people]), n)
        return ms

    def test_join_now_email_with_message(self):
        h, s = fx.setup_jitsi(self.c)
        before = now_utc().replace(microsecond=0)
        r = self.instant(s, message=MESSAGE)
        after = now_utc()
        self.assertEqual(r.status, 201, r)
        b = r.json
        self.assertEqual(b["status"], "confirmed")
        self.assertEqual(b["meeting"]["status"], "ready")
        self.assertTrue(b["meeting"]["join_url"].startswith("https://meet.school.test/"))
        start = parse_time(b["start"])
        self.assertTrue(before <= start <= after, (before, b["start"], after))
        self.assertEqual(start.microsecond, 0, "whole seconds")
        self.assertEqual(parse_time(b["end"]) - start, datetime.timedelta(minutes=50))
        self.assertEqual(b["instant"], {"message": MESSAGE})
        people = {p["email"]: p for p in
                  self.c.get("/v1/bookings/%s/participants" % b["id"]).json["data"]}
        self.assertEqual(len(people), 3)
        got = by_rcpt(self.mail_to(people, 3))
        self.assertEqual(sorted(got), sorted(people), "one message per participant")
        links = set()
        for rcpt, ms in got.items():
            self.assertEqual(len(ms), 1)
            msg = ms[0].msg
            self.assertEqual(str(msg["Subject"]), "Join now: Math with Ada is happening now")
            text, html, _ = mailutil.parts(msg)
            self.assertIn("is happening now", text)
            self.assertIn(MESSAGE.replace("\n", "\r\n"), text)  # CRLF on the wire
            self.assertNotIn("<b>", html)
            self.assertIn("&lt;b&gt;Bring&lt;/b&gt; the &quot;notes&quot; &amp; your", html)
            # Each recipient's own link, as the invitation code makes it (the gateway's).
            mine = [w for w in text.split() if w.startswith(self.d.url + "/j/")]
            self.assertEqual(len(mine), 1, text)
            self.assertEqual(mine[0], people[rcpt]["join_url"], "each recipient's own link")
            self.assertIn(mine[0], html)
            links.add(mine[0])
        self.assertEqual(len(links), 3)
        def sent_events():
            evs = self.c.get("/v1/bookings/%s/events" % b["id"]).json["data"]
            sent = [e for e in evs if e["type"] == "email.sent"]
            return sent if len(sent) == 3 else None
        sent = fx.wait_for(sent_events, what="email.sent x3")
        self.assertTrue(all(e["data"]["template"] == "join_now" for e in sent))

        # Without a message: no message paragraph.
        h2, s2 = fx.setup_jitsi(self.c)
        r = self.instant(s2, attendees=[])
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["instant"], {"message": None})
        for m in self.mail_to({h2["email"], r.json["customer"]["email"]}, 2):
            text, html, _ = mailutil.parts(m.msg)
            self.assertNotIn("A message from", text)
            self.assertIn("is happening now", text)

        # A scheduled booking still gets the ordinary invitation.
        _, s3 = fx.setup_jitsi(self.c)
        b2 = fx.booking(self.c, s3["id"], start="2027-06-01T10:00:00Z", status="confirmed",
                        customer={"name": "Lin", "email": "lin-scheduled@example.test"})
        self.assertNotIn("instant", b2)
        for m in self.mail_to({b2["organizer"]["email"], "lin-scheduled@example.test"}, 2):
            self.assertTrue(str(m.msg["Subject"]).startswith("Invitation: "), m.msg["Subject"])

    def test_conflicts_apply(self):
        _, s = fx.setup_jitsi(self.c)
        first = self.instant(s).json
        r = self.instant(s)
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.json["error"]["code"], "booking_conflict")
        self.assertEqual(r.json["error"]["conflicting_booking"]["id"], first["id"])
        r = self.instant(s, allow_overlap=True)
        self.assertEqual(r.status, 201, r)

    def test_bad_input_names_the_field(self):
        _, s = fx.setup_jitsi(self.c)
        cases = [({"start": "later"}, "start"),
                 ({"start": "NOW"}, "start"),
                 ({"start": "now", "status": "pending"}, "status"),
                 ({"start": "now", "message": 42}, "message"),
                 ({"start": "now", "message": "x" * 1001}, "message"),
                 ({"start": "now", "message": "a\x1bb"}, "message"),
                 ({"start": "2027-06-01T10:00:00Z", "message": "hi"}, "message"),
                 ({"start": "now", "end": "2020-01-01T00:00:00Z"}, "end")]
        for extra, field in cases:
            with self.subTest(extra=extra):
                r = self.instant(s, **extra)
                self.assertEqual(r.status, 400, r)
                self.assertEqual(r.json["error"]["field"], field, r.json)
        lst = self.c.get("/v1/bookings?service_id=" + s["id"]).json["data"]
        self.assertEqual(lst, [], "nothing was created")


class InstantTeams(unittest.TestCase):
    """One mailbox, one Graph call at a time (MEETLINK_TEAMS_MAX_INFLIGHT=1). A first create
    holds the mailbox's only slot for seconds (a slow Graph answer); meanwhile a backlog of
    BACKLOG scheduled creates queues behind it (each deferred by the limiter, polling for the
    slot), then an instant meeting is made. The provider must receive the instant meeting's
    create first once the slot frees, before every create of the backlog queued earlier.
    Without the priority (the limiter keeping the next free slot for it) it is one of
    BACKLOG + 1 equal pollers: taken first about one time in BACKLOG + 1."""

    BACKLOG = 40
    HOLD_MS = 5000

    @classmethod
    def setUpClass(cls):
        # The slow answer must not end the call (the pipeline tests' 1.5 s timeout).
        cls.e = Env({"MEETLINK_TEAMS_MAX_INFLIGHT": "1", "MEETLINK_PROVIDER_TIMEOUT_MS": "20000"})

    @classmethod
    def tearDownClass(cls):
        cls.e.close()

    def test_instant_goes_before_the_backlog(self):
        e = self.e
        create = "/microsoft/v1.0/me/events"
        h, s = e.setup("teams", connect=True)

        def creates():
            """The bookings whose create the provider received, in order of arrival."""
            out = []
            for r in sorted(e.sb_requests(provider="microsoft", method="POST", limit=2000),
                            key=lambda r: r["id"]):
                if r["path"] != create or not isinstance(r.get("body"), dict):
                    continue
                ext = r["body"].get("transactionId") or ""
                bid = ext[len("meetlink-"):].rsplit("-", 1)[0]
                if bid not in out:  # a repeat of the same create counts once
                    out.append(bid)
            return out

        # The first create is answered after HOLD_MS: the slot stays taken meanwhile.
        e.fault(provider="microsoft", method="POST", path=create, latency_ms=self.HOLD_MS,
                count=1)
        blocker = e.book(s["id"], start="2027-06-30T10:00:00Z").json["id"]
        time.sleep(0.5)  # its create has taken the slot (the log records answered requests)
        backlog = [e.book(s["id"], start="2027-07-%02dT%02d:00:00Z" % (i % 28 + 1, 8 + i // 28))
                   .json["id"] for i in range(self.BACKLOG)]
        time.sleep(0.4)  # every backlog create has tried the slot and waits
        r = e.c.post("/v1/bookings", {"service_id": s["id"], "start": "now",
                                      "customer": {"name": "G", "email": "g@example.test"}})
        self.assertEqual(r.status, 202, r)
        bid = r.json["id"]
        self.assertEqual(r.json["status"], "confirmed")
        self.assertEqual(r.json["meeting"]["status"], "pending")
        self.assertEqual(creates(), [],
                         "the blocker still held the slot, the whole backlog queued, when the "
                         "instant one came (else the machine is too slow for HOLD_MS)")
        ready = e.wait_meetings([bid], timeout=60)[0]
        self.assertTrue(ready["meeting"]["join_url"])
        e.wait_meetings(backlog, timeout=180)
        order = creates()
        self.assertEqual(sorted(order), sorted([blocker, bid] + backlog))
        self.assertEqual(order[0], blocker, "the slot's holder answered first")
        self.assertEqual(order.index(bid), 1,
                         "the instant create goes right after the one holding the slot, "
                         "before all %d queued earlier: %d went before it" %
                         (self.BACKLOG, order.index(bid) - 1))


if __name__ == "__main__":
    main()
