"""Helpers for the meeting-pipeline end-to-end tests: a sandbox and a daemon pointed at it
with short retry/poll knobs, hosts connected through the real connect flow (the sandbox
auto-approves), and the sandbox's view of what each provider holds per booking."""

import http.cookiejar
import json
import os
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import Client, start_daemon, start_sandbox  # noqa: E402
import fixtures  # noqa: E402

# Knobs that keep these tests fast (docs/pipeline.md lists them).
FAST = {
    "MEETLINK_RETRY_BASE_MS": "40",         # first retry after ~40 ms, doubling
    "MEETLINK_PROVIDER_POLL_MS": "50",      # Google pending conference polled every 50 ms
    "MEETLINK_PROVIDER_TIMEOUT_MS": "1500",  # a provider call that hangs ends after 1.5 s
    "MEETLINK_MEETING_MAX_ATTEMPTS": "12",
    "MEETLINK_LOG_LEVEL": "warn",
}

SB_NAME = {"google_meet": "google", "zoom": "zoom", "teams": "microsoft", "twilio": "twilio"}


class Env:
    """One sandbox and one daemon on a fresh store."""

    def __init__(self, env=None):
        self.sb = start_sandbox()
        self.sbc = Client(self.sb.host, self.sb.port)
        e = dict(FAST)
        e["MEETLINK_SANDBOX_URL"] = self.sb.url
        e.update(env or {})
        self.env = e
        self.d = start_daemon(e)
        self.c = Client(self.d.host, self.d.port, self.d.api_key)

    def restart(self, kill=True):
        """SIGKILL (or stop) the daemon and start it again on the same store."""
        if kill:
            self.d.kill()
        else:
            self.d.stop()
        self.d.start()
        self.c = Client(self.d.host, self.d.port, self.d.api_key)

    def close(self):
        try:
            self.d.close()
        finally:
            self.sb.close()

    # --- sandbox ---
    def fault(self, **spec):
        r = self.sbc.post("/_sandbox/faults", spec)
        assert r.status == 201, r
        return r.json["id"]

    def clear_faults(self):
        assert self.sbc.delete("/_sandbox/faults").status in (200, 204)

    def sb_config(self, provider, **settings):
        r = self.sbc.post("/_sandbox/config", {provider: settings})
        assert r.status == 200, r

    def sb_state(self, provider):
        r = self.sbc.get("/_sandbox/state?provider=" + provider)
        assert r.status == 200, r
        return r.json

    def sb_requests(self, **filters):
        q = urllib.parse.urlencode(filters)
        return self.sbc.get("/_sandbox/requests?" + q).json["requests"]

    # --- meetlink ---
    def connect(self, host_id, platform):
        """Connects host_id's account on platform through the hosted connect flow."""
        self.sb_config(SB_NAME[platform], auto_approve=True)
        r = self.c.post("/v1/hosts/%s/connect-links" % host_id, {"platform": platform})
        assert r.status in (200, 201), r
        t = urllib.parse.parse_qs(urllib.parse.urlparse(r.json["url"]).query)["t"][0]
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        url = "%s/oauth/%s/start?t=%s" % (self.d.url, platform, urllib.parse.quote(t))
        with opener.open(url, timeout=20) as resp:
            resp.read()
        r = self.c.get("/v1/hosts/%s/connections" % host_id)
        assert r.status == 200, r
        st = {x["platform"]: x["status"] for x in r.json["data"]}
        assert st.get(platform) == "connected", (st, r)

    def credentials(self, platform, body):
        r = self.c.put("/v1/credentials/%s" % platform, body)
        assert r.status in (200, 201), r
        return r.json

    def setup(self, platform, connect=True, **service_kw):
        h = fixtures.host(self.c)
        if connect and platform in ("google_meet", "zoom", "teams"):
            self.connect(h["id"], platform)
        kw = {"platform": platform}
        kw.update(service_kw)
        s = fixtures.service(self.c, h["id"], **kw)
        return h, s

    def book(self, service_id, start="2026-12-01T15:00:00Z", confirm=True, **kw):
        b = fixtures.booking(self.c, service_id, start=start, **kw)
        if confirm:
            # The pipeline's tests book one host many times over the same hours: they say so
            # (the conflict rule itself is test_booking_conflicts.py's).
            r = self.c.post("/v1/bookings/%s/confirm" % b["id"], {"allow_overlap": True})
            assert r.status in (200, 202), r
            return r
        return b

    def booking(self, bid):
        r = self.c.get("/v1/bookings/" + bid)
        assert r.status == 200, r
        return r.json

    def wait_meetings(self, ids, want=("ready",), timeout=60):
        """Polls until every booking's meeting status is in want; returns the bookings."""
        deadline = time.time() + timeout
        last = {}
        while time.time() < deadline:
            done = True
            for i in ids:
                if i in last and last[i]["meeting"]["status"] in want:
                    continue
                try:
                    last[i] = self.booking(i)
                except (ConnectionError, OSError):
                    done = False
                    break
                if last[i]["meeting"]["status"] not in want:
                    done = False
            if done:
                return [last[i] for i in ids]
            time.sleep(0.05)
        raise AssertionError("meetings not %s after %ss: %s" % (
            want, timeout, {i: (b["meeting"]["status"], b["meeting"].get("error"))
                            for i, b in last.items() if b["meeting"]["status"] not in want}))

    def jobs(self, state=None, booking_id=None):
        q = {"limit": "200"}
        if state:
            q["state"] = state
        if booking_id:
            q["booking_id"] = booking_id
        out, cursor = [], None
        while True:
            if cursor:
                q["cursor"] = cursor
            r = self.c.get("/v1/jobs?" + urllib.parse.urlencode(q))
            assert r.status == 200, r
            out += r.json["data"]
            cursor = r.json.get("next_cursor")
            if not cursor:
                return out

    def wait_idle(self, timeout=60, kinds=("meeting.",)):
        """Until no meeting job is queued, running or waiting."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            # One listing of every state: with one per state, a job retried between the two
            # (running, then queued again) was in neither.
            busy = [j for j in self.jobs() if j["state"] in ("queued", "running")
                    and j["kind"].startswith(kinds)]
            if not busy:
                return
            time.sleep(0.1)
        raise AssertionError("jobs still busy: %s" % busy[:5])


def google_events(env, live_only=True):
    """{booking_id: [event, ...]} of every event the sandbox's Google holds."""
    st = env.sb_state("google")
    root = st.get("google", st)
    out = {}
    for cal in root.get("calendars", {}).values():
        for ev in cal.get("events", {}).values():
            if live_only and ev.get("status") == "cancelled":
                continue
            bid = ev.get("extendedProperties", {}).get("private", {}).get("meetlink_booking")
            out.setdefault(bid, []).append(ev)
    return out


def zoom_meetings(env):
    """{booking_id: [meeting, ...]} of the live meetings the sandbox's Zoom holds."""
    st = env.sb_state("zoom")
    root = st.get("zoom", st)
    out = {}
    for rec in root.get("meetings", {}).values():
        if rec.get("deleted") or rec.get("expired"):
            continue
        m = rec.get("object", {})
        agenda = m.get("agenda") or ""
        if "meetlink:" not in agenda:
            continue
        bid = agenda.split("meetlink:", 1)[1].split(":", 1)[0]
        out.setdefault(bid, []).append(m)
    return out


def teams_meetings(env):
    """{booking_id: [onlineMeeting, ...]}: the Teams meeting of each Outlook event meetlink
    made (transactionId meetlink-<booking>-<generation>), with the event under "_event"."""
    st = env.sb_state("microsoft")
    root = st.get("microsoft", st)
    out = {}
    for user, bucket in root.get("events", {}).items():
        meetings = root.get("meetings", {}).get(user, {})
        for ev in bucket.values():
            tx = ev.get("transactionId") or ""
            if not tx.startswith("meetlink-"):
                continue
            bid = tx[len("meetlink-"):].rsplit("-", 1)[0]
            url = (ev.get("onlineMeeting") or {}).get("joinUrl")
            m = next((m for m in meetings.values() if url and m.get("joinWebUrl") == url), None)
            m = dict(m or {})
            m["_event"] = ev
            out.setdefault(bid, []).append(m)
    return out


def twilio_rooms(env, by_name):
    """{booking_id: [room, ...]} of in-progress rooms; by_name maps unique names to bookings."""
    st = env.sb_state("twilio")
    root = st.get("twilio", st)
    out = {}
    for r in root.get("rooms", {}).values():
        if r.get("status") != "in-progress":
            continue
        bid = by_name.get(r.get("unique_name"))
        if bid:
            out.setdefault(bid, []).append(r)
    return out
