"""Instant meetings (issue 18 §4): POST /v1/bookings with "start": "now" creates a confirmed
booking starting at the server's time, its meeting made at once (Jitsi in the answer; Teams
through the pipeline, ahead of a backlog of scheduled creates for the same mailbox), and a
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
    """One mailbox, one Graph call at a time, each taking 150 ms: 25 scheduled creates queue
    behind each other; an instant meeting made meanwhile is received by the provider ahead of
    the scheduled creates still waiting. (The deferrals of the per-mailbox limiter already
    mix the waiting jobs' order, so this ordering also held in a run without the priority;
    tests/unit/queue/test_jobs.c (test_run_first) and test_limiter.c
    (test_first_holds_the_next_slot) prove the two mechanisms by order.)"""

    BACKLOG = 25

    @classmethod
    def setUpClass(cls):
        cls.e = Env({"MEETLINK_TEAMS_MAX_INFLIGHT": "1"})

    @classmethod
    def tearDownClass(cls):
        cls.e.close()

    def test_instant_goes_before_the_backlog(self):
        e = self.e
        create = "/microsoft/v1.0/me/onlineMeetings/createOrGet"
        h, s = e.setup("teams", connect=True)
        e.fault(provider="microsoft", method="POST", path=create, latency_ms=150)
        backlog = [e.book(s["id"], start="2027-07-%02dT10:00:00Z" % (i + 1)).json["id"]
                   for i in range(self.BACKLOG)]

        def creates():
            out = []
            for r in sorted(e.sb_requests(provider="microsoft", method="POST", limit=2000),
                            key=lambda r: r["id"]):
                if r["path"] != create or not isinstance(r.get("body"), dict):
                    continue
                ext = r["body"].get("externalId") or ""
                bid = ext[len("meetlink-"):].rsplit("-", 1)[0]
                if not out or out[-1] != bid:  # a repeat of the same create counts once
                    out.append(bid)
            return out

        done_before = set(creates())
        r = e.c.post("/v1/bookings", {"service_id": s["id"], "start": "now",
                                      "customer": {"name": "G", "email": "g@example.test"}})
        self.assertEqual(r.status, 202, r)
        bid = r.json["id"]
        self.assertEqual(r.json["status"], "confirmed")
        self.assertEqual(r.json["meeting"]["status"], "pending")
        waiting = self.BACKLOG - len(done_before)
        self.assertGreaterEqual(waiting, 10, "a real backlog when the instant one came")
        ready = e.wait_meetings([bid], timeout=60)[0]
        self.assertTrue(ready["meeting"]["join_url"])
        e.wait_meetings(backlog, timeout=120)
        order = creates()
        self.assertIn(bid, order, "the provider received the create")
        pos = order.index(bid)
        after = [x for x in order[pos + 1:] if x in backlog]
        # Ahead of every scheduled create still waiting, but the one or two under way.
        self.assertGreaterEqual(len(after), waiting - 3, (len(done_before), pos, order))


if __name__ == "__main__":
    main()
