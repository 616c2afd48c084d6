"""Invitation emails end to end, against a real SMTP server (aiosmtpd, with AUTH): confirm,
reschedule and cancel a booking and check what each participant receives, parsed by Python's
MIME parser, with the calendar part parsed by libical (tests/tools/ics_check.c). Also: a mail
server that is down for a while loses nothing; mail queued without a configured server goes
out once the daemon starts with one; organization templates replace the defaults, with every
value HTML-escaped."""

import base64
import json
import os
import shutil
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixtures as fx  # noqa: E402
import mailutil  # noqa: E402
from harness import Client, main, start_daemon  # noqa: E402

USER, PASSWORD = "meet@link", "s3cret/pw:x"
JITSI = {"MEETLINK_JITSI_DOMAIN": "meet.school.test", "MEETLINK_JITSI_APP_ID": "meetlink-app",
         "MEETLINK_JITSI_APP_SECRET": "prosody-shared-secret-for-tests"}
EVIL = "<script>alert(1)</script> Grace"


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def smtp_url(port):
    return "smtp://%s:%s@127.0.0.1:%d" % (urllib.parse.quote(USER, safe=""),
                                          urllib.parse.quote(PASSWORD, safe=""), port)


def by_rcpt(msgs):
    out = {}
    for m in msgs:
        out.setdefault(m.rcpt_tos[0], []).append(m)
    return out


def events(c, bid, type_):
    r = c.get("/v1/bookings/%s/events" % bid)
    return [e for e in r.json["data"] if e["type"] == type_]


class InvitationEmails(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.smtp = mailutil.SMTPServer(user=USER, password=PASSWORD).start()
        env = dict(JITSI, MEETLINK_SMTP_URL=smtp_url(cls.smtp.port),
                   MEETLINK_SMTP_FROM="Meet Link <noreply@example.test>",
                   MEETLINK_RETRY_BASE_MS="100")
        cls.d = start_daemon(env=env)
        cls.c = Client(cls.d.host, cls.d.port, cls.d.api_key)

    @classmethod
    def tearDownClass(cls):
        cls.smtp.stop()
        logs = cls.d.logs()
        cls.d.close()
        assert PASSWORD not in logs and urllib.parse.quote(PASSWORD, safe="") not in logs

    def check_message(self, m, booking, people, subject_prefix, method, sequence):
        msg = m.msg
        rcpt = m.rcpt_tos[0]
        person = people[rcpt]
        self.assertEqual(m.mail_from, "noreply@example.test")
        self.assertEqual(msg["To"].addresses[0].addr_spec, rcpt)
        self.assertEqual(msg["To"].addresses[0].display_name, person["name"])
        self.assertEqual(msg["From"].addresses[0].display_name, "Meet Link")
        self.assertTrue(str(msg["Subject"]).startswith(subject_prefix), msg["Subject"])
        self.assertIn("Math with Ada", str(msg["Subject"]))
        self.assertTrue(msg["Message-ID"].startswith("<job_"), msg["Message-ID"])
        self.assertIsNotNone(msg["Date"].datetime)
        self.assertEqual(msg["MIME-Version"], "1.0")
        for line in m.raw.split(b"\r\n"):
            self.assertLessEqual(len(line), 998)
        text, html, cal = mailutil.parts(msg)
        self.assertIsNotNone(cal, "the invitation is attached")
        self.assertEqual(cal.get_param("method"), method)
        self.assertEqual(cal.get_content_charset(), "utf-8")
        # Every value in HTML is escaped: the customer's name is text, never markup.
        self.assertNotIn("<script>", html)
        if person["role"] == "customer":
            self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt; Grace", html)
            self.assertIn(EVIL, text)
        ics = mailutil.ics_check(cal.get_content())
        self.assertEqual(ics["METHOD"], [method])
        host_part = urllib.parse.urlparse(self.d.url).hostname
        self.assertEqual(ics["UID"], ["%s@%s" % (booking["id"], host_part)])
        self.assertEqual(ics["SEQUENCE"], [str(sequence)])
        self.assertEqual(ics["DTSTART"], [booking["start"]])
        self.assertEqual(ics["DTEND"], [booking["end"]])
        self.assertEqual(ics["TZID"], ["Europe/London"])
        attendees = sorted(a.lower() for a in ics["ATTENDEE"])
        want = sorted("mailto:" + p for p, v in people.items() if v["role"] != "host")
        self.assertEqual(attendees, want)
        self.assertEqual(ics["ORGANIZER"], ["mailto:" + booking["organizer"]["email"]])
        if method == "REQUEST":
            # Each participant gets their own gateway link, in the body and in the
            # calendar; the platform's link (and its token) stays behind the gateway.
            links = [w for w in text.split() if w.startswith(self.d.url + "/j/")]
            self.assertEqual(len(links), 1, text)
            self.assertEqual(links[0], person["join_url"])
            self.assertNotIn("https://meet.school.test/", text)
            self.assertIn(links[0].replace("&", "&amp;"), html)
            self.assertEqual(ics["URL"], [links[0]])
            return links[0]
        self.assertEqual(ics["STATUS"], ["CANCELLED"])
        self.assertNotIn("jwt=", text)
        return None

    def test_invite_update_cancel(self):
        c = self.c
        h = fx.host(c, name="Ada Lovelace")
        s = fx.service(c, h["id"])
        b = fx.booking(c, s["id"], customer={"name": EVIL, "email": "grace@example.test"},
                       attendees=[{"name": "Jürgen Müller", "email": "jurgen@example.test"},
                                  {"name": "Alan, \"the\" Turing", "email": "alan@example.test"}])
        # Nothing is sent for a pending booking.
        time.sleep(0.3)
        self.assertEqual(self.smtp.messages, [])
        r = c.post("/v1/bookings/%s/confirm" % b["id"])
        self.assertEqual(r.status, 200, r)
        b = r.json
        people = {p["email"]: p for p in c.get("/v1/bookings/%s/participants" % b["id"]).json["data"]}
        self.assertEqual(len(people), 4)

        msgs = self.smtp.take(4)
        got = by_rcpt(msgs)
        self.assertEqual(sorted(got), sorted(people), "one message per participant")
        links = set()
        for rcpt, ms in got.items():
            self.assertEqual(len(ms), 1)
            links.add(self.check_message(ms[0], b, people, "Invitation: ", "REQUEST", 0))
        self.assertEqual(len(links), 4, "four different personal links")
        # Non-ASCII display names travel as encoded-words.
        raw = got["jurgen@example.test"][0].raw
        self.assertIn(b"To: =?UTF-8?", raw)
        self.assertTrue(all(b.isascii() for b in raw.split(b"\r\n\r\n", 1)[0].decode()))
        # SMTP AUTH with the credentials from the URL (percent-decoded).
        self.assertTrue(self.smtp.logins and all(ok for _, _, ok in self.smtp.logins))
        self.assertEqual(self.smtp.logins[0][1], USER)
        # Delivery state on the booking's trail, one email.sent per recipient.
        sent = fx.wait_for(lambda: len(events(c, b["id"], "email.sent")) == 4 and
                        events(c, b["id"], "email.sent"), what="email.sent x4")
        self.assertEqual(sorted(e["data"]["to"] for e in sent), sorted(people))
        self.assertTrue(all(e["data"]["template"] == "invitation" for e in sent))

        r = c.post("/v1/bookings/%s/reschedule" % b["id"], {"start": "2026-12-02T16:30:00Z"})
        self.assertEqual(r.status, 200, r)
        b2 = r.json
        self.assertEqual(b2["sequence"], 1)
        for m in self.smtp.take(4):
            self.check_message(m, b2, people, "Updated: ", "REQUEST", 1)

        r = c.post("/v1/bookings/%s/cancel" % b["id"], {"reason": "customer asked"})
        self.assertEqual(r.status, 200, r)
        b3 = r.json
        for m in self.smtp.take(4):
            self.check_message(m, b3, people, "Cancelled: ", "CANCEL", 2)
            text, _, _ = mailutil.parts(m.msg)
            self.assertIn("customer asked", text)
        time.sleep(0.3)
        self.assertEqual(self.smtp.messages, [], "nothing sent twice")

    def test_pending_cancel_and_offline(self):
        c = self.c
        h = fx.host(c)
        # A booking cancelled while pending had no invitation: nothing to withdraw.
        s = fx.service(c, h["id"])
        b = fx.booking(c, s["id"])
        c.post("/v1/bookings/%s/cancel" % b["id"], {})
        # An offline booking is invited on confirm, without any link.
        off = fx.service(c, h["id"], is_online=False, platform=None)
        b = fx.booking(c, off["id"], status="confirmed")
        msgs = self.smtp.take(2)
        self.assertEqual(sorted(m.rcpt_tos[0] for m in msgs),
                         sorted([h["email"], "grace@example.test"]))
        for m in msgs:
            text, html, cal = mailutil.parts(m.msg)
            self.assertNotIn("http", text)
            ics = mailutil.ics_check(cal.get_content())
            self.assertNotIn("URL", ics)
            self.assertIn(b["id"], ics["UID"][0])
        time.sleep(0.3)
        self.assertEqual(self.smtp.messages, [])

    def test_templates_per_organization(self):
        c = self.c
        tpl = {"subject": "Hallo {{recipient_name}} — {{title}}",
               "text": "Servus {{recipient_name}}: {{join_url}}",
               "html": "<h1>{{recipient_name}}</h1><a href=\"{{join_url}}\">{{title}}</a>"}
        r = c.put("/v1/templates/invitation", tpl)
        self.assertEqual(r.status, 200, r)
        try:
            h = fx.host(c)
            s = fx.service(c, h["id"])
            fx.booking(c, s["id"], status="confirmed",
                       customer={"name": EVIL, "email": "grace@example.test"})
            got = by_rcpt(self.smtp.take(2))
            m = got["grace@example.test"][0]
            self.assertEqual(str(m.msg["Subject"]), "Hallo %s — Math with Ada" % EVIL)
            self.assertIn(b"Subject: =?UTF-8?B?", m.raw)
            text, html, _ = mailutil.parts(m.msg)
            self.assertTrue(text.startswith("Servus %s: %s/j/" % (EVIL, self.d.url)))
            self.assertTrue(html.startswith("<h1>&lt;script&gt;alert(1)&lt;/script&gt; Grace</h1>"),
                            html)
        finally:
            r = c.delete("/v1/templates/invitation")
            self.assertEqual(r.status, 200, r)
            self.assertTrue(r.json["is_default"])


class StartTLSAndRefusals(unittest.TestCase):
    def test_starttls_and_a_refused_mailbox(self):
        tmp = tempfile.mkdtemp(prefix="ml-smtp-tls-")
        smtp = mailutil.SMTPServer(tls_context=mailutil.self_signed_context(tmp),
                                   reject={"nobody@example.test"}).start()
        d = start_daemon(env={"MEETLINK_SMTP_URL": smtp.url() + "?starttls=1&insecure=1",
                              "MEETLINK_RETRY_BASE_MS": "100"})
        try:
            c = Client(d.host, d.port, d.api_key)
            h = fx.host(c)
            s = fx.service(c, h["id"])
            b = fx.booking(c, s["id"], status="confirmed",
                           customer={"name": "Nobody", "email": "nobody@example.test"})
            # The host's copy went through STARTTLS (the server requires it before MAIL).
            msgs = smtp.wait(1)
            self.assertEqual([m.rcpt_tos[0] for m in msgs], [h["email"]])
            # The refused mailbox fails at once (550 is final), recorded on the trail.
            failed = fx.wait_for(lambda: events(c, b["id"], "email.failed"), what="email.failed")
            self.assertEqual(failed[0]["data"]["to"], "nobody@example.test")
            self.assertIn("550", failed[0]["data"]["error"])
            self.assertEqual(failed[0]["data"]["attempts"], 1)
            jobs = [j for j in c.get("/v1/jobs?state=failed").json["data"]
                    if j["kind"] == "email.send"]
            self.assertEqual(len(jobs), 1)
            time.sleep(0.3)
            self.assertEqual(len(smtp.messages), 1)
        finally:
            smtp.stop()
            d.close()
            shutil.rmtree(tmp, ignore_errors=True)


class MailServerOutage(unittest.TestCase):
    def test_down_then_up_loses_nothing(self):
        smtp = mailutil.SMTPServer()  # not started yet: connections are refused
        d = start_daemon(env={"MEETLINK_SMTP_URL": smtp.url(),
                              "MEETLINK_RETRY_BASE_MS": "100"})
        try:
            c = Client(d.host, d.port, d.api_key)
            h = fx.host(c)
            s = fx.service(c, h["id"])
            t0 = time.time()
            b = fx.booking(c, s["id"], status="confirmed")
            self.assertLess(time.time() - t0, 1.0, "a mail server that is down never slows the API")

            def retrying():
                jobs = c.get("/v1/jobs?limit=50").json["data"]
                mails = [j for j in jobs if j["kind"] == "email.send"]
                return len(mails) == 2 and all(j["attempts"] >= 2 and j["last_error"] and
                                               j["state"] == "queued" for j in mails) and mails
            mails = fx.wait_for(retrying, what="mail retrying")
            self.assertIn("SMTP", mails[0]["last_error"])
            smtp.start()
            msgs = smtp.wait(2, timeout=20)
            time.sleep(0.5)
            self.assertEqual(len(smtp.messages), 2, "each message delivered exactly once")
            self.assertEqual(sorted(m.rcpt_tos[0] for m in msgs),
                             sorted([h["email"], "grace@example.test"]))
            sent = fx.wait_for(lambda: len(events(c, b["id"], "email.sent")) == 2 and
                            events(c, b["id"], "email.sent"), what="email.sent")
            self.assertTrue(all(e["data"]["attempts"] >= 2 for e in sent))
        finally:
            smtp.stop()
            d.close()

    def test_unconfigured_then_configured(self):
        d = start_daemon(env={"MEETLINK_RETRY_BASE_MS": "100"})
        workdir = d.workdir
        d.own_workdir = False
        smtp = mailutil.SMTPServer().start()
        try:
            c = Client(d.host, d.port, d.api_key)
            h = fx.host(c)
            s = fx.service(c, h["id"])
            fx.booking(c, s["id"], status="confirmed")
            waiting = fx.wait_for(lambda: [j for j in c.get("/v1/jobs?state=waiting").json["data"]
                                        if j["kind"] == "email.send"], what="mail waiting")
            self.assertEqual(len(waiting), 2)
            self.assertIn("MEETLINK_SMTP_URL", waiting[0]["last_error"])
            d.close()
            d = start_daemon(env={"MEETLINK_SMTP_URL": smtp.url(),
                                  "MEETLINK_RETRY_BASE_MS": "100"}, workdir=workdir)
            msgs = smtp.wait(2)
            self.assertEqual(sorted(m.rcpt_tos[0] for m in msgs),
                             sorted([h["email"], "grace@example.test"]))
        finally:
            smtp.stop()
            d.own_workdir = True
            d.close()


if __name__ == "__main__":
    main()
