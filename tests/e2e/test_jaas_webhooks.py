"""JaaS webhooks (POST /webhooks/jaas) against the sandbox's JaaS sender: an event signed with
X-Jaas-Signature (t=..,v1=base64 HMAC-SHA256 over t.body, specs/jitsi/jitsi-notes.json) is
accepted once per idempotencyKey; a forged one is refused (401) and consumes nothing;
duplicated and reordered deliveries (the sandbox's outbound faults) are each handled once;
a stale timestamp and a malformed body are refused, naming why."""

import base64
import hashlib
import hmac
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import Client, main  # noqa: E402
from pipeline import Env  # noqa: E402

SECRET = "jaas-sandbox-webhook-secret"  # the sandbox's default, which meetlink uses with it


def jaas_sig(secret, t, raw):
    mac = hmac.new(secret.encode(), str(t).encode() + b"." + raw, hashlib.sha256).digest()
    return "t=%d,v1=%s" % (t, base64.b64encode(mac).decode())


class JaasWebhooks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.e = Env()
        cls.e.sb_config("jaas", webhook_url=cls.e.d.url + "/webhooks/jaas")
        cls.anon = Client(cls.e.d.host, cls.e.d.port)

    @classmethod
    def tearDownClass(cls):
        cls.e.close()

    def tearDown(self):
        self.e.clear_faults()

    def send(self, **kw):
        r = self.e.sbc.post("/jaas/_webhooks", kw)
        self.assertEqual(r.status, 201, r)
        return r.json

    def attempts(self, rid, n, timeout=15):
        deadline = time.time() + timeout
        while True:
            st = self.e.sb_state("jaas")
            st = st.get("jaas", st)
            rec = [w for w in st["webhooks"] if w["id"] == rid][0]
            if len(rec["attempts"]) >= n or time.time() > deadline:
                return rec["attempts"]
            time.sleep(0.05)

    def test_signed_event_accepted_once(self):
        rec = self.send(eventType="ROOM_CREATED", room="room-once")
        self.assertTrue(rec["payload"]["fqn"].endswith("/room-once"))
        a = self.attempts(rec["id"], 1)
        self.assertEqual(a[0]["status"], 200, a)
        self.assertEqual((a[0]["answer"]["received"], a[0]["answer"]["duplicate"]), (True, False))
        # What the sandbox sent carried the signature header in JaaS's form.
        out = [r for r in self.e.sb_requests(provider="jaas", direction="out")
               if r["body"]["idempotencyKey"] == rec["payload"]["idempotencyKey"]]
        self.assertEqual(len(out), 1)
        self.assertRegex(str(out[0]["headers"].get("X-Jaas-Signature")
                             or out[0]["headers"].get("x-jaas-signature")),
                         r"^(t=\d+,v1=[A-Za-z0-9+/=]{44}|\[redacted\])$")
        # JaaS redelivers with the same idempotencyKey: handled once.
        again = self.send(eventType="ROOM_CREATED", room="room-once",
                          idempotencyKey=rec["payload"]["idempotencyKey"])
        a = self.attempts(again["id"], 1)
        self.assertEqual(a[0]["status"], 200, a)
        self.assertTrue(a[0]["answer"]["duplicate"])

    def test_forged_signature_refused_and_consumes_nothing(self):
        rec = self.send(eventType="PARTICIPANT_JOINED", room="room-forged", forge=True,
                        data={"name": "Mallory", "id": "prt_x"})
        a = self.attempts(rec["id"], 1)
        self.assertEqual(a[0]["status"], 401, a)
        self.assertEqual(a[0]["answer"]["error"]["code"], "invalid_signature")
        # The genuine delivery of that event is still new.
        ok = self.send(eventType="PARTICIPANT_JOINED", room="room-forged",
                       idempotencyKey=rec["payload"]["idempotencyKey"])
        a = self.attempts(ok["id"], 1)
        self.assertEqual(a[0]["status"], 200, a)
        self.assertFalse(a[0]["answer"]["duplicate"])

    def test_duplicated_delivery_handled_once(self):
        self.e.fault(provider="jaas", direction="out", event="PARTICIPANT_LEFT",
                     duplicate=True, count=1)
        rec = self.send(eventType="PARTICIPANT_LEFT", room="room-dup")
        self.assertEqual(rec["fault"], "duplicated")
        a = self.attempts(rec["id"], 2)
        self.assertEqual([x["status"] for x in a], [200, 200], a)
        self.assertEqual(sorted(x["answer"]["duplicate"] for x in a), [False, True])

    def test_reordered_deliveries_both_handled(self):
        self.e.fault(provider="jaas", direction="out", event="PARTICIPANT_JOINED",
                     reorder=True, count=1)
        joined = self.send(eventType="PARTICIPANT_JOINED", room="room-order")
        self.assertEqual(joined["fault"], "reordered")
        self.assertEqual(self.attempts(joined["id"], 1, timeout=0.5), [])
        left = self.send(eventType="PARTICIPANT_LEFT", room="room-order")
        a_left, a_joined = self.attempts(left["id"], 1), self.attempts(joined["id"], 1)
        self.assertEqual(a_left[0]["status"], 200, a_left)
        self.assertEqual(a_joined[0]["status"], 200, a_joined)
        self.assertFalse(a_joined[0]["answer"]["duplicate"])
        # The left went out before the joined it overtook.
        out = [r["body"]["eventType"]
               for r in self.e.sb_requests(provider="jaas", direction="out")
               if r["body"]["fqn"].endswith("/room-order")]
        self.assertEqual(out, ["PARTICIPANT_LEFT", "PARTICIPANT_JOINED"])

    def test_stale_and_malformed_refused(self):
        raw = json.dumps({"idempotencyKey": "k-stale", "eventType": "ROOM_CREATED",
                          "fqn": "vpaas-magic-cookie-sandbox/r"}).encode()
        old = int(time.time()) - 3600
        r = self.anon.post("/webhooks/jaas", raw=raw, headers={
            "Content-Type": "application/json", "X-Jaas-Signature": jaas_sig(SECRET, old, raw)})
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json["error"]["code"], "stale_request")
        raw = json.dumps({"eventType": "ROOM_CREATED"}).encode()
        r = self.anon.post("/webhooks/jaas", raw=raw, headers={
            "Content-Type": "application/json",
            "X-Jaas-Signature": jaas_sig(SECRET, int(time.time()), raw)})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json["error"]["field"], "idempotencyKey")
        r = self.anon.post("/webhooks/jaas", raw=raw, headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 401, r)


if __name__ == "__main__":
    main()
