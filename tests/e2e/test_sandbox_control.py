"""The sandbox's control API: faults (status, count, probability, latency, Retry-After, drop,
drop after acting), the request log (filters, redaction), reset, clock, config, state
persistence with --state, and clean shutdown."""

import http.client
import json
import os
import socket
import tempfile
import time

from harness import start_sandbox
from sbutil import FORM, SandboxTest, form, main

EVENTS = "/google/calendar/v3/calendars/primary/events"
EV = {"summary": "x", "start": {"dateTime": "2026-12-01T15:00:00Z"},
      "end": {"dateTime": "2026-12-01T16:00:00Z"}}


def raw_request(host, port, method, path, body=None, headers=None):
    """One request on a fresh connection; returns the response or None if the server closed
    the connection without answering."""
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read()
    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
        return None
    finally:
        conn.close()


class Control(SandboxTest):
    def setUp(self):
        super().setUp()
        self.g = self.client("ya29.sandbox-ada")

    def test_health_lists_providers(self):
        r = self.c.get("/_sandbox/health")
        self.assertEqual(r.status, 200)
        names = {p["name"]: p["prefix"] for p in r.json["providers"]}
        self.assertEqual(names["google"], "/google")
        self.assertEqual(names["microsoft"], "/microsoft")

    def test_fault_status_count_and_body(self):
        f = self.fault(provider="google", method="GET", path="/google/calendar/*", status=503,
                       body={"custom": True}, headers={"X-Fault": "yes"}, count=2)
        self.assertEqual(f["count"], 2)
        a, b, c = (self.g.get(EVENTS) for _ in range(3))
        self.assertEqual((a.status, b.status, c.status), (503, 503, 200))
        self.assertEqual(a.json, {"custom": True})
        self.assertEqual(a.header("X-Fault"), "yes")
        lst = self.c.get("/_sandbox/faults").json["faults"]
        self.assertEqual((lst[0]["hits"], lst[0]["active"]), (2, False))
        log = self.requests(provider="google")
        self.assertEqual([e["fault"] for e in log], [f["id"], f["id"], None])
        # Method and path filters: a POST does not match a GET rule.
        self.fault(provider="google", method="GET", path="/google/calendar/*", status=500)
        self.assertEqual(self.g.post(EVENTS, EV).status, 200)
        self.assertEqual(self.g.get(EVENTS).status, 500)
        self.assertEqual(self.c.delete("/_sandbox/faults").status, 204)
        self.assertEqual(self.g.get(EVENTS).status, 200)

    def test_fault_delete_one(self):
        f = self.fault(path="/google/*", status=418)
        self.assertEqual(self.g.get(EVENTS).status, 418)
        self.assertEqual(self.c.delete("/_sandbox/faults/%d" % f["id"]).status, 204)
        self.assertEqual(self.c.delete("/_sandbox/faults/%d" % f["id"]).status, 404)
        self.assertEqual(self.g.get(EVENTS).status, 200)

    def test_fault_probability(self):
        self.fault(provider="google", path="/google/calendar/*", status=500, probability=0.5)
        codes = [self.g.get(EVENTS).status for _ in range(200)]
        fails = codes.count(500)
        self.assertTrue(40 < fails < 160, fails)
        self.assertEqual(codes.count(200), 200 - fails)
        self.c.delete("/_sandbox/faults")
        self.fault(provider="google", status=500, probability=0)
        self.assertEqual({self.g.get(EVENTS).status for _ in range(20)}, {200})

    def test_fault_latency_and_retry_after(self):
        self.fault(provider="google", path="/google/calendar/*", latency_ms=300, count=1)
        t0 = time.monotonic()
        r = self.g.get(EVENTS)
        slow = time.monotonic() - t0
        self.assertEqual(r.status, 200)  # latency only: the real answer, late
        self.assertGreaterEqual(slow, 0.3)
        t0 = time.monotonic()
        self.g.get(EVENTS)
        self.assertLess(time.monotonic() - t0, 0.25)
        self.fault(provider="google", status=429, retry_after="Wed, 21 Oct 2026 07:28:00 GMT",
                   count=1)
        r = self.g.get(EVENTS)
        self.assertEqual(r.status, 429)
        self.assertEqual(r.header("Retry-After"), "Wed, 21 Oct 2026 07:28:00 GMT")
        self.assertEqual(r.json["error"]["errors"][0]["reason"], "rateLimitExceeded")

    def test_drop_before_and_after_acting(self):
        self.fault(provider="google", method="POST", path=EVENTS, drop=True, count=1)
        body = json.dumps(dict(EV, id="dropbefore1")).encode()
        h = {"Authorization": "Bearer ya29.sandbox-ada", "Content-Type": "application/json"}
        self.assertIsNone(raw_request(self.sb.host, self.sb.port, "POST", EVENTS, body, h))
        self.assertEqual(self.g.get(EVENTS + "/dropbefore1").status, 404)  # never acted
        self.fault(provider="google", method="POST", path=EVENTS, drop_after=True, count=1)
        body = json.dumps(dict(EV, id="dropafter1")).encode()
        self.assertIsNone(raw_request(self.sb.host, self.sb.port, "POST", EVENTS, body, h))
        # The provider acted: the event exists, and a retry of the same id gets 409.
        self.assertEqual(self.g.get(EVENTS + "/dropafter1").status, 200)
        self.assertEqual(self.g.post(EVENTS, dict(EV, id="dropafter1")).status, 409)
        log = self.requests(method="POST")
        self.assertEqual([e["dropped"] for e in log], [True, True, False])
        self.assertEqual(log[0]["status"], 0)  # dropped before acting: no answer at all
        self.assertEqual(log[1]["status"], 200)  # what the provider would have answered

    def test_fault_validation(self):
        for bad in ({"status": 99}, {"provider": "nope", "status": 500},
                    {"probability": 2, "status": 500}, {"count": 0, "status": 500},
                    {"path": "/x"}, {"latency_ms": -1}):
            r = self.c.post("/_sandbox/faults", bad)
            self.assertEqual(r.status, 400, (bad, r))
        r = self.c.post("/_sandbox/faults", {"faults": [{"status": 500, "count": 1},
                                                        {"latency_ms": 10}]})
        self.assertEqual(r.status, 201)
        self.assertEqual(len(r.json["faults"]), 2)

    def test_requests_log_redacts_secrets(self):
        self.c.post("/google/oauth2/token", raw=form({
            "grant_type": "refresh_token", "refresh_token": "1//sandbox-ada-refresh",
            "client_id": "meetlink-sandbox.apps.googleusercontent.com",
            "client_secret": "GOCSPX-sandbox-secret", "code": "4/abc", "code_verifier": "v" * 50}),
            headers=dict(FORM, Cookie="sid=secretcookie"))
        self.g.get(EVENTS + "?access_token=leak&maxResults=5")
        log = self.requests(provider="google")
        dump = json.dumps(log)
        for secret in ("GOCSPX-sandbox-secret", "1//sandbox-ada-refresh", "4/abc", "v" * 50,
                       "ya29.sandbox-ada", "secretcookie", "leak", "ya29.sb-"):
            self.assertNotIn(secret, dump)
        tok = log[0]
        self.assertEqual(tok["method"], "POST")
        self.assertEqual(tok["path"], "/google/oauth2/token")
        self.assertEqual(tok["body"]["client_secret"], "[redacted]")
        self.assertEqual(tok["body"]["grant_type"], "refresh_token")
        self.assertEqual(tok["body"]["client_id"], "meetlink-sandbox.apps.googleusercontent.com")
        self.assertEqual(tok["status"], 200)
        self.assertEqual(tok["response"]["access_token"], "[redacted]")
        self.assertEqual(tok["response"]["token_type"], "Bearer")
        self.assertEqual(log[1]["headers"]["Authorization"], "Bearer [redacted]")
        self.assertEqual(log[1]["query"], {"access_token": "[redacted]", "maxResults": "5"})
        # Error codes are not secrets.
        self.g.get(EVENTS + "/missing")
        last = self.requests(provider="google")[-1]
        self.assertEqual(last["response"]["error"]["code"], 404)

    def test_consent_redirect_code_redacted(self):
        self.config("google", auto_approve=True)
        self.c.get("/google/o/oauth2/v2/auth?client_id=meetlink-sandbox.apps.googleusercontent.com"
                   "&redirect_uri=http://127.0.0.1:9/cb&response_type=code&scope=email&state=abc")
        e = self.requests(provider="google")[-1]
        loc = e["response_headers"]["Location"]
        self.assertIn("code=[redacted]", loc)
        self.assertIn("state=abc", loc)

    def test_requests_filters(self):
        self.g.get(EVENTS)
        self.g.post(EVENTS, EV)
        self.client("eyJ0eXAiOiJKV1QiLCJzYiI6MX0.sandbox-ada").get("/microsoft/v1.0/me")
        all_ = self.requests()
        self.assertEqual(len(all_), 3)
        self.assertEqual(len(self.requests(provider="microsoft")), 1)
        self.assertEqual(len(self.requests(method="POST")), 1)
        self.assertEqual(len(self.requests(path="/google/calendar/*")), 2)
        since = self.requests(since=all_[0]["id"])
        self.assertEqual([e["id"] for e in since], [all_[1]["id"], all_[2]["id"]])
        self.assertEqual(self.c.delete("/_sandbox/requests").status, 204)
        self.assertEqual(self.requests(), [])

    def test_reset_state_and_clock(self):
        self.g.post(EVENTS, dict(EV, id="resetme01"))
        self.assertIn("resetme01", self.state("google")["calendars"]["ada@sandbox.test"]["events"])
        self.c.post("/_sandbox/clock", {"advance_seconds": 100})
        self.assertEqual(self.c.get("/_sandbox/clock").json["offset_seconds"], 100)
        self.fault(status=500)
        self.assertEqual(self.c.post("/_sandbox/reset").status, 200)
        self.assertEqual(self.state("google")["calendars"], {})
        self.assertEqual(self.c.get("/_sandbox/faults").json["faults"], [])
        self.assertEqual(self.c.get("/_sandbox/clock").json["offset_seconds"], 0)
        self.assertEqual(self.requests(), [])
        # Per provider reset leaves the others.
        self.g.post(EVENTS, dict(EV, id="keepme001"))
        self.c.post("/_sandbox/reset", {"provider": "microsoft"})
        self.assertIn("keepme001", self.state("google")["calendars"]["ada@sandbox.test"]["events"])

    def test_config_roundtrip_and_validation(self):
        r = self.c.post("/_sandbox/config", {"google": {"conference_pending_ms": 5}})
        self.assertEqual(r.json["google"]["conference_pending_ms"], 5)
        self.assertEqual(self.c.get("/_sandbox/config").json["google"]["conference_pending_ms"], 5)
        self.assertEqual(self.c.post("/_sandbox/config", {"nope": {}}).status, 400)
        self.assertEqual(self.c.post("/_sandbox/config", raw=b"[1", headers={
            "Content-Type": "application/json"}).status, 400)

    def test_unknown_paths(self):
        self.assertEqual(self.c.get("/nothing/here").status, 404)
        self.assertEqual(self.c.get("/_sandbox/nothing").status, 404)
        self.assertEqual(self.c.put("/_sandbox/state").status, 405)
        self.assertEqual(self.c.get("/_sandbox/state?provider=nope").status, 404)


class Persistence(SandboxTest):
    def test_state_file_survives_restart(self):
        d = tempfile.mkdtemp(prefix="ml-sb-")
        path = os.path.join(d, "state.json")
        sb = start_sandbox(["--state", path])
        try:
            from harness import Client
            g = Client(sb.host, sb.port, token="ya29.sandbox-ada")
            self.assertEqual(g.post(EVENTS, dict(EV, id="persist001")).status, 200)
        finally:
            sb.close()  # SIGTERM: saves on the way out
        self.assertEqual(sb.p.returncode, 0)  # SIGTERM is a clean stop
        with open(path) as f:
            saved = json.load(f)
        self.assertIn("persist001", saved["providers"]["google"]["calendars"]["ada@sandbox.test"]["events"])
        sb2 = start_sandbox(["--state", path])
        try:
            from harness import Client
            g = Client(sb2.host, sb2.port, token="ya29.sandbox-ada")
            self.assertEqual(g.get(EVENTS + "/persist001").status, 200)
            self.assertEqual(g.post(EVENTS, dict(EV, id="persist001")).status, 409)
        finally:
            sb2.close()

    def test_bad_options(self):
        import subprocess
        from harness import BIN
        r = subprocess.run([BIN, "sandbox", "--bogus"], capture_output=True, timeout=10)
        self.assertEqual(r.returncode, 2)
        d = tempfile.mkdtemp(prefix="ml-sb-")
        cfg = os.path.join(d, "c.json")
        with open(cfg, "w") as f:
            f.write("{not json")
        r = subprocess.run([BIN, "sandbox", "--listen", "127.0.0.1:0", "--config", cfg],
                           capture_output=True, timeout=10)
        self.assertEqual(r.returncode, 2)

    def test_config_file_applies_and_survives_reset(self):
        d = tempfile.mkdtemp(prefix="ml-sb-")
        cfg = os.path.join(d, "c.json")
        with open(cfg, "w") as f:
            json.dump({"google": {"auto_approve": True}}, f)
        sb = start_sandbox(["--config", cfg])
        try:
            from harness import Client
            c = Client(sb.host, sb.port)
            c.post("/_sandbox/reset")
            self.assertTrue(c.get("/_sandbox/config").json["google"]["auto_approve"])
        finally:
            sb.close()

    def test_many_connections_held(self):
        """Connections beyond the usual 1024-descriptor soft limit are served."""
        self.fault(provider="google", path="/google/.well-known/*", latency_ms=300)
        socks = []
        try:
            for _ in range(1100):
                s = socket.create_connection((self.sb.host, self.sb.port), timeout=10)
                s.sendall(b"GET /google/.well-known/openid-configuration HTTP/1.1\r\n"
                          b"Host: x\r\nConnection: close\r\n\r\n")
                socks.append(s)
            ok = 0
            for s in socks:
                data = s.recv(64)
                ok += data.startswith(b"HTTP/1.1 200")
            self.assertEqual(ok, len(socks))
        finally:
            for s in socks:
                s.close()


if __name__ == "__main__":
    main()
