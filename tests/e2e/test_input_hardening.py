"""One request never kills the daemon (issue 15, input side): unknown field names of many
multi-byte characters, deeply nested bodies and metadata, null where a string is due, times
outside what an invitation can carry, control characters on their way to headers and logs.
Every refusal is a 400 naming the field, and the daemon keeps answering."""

import copy
import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixtures as fx  # noqa: E402
import mailutil  # noqa: E402
from harness import Client, main, start_daemon  # noqa: E402

SRC = os.environ.get("ML_SRC") or os.path.join(os.path.dirname(__file__), "..", "..")
LONG_KEY = "\u00e9" * 100  # 200 bytes of UTF-8: a 127-byte cut falls inside a character


class InputHardening(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = start_daemon()
        cls.c = Client(cls.d.host, cls.d.port, cls.d.api_key)
        cls.h, cls.s = fx.setup_jitsi(cls.c)
        cls.b = fx.booking(cls.c, cls.s["id"])

    @classmethod
    def tearDownClass(cls):
        cls.d.close()

    def alive(self):
        r = self.c.get("/healthz")
        self.assertEqual(r.status, 200, r)

    def err(self, r, status, field=None, code=None):
        self.assertEqual(r.status, status, r)
        e = r.json["error"]
        self.assertTrue(e["code"] and e["message"], e)
        if field is not None:
            self.assertEqual(e.get("field"), field, e)
        if code is not None:
            self.assertEqual(e["code"], code, e)
        return e

    def write_routes(self):
        """Every write route of the API with a body it would otherwise take."""
        b, h, s = self.b["id"], self.h["id"], self.s["id"]
        return [
            ("POST", "/v1/hosts", {"name": "A", "email": "a@x.test"}),
            ("PATCH", "/v1/hosts/" + h, {}),
            ("POST", "/v1/services", {"host_id": h, "name": "x", "is_online": False,
                                      "duration_minutes": 5}),
            ("PATCH", "/v1/services/" + s, {}),
            ("POST", "/v1/bookings", {"service_id": s, "start": "2026-12-01T15:00:00Z",
                                      "customer": {"email": "g@x.test"}}),
            ("POST", "/v1/bookings/%s/confirm" % b, {}),
            ("POST", "/v1/bookings/%s/reschedule" % b, {"start": "2026-12-02T15:00:00Z"}),
            ("POST", "/v1/bookings/%s/cancel" % b, {}),
            ("POST", "/v1/bookings/%s/reject" % b, {}),
            ("POST", "/v1/bookings/%s/complete" % b, {}),
            ("PUT", "/v1/bookings/%s/meeting" % b, {"join_url": "https://m.example.test/x"}),
            ("POST", "/v1/bookings/%s/meeting/retry" % b, {}),
            ("POST", "/v1/bookings/%s/meeting/regenerate" % b, {}),
            ("POST", "/v1/jobs/job_nonexistent/retry", {}),
            ("POST", "/v1/hosts/%s/connect-links" % h, {"platform": "zoom"}),
            ("PUT", "/v1/credentials/zoom", {}),
            ("POST", "/v1/webhook-endpoints", {"url": "https://hooks.example.test/x"}),
            ("POST", "/v1/webhook-endpoints/whe_x/deliveries/msg_x/redeliver", {}),
            ("PUT", "/v1/templates/invitation", {}),
        ]

    def test_long_multibyte_unknown_field(self):
        """The field path is cut on a character boundary: a 400 naming (the start of) the
        field, never an abort while writing the error."""
        for method, path, body in self.write_routes():
            with self.subTest(route=path):
                body = dict(body)
                body[LONG_KEY] = 1
                r = self.c.request(method, path, body)
                e = self.err(r, 400, code="unknown_field")
                self.assertTrue(LONG_KEY.startswith(e["field"]) and len(e["field"]) > 50, e)
                self.alive()
        # Nested: the path is prefix + key.
        body = {"service_id": self.s["id"], "start": "2026-12-01T15:00:00Z",
                "customer": {"email": "g@x.test", LONG_KEY: 1}}
        e = self.err(self.c.post("/v1/bookings", body), 400, code="unknown_field")
        self.assertTrue(("customer." + LONG_KEY).startswith(e["field"]), e)
        self.alive()

    def test_deep_bodies_every_route(self):
        """Nesting is measured before parsing: 33, 800 and 5,000 levels are a 400 naming the
        top-level member, on every write route; 32 levels parse."""
        for method, path, body in self.write_routes():
            for depth in (33, 800, 5000):
                with self.subTest(route=path, depth=depth):
                    raw = ('{"deep": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}").encode()
                    r = self.c.request(method, path, raw=raw,
                                       headers={"Content-Type": "application/json"})
                    self.err(r, 400, "deep", "too_deep")
            self.alive()
        # 32 levels are JSON like any other: here an unknown field.
        raw = ('{"deep": ' + "[" * 31 + "]" * 31 + "}").encode()
        r = self.c.request("POST", "/v1/hosts", raw=raw,
                           headers={"Content-Type": "application/json"})
        self.err(r, 400, "deep", "unknown_field")
        # Brackets inside strings do not count.
        r = self.c.post("/v1/hosts", {"name": "[" * 100 + "{" * 100, "email": "d@x.test"})
        self.assertEqual(r.status, 201, r)

    def test_deep_metadata_with_webhook_endpoint(self):
        """The 800-deep metadata that overflowed the stack while the booking's webhook payload
        was built: refused before anything recursive sees it."""
        port = fx_free_port()
        r = self.c.post("/v1/webhook-endpoints", {"url": "http://127.0.0.1:%d/hook" % port})
        self.assertEqual(r.status, 201, r)
        ep = r.json["id"]
        try:
            meta = "[" * 800 + "]" * 800
            raw = ('{"service_id": "%s", "start": "2026-12-01T15:00:00Z", '
                   '"customer": {"email": "g@x.test"}, "metadata": {"a": %s}}'
                   % (self.s["id"], meta)).encode()
            r = self.c.request("POST", "/v1/bookings", raw=raw,
                               headers={"Content-Type": "application/json"})
            self.err(r, 400, "metadata", "too_deep")
            self.alive()
        finally:
            self.c.delete("/v1/webhook-endpoints/" + ep)

    def test_metadata_bounds(self):
        c, sid = self.c, self.s["id"]

        def booking(meta):
            return c.post("/v1/bookings", {"service_id": sid, "start": "2026-12-01T15:00:00Z",
                                           "customer": {"email": "g@x.test"},
                                           "metadata": meta})

        def nest(n):
            v = "leaf"
            for _ in range(n):
                v = {"k": v}
            return v  # n levels of objects, metadata itself the first

        self.assertEqual(booking(nest(5)).status, 201)
        self.err(booking(nest(6)), 400, "metadata", "invalid_field")
        self.assertEqual(booking({"k%d" % i: i for i in range(50)}).status, 201)
        self.err(booking({"k%d" % i: i for i in range(51)}), 400, "metadata")
        self.err(booking({"x" * 101: 1}), 400, "metadata." + "x" * 101)
        self.err(booking({"a": {"x" * 101: 1}}), 400, "metadata." + "x" * 101)
        self.assertEqual(booking({"a": "x" * 8000}).status, 201)
        self.err(booking({"a": "x" * 8200}), 400, "metadata")
        self.err(c.post("/v1/hosts", {"name": "A", "email": "a@x.test",
                                      "metadata": nest(6)}), 400, "metadata")
        self.err(c.patch("/v1/services/" + sid, {"metadata": nest(6)}), 400, "metadata")
        self.alive()

    def test_null_only_where_nullable(self):
        """Every member of every write body, set to null: refused with a 400 naming it unless
        the OpenAPI document makes it nullable (type [..., "null"]), then taken."""
        with open(os.path.join(SRC, "docs", "openapi.json")) as f:
            oas = json.load(f)
        schemas = oas["components"]["schemas"]

        def resolve(sch):
            while "$ref" in sch:
                sch = schemas[sch["$ref"].split("/")[-1]]
            return sch

        def nullable(sch):
            t = sch.get("type")
            return sch.get("nullable") or (isinstance(t, list) and "null" in t)

        tried = 0
        for method, path, base in self.write_routes():
            ops = [o for t, o in oas["paths"].items()
                   if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", t), path)
                   and method.lower() in o]
            self.assertEqual(len(ops), 1, path)
            op = ops[0][method.lower()]
            if "requestBody" not in op:
                continue
            top = resolve(op["requestBody"]["content"]["application/json"]["schema"])
            members = []
            for k, v in top.get("properties", {}).items():
                members.append(((k,), resolve(v)))
                for k2, v2 in resolve(v).get("properties", {}).items():
                    members.append(((k, k2), resolve(v2)))
            for keys, sch in members:
                body = copy.deepcopy(base)
                if path == "/v1/bookings":
                    body["customer"] = {"email": "n@x.test"}
                if path.startswith("/v1/templates"):
                    body = {"subject": "s", "text": "t", "html": "h"}
                at = body
                for k in keys[:-1]:
                    at = at.setdefault(k, {})
                at[keys[-1]] = None
                field = ".".join(keys)
                with self.subTest(route=path, field=field):
                    r = self.c.request(method, path, body)
                    if nullable(sch):
                        if r.status == 400:
                            self.assertNotIn("null", r.json["error"]["message"], r)
                    else:
                        self.err(r, 400, field)
                    tried += 1
        self.assertGreater(tried, 40)
        self.alive()

    def test_reason_null(self):
        """The case from the issue."""
        b = fx.booking(self.c, self.s["id"])
        r = self.c.post("/v1/bookings/%s/cancel" % b["id"], {"reason": None})
        self.err(r, 400, "reason", "invalid_field")
        self.assertEqual(self.c.get("/v1/bookings/" + b["id"]).json["status"], "pending")

    def test_times_out_of_range(self):
        """Every time, given or computed, lies in 1970-01-01T00:00:00Z..2499-12-31T23:59:59Z
        in UTC: the issue's examples are 400s naming start, for create and reschedule."""
        c = self.c
        day = fx.service(c, self.h["id"], duration_minutes=1440)

        def create(start, sid=None, **kw):
            body = {"service_id": sid or self.s["id"], "start": start,
                    "customer": {"email": "t@x.test"}}
            body.update(kw)
            return c.post("/v1/bookings", body)

        for start in ("9999-12-31T23:59:59-23:59", "1970-01-01T00:00:00+23:59",
                      "1969-12-31T23:59:59Z", "2500-01-01T00:00:00Z",
                      "2499-12-31T23:59:59-00:01"):
            with self.subTest(start=start):
                self.err(create(start), 400, "start", "invalid_field")
        for start in ("9999-12-31T12:00:00Z", "2499-12-31T12:00:00Z"):
            with self.subTest(start=start):
                self.err(create(start, day["id"]), 400, "start", "invalid_field")
        self.err(create("2499-12-31T12:00:00Z", end="2500-01-01T00:00:00Z"), 400, "end")
        self.err(create("2026-12-01T15:00:00Z", end="9999-12-31T23:59:59-23:59"), 400, "end")

        b = fx.booking(c, self.s["id"])  # 50 minutes
        for start in ("9999-12-31T23:59:59-23:59", "1970-01-01T00:00:00+23:59",
                      "2499-12-31T23:30:00Z"):
            with self.subTest(reschedule=start):
                r = c.post("/v1/bookings/%s/reschedule" % b["id"], {"start": start})
                self.err(r, 400, "start", "invalid_field")
        self.assertEqual(c.get("/v1/bookings/" + b["id"]).json["start"], b["start"])
        self.alive()

    def test_times_at_the_edges_make_whole_invitations(self):
        """The first and last instants give invitations libical reads back with their
        DTSTART and DTEND, in the booking's zone."""
        c = self.c
        cases = [("1970-01-01T00:00:00Z", "America/New_York", "1970-01-01T00:50:00Z"),
                 ("2499-12-31T23:00:00Z", "UTC", "2499-12-31T23:50:00Z"),
                 ("2499-12-31T20:00:00Z", "Pacific/Kiritimati", "2499-12-31T20:50:00Z"),
                 ("2499-12-31T23:09:59Z", "Europe/London", "2499-12-31T23:59:59Z"),
                 ("2499-07-01T12:00:00Z", "Australia/Sydney", "2499-07-01T12:50:00Z")]
        for start, tz, end in cases:
            with self.subTest(start=start, tz=tz):
                # 23:00 and 23:09:59 overlap: one host, so allowed explicitly.
                b = fx.booking(c, self.s["id"], start=start, timezone=tz, status="confirmed",
                               allow_overlap=True)
                self.assertEqual((b["start"], b["end"]), (start, end))
                r = c.get("/v1/bookings/%s/invite.ics" % b["id"])
                self.assertEqual(r.status, 200, r)
                got = mailutil.ics_check(r.body.decode())
                self.assertEqual(got["DTSTART"], [start])
                self.assertEqual(got["DTEND"], [end])
                self.assertNotIn("00000000T000000", r.body.decode())


class ControlCharacters(unittest.TestCase):
    """No control character reaches a mail header, an .ics line or a log line: single-line
    fields refuse them at the API (400 naming the field); multiline texts (a reason, a
    template body) keep line breaks, and whatever emits them escapes them — a reason used in a
    subject stays one header line."""

    INJECT = "x\r\nBcc: evil@attacker.test"

    @classmethod
    def setUpClass(cls):
        cls.smtp = mailutil.SMTPServer().start()
        cls.d = start_daemon(env={"MEETLINK_SMTP_URL": "smtp://127.0.0.1:%d" % cls.smtp.port,
                                  "MEETLINK_SMTP_FROM": "Meet Link <noreply@example.test>",
                                  "MEETLINK_RETRY_BASE_MS": "100"})
        cls.c = Client(cls.d.host, cls.d.port, cls.d.api_key)
        cls.h = fx.host(cls.c, name="Ada", email="ada@example.test")
        cls.s = fx.service(cls.c, cls.h["id"], is_online=False, platform=None)

    @classmethod
    def tearDownClass(cls):
        cls.smtp.stop()
        cls.d.close()

    def err(self, r, field):
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json["error"].get("field"), field, r)
        self.assertEqual(r.json["error"]["code"], "invalid_field", r)

    def booking(self, **kw):
        body = {"service_id": self.s["id"], "start": "2026-12-01T15:00:00Z",
                "customer": {"name": "Grace", "email": "grace@example.test"}}
        body.update(kw)
        return self.c.post("/v1/bookings", body)

    def test_single_line_fields_refuse_controls(self):
        c = self.c
        bad = [self.INJECT, "a\nb", "a\rb", "a\tb", "a\x7fb", "a\u0085b", "a\u009bb"]
        for v in bad:
            with self.subTest(value=v):
                self.err(self.booking(customer={"name": v, "email": "g@x.test"}),
                         "customer.name")
                self.err(self.booking(title=v), "title")
                self.err(self.booking(attendees=[{"name": v, "email": "a@x.test"}]),
                         "attendees[0].name")
                self.err(self.booking(customer={"email": "g@x.test", "external_id": v}),
                         "customer.external_id")
                self.err(c.post("/v1/hosts", {"name": v, "email": "h@x.test"}), "name")
                self.err(c.patch("/v1/hosts/" + self.h["id"], {"name": v}), "name")
                self.err(c.post("/v1/services", {"host_id": self.h["id"], "name": v,
                                                 "is_online": False,
                                                 "duration_minutes": 5}), "name")
                self.err(c.patch("/v1/services/" + self.s["id"],
                                 {"settings": {"passcode": v}}), "settings.passcode")
                self.err(c.put("/v1/templates/invitation",
                               {"subject": v, "text": "t", "html": "h"}), "subject")
        # An address with a line break is not an address.
        r = self.booking(customer={"email": "g@x.test\r\nBcc: evil@attacker.test"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json["error"]["field"], "customer.email")
        # Text that only looks like a header is fine on one line; plain Unicode too.
        r = self.booking(customer={"name": "Bcc: evil@attacker.test \u00e9\u2603",
                                   "email": "g@x.test"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(c.get("/healthz").status, 200)

    def test_reason_in_a_subject_stays_one_header(self):
        c = self.c
        # The cancellation subject shows the reason: a multiline text, allowed as such.
        r = c.put("/v1/templates/cancellation",
                  {"subject": "Cancelled: {{cancel_reason}}",
                   "text": "Reason:\n{{cancel_reason}}\n", "html": "<p>{{cancel_reason}}</p>"})
        self.assertEqual(r.status, 200, r)
        try:
            r = self.booking(status="confirmed", title="Weekly sync",
                             attendees=[{"name": "Lin", "email": "lin@example.test"}])
            self.assertIn(r.status, (200, 201), r)
            b = r.json
            self.smtp.take(3)  # the invitations: customer, attendee, host
            r = c.post("/v1/bookings/%s/cancel" % b["id"],
                       {"reason": "sick\r\nBcc: evil@attacker.test\nsorry"})
            self.assertEqual(r.status, 200, r)
            msgs = self.smtp.take(3)
            for m in msgs:
                self.assertEqual(len(m.rcpt_tos), 1, m.rcpt_tos)
                self.assertIn(m.rcpt_tos[0], ("grace@example.test", "lin@example.test",
                                              "ada@example.test"))
                head = m.raw.split(b"\r\n\r\n", 1)[0]
                names = [ln.split(b":", 1)[0].lower() for ln in head.split(b"\r\n")
                         if ln and ln[:1] not in (b" ", b"\t")]
                self.assertNotIn(b"bcc", names, head)
                self.assertEqual(names.count(b"to"), 1, head)
                self.assertEqual(names.count(b"subject"), 1, head)
                self.assertIn("Bcc: evil@attacker.test", str(m.msg["Subject"]))
                self.assertIsNone(m.msg["Bcc"])
                text, _, cal = mailutil.parts(m.msg)
                self.assertIn("sick", text)
                self.assertEqual(mailutil.ics_check(cal.get_content())["STATUS"],
                                 ["CANCELLED"])
            self.assertNotIn("evil@attacker.test",
                             [r for m in self.smtp.messages for r in m.rcpt_tos])
        finally:
            c.delete("/v1/templates/cancellation")
        # No log line starts with the injected text.
        for line in self.d.logs().splitlines():
            self.assertFalse(line.startswith("Bcc"), line)


def fx_free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


if __name__ == "__main__":
    main()
