"""The waiting room end to end (docs/waiting-room.md), through the public API and the guests'
own gateway links: a guest confirms their name and waits on a live event stream; the host
admits (the stream says so at once and /go lands on the platform) or rejects (with a reason,
asking again a bounded number of times); races between two host tabs, an admit and the
guest's leave, a cancel while guests wait end in one state with the loser answered 409 and
the current state; every decision is on the audit trail and goes out as a signed webhook;
streams resume after Last-Event-ID and keep alive while quiet; another organization sees
nothing; the pages refuse cross-site posts."""

import datetime
import json
import os
import sys
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixtures as fx  # noqa: E402
from harness import Client, main, start_daemon  # noqa: E402
from sse import SSE  # noqa: E402
from test_webhooks_out import Receiver, verify  # noqa: E402


def soon(minutes=5):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class WaitingRoom(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = start_daemon(env={"MEETLINK_SSE_KEEPALIVE_MS": "400"})
        cls.c = Client(cls.d.host, cls.d.port, cls.d.api_key)
        cls.anon = Client(cls.d.host, cls.d.port)
        cls.origin = "http://%s:%d" % (cls.d.host, cls.d.port)
        cls.rx = Receiver()
        r = cls.c.post("/v1/webhook-endpoints", {"url": cls.rx.url("/hook"),
                                                 "events": ["participant.*"]})
        assert r.status == 201, r
        cls.secret = r.json["secret"]
        cls.h = fx.host(cls.c)

    @classmethod
    def tearDownClass(cls):
        cls.rx.server.shutdown()
        cls.d.close()

    # --- helpers ---

    def booking(self, attendees=2, settings=None):
        s = fx.service(self.c, self.h["id"],
                       settings={"waiting_room": True} if settings is None else settings)
        # One host for the class, every booking soon: double-booked on purpose (issue 18 §5).
        b = fx.booking(self.c, s["id"], start=soon(), status="confirmed", allow_overlap=True,
                       attendees=[{"name": "Guest %d" % i, "email": "g%d@example.test" % i}
                                  for i in range(attendees)])
        r = self.c.get("/v1/bookings/%s/participants" % b["id"])
        self.assertEqual(r.status, 200, r)
        links = {}
        for p in r.json["data"]:
            path = urllib.parse.urlsplit(p["join_url"]).path
            self.assertTrue(path.startswith("/j/"), p["join_url"])
            links[p["id"]] = (p["role"], path)
        return b, links

    def guests(self, links):
        return [(pid, path) for pid, (role, path) in links.items() if role in ("customer", "attendee")]

    def host_link(self, links):
        return [path for pid, (role, path) in links.items() if role == "host"][0]

    def page_post(self, path, body, origin=True, ctype="application/json"):
        h = {"Content-Type": ctype}
        if origin:
            h["Origin"] = self.origin
        return self.anon.request("POST", path, raw=json.dumps(body).encode(), headers=h)

    def ask(self, path, name="Grace"):
        r = self.page_post(path + "/wait", {"action": "ask", "name": name})
        self.assertEqual(r.status, 200, r)
        return r.json

    def stream(self, path, last=None):
        s = SSE(self.d.host, self.d.port, path, last_event_id=last)
        self.assertEqual(s.status, 200)
        self.assertTrue(s.headers["content-type"].startswith("text/event-stream"))
        return s

    def state_events(self, s, n=1, timeout=5):
        out = []
        while len(out) < n:
            ev = s.next_event(timeout)
            self.assertIsNotNone(ev, "no event within %ss (got %r)" % (timeout, out))
            out.append(ev)
        return out

    def hooks(self, bid, typ):
        got = []
        for h, body in self.rx.on("/hook"):
            self.assertTrue(verify(self.secret, h, body))
            p = json.loads(body)
            if p["type"] == typ and p["data"]["booking"]["id"] == bid:
                got.append(p["data"]["details"])
        return got

    # --- tests ---

    def test_guest_waits_host_admits_guest_lands(self):
        b, links = self.booking(attendees=1)
        (pid, path), _ = self.guests(links)[:2]
        # The link holds the guest: the waiting page, with a strict CSP and no inline script.
        r = self.anon.get(path)
        self.assertEqual(r.status, 303, r)
        self.assertEqual(r.header("Location"), path + "/wait")
        r = self.anon.get(path + "/go")
        self.assertEqual((r.status, r.header("Location")), (303, path + "/wait"))
        r = self.anon.get(path + "/wait")
        self.assertEqual(r.status, 200)
        csp = r.header("Content-Security-Policy")
        self.assertIn("script-src 'self'", csp)
        self.assertNotIn("unsafe-inline", csp)
        self.assertNotIn(b"<script>", r.body)
        self.assertEqual(r.header("Referrer-Policy"), "no-referrer")
        # Ask with the confirmed name; the API sees the guest waiting, by that name.
        row = self.ask(path, name="Grace <b>H</b>")
        self.assertEqual((row["state"], row["name"], row["asks"]), ("waiting", "Grace <b>H</b>", 1))
        r = self.anon.get(path + "/wait")
        self.assertIn(b"Grace &lt;b&gt;H&lt;/b&gt;", r.body)
        self.assertNotIn(b"<b>H</b>", r.body)
        w = self.c.get("/v1/bookings/%s/waiting-room" % b["id"]).json
        self.assertEqual([x["participant_id"] for x in w["waiting"]], [pid])
        self.assertTrue(w["enabled"])
        self.assertIsNotNone(w["waiting"][0]["since"])
        # Live: the stream says waiting, then admitted right after the host's decision.
        s = self.stream(path + "/events")
        ev = self.state_events(s)[0]
        self.assertEqual((ev["event"], json.loads(ev["data"])["state"]), ("state", "waiting"))
        t0 = time.time()
        r = self.c.post("/v1/bookings/%s/participants/%s/admit" % (b["id"], pid))
        self.assertEqual((r.status, r.json["state"]), (200, "admitted"), r)
        ev = self.state_events(s)[0]
        self.assertLess(time.time() - t0, 1.0)
        self.assertEqual(json.loads(ev["data"])["state"], "admitted")
        self.assertGreater(int(ev["id"]), 0)
        s.close()
        # Where the page goes: into the meeting on the platform.
        r = self.anon.get(path + "/go")
        self.assertEqual(r.status, 303, r)
        self.assertTrue(r.header("Location").startswith("https://meet.jit.si/"), r.header("Location"))
        # Coming back goes straight in; the waiting page sends there too.
        self.assertTrue(self.anon.get(path).header("Location").startswith("https://meet.jit.si/"))
        self.assertEqual(self.anon.get(path + "/wait").header("Location"), path + "/go")
        # A second decision loses, told the current state.
        r = self.c.post("/v1/bookings/%s/participants/%s/reject" % (b["id"], pid), {"reason": "no"})
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.json["error"]["code"], "admission_conflict")
        self.assertEqual(r.json["participant"]["state"], "admitted")
        # The audit trail and the webhooks.
        ev = self.c.get("/v1/bookings/%s/events" % b["id"]).json["data"]
        types = [(e["type"], e["actor"]) for e in ev if e["type"].startswith("participant.")]
        self.assertIn(("participant.waiting", "participant:" + pid), types)
        admitted = [e for e in ev if e["type"] == "participant.admitted"]
        self.assertTrue(admitted[0]["actor"].startswith("key_"))
        self.rx.wait("/hook", 2)
        fx.wait_for(lambda: self.hooks(b["id"], "participant.admitted"), what="admitted webhook")
        self.assertEqual(self.hooks(b["id"], "participant.waiting")[0]["participant_id"], pid)
        self.assertEqual(self.hooks(b["id"], "participant.waiting")[0]["name"], "Grace <b>H</b>")

    def test_reject_with_reason_and_ask_again_bounded(self):
        b, links = self.booking(attendees=0)
        pid, path = self.guests(links)[0]
        self.ask(path)
        s = self.stream(path + "/events")
        self.state_events(s)
        url = "/v1/bookings/%s/participants/%s/reject" % (b["id"], pid)
        for n in (1, 2, 3):
            r = self.c.post(url, {"reason": "Not on the list\nsorry"})
            self.assertEqual((r.status, r.json["state"]), (200, "rejected"), r)
            row = json.loads(self.state_events(s)[0]["data"])
            self.assertEqual((row["state"], row["reason"], row["asks_left"]),
                             ("rejected", "Not on the list\nsorry", 3 - n))
            r = self.page_post(path + "/wait", {"action": "ask", "name": "Grace"})
            if n < 3:
                self.assertEqual((r.status, r.json["state"], r.json["asks"]), (200, "waiting", n + 1))
                self.assertEqual(json.loads(self.state_events(s)[0]["data"])["state"], "waiting")
            else:
                self.assertEqual(r.status, 409, r)
                self.assertEqual(r.json["error"]["code"], "asks_exhausted")
                self.assertEqual(r.json["participant"]["state"], "rejected")
        s.close()
        fx.wait_for(lambda: len(self.hooks(b["id"], "participant.rejected")) == 3,
                    what="three rejected webhooks")
        self.assertEqual(self.hooks(b["id"], "participant.rejected")[0]["reason"],
                         "Not on the list\nsorry")
        # Coming and going is bounded too (each move is an audit entry and maybe a webhook).
        pid2, path2 = self.guests(self.booking(attendees=0)[1])[0]
        codes = []
        for i in range(15):
            codes.append(self.page_post(path2 + "/wait", {"action": "ask", "name": "G"}).status)
            codes.append(self.page_post(path2 + "/wait", {"action": "leave"}).status)
        self.assertEqual(codes[:20], [200] * 20)
        r = self.page_post(path2 + "/wait", {"action": "ask", "name": "G"})
        self.assertEqual((r.status, r.json["error"]["code"]), (409, "too_many_steps"))
        # Bad input names the field.
        r = self.c.post(url, {"reason": "x" * 501})
        self.assertEqual((r.status, r.json["error"]["field"]), (400, "reason"))
        r = self.c.post(url, {"why": "x"})
        self.assertEqual((r.status, r.json["error"]["field"]), (400, "why"))
        r = self.page_post(path + "/wait", {"action": "dance"})
        self.assertEqual((r.status, r.json["error"]["field"]), (400, "action"))
        r = self.page_post(path + "/wait", {"action": "ask", "name": "a\nb"})
        self.assertEqual((r.status, r.json["error"]["field"]), (400, "name"))

    def test_two_host_tabs_at_once(self):
        b, links = self.booking(attendees=5)
        for pid, path in self.guests(links):
            self.ask(path)
            results = []
            lock = threading.Lock()

            def decide(i):
                cli = Client(self.d.host, self.d.port, self.d.api_key)
                verb = "admit" if i % 2 == 0 else "reject"
                r = cli.post("/v1/bookings/%s/participants/%s/%s" % (b["id"], pid, verb))
                with lock:
                    results.append((verb, r.status, r.json))

            ts = [threading.Thread(target=decide, args=(i,)) for i in range(16)]
            [t.start() for t in ts]
            [t.join() for t in ts]
            wins = [r for r in results if r[1] == 200]
            self.assertEqual(len(wins), 1, results)
            final = wins[0][2]["state"]
            for verb, status, body in results:
                if status != 200:
                    self.assertEqual(status, 409)
                    self.assertEqual(body["error"]["code"], "admission_conflict")
                    self.assertEqual(body["participant"]["state"], final)
            w = self.c.get("/v1/bookings/%s/waiting-room" % b["id"]).json
            self.assertEqual([p["state"] for p in w["participants"] if p["participant_id"] == pid],
                             [final])
        # Exactly one decision each on the audit trail.
        ev = self.c.get("/v1/bookings/%s/events" % b["id"]).json["data"]
        decided = [e for e in ev if e["type"] in ("participant.admitted", "participant.rejected")]
        self.assertEqual(len(decided), len(self.guests(links)))

    def test_admit_racing_leave(self):
        b, links = self.booking(attendees=8)
        for pid, path in self.guests(links):
            self.ask(path)
            out = {}

            def admit():
                out["admit"] = Client(self.d.host, self.d.port, self.d.api_key).post(
                    "/v1/bookings/%s/participants/%s/admit" % (b["id"], pid))

            def leave():
                out["leave"] = self.page_post(path + "/wait", {"action": "leave"})

            ts = [threading.Thread(target=admit), threading.Thread(target=leave)]
            [t.start() for t in ts]
            [t.join() for t in ts]
            a, l = out["admit"], out["leave"]
            self.assertEqual(sorted([a.status, l.status]), [200, 409], (a, l))
            winner = a if a.status == 200 else l
            loser = l if winner is a else a
            self.assertEqual(loser.json["participant"]["state"], winner.json["state"])
            self.assertIn(winner.json["state"], ("admitted", "left"))

    def test_cancel_while_guests_wait(self):
        b, links = self.booking(attendees=2)
        streams = []
        for pid, path in self.guests(links):
            self.ask(path)
            s = self.stream(path + "/events")
            self.state_events(s)
            streams.append((pid, s))
        r = self.c.post("/v1/bookings/%s/cancel" % b["id"], {"reason": "ill"})
        self.assertEqual(r.status, 200, r)
        for pid, s in streams:
            row = json.loads(self.state_events(s)[0]["data"])
            self.assertEqual(row["state"], "closed")
            s.close()
            r = self.c.post("/v1/bookings/%s/participants/%s/admit" % (b["id"], pid))
            self.assertEqual(r.status, 409, r)
            self.assertEqual(r.json["participant"]["state"], "closed")
        r = self.c.post("/v1/bookings/%s/waiting-room/admit-all" % b["id"])
        self.assertEqual((r.status, r.json["error"]["code"]), (409, "booking_closed"))
        # The waiting page now sends to the gateway's cancelled page.
        path = self.guests(links)[0][1]
        self.assertEqual(self.anon.get(path + "/wait").header("Location"), path)
        self.assertEqual(self.anon.get(path).status, 410)

    def test_admit_all_and_the_panel(self):
        b, links = self.booking(attendees=3)
        host = self.host_link(links)
        # The host's own link opens the panel; a guest's link does not.
        self.assertEqual(self.anon.get(host).header("Location"), host + "/panel")
        r = self.anon.get(host + "/panel")
        self.assertEqual(r.status, 200)
        self.assertIn(b"panel.js", r.body)
        g = self.guests(links)
        self.assertEqual(self.anon.get(g[0][1] + "/panel").status, 303)
        panel = self.stream(host + "/panel/events")
        ev = self.state_events(panel)[0]
        self.assertEqual((ev["event"], json.loads(ev["data"])), ("passes", []))
        streams = []
        for pid, path in g:
            self.ask(path, name="N" + pid[-4:])
            s = self.stream(path + "/events")
            self.state_events(s)
            streams.append(s)
        seen = {}
        while len(seen) < len(g):
            ev = self.state_events(panel)[0]
            if ev["event"] == "participant":
                row = json.loads(ev["data"])
                seen[row["participant_id"]] = row["state"]
        self.assertEqual(set(seen.values()), {"waiting"})
        # Only the host acts, only from its own page (JSON, same origin).
        r = self.page_post(g[0][1] + "/panel/admit-all", {})
        self.assertEqual(r.status, 403, r)
        r = self.page_post(host + "/panel/admit-all", {}, origin=False)
        self.assertEqual((r.status, r.json["error"]["code"]), (403, "forbidden_origin"))
        r = self.anon.request("POST", host + "/panel/admit-all", raw=b"participant_id=x",
                              headers={"Content-Type": "application/x-www-form-urlencoded",
                                       "Origin": self.origin})
        self.assertEqual(r.status, 415, r)
        r = self.anon.request("POST", host + "/panel/admit-all", raw=b"{}",
                              headers={"Content-Type": "application/json",
                                       "Origin": "http://evil.test"})
        self.assertEqual(r.status, 403, r)
        t0 = time.time()
        r = self.page_post(host + "/panel/admit-all", {})
        self.assertEqual((r.status, len(r.json["data"])), (200, len(g)), r)
        for s in streams:
            self.assertEqual(json.loads(self.state_events(s)[0]["data"])["state"], "admitted")
            s.close()
        self.assertLess(time.time() - t0, 1.0)
        # The guests pass; the panel hears of it.
        for pid, path in g:
            self.assertEqual(self.anon.get(path + "/go").status, 303)
        passes = None
        deadline = time.time() + 5
        while time.time() < deadline:
            ev = panel.next_event(1)
            if ev and ev["event"] == "passes":
                passes = json.loads(ev["data"])
                if len(passes) == len(g):
                    break
        self.assertEqual(sorted(p["participant_id"] for p in passes), sorted(p for p, _ in g))
        panel.close()
        ev = self.c.get("/v1/bookings/%s/events" % b["id"]).json["data"]
        admitted = [e for e in ev if e["type"] == "participant.admitted"]
        self.assertEqual(len(admitted), len(g))
        self.assertTrue(all(e["actor"].startswith("host:prt_") for e in admitted))

    def test_resume_after_last_event_id_and_keepalive(self):
        b, links = self.booking(attendees=3)
        host = self.host_link(links)
        g = self.guests(links)
        for pid, path in g[:2]:
            self.ask(path)
        panel = self.stream(host + "/panel/events")
        evs = [e for e in self.state_events(panel, 3) if e["event"] == "participant"]
        self.assertEqual(len(evs), 2)
        last = int(evs[-1]["id"])
        # Quiet: keep-alive comments, no events.
        time.sleep(1.0)
        self.assertIsNone(panel.next_event(0.3))
        self.assertIn("keep-alive", panel.comments)
        panel.close()
        # While away: a third guest asks, the first is admitted.
        self.ask(g[2][1])
        self.c.post("/v1/bookings/%s/participants/%s/admit" % (b["id"], g[0][0]))
        panel = self.stream(host + "/panel/events", last=last)
        got = []
        while True:
            ev = panel.next_event(1.0)
            if not ev:
                break
            if ev["event"] == "participant":
                got.append((int(ev["id"]), json.loads(ev["data"])["participant_id"],
                            json.loads(ev["data"])["state"]))
        panel.close()
        self.assertEqual([(p, s) for _, p, s in got], [(g[2][0], "waiting"), (g[0][0], "admitted")])
        self.assertTrue(all(i > last for i, _, _ in got))
        # The guest's stream resumes too: nothing new after its last id, then the change.
        pid, path = g[1]
        s = self.stream(path + "/events")
        first = self.state_events(s)[0]
        s.close()
        s = self.stream(path + "/events", last=first["id"])
        self.assertIsNone(s.next_event(0.5))
        self.c.post("/v1/bookings/%s/participants/%s/reject" % (b["id"], pid), {})
        ev = self.state_events(s)[0]
        self.assertGreater(int(ev["id"]), int(first["id"]))
        self.assertEqual(json.loads(ev["data"])["state"], "rejected")
        s.close()

    def test_organization_default_and_isolation(self):
        # A service that leaves waiting_room null follows the organization's default.
        b, links = self.booking(attendees=0, settings={})
        pid, path = self.guests(links)[0]
        self.assertTrue(self.anon.get(path).header("Location").startswith("https://"))
        r = self.c.patch("/v1/organization/settings", {"waiting_room_default": True})
        self.assertEqual((r.status, r.json["waiting_room_default"]), (200, True))
        try:
            self.assertEqual(self.anon.get(path).header("Location"), path + "/wait")
            self.assertTrue(self.c.get("/v1/bookings/%s/waiting-room" % b["id"]).json["enabled"])
            self.ask(path)
        finally:
            self.c.patch("/v1/organization/settings", {"waiting_room_default": False})
        # Another organization sees and touches nothing of this one's room.
        other = Client(self.d.host, self.d.port, fx.create_key(self.d, "wr-other"))
        for method, p in (("GET", "/v1/bookings/%s/waiting-room" % b["id"]),
                          ("POST", "/v1/bookings/%s/participants/%s/admit" % (b["id"], pid)),
                          ("POST", "/v1/bookings/%s/participants/%s/reject" % (b["id"], pid)),
                          ("POST", "/v1/bookings/%s/waiting-room/admit-all" % b["id"])):
            r = other.request(method, p, body={} if method == "POST" else None)
            self.assertEqual(r.status, 404, (p, r))
        self.assertFalse(other.get("/v1/organization/settings").json["waiting_room_default"])
        w = self.c.get("/v1/bookings/%s/waiting-room" % b["id"]).json
        self.assertEqual([x["state"] for x in w["waiting"]], ["waiting"])
        # An unknown link: 404 on every path of the room.
        bad = "/j/" + "A" * 43
        for p in ("/wait", "/events", "/panel", "/panel/events"):
            self.assertEqual(self.anon.get(bad + p).status, 404, p)
        self.assertEqual(self.page_post(bad + "/wait", {"action": "ask"}).status, 404)


if __name__ == "__main__":
    main()
