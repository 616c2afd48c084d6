#!/usr/bin/env python3
"""The meeting pipeline bench (bench/pipeline.sh runs it; bench/README.md explains it).

Google Meet through the whole pipeline against `meetlink sandbox`, beside a raw libcurl-multi
loop hitting the same sandbox endpoint in the same run:

  1. raw loop, 150 ms added latency, 512 in flight: the provider call's real latency L, and
     the Little's-law bound 512 / L
  2. 20,000 bookings confirmed flat out with 150 ms added latency: links/s (first confirm to
     last ready) against that bound; per link, the pipeline's own time (claim to ready minus
     the provider latency) p50/p99; daemon CPU seconds per link; peak RSS
  3. confirm->ready latency below saturation (confirms paced at half the rate step 2
     sustained), minus each link's provider time (its calls' durations in the sandbox's
     request log, the added latency included), and minus a fixed added latency for reference
  4. zero added latency: raw loop links/s, then 20,000 more bookings through the pipeline

Usage: pipeline_bench.py BUILD_DIR OUT_DIR LOAD_TOOL. Knobs: BENCH_PIPELINE_N (20000),
BENCH_PIPELINE_LATENCY_MS (150), BENCH_PIPELINE_INFLIGHT (512, the worker's max_inflight),
BENCH_REALTIME (1: the daemon at MEETLINK_REALTIME=1 and the sandbox at SCHED_FIFO 1; 0: both
at nice -10).
Stops every process it starts, by PID."""

import http.client
import http.cookiejar
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

BUILD, OUT, LOAD = (os.path.abspath(a) for a in sys.argv[1:4])
BIN = os.path.join(BUILD, "meetlink")
N = int(os.environ.get("BENCH_PIPELINE_N", "20000"))
LAT = int(os.environ.get("BENCH_PIPELINE_LATENCY_MS", "150"))
INFLIGHT = int(os.environ.get("BENCH_PIPELINE_INFLIGHT", "512"))
REALTIME = os.environ.get("BENCH_REALTIME", "1")
KEY = "benchkey_pipeline_0123456789"
procs = []


def provider_priority():
    """The sandbox stands in for a provider on other machines: its latency must not depend on
    how busy the daemon keeps these two cores. Starved behind the daemon's request threads,
    its answers took up to 300 ms instead of 155 during the confirm burst; the bound (the raw
    loop, daemon idle) assumes 155. The daemon's writer and worker threads run at real-time
    priority (MEETLINK_REALTIME=1), so the sandbox does too when allowed (CAP_SYS_NICE): behind
    them, it read requests late and that counted as the daemon's overhead. Else nice -10.
    BENCH_REALTIME=0 leaves both at nice -10."""
    try:
        if REALTIME == "1":
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
            return
    except OSError:
        pass
    try:
        os.nice(-10)
    except OSError:
        pass


def start(args, env, log):
    e = dict(os.environ)
    e.update(env)
    p = subprocess.Popen([BIN] + args, stdout=subprocess.PIPE, stderr=open(log, "wb"), env=e,
                         cwd=OUT, preexec_fn=provider_priority if args[0] == "sandbox" else None)
    procs.append(p)
    deadline = time.time() + 20
    while time.time() < deadline:
        line = p.stdout.readline().decode()
        if "listening on " in line:
            url = line.split("listening on ", 1)[1].strip()
            threading.Thread(target=lambda: p.stdout.read(), daemon=True).start()
            return p, url
    raise SystemExit("bench: %s did not start (see %s)" % (args[0], log))


class C:
    def __init__(self, url, key=None):
        u = urllib.parse.urlparse(url)
        self.h = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        self.key = key

    def req(self, method, path, body=None):
        h = {"Content-Type": "application/json"}
        if self.key:
            h["Authorization"] = "Bearer " + self.key
        self.h.request(method, path, body=json.dumps(body) if body is not None else None,
                       headers=h)
        r = self.h.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if data else None)


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def vm(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def load(*args):
    out = subprocess.run([LOAD] + [str(a) for a in args], capture_output=True, text=True,
                         timeout=900)
    kv = dict(line.split(None, 1) for line in out.stdout.splitlines() if " " in line)
    if out.returncode != 0:
        sys.stderr.write(out.stderr[-2000:])
        raise SystemExit("bench: load tool failed: %s" % (args[:1],))
    return {k: float(v) for k, v in kv.items()}


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] if xs else 0.0


def wait_done(db, since_seq, n, timeout=600):
    """Until n meeting.create jobs after since_seq are done; returns their rows."""
    deadline = time.time() + timeout
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    while time.time() < deadline:
        (k,) = con.execute("SELECT count(*) FROM jobs WHERE kind='meeting.create' AND "
                           "state='done' AND seq > ?", (since_seq,)).fetchone()
        if k >= n:
            rows = con.execute("SELECT created_at, updated_at, payload FROM jobs WHERE "
                               "kind='meeting.create' AND state='done' AND seq > ?",
                               (since_seq,)).fetchall()
            con.close()
            return rows
        bad = con.execute("SELECT count(*) FROM jobs WHERE kind='meeting.create' AND "
                          "state='failed' AND seq > ?", (since_seq,)).fetchone()[0]
        if bad:
            raise SystemExit("bench: %d meeting.create jobs failed" % bad)
        time.sleep(0.05)
    raise SystemExit("bench: the pipeline did not finish in time")


def provider_ms(sbc):
    """Per booking: the sandbox's own time (ms) over every Google call made for it."""
    took, since = {}, 0
    while True:
        st, r = sbc.req("GET", "/_sandbox/requests?provider=google&direction=in&limit=5000"
                        "&since=%d" % since)
        if st != 200 or not r["requests"]:
            return took
        for q in r["requests"]:
            body = q.get("body") if isinstance(q.get("body"), dict) else {}
            b = body.get("extendedProperties", {}).get("private", {}).get("meetlink_booking")
            if b:
                took[b] = took.get(b, 0) + q["duration_ms"]
        since = r["next_since"]


def max_seq(db):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    v = con.execute("SELECT coalesce(max(seq), 0) FROM jobs").fetchone()[0]
    con.close()
    return v


def run():
    os.makedirs(OUT, exist_ok=True)
    store = os.path.join(OUT, "pstore")
    if os.path.isdir(store):
        for f in os.listdir(store):
            os.unlink(os.path.join(store, f))
    os.makedirs(store, exist_ok=True)
    db = os.path.join(store, "meetlink.db")
    # The request log holds step 3's calls: their durations are the provider's latency.
    sb, sb_url = start(["sandbox", "--listen", "127.0.0.1:0", "--log-capacity", "8000"], {},
                       os.path.join(OUT, "psandbox.err"))
    d, url = start(["serve"], {
        "MEETLINK_LISTEN": "127.0.0.1:0", "MEETLINK_DB": "sqlite:" + db,
        "MEETLINK_BOOTSTRAP_API_KEY": KEY, "MEETLINK_SANDBOX_URL": sb_url,
        "MEETLINK_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "warn"),
        "MEETLINK_REALTIME": REALTIME,
        # One API key drives the whole box here: the per-key limit would be what is measured.
        "MEETLINK_RATE_LIMIT": os.environ.get("MEETLINK_RATE_LIMIT", "0")},
        os.path.join(OUT, "pdaemon.err"))
    sbc, api = C(sb_url), C(url, KEY)

    # A host connected through the hosted connect flow (the sandbox approves at once).
    sbc.req("POST", "/_sandbox/config", {"google": {"auto_approve": True}})
    st, h = api.req("POST", "/v1/hosts", {"name": "Ada", "email": "ada@example.test",
                                          "timezone": "Europe/London"})
    st, link = api.req("POST", "/v1/hosts/%s/connect-links" % h["id"],
                       {"platform": "google_meet"})
    t = urllib.parse.parse_qs(urllib.parse.urlparse(link["url"]).query)["t"][0]
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    opener.open("%s/oauth/google_meet/start?t=%s" % (url, urllib.parse.quote(t))).read()
    st, svc = api.req("POST", "/v1/services", {"host_id": h["id"], "name": "Math",
                                               "is_online": True, "platform": "google_meet",
                                               "duration_minutes": 50})
    assert st == 201, svc
    ids = os.path.join(OUT, "pids.txt")
    res = {}

    def fault(ms):
        sbc.req("DELETE", "/_sandbox/faults")
        if ms:
            sbc.req("POST", "/_sandbox/faults", {"provider": "google", "latency_ms": ms})

    # 1. raw loop at the added latency
    fault(LAT)
    raw = load("raw", sb_url, "ya29.sandbox-ada", max(4 * INFLIGHT, N // 4), INFLIGHT)
    res["raw_lat_per_s"] = raw["per_s"]
    res["raw_lat_mean_ms"] = raw["lat_mean_ms"]
    bound = INFLIGHT / (raw["lat_mean_ms"] / 1000.0)
    res["littles_bound"] = bound

    # 2. N bookings flat out at the added latency
    load("create", url, KEY, svc["id"], N, 64, ids)
    seq0 = max_seq(db)
    cpu0, t0 = cpu_s(d.pid), time.time()
    conf = load("confirm", url, KEY, ids, 256, 0)
    rows = wait_done(db, seq0, N)
    cpu1 = cpu_s(d.pid)
    created = [r[0] for r in rows]
    updated = [r[1] for r in rows]
    window = (max(updated) - min(created)) / 1000.0
    res["links_per_s"] = N / window
    res["confirm_per_s"] = conf["per_s"]
    own = []
    for c, u, p in rows:
        claimed = json.loads(p).get("state", {}).get("claimed_at_ms", c)
        own.append(u - claimed - LAT)
    res["own_p50_ms"], res["own_p99_ms"] = pct(own, 0.5), pct(own, 0.99)
    res["cpu_per_link_ms"] = (cpu1 - cpu0) / N * 1000
    res["window_s"] = window
    res["rss_peak_mb"] = vm(d.pid, "VmHWM") / 1024.0
    res["wall_s"] = time.time() - t0

    # 3. confirm->ready below saturation: paced at half what the pipeline just sustained
    n3 = min(N // 4, 5000)
    load("create", url, KEY, svc["id"], n3, 64, ids)
    seq0 = max_seq(db)
    rate = max(50, int(min(bound, res["links_per_s"]) * 0.5))
    sbc.req("DELETE", "/_sandbox/requests")
    load("confirm", url, KEY, ids, 256, rate)
    rows = wait_done(db, seq0, n3)
    lat = [u - c - LAT for c, u, _ in rows]
    res["paced_rate"] = rate
    res["c2r_fixed_p50_ms"], res["c2r_fixed_p99_ms"] = pct(lat, 0.5), pct(lat, 0.99)
    # Minus each link's own provider time: what the sandbox measured for that booking's
    # calls (from the request read to the answer made, the added latency included).
    took = provider_ms(sbc)
    lat = []
    for c, u, p in rows:
        b = json.loads(p).get("booking_id")
        if b not in took:
            raise SystemExit("bench: no sandbox call logged for booking %s" % b)
        lat.append(u - c - took[b])
    res["c2r_p50_ms"], res["c2r_p99_ms"] = pct(lat, 0.5), pct(lat, 0.99)

    # 4. zero added latency: raw loop, then the pipeline
    fault(0)
    raw0 = load("raw", sb_url, "ya29.sandbox-ada", N, INFLIGHT)
    res["raw0_per_s"] = raw0["per_s"]
    load("create", url, KEY, svc["id"], N, 64, ids)
    seq0 = max_seq(db)
    load("confirm", url, KEY, ids, 256, 0)
    rows = wait_done(db, seq0, N)
    res["links0_per_s"] = N / ((max(r[1] for r in rows) - min(r[0] for r in rows)) / 1000.0)
    res["rss_peak_mb"] = max(res["rss_peak_mb"], vm(d.pid, "VmHWM") / 1024.0)

    # exactly one event per booking, as the tests check
    st, state = sbc.req("GET", "/_sandbox/state?provider=google")
    root = state.get("google", state)
    per = {}
    for cal in root["calendars"].values():
        for ev in cal["events"].values():
            b = ev.get("extendedProperties", {}).get("private", {}).get("meetlink_booking")
            if b and b != "raw" and ev.get("status") != "cancelled":
                per[b] = per.get(b, 0) + 1
    res["bookings_with_events"] = len(per)
    res["duplicates"] = sum(1 for v in per.values() if v != 1)
    return res


def report(r):
    ratio = r["links_per_s"] / r["littles_bound"]
    ok_ratio = ratio >= 0.90
    ok_p99 = r["c2r_p99_ms"] < 5.0
    lines = [
        "meetlink pipeline bench — Google Meet through the pipeline vs the sandbox, %s, %d cores"
        % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), os.cpu_count()),
        "worker: %d calls in flight; provider: +%d ms latency (sandbox fault); %d bookings per run"
        % (INFLIGHT, LAT, N),
        "",
        "%-52s %12s" % ("figure", "value"),
        "%-52s %12s" % ("-" * 52, "-" * 12),
        "%-52s %12.0f" % ("raw libcurl-multi loop, +%d ms: calls/s" % LAT, r["raw_lat_per_s"]),
        "%-52s %12.1f" % ("  its mean call latency L (ms)", r["raw_lat_mean_ms"]),
        "%-52s %12.0f" % ("Little's-law bound %d / L (links/s)" % INFLIGHT, r["littles_bound"]),
        "%-52s %12.0f" % ("pipeline, +%d ms: links/s (first confirm..last ready)" % LAT,
                          r["links_per_s"]),
        "%-52s %12.2f" % ("  ratio to the bound (floor 0.90)", ratio),
        "%-52s %12s" % ("  pipeline's own time per link p50 / p99 (ms)",
                        "%.1f / %.1f" % (r["own_p50_ms"], r["own_p99_ms"])),
        "%-52s %12.0f" % ("  confirms/s accepted (202) meanwhile", r["confirm_per_s"]),
        "%-52s %12.3f" % ("  daemon CPU per link, API confirm included (ms)", r["cpu_per_link_ms"]),
        "%-52s %12s" % ("confirm->ready at %d/s minus the provider's time:" % r["paced_rate"],
                        ""),
        "%-52s %12s" % ("  its own calls' (sandbox-measured) p50 / p99 (ms)",
                        "%.1f / %.1f" % (r["c2r_p50_ms"], r["c2r_p99_ms"])),
        "%-52s %12s" % ("  a fixed %d ms p50 / p99 (ms)" % LAT,
                        "%.1f / %.1f" % (r["c2r_fixed_p50_ms"], r["c2r_fixed_p99_ms"])),
        "%-52s %12.0f" % ("raw libcurl-multi loop, no added latency: calls/s", r["raw0_per_s"]),
        "%-52s %12.0f" % ("pipeline, no added latency: links/s", r["links0_per_s"]),
        "%-52s %12.2f" % ("  ratio to the raw loop", r["links0_per_s"] / r["raw0_per_s"]),
        "%-52s %12.1f" % ("daemon peak RSS, VmHWM (MB)", r["rss_peak_mb"]),
        "%-52s %12s" % ("bookings with exactly one live event / duplicates",
                        "%d / %d" % (r["bookings_with_events"], r["duplicates"])),
        "",
        "floor: >= 0.90 of the bound with %d in flight: %s; confirm->ready overhead p99 "
        "< 5 ms: %s"
        % (INFLIGHT, "MET" if ok_ratio else "NOT MET", "MET" if ok_p99 else "NOT MET"),
    ]
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(OUT, "pipeline_results.txt"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(OUT, "pipeline_results.json"), "w") as f:
        json.dump(r, f, indent=1)


try:
    report(run())
finally:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
