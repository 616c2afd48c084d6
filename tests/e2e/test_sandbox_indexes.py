"""The sandbox's lookup indexes (src/sandbox/sbindex.h) answer as the walks they replaced:
Twilio rooms by UniqueName (fetch, the 53113 check, the list filter) across completions and
re-creations, Teams createOrGet by externalId and Outlook events by transactionId across
deletes and PATCH, Zoom's meeting list by host across deletes, and its scheduled list paged by
cursor at 1,000 meetings while meetings come and go; and each after a reset and after a
--state load, when the index is rebuilt from the state."""

import base64
import os
import tempfile
import urllib.parse

from sbutil import SandboxTest, main, start_sandbox
from harness import Client

TW = {"Authorization": "Basic " + base64.b64encode(
    b"AC00000000000000000000000000000001:a1b2c3d4e5f60718293a4b5c6d7e8f90").decode(),
      "Content-Type": "application/x-www-form-urlencoded"}
ZOOM_S2S = {"Authorization": "Basic " + base64.b64encode(
    b"zoom-s2s-client-id:zoom-s2s-client-secret").decode()}
ZOOM_ACCOUNT = "SbxZoomAccount00000001"
ADA_MS = "eyJ0eXAiOiJKV1QiLCJzYiI6MX0.sandbox-ada"
ADA_ZM, GRACE_ZM = "ada@zoom.sandbox.test", "grace@zoom.sandbox.test"
EVENT = {"subject": "Math", "body": {"contentType": "HTML", "content": "Booking"},
         "start": {"dateTime": "2026-12-01T15:00:00", "timeZone": "UTC"},
         "end": {"dateTime": "2026-12-01T15:50:00", "timeZone": "UTC"}}
MEETING = {"startDateTime": "2026-12-01T15:00:00Z", "endDateTime": "2026-12-01T15:50:00Z",
           "subject": "Math"}


def tw(c, method, path, params=None):
    raw = urllib.parse.urlencode(params).encode() if params is not None else None
    return c.request(method, "/twilio" + path, raw=raw, headers=TW)


def zoom_token(c):
    r = c.post("/zoom/oauth/token?grant_type=account_credentials&account_id=" + ZOOM_ACCOUNT,
               raw=b"", headers=ZOOM_S2S)
    assert r.status == 200, r
    return r.json["access_token"]


def zoom_list(z, user, page_size=2):
    """Every meeting id of a host's scheduled list, page by page, and total_records."""
    ids, tok, total = [], "", None
    while True:
        r = z.get("/zoom/v2/users/%s/meetings?type=scheduled&page_size=%d%s"
                  % (user, page_size, "&next_page_token=" + tok if tok else ""))
        assert r.status == 200, r
        total = r.json["total_records"]
        ids += [m["id"] for m in r.json["meetings"]]
        tok = r.json["next_page_token"]
        if not tok:
            return ids, total


def zoom_create(z, user, agenda):
    r = z.post("/zoom/v2/users/%s/meetings" % user,
               {"topic": "m", "type": 2, "start_time": "2027-01-01T10:00:00Z",
                "duration": 30, "agenda": agenda})
    assert r.status == 201, r
    return r.json["id"]


class Indexes(SandboxTest):
    def test_twilio_rooms_by_unique_name(self):
        a = tw(self.c, "POST", "/v1/Rooms", {"UniqueName": "idx-a"})
        b = tw(self.c, "POST", "/v1/Rooms", {"UniqueName": "idx-b"})
        self.assertEqual((a.status, b.status), (201, 201))
        self.assertEqual(tw(self.c, "GET", "/v1/Rooms/idx-a").json["sid"], a.json["sid"])
        self.assertEqual(tw(self.c, "POST", "/v1/Rooms", {"UniqueName": "idx-a"}).json["code"],
                         53113)
        # Completed: the name is free, the old room still answers by its sid.
        tw(self.c, "POST", "/v1/Rooms/idx-a", {"Status": "completed"})
        self.assertEqual(tw(self.c, "GET", "/v1/Rooms/idx-a").status, 404)
        a2 = tw(self.c, "POST", "/v1/Rooms", {"UniqueName": "idx-a"})
        self.assertEqual(a2.status, 201, a2)
        self.assertEqual(tw(self.c, "GET", "/v1/Rooms/idx-a").json["sid"], a2.json["sid"])
        self.assertEqual(tw(self.c, "GET", "/v1/Rooms/" + a.json["sid"]).json["status"],
                         "completed")
        listed = tw(self.c, "GET", "/v1/Rooms?UniqueName=idx-a").json["rooms"]
        self.assertEqual(sorted(r["sid"] for r in listed), sorted([a.json["sid"], a2.json["sid"]]))
        done = tw(self.c, "GET", "/v1/Rooms?UniqueName=idx-a&Status=completed").json["rooms"]
        self.assertEqual([r["sid"] for r in done], [a.json["sid"]])
        self.assertEqual(tw(self.c, "GET", "/v1/Rooms?UniqueName=idx-none").json["rooms"], [])
        self.assertEqual(len(tw(self.c, "GET", "/v1/Rooms").json["rooms"]), 3)
        # A room without a UniqueName is named by its sid.
        c = tw(self.c, "POST", "/v1/Rooms", {})
        self.assertEqual(c.json["unique_name"], c.json["sid"])
        self.assertEqual(tw(self.c, "GET", "/v1/Rooms?UniqueName=" + c.json["sid"]).json["rooms"][0]["sid"],
                         c.json["sid"])
        # After a reset the index describes the fresh state.
        self.assertEqual(self.c.post("/_sandbox/reset").status, 200)
        self.assertEqual(tw(self.c, "GET", "/v1/Rooms/idx-b").status, 404)
        self.assertEqual(tw(self.c, "POST", "/v1/Rooms", {"UniqueName": "idx-b"}).status, 201)
        self.assertEqual(tw(self.c, "POST", "/v1/Rooms", {"UniqueName": "idx-b"}).json["code"],
                         53113)

    def test_teams_create_or_get_by_external_id(self):
        g = self.client(ADA_MS)
        path = "/microsoft/v1.0/me/onlineMeetings"
        a = g.post(path + "/createOrGet", dict(MEETING, externalId="idx-1"))
        self.assertEqual(a.status, 201, a)
        self.assertEqual(g.post(path + "/createOrGet", dict(MEETING, externalId="idx-1")).json["id"],
                         a.json["id"])
        # Deleted: createOrGet makes a new one, then finds that one.
        self.assertEqual(g.delete(path + "/" + a.json["id"]).status, 204)
        b = g.post(path + "/createOrGet", dict(MEETING, externalId="idx-1"))
        self.assertEqual(b.status, 201, b)
        self.assertNotEqual(b.json["id"], a.json["id"])
        again = g.post(path + "/createOrGet", dict(MEETING, externalId="idx-1"))
        self.assertEqual((again.status, again.json["id"]), (200, b.json["id"]))
        # A PATCH keeps the externalId (and the index finds the patched meeting).
        p = g.patch(path + "/" + b.json["id"], {"subject": "Renamed"})
        self.assertEqual(p.status, 200, p)
        got = g.post(path + "/createOrGet", dict(MEETING, externalId="idx-1"))
        self.assertEqual((got.status, got.json["id"], got.json["subject"]),
                         (200, b.json["id"], "Renamed"))
        # A plain create has no externalId: it is never found by one.
        plain = g.post(path, dict(MEETING, externalId="idx-2"))
        self.assertEqual(plain.status, 201, plain)
        c = g.post(path + "/createOrGet", dict(MEETING, externalId="idx-2"))
        self.assertEqual(c.status, 201, c)
        self.assertNotEqual(c.json["id"], plain.json["id"])
        self.assertEqual(self.c.post("/_sandbox/reset").status, 200)
        fresh = g.post(path + "/createOrGet", dict(MEETING, externalId="idx-1"))
        self.assertEqual(fresh.status, 201, fresh)

    def test_outlook_event_by_transaction_id(self):
        g = self.client(ADA_MS)
        path = "/microsoft/v1.0/me/events"
        a = g.post(path, dict(EVENT, transactionId="idx-tx"))
        self.assertEqual(a.status, 201, a)
        self.assertEqual(g.post(path, dict(EVENT, transactionId="idx-tx")).json["id"], a.json["id"])
        other = g.post(path, dict(EVENT, transactionId="idx-tx-2"))
        self.assertNotEqual(other.json["id"], a.json["id"])
        # Deleted: a retry makes a new event, then finds that one.
        self.assertEqual(g.delete(path + "/" + a.json["id"]).status, 204)
        b = g.post(path, dict(EVENT, transactionId="idx-tx"))
        self.assertNotEqual(b.json["id"], a.json["id"])
        self.assertEqual(g.post(path, dict(EVENT, transactionId="idx-tx")).json["id"], b.json["id"])
        self.assertEqual(len(g.get(path).json["value"]), 2)
        self.assertEqual(self.c.post("/_sandbox/reset").status, 200)
        fresh = g.post(path, dict(EVENT, transactionId="idx-tx"))
        self.assertNotEqual(fresh.json["id"], b.json["id"])
        self.assertEqual(len(g.get(path).json["value"]), 1)

    def test_zoom_list_by_host(self):
        z = self.client(zoom_token(self.c))
        ada = [zoom_create(z, ADA_ZM, "a%d" % i) for i in range(5)]
        grace = [zoom_create(z, GRACE_ZM, "g%d" % i) for i in range(3)]
        self.assertEqual(zoom_list(z, ADA_ZM), (ada, 5))
        self.assertEqual(zoom_list(z, GRACE_ZM), (grace, 3))
        self.assertEqual(z.delete("/zoom/v2/meetings/%d" % ada[2]).status, 204)
        self.assertEqual(zoom_list(z, ADA_ZM), (ada[:2] + ada[3:], 4))
        self.assertEqual(zoom_list(z, ADA_ZM, 300), (ada[:2] + ada[3:], 4))
        # A list kept between pages is dropped when a meeting changes: a create, a delete
        # or an update between two pages shows in the next one.
        first = z.get("/zoom/v2/users/%s/meetings?type=scheduled&page_size=2" % ADA_ZM)
        self.assertEqual(first.json["total_records"], 4)
        late = zoom_create(z, ADA_ZM, "between pages")
        nxt = z.get("/zoom/v2/users/%s/meetings?type=scheduled&page_size=2&next_page_token=%s"
                    % (ADA_ZM, first.json["next_page_token"]))
        self.assertEqual(nxt.json["total_records"], 5)
        self.assertEqual([m["id"] for m in nxt.json["meetings"]], [ada[3], ada[4]])
        self.assertEqual(z.delete("/zoom/v2/meetings/%d" % ada[0]).status, 204)
        self.assertEqual(zoom_list(z, ADA_ZM), (ada[1:2] + ada[3:] + [late], 4))
        self.assertEqual(z.patch("/zoom/v2/meetings/%d" % ada[1], {"type": 1}).status, 204)
        self.assertEqual(zoom_list(z, ADA_ZM), (ada[3:] + [late], 3))
        self.assertEqual(zoom_list(z, GRACE_ZM), (grace, 3))
        self.assertEqual(self.c.post("/_sandbox/reset").status, 200)
        z = self.client(zoom_token(self.c))
        self.assertEqual(zoom_list(z, ADA_ZM), ([], 0))
        one = zoom_create(z, ADA_ZM, "after reset")
        self.assertEqual(zoom_list(z, ADA_ZM), ([one], 1))

    def test_zoom_scheduled_list_pages_by_cursor_at_scale(self):
        # 1,000 meetings of one host, paged 300 at a time while meetings are deleted and
        # created between the pages: nothing skipped, nothing twice, the new one last. An
        # offset token skipped a meeting once one before it was deleted.
        self.config("zoom", rate_limit_medium=100000, rate_limit_light=100000,
                    daily_meeting_writes_per_user=100000)
        z = self.client(zoom_token(self.c))
        ada = []
        for i in range(1000):
            ada.append(zoom_create(z, ADA_ZM, "s%d" % i))
            if i % 250 == 0:
                zoom_create(z, GRACE_ZM, "g%d" % i)
        self.assertEqual(zoom_list(z, ADA_ZM, 300), (ada, 1000))
        path = "/zoom/v2/users/%s/meetings?type=scheduled&page_size=300" % ADA_ZM
        first = z.get(path)
        self.assertEqual([m["id"] for m in first.json["meetings"]], ada[:300])
        self.assertEqual((first.json["page_count"], first.json["page_number"]), (4, 1))
        self.assertEqual(z.delete("/zoom/v2/meetings/%d" % ada[10]).status, 204)
        self.assertEqual(z.delete("/zoom/v2/meetings/%d" % ada[500]).status, 204)
        late = zoom_create(z, ADA_ZM, "between pages")
        rest, tok, totals = [], first.json["next_page_token"], set()
        while tok:
            r = z.get(path + "&next_page_token=" + tok)
            self.assertEqual(r.status, 200, r)
            rest += [m["id"] for m in r.json["meetings"]]
            totals.add(r.json["total_records"])
            tok = r.json["next_page_token"]
        self.assertEqual(rest, [x for x in ada[300:] if x != ada[500]] + [late])
        self.assertEqual(totals, {999})
        # A token lives 15 minutes, as Zoom's; one from before a reset is unknown.
        tok = z.get(path).json["next_page_token"]
        self.assertEqual(z.get(path + "&next_page_token=" + tok).status, 200)
        self.assertEqual(self.c.post("/_sandbox/clock", {"advance_seconds": 16 * 60}).status, 200)
        r = z.get(path + "&next_page_token=" + tok)
        self.assertEqual((r.status, r.json["code"]), (400, 300), r)
        tok = z.get(path).json["next_page_token"]
        self.assertEqual(self.c.post("/_sandbox/reset").status, 200)
        z = self.client(zoom_token(self.c))
        for bad in (tok, "300", "x"):
            r = z.get(path + "&next_page_token=" + bad)
            self.assertEqual((r.status, r.json["code"]), (400, 300), r)


class IndexesAfterStateLoad(SandboxTest):
    def test_indexes_rebuilt_from_a_loaded_state(self):
        with tempfile.TemporaryDirectory() as d:
            state = os.path.join(d, "state.json")
            sb = start_sandbox(["--state", state])
            try:
                c = Client(sb.host, sb.port)
                room = tw(c, "POST", "/v1/Rooms", {"UniqueName": "kept"}).json["sid"]
                m = Client(sb.host, sb.port, token=ADA_MS)
                ext = m.post("/microsoft/v1.0/me/onlineMeetings/createOrGet",
                             dict(MEETING, externalId="kept")).json["id"]
                z = Client(sb.host, sb.port, token=zoom_token(c))
                zm = zoom_create(z, ADA_ZM, "kept")
                self.assertEqual(c.post("/_sandbox/save").status, 200)
            finally:
                sb.close()
            sb = start_sandbox(["--state", state])
            try:
                c = Client(sb.host, sb.port)
                self.assertEqual(tw(c, "GET", "/v1/Rooms/kept").json["sid"], room)
                self.assertEqual(tw(c, "POST", "/v1/Rooms", {"UniqueName": "kept"}).json["code"],
                                 53113)
                m = Client(sb.host, sb.port, token=ADA_MS)
                r = m.post("/microsoft/v1.0/me/onlineMeetings/createOrGet",
                           dict(MEETING, externalId="kept"))
                self.assertEqual((r.status, r.json["id"]), (200, ext))
                z = Client(sb.host, sb.port, token=zoom_token(c))
                self.assertEqual(zoom_list(z, ADA_ZM), ([zm], 1))
            finally:
                sb.close()


if __name__ == "__main__":
    main()
