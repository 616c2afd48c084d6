"""The Google emulator's push notifications and incremental sync (src/sandbox/google_push.c):
events.watch (a Channel, validated against specs/google), the notifications it sends (X-Goog-*
headers, message numbers, only while the channel is live on the sandbox clock), channels.stop,
events.list with syncToken (what changed since; cancelled events as id and status;
nextSyncToken on the last page; 410 fullSyncRequired once expired; refused alongside filters),
and the host's own changes."""

import http.server
import threading
import time

from sbutil import SandboxTest, google_error_schema, google_schema, main

EVENTS = "/google/calendar/v3/calendars/primary/events"
CHANNEL = google_schema("Channel")
EVENTS_LIST = google_schema("Events")
ERROR = google_error_schema()
TOKEN = "ya29.sandbox-ada"


class Hook(http.server.BaseHTTPRequestHandler):
    got = []

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        Hook.got.append({"headers": {k.lower(): v for k, v in self.headers.items()},
                         "body": self.rfile.read(n)})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


class GooglePush(SandboxTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
        threading.Thread(target=cls.srv.serve_forever, daemon=True).start()
        cls.addr = "http://127.0.0.1:%d/webhooks/google" % cls.srv.server_address[1]

    @classmethod
    def tearDownClass(cls):
        cls.srv.shutdown()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        Hook.got.clear()
        self.api = self.client(TOKEN)

    def wait_hooks(self, n, timeout=10):
        deadline = time.time() + timeout
        while len(Hook.got) < n and time.time() < deadline:
            time.sleep(0.02)
        return list(Hook.got)

    def watch(self, cid="mlw-test-1", **kw):
        body = {"id": cid, "type": "web_hook", "address": self.addr, "token": "tok-1"}
        body.update(kw)
        return self.api.post(EVENTS + "/watch", body)

    def insert(self, eid):
        r = self.api.post(EVENTS + "?conferenceDataVersion=0", {
            "id": eid, "summary": "x", "start": {"dateTime": "2026-12-01T15:00:00Z"},
            "end": {"dateTime": "2026-12-01T16:00:00Z"}})
        self.assertEqual(r.status, 200, r)
        return r.json

    def test_watch_notifications_and_stop(self):
        r = self.watch(params={"ttl": "3600"})
        self.assertEqual(r.status, 200, r)
        self.assertValid(CHANNEL, r.json)
        ch = r.json
        self.assertEqual((ch["kind"], ch["id"], ch["token"]), ("api#channel", "mlw-test-1", "tok-1"))
        self.assertAlmostEqual(int(ch["expiration"]) / 1000, time.time() + 3600, delta=30)
        first = self.wait_hooks(1)[0]["headers"]
        self.assertEqual((first["x-goog-resource-state"], first["x-goog-message-number"]),
                         ("sync", "1"))
        self.assertEqual(first["x-goog-channel-token"], "tok-1")
        self.assertEqual(first["x-goog-resource-id"], ch["resourceId"])
        self.insert("evpush01")
        h = self.wait_hooks(2)[1]
        self.assertEqual(h["body"], b"")
        self.assertEqual((h["headers"]["x-goog-resource-state"],
                          h["headers"]["x-goog-message-number"]), ("exists", "2"))
        self.assertEqual(h["headers"]["x-goog-channel-id"], "mlw-test-1")
        # The same id again: refused.
        r = self.watch()
        self.assertEqual(r.status, 400, r)
        self.assertValid(ERROR, r.json)
        # Stop: 204, then nothing more is sent; a second stop is 404.
        r = self.api.post("/google/calendar/v3/channels/stop",
                          {"id": ch["id"], "resourceId": ch["resourceId"]})
        self.assertEqual(r.status, 204, r)
        self.insert("evpush02")
        time.sleep(0.3)
        self.assertEqual(len(Hook.got), 2)
        r = self.api.post("/google/calendar/v3/channels/stop",
                          {"id": ch["id"], "resourceId": ch["resourceId"]})
        self.assertEqual(r.status, 404, r)
        self.assertValid(ERROR, r.json)

    def test_channel_expires_on_the_sandbox_clock(self):
        r = self.watch(cid="mlw-exp", params={"ttl": "60"})
        self.assertEqual(r.status, 200, r)
        self.wait_hooks(1)
        r = self.c.post("/_sandbox/clock", {"advance_seconds": 120})
        self.assertIn(r.status, (200, 204), r)
        self.insert("evpush03")
        time.sleep(0.3)
        self.assertEqual(len(Hook.got), 1)  # expired: nothing after the sync message

    def test_bad_watch_requests(self):
        for body, why in [({"type": "web_hook", "address": self.addr}, "id"),
                          ({"id": "a b", "type": "web_hook", "address": self.addr}, "id"),
                          ({"id": "x1", "type": "carrier_pigeon", "address": self.addr}, "type"),
                          ({"id": "x2", "type": "web_hook", "address": "ftp://x"}, "address"),
                          ({"id": "x3", "type": "web_hook", "address": self.addr,
                            "params": {"ttl": "-5"}}, "ttl")]:
            r = self.api.post(EVENTS + "/watch", body)
            self.assertEqual(r.status, 400, (why, r))
            self.assertValid(ERROR, r.json)
        self.assertEqual(self.client().post(EVENTS + "/watch", {"id": "x"}).status, 401)
        self.config("google", push_require_https=True)
        r = self.watch(cid="x4")
        self.assertEqual(r.status, 400, r)

    def test_sync_tokens(self):
        self.insert("evsnc01")
        self.insert("evsnc02")
        full = self.api.get(EVENTS)
        self.assertEqual(full.status, 200, full)
        self.assertValid(EVENTS_LIST, full.json)
        tok = full.json["nextSyncToken"]
        empty = self.api.get(EVENTS + "?syncToken=" + tok)
        self.assertEqual((empty.status, empty.json["items"]), (200, []))
        self.assertValid(EVENTS_LIST, empty.json)
        # The host deletes one and moves the other.
        r = self.c.post("/google/_host/change", {"event_id": "evsnc01", "action": "delete"})
        self.assertEqual(r.status, 200, r)
        r = self.c.post("/google/_host/change", {"event_id": "evsnc02", "action": "move",
                                                 "start": "2026-12-01T17:00:00Z",
                                                 "end": "2026-12-01T18:00:00Z"})
        self.assertEqual(r.status, 200, r)
        self.assertValid(google_schema("Event"), r.json)
        inc = self.api.get(EVENTS + "?maxResults=1&syncToken=" + tok)
        self.assertEqual(inc.status, 200, inc)
        self.assertValid(EVENTS_LIST, inc.json)
        self.assertNotIn("nextSyncToken", inc.json)
        items = inc.json["items"]
        nxt = self.api.get(EVENTS + "?maxResults=1&syncToken=%s&pageToken=%s" % (
            tok, inc.json["nextPageToken"]))
        self.assertEqual(nxt.status, 200, nxt)
        items += nxt.json["items"]
        by = {i["id"]: i for i in items}
        self.assertEqual(by["evsnc01"]["status"], "cancelled")
        self.assertNotIn("start", by["evsnc01"])  # a deleted event: id and status
        self.assertEqual(by["evsnc02"]["start"]["dateTime"], "2026-12-01T17:00:00Z")
        tok2 = nxt.json["nextSyncToken"]
        self.assertNotEqual(tok2, tok)
        # Filters cannot go with a sync token.
        r = self.api.get(EVENTS + "?q=x&syncToken=" + tok2)
        self.assertEqual(r.status, 400, r)
        self.assertValid(ERROR, r.json)
        # Expired tokens: 410 fullSyncRequired; a full listing gives a fresh one.
        r = self.c.post("/google/_host/expire_sync_tokens", {})
        self.assertEqual(r.status, 200, r)
        r = self.api.get(EVENTS + "?syncToken=" + tok2)
        self.assertEqual(r.status, 410, r)
        self.assertValid(ERROR, r.json)
        self.assertEqual(r.json["error"]["errors"][0]["reason"], "fullSyncRequired")
        again = self.api.get(EVENTS + "?showDeleted=true")
        self.assertEqual(self.api.get(EVENTS + "?syncToken=" + again.json["nextSyncToken"])
                         .status, 200)

    def test_host_notify_replays_and_forges(self):
        self.assertEqual(self.watch(cid="mlw-n").status, 200)
        self.wait_hooks(1)
        r = self.c.post("/google/_host/notify", {"channel_id": "mlw-n", "message_number": 1,
                                                 "forge": True})
        self.assertEqual(r.status, 201, r)
        h = self.wait_hooks(2)[1]["headers"]
        self.assertEqual(h["x-goog-message-number"], "1")
        self.assertNotEqual(h["x-goog-channel-token"], "tok-1")
        self.assertEqual(self.c.post("/google/_host/notify", {"channel_id": "nope"}).status, 404)
        self.assertEqual(self.c.post("/google/_host/notify", {"channel_id": "mlw-n",
                                                              "state": "x"}).status, 400)
        self.assertEqual(self.c.post("/google/_host/change", {"event_id": "missing",
                                                              "action": "delete"}).status, 404)


if __name__ == "__main__":
    main()
