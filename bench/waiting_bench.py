#!/usr/bin/env python3
"""make bench: the waiting room (bench/README.md, "The waiting room").

1,000 guests wait at once, each on its own live event stream (GET /j/{token}/events, one TCP
connection each); then the hosts admit everyone (POST .../waiting-room/admit-all), and for
each guest we take the time from the admit request to its `admitted` event, the moment its
page redirects into the meeting. A booking has at most 50 attendees, so the 1,000 guests are
20 bookings of 50 (the customer and 49 attendees); the 20 admit-alls are sent together, from
one thread, and each guest's time runs from its own booking's request.

Memory per waiting guest: the daemon's RSS with every stream open and quiet, less its RSS
just before the first stream opened (everything else already made), over the guests.

Runs in both of libmicrohttpd's threading models: a thread per connection (the default) and
the epoll pool (MEETLINK_HTTP_POOL=2), where a quiet stream is a suspended connection.

Only 127.0.0.1; every process started here is stopped by PID.

  bench/waiting_bench.py BUILD_DIR OUT_DIR
"""

import datetime
import http.client
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

BUILD, OUT = sys.argv[1], os.path.abspath(sys.argv[2])
BIN = os.path.abspath(os.path.join(BUILD, "meetlink"))
KEY = "ml_bench_waiting_key_0123456789abcdef"
GUESTS = int(os.environ.get("BENCH_WAITING_GUESTS", "1000"))
PER = 50
procs = []


def start(env, work):
    e = dict(os.environ)
    e.update(env)
    p = subprocess.Popen([BIN, "serve"], stdout=subprocess.PIPE,
                         stderr=open(os.path.join(work, "serve.log"), "wb"), env=e, cwd=work)
    procs.append(p)
    deadline = time.time() + 20
    while time.time() < deadline:
        line = p.stdout.readline().decode()
        if "listening on " in line:
            url = line.split("listening on ", 1)[1].strip()
            threading.Thread(target=lambda: p.stdout.read(), daemon=True).start()
            return p, url
    raise SystemExit("bench: serve did not start")


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)  # by PID: this child only
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


class C:
    def __init__(self, host, port, key=None):
        self.h = http.client.HTTPConnection(host, port, timeout=120)
        self.key = key
        self.origin = "http://%s:%d" % (host, port)

    def req(self, method, path, body=None, page=False):
        h = {"Content-Type": "application/json"}
        if self.key:
            h["Authorization"] = "Bearer " + self.key
        if page:
            h["Origin"] = self.origin
        self.h.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
        r = self.h.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if data else None)


def vm(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        return sum(int(x) for x in f.read().rsplit(")", 1)[1].split()[11:13])


def threads(pid):
    return len(os.listdir("/proc/%d/task" % pid))


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] if xs else 0.0


def setup(host, port):
    c = C(host, port, KEY)
    st, h = c.req("POST", "/v1/hosts", {"name": "Ada", "email": "ada@example.test"})
    assert st == 201, (st, h)
    st, s = c.req("POST", "/v1/services", {"host_id": h["id"], "name": "Class", "is_online": True,
                                           "platform": "jitsi", "duration_minutes": 60,
                                           "settings": {"waiting_room": True}})
    assert st == 201, (st, s)
    start_at = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5))
    bookings = []
    for b in range((GUESTS + PER - 1) // PER):
        n = min(PER, GUESTS - b * PER)
        st, bk = c.req("POST", "/v1/bookings", {
            "service_id": s["id"], "start": start_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "status": "confirmed", "allow_overlap": True,  # 20 rooms of one host, same time
            "customer": {"name": "C%d" % b, "email": "c%d@example.test" % b},
            "attendees": [{"name": "A%d-%d" % (b, i), "email": "a%d-%d@example.test" % (b, i)}
                          for i in range(n - 1)]})
        assert st == 201, (st, bk)
        st, ps = c.req("GET", "/v1/bookings/%s/participants" % bk["id"])
        paths = [urllib.parse.urlsplit(p["join_url"]).path for p in ps["data"]
                 if p["role"] in ("customer", "attendee")]
        bookings.append((bk["id"], paths))
    # Every guest asks (before any stream opens: the setup is not what is measured).
    g = C(host, port)
    for _, paths in bookings:
        for p in paths:
            st, row = g.req("POST", p + "/wait", {"action": "ask", "name": "Guest"}, page=True)
            assert st == 200 and row["state"] == "waiting", (st, row)
    return c, bookings


def open_streams(host, port, bookings, sel):
    streams = []
    for bi, (_, paths) in enumerate(bookings):  # bi: the index in the slice given
        for p in paths:
            s = socket.create_connection((host, port))
            s.sendall(("GET %s/events HTTP/1.1\r\nHost: %s:%d\r\nAccept: text/event-stream\r\n\r\n"
                       % (p, host, port)).encode())
            rec = {"sock": s, "booking": bi, "buf": b"", "waiting": False, "admitted_at": None}
            streams.append(rec)
            sel.register(s, selectors.EVENT_READ, rec)
    # Until every stream has said "waiting".
    left = len(streams)
    deadline = time.time() + 120
    while left and time.time() < deadline:
        for key, _ in sel.select(1.0):
            rec = key.data
            rec["buf"] += rec["sock"].recv(65536)
            if not rec["waiting"] and b'"state":"waiting"' in rec["buf"]:
                rec["waiting"] = True
                rec["buf"] = b""
                left -= 1
    if left:
        raise SystemExit("bench: %d streams never said waiting" % left)
    return streams


def admit_all(host, port, bookings, streams, sel, stagger):
    # One API connection per booking, opened beforehand; the requests go out back to back.
    conns = []
    for bid, _ in bookings:
        s = socket.create_connection((host, port))
        body = b"{}"
        req = ("POST /v1/bookings/%s/waiting-room/admit-all HTTP/1.1\r\nHost: %s:%d\r\n"
               "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
               "Content-Length: %d\r\n\r\n" % (bid, host, port, KEY, len(body))).encode() + body
        conns.append((s, req))
    sent = [None] * len(conns)
    if not stagger:
        for i, (s, req) in enumerate(conns):
            sent[i] = time.perf_counter()
            s.sendall(req)
    else:
        # One booking at a time: each admit-all goes out once the previous one's guests all
        # have their event (1,000 guests still waiting on the others).
        for i, (s, req) in enumerate(conns):
            sent[i] = time.perf_counter()
            s.sendall(req)
            mine = [r for r in streams if r["booking"] == i]
            end = time.time() + 30
            while any(r["admitted_at"] is None for r in mine) and time.time() < end:
                for key, _ in sel.select(1.0):
                    rec = key.data
                    now = time.perf_counter()
                    rec["buf"] += rec["sock"].recv(65536)
                    if rec["admitted_at"] is None and b'"state":"admitted"' in rec["buf"]:
                        rec["admitted_at"] = now
    answered = {}
    for i, (s, _) in enumerate(conns):
        sel.register(s, selectors.EVENT_READ, {"api": i, "sock": s, "buf": b""})
    left = sum(1 for r in streams if r["admitted_at"] is None)
    deadline = time.time() + 60
    while (left or len(answered) < len(conns)) and time.time() < deadline:
        for key, _ in sel.select(1.0):
            rec = key.data
            now = time.perf_counter()
            rec["buf"] += rec["sock"].recv(65536)
            if "api" in rec:
                if rec["api"] not in answered and b"\r\n\r\n" in rec["buf"]:
                    assert rec["buf"].startswith(b"HTTP/1.1 200"), rec["buf"][:200]
                    answered[rec["api"]] = (now - sent[rec["api"]]) * 1000
            elif rec["admitted_at"] is None and b'"state":"admitted"' in rec["buf"]:
                rec["admitted_at"] = now
                left -= 1
    for s, _ in conns:
        sel.unregister(s)
        s.close()
    lat = [(r["admitted_at"] - sent[r["booking"]]) * 1000 for r in streams if r["admitted_at"]]
    # Staggered, the answers are read only at the end: their times mean nothing.
    return lat, left, [] if stagger else sorted(answered.values())


def run(pool, stagger):
    work = tempfile.mkdtemp(prefix="ml-bench-wr-", dir=OUT)
    env = {"MEETLINK_LISTEN": "127.0.0.1:0", "MEETLINK_DB": "sqlite:" + os.path.join(work, "db"),
           "MEETLINK_BOOTSTRAP_API_KEY": KEY, "MEETLINK_RATE_LIMIT": "0",
           "MEETLINK_HTTP_POOL": str(pool), "MEETLINK_LOG_LEVEL": "warn"}
    p, url = start(env, work)
    u = urllib.parse.urlsplit(url)
    host, port = u.hostname, u.port
    sel = selectors.DefaultSelector()
    streams = []
    try:
        t0 = time.time()
        c, bookings = setup(host, port)
        setup_s = time.time() - t0
        time.sleep(0.5)
        rss0, thr0 = vm(p.pid, "VmRSS"), threads(p.pid)
        half = len(bookings) // 2
        streams = open_streams(host, port, bookings[:half], sel)
        time.sleep(1.0)  # settled: every stream open and quiet
        rss_half = vm(p.pid, "VmRSS")
        more = open_streams(host, port, bookings[half:], sel)
        for r in more:
            r["booking"] += half
        streams += more
        time.sleep(1.0)
        rss1, thr1 = vm(p.pid, "VmRSS"), threads(p.pid)
        cpu0 = cpu_ticks(p.pid)
        time.sleep(2.0)  # quiet: what do 1,000 waiting guests cost?
        cpu1 = cpu_ticks(p.pid)
        prof = None
        if os.environ.get("BENCH_WAITING_PERF"):  # a profile of the admits: perf record
            prof = subprocess.Popen(["perf", "record", "-g", "-F", "2999", "-a", "-o",
                                     os.environ["BENCH_WAITING_PERF"]],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)
        cpu2 = cpu_ticks(p.pid)
        lat, missing, api_ms = admit_all(host, port, bookings, streams, sel, stagger)
        cpu3 = cpu_ticks(p.pid)
        if prof:
            prof.send_signal(signal.SIGINT)
            prof.wait()
        n = len(streams)
        n2 = len(more)
        return {
            "model": "pool of %d epoll threads" % pool if pool else "thread per connection",
            "admits": "one booking after another" if stagger else "all 20 at once",
            "guests": n, "admitted": len(lat), "missing": missing,
            "p50_ms": round(pct(lat, 0.50), 1), "p99_ms": round(pct(lat, 0.99), 1),
            "max_ms": round(max(lat), 1) if lat else None,
            "rss_before_kb": rss0, "rss_waiting_kb": rss1,
            "kb_per_guest": round((rss1 - rss0) / n, 1),
            "kb_per_guest_marginal": round((rss1 - rss_half) / n2, 1),
            "admit_all_answer_ms_p50": round(pct(api_ms, 0.5), 1) if api_ms else None,
            "admit_all_answer_ms_max": round(max(api_ms), 1) if api_ms else None,
            "threads_before": thr0, "threads_waiting": thr1,
            "quiet_cpu_ms_per_s": round((cpu1 - cpu0) * 1000 / os.sysconf("SC_CLK_TCK") / 2.0, 1),
            "setup_s": round(setup_s, 1),
            "admit_cpu_ms": round((cpu3 - cpu2) * 1000 / os.sysconf("SC_CLK_TCK"), 1),
            "load_avg": os.getloadavg()[0],
        }
    finally:
        for r in streams:
            try:
                r["sock"].close()
            except OSError:
                pass
        stop(p)
        shutil.rmtree(work, ignore_errors=True)


def main():
    os.makedirs(OUT, exist_ok=True)
    results = []
    try:
        staggers = {"0": [False], "1": [True]}.get(os.environ.get("BENCH_WAITING_STAGGER", ""),
                                                  [True, False])
        for pool, stagger in [(int(x), st) for x in
                              os.environ.get("BENCH_WAITING_POOLS", "0,2").split(",")
                              for st in staggers]:
            r = run(pool, stagger)
            results.append(r)
            print("waiting room, %s, admits %s: %d guests waiting; admit-all -> admitted event "
                  "p50 %.1f ms, "
                  "p99 %.1f ms (max %.1f); RSS %.1f KB per waiting guest (%d -> %d KB); "
                  "the second 500: %.1f KB each; threads %d -> %d; CPU while quiet %.1f ms/s; "
                  "admit-all answered p50 %s ms, last %s ms; the daemon's CPU for the "
                  "admits and the events %.0f ms; load average %.1f"
                  % (r["model"], r["admits"], r["guests"], r["p50_ms"], r["p99_ms"], r["max_ms"],
                     r["kb_per_guest"], r["rss_before_kb"], r["rss_waiting_kb"],
                     r["kb_per_guest_marginal"],
                     r["threads_before"], r["threads_waiting"], r["quiet_cpu_ms_per_s"],
                     r["admit_all_answer_ms_p50"], r["admit_all_answer_ms_max"],
                     r["admit_cpu_ms"], r["load_avg"]))
    finally:
        for p in procs:
            stop(p)
    with open(os.path.join(OUT, "waiting_results.json"), "w") as f:
        json.dump(results, f, indent=2)
    bad = [r for r in results if r["missing"] or r["p99_ms"] >= 100 or r["kb_per_guest"] >= 20]
    for r in bad:
        print("waiting room: BELOW THE FLOOR (%s, admits %s): p99 < 100 ms and < 20 KB per "
              "guest wanted" % (r["model"], r["admits"]))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
