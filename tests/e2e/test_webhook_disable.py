"""Webhook endpoints that fail for days are disabled: here "days" are shortened with
MEETLINK_WEBHOOK_DISABLE_AFTER_HOURS=0.0005 (1.8 s) against a loopback receiver answering 500.

- The endpoint turns `disabled` (GET and the list show it, with failing_since and
  disabled_at); the audit trail has `webhook_endpoint.disabled`; the organization's other
  endpoint that subscribes gets the signed `webhook_endpoint.disabled` event (and the failing
  one does not); the endpoint's contact_email gets a message (a real SMTP server here).
- While disabled, new events are not sent to it, and redelivery answers 409.
- PATCH {"enabled": true} enables it again with a fresh clock; the next event arrives.
- A receiver that fails but succeeds in between is never disabled."""

import json
import os

import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixtures as fx  # noqa: E402
import mailutil  # noqa: E402
import harness  # noqa: E402
from harness import Client, main, start_daemon  # noqa: E402
from test_webhooks_out import Receiver, verify  # noqa: E402


class WebhookDisable(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.smtp = mailutil.SMTPServer().start()
        cls.rx = Receiver()
        cls.d = start_daemon(env={"MEETLINK_RETRY_BASE_MS": "100",
                                  "MEETLINK_WEBHOOK_DISABLE_AFTER_HOURS": "0.0005",
                                  "MEETLINK_SMTP_URL": cls.smtp.url(),
                                  "MEETLINK_SMTP_FROM": "meetlink <noreply@example.test>"})
        cls.a = Client(cls.d.host, cls.d.port, cls.d.api_key)

    @classmethod
    def tearDownClass(cls):
        cls.d.close()
        cls.rx.close()
        cls.smtp.stop()

    def endpoint(self, path, **kw):
        r = self.a.post("/v1/webhook-endpoints", dict({"url": self.rx.url(path)}, **kw))
        self.assertEqual(r.status, 201, r)
        return r.json

    def audit(self, type_):
        return [(actor, json.loads(data)) for actor, data in harness.store_query(
            self.d.env["MEETLINK_DB"], "SELECT actor, data FROM audit_events WHERE type = ?",
            (type_,))]

    def test_failing_endpoint_is_disabled_told_and_enabled_again(self):
        a, rx = self.a, self.rx
        rx.script["/bad"] = [500] * 1000
        bad = self.endpoint("/bad", events=["booking.*"], contact_email="ops@example.test")
        self.assertEqual((bad["status"], bad["failing_since"], bad["contact_email"]),
                         ("enabled", None, "ops@example.test"))
        watcher = self.endpoint("/watch", events=["webhook_endpoint.disabled"])
        _, s = fx.setup_jitsi(a)
        fx.booking(a, s["id"])

        def disabled():
            ep = a.get("/v1/webhook-endpoints/" + bad["id"]).json
            return ep["status"] == "disabled" and ep
        ep = fx.wait_for(disabled, timeout=30, what="the endpoint disabled")
        self.assertIsNotNone(ep["failing_since"])
        self.assertIsNotNone(ep["disabled_at"])
        listed = {e["id"]: e["status"] for e in a.get("/v1/webhook-endpoints").json["data"]}
        self.assertEqual(listed, {bad["id"]: "disabled", watcher["id"]: "enabled"})
        # It really failed for the whole window, every attempt (all 500s).
        dl = a.get("/v1/webhook-endpoints/%s/deliveries" % bad["id"]).json["data"]
        self.assertTrue(dl)
        self.assertTrue(all(x["status"] == 500 for d in dl for x in d["attempts"]))
        n_attempts = len(rx.on("/bad"))
        self.assertGreaterEqual(n_attempts, 3)

        # The audit trail.
        ev = fx.wait_for(lambda: self.audit("webhook_endpoint.disabled"), what="audit")
        self.assertEqual(len(ev), 1)
        actor, data = ev[0]
        self.assertEqual(actor, "worker")
        self.assertEqual(data["endpoint_id"], bad["id"])
        self.assertEqual(data["url"], bad["url"])
        self.assertIn("500", data["last_error"])

        # The other endpoint hears of it, signed; the failing one is not sent its own news.
        (h, body), = rx.wait("/watch", 1)
        self.assertTrue(verify(watcher["secret"], h, body))
        payload = json.loads(body)
        self.assertEqual(payload["type"], "webhook_endpoint.disabled")
        self.assertEqual(payload["data"]["endpoint_id"], bad["id"])
        self.assertFalse([b for _, b in rx.on("/bad")
                          if json.loads(b)["type"] == "webhook_endpoint.disabled"])

        # The contact is emailed.
        def mail():
            with self.smtp.lock:
                return [m for m in self.smtp.messages if "ops@example.test" in m.rcpt_tos]
        (m,) = fx.wait_for(mail, what="the email to the contact")
        self.assertIn("disabled", m.msg["Subject"])
        self.assertIn(bad["url"], m.msg["Subject"])
        text = m.msg.get_body(preferencelist=("plain",)).get_content()
        self.assertIn(bad["id"], text)
        self.assertIn('"enabled": true', text)

        # Disabled: new events do not reach it; redelivery is refused.
        time.sleep(0.5)
        n_attempts = len(rx.on("/bad"))
        fx.booking(a, s["id"])
        time.sleep(1.5)
        self.assertEqual(len(rx.on("/bad")), n_attempts, "a disabled endpoint was sent to")
        dl = a.get("/v1/webhook-endpoints/%s/deliveries" % bad["id"]).json["data"]
        r = a.post("/v1/webhook-endpoints/%s/deliveries/%s/redeliver" % (bad["id"],
                                                                          dl[0]["id"]))
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.json["error"]["code"], "endpoint_disabled")

        # Enabled again: a fresh clock, and the next event is delivered.
        rx.script["/bad"] = []
        r = a.patch("/v1/webhook-endpoints/" + bad["id"], {"enabled": True})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["status"], r.json["failing_since"], r.json["disabled_at"]),
                         ("enabled", None, None))
        bk = fx.booking(a, s["id"])

        def arrived():
            return [b for _, b in rx.on("/bad")
                    if json.loads(b)["data"].get("booking", {}).get("id") == bk["id"]]
        fx.wait_for(arrived, what="a delivery after enabling")
        self.assertEqual(len(self.audit("webhook_endpoint.enabled")), 1)
        self.assertEqual(a.get("/v1/webhook-endpoints/" + bad["id"]).json["status"], "enabled")

    def test_success_in_between_keeps_it_enabled(self):
        a, rx = self.a, self.rx
        # Fails, then succeeds, then fails again: no run of failures spans the window.
        rx.script["/flaky"] = [500, 500, 200, 500, 200]
        ep = self.endpoint("/flaky", events=["booking.created"])
        _, s = fx.setup_jitsi(a)
        fx.booking(a, s["id"])
        fx.booking(a, s["id"])
        rx.wait("/flaky", 5, timeout=30)
        time.sleep(2.5)  # longer than the window
        got = a.get("/v1/webhook-endpoints/" + ep["id"]).json
        self.assertEqual(got["status"], "enabled")
        self.assertIsNone(got["failing_since"])


if __name__ == "__main__":
    main()
