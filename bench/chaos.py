#!/usr/bin/env python3
"""make chaos (bench/chaos.sh runs it; bench/README.md, "Chaos", explains it).

N bookings (CHAOS_N, 20,000) spread over Google Meet, Zoom, Teams and Twilio, against the
sandbox faulting every provider API call (10% 5xx, answers dropped after the provider acted,
answers later than the daemon's timeout while the provider acts, connections dropped before
it, bursts of 429 with Retry-After), while the daemon is SIGKILLed every 2-5 s and restarted
at once on the same store. The driver creates and confirms each booking with an
Idempotency-Key, retrying until the daemon answers. Then (kills stopped) it waits for the
pipeline to drain and counts, independently of the daemon's own view:

  - every booking confirmed and its meeting `ready` (API);
  - exactly one live meeting per booking at the provider (the sandbox's state);
  - every invitation mail delivered exactly once (an SMTP sink counting per Message-ID and
    per booking and recipient), and no protocol garbage reached it (stray lines);
  - every webhook (`booking.confirmed`, `meeting.ready`) delivered exactly once (a loopback
    receiver counting per webhook-id and per event and booking).

Many nodes (bench/many_nodes.sh, CHAOS_NODES=3): the same, with that many daemons on one
PostgreSQL database (a server of its own, tests/e2e/pgserver.py); the drivers spread their
requests over the nodes and move on to another when one does not answer. Instead of the
periodic kills, one node is SIGKILLed a third of the way through the confirms (and stays
down: its jobs are taken over when their leases run out, CHAOS_LEASE_MS) and another is
stopped and started again at two thirds.

Usage: chaos.py BUILD_DIR OUT_DIR. Knobs: CHAOS_N (20000), CHAOS_THREADS (12 driver
threads), CHAOS_KILL_MIN/MAX (2, 5 s), CHAOS_KILL_DRAIN_S (15: kills go on this long after the
last confirm), CHAOS_DRAIN_TIMEOUT_S (3600), CHAOS_HOSTS (4 per platform), CHAOS_PLATFORMS
(all four, comma-separated), CHAOS_NODES (1: SQLite; more: PostgreSQL), CHAOS_LEASE_MS
(60000, many nodes: the daemon's default).
All traffic stays on 127.0.0.1; every process it starts is stopped by its PID.
Exit status 0 when nothing was lost or doubled, 1 otherwise."""

import http.client
import http.cookiejar
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))

N = int(os.environ.get("CHAOS_N", "20000"))
THREADS = int(os.environ.get("CHAOS_THREADS", "12"))
KILL_MIN = float(os.environ.get("CHAOS_KILL_MIN", "2"))
KILL_MAX = float(os.environ.get("CHAOS_KILL_MAX", "5"))
KILL_DRAIN_S = float(os.environ.get("CHAOS_KILL_DRAIN_S", "15"))
DRAIN_TIMEOUT = float(os.environ.get("CHAOS_DRAIN_TIMEOUT_S", "3600"))
HOSTS = int(os.environ.get("CHAOS_HOSTS", "4"))
KEY = "ml_chaos_bootstrap_key_0123456789abcdef"
PLATFORMS = os.environ.get("CHAOS_PLATFORMS", "google_meet,zoom,teams,twilio").split(",")
NODES = int(os.environ.get("CHAOS_NODES", "1"))
LEASE_MS = int(os.environ.get("CHAOS_LEASE_MS", "60000"))
SB_NAME = {"google_meet": "google", "zoom": "zoom", "teams": "microsoft", "twilio": "twilio"}
API_PATH = {"google": "/google/calendar/*", "microsoft": "/microsoft/v1.0/*",
            "zoom": "/zoom/v2/*", "twilio": "/twilio/v1/*"}
EVENTS = ["booking.confirmed", "meeting.ready"]
TIMEOUT_MS = int(os.environ.get("CHAOS_PROVIDER_TIMEOUT_MS", "5000"))
# The sandbox's second user of each provider: hosts alternate between the two accounts.
USERS = {"google_meet": ("default_account", ["ada@sandbox.test", "grace@sandbox.test"]),
         "teams": ("default_user", ["ada@sandbox.onmicrosoft.com",
                                    "grace@sandbox.onmicrosoft.com"]),
         "zoom": ("authorize_user", ["ada@zoom.sandbox.test", "grace@zoom.sandbox.test"])}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def log(msg):
    print("chaos: " + msg, flush=True)


# --- the sinks, each in its own process (the driver's GIL is busy enough) ---

def run_smtp_sink(port, path):
    import email.parser
    import email.policy
    import smtpsink
    out = open(path, "a", buffering=1)
    parser = email.parser.BytesHeaderParser(policy=email.policy.default)
    lock = threading.Lock()

    def accepted(rcpts, raw):
        h = parser.parsebytes(raw)
        rec = {"t": time.time(), "id": str(h.get("Message-ID", "")), "rcpt": rcpts,
               "subject": str(h.get("Subject", "")), "len": len(raw)}
        with lock:
            out.write(json.dumps(rec) + "\n")

    sink = smtpsink.Sink(port=port, keep_raw=False, on_accept=accepted).start()
    stray_seen = 0
    try:
        while True:
            time.sleep(0.5)
            stray = sink.stray_lines()
            for line in stray[stray_seen:]:
                with lock:
                    out.write(json.dumps({"t": time.time(), "stray": line}) + "\n")
            stray_seen = len(stray)
    finally:
        sink.stop()


def run_webhook_sink(port, path):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    out = open(path, "a", buffering=1)
    lock = threading.Lock()

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n)
            try:
                doc = json.loads(body)
                rec = {"t": time.time(), "id": self.headers.get("webhook-id"),
                       "type": doc.get("type"),
                       "booking": doc.get("data", {}).get("booking", {}).get("id")}
            except ValueError:
                rec = {"t": time.time(), "id": self.headers.get("webhook-id"), "bad": True}
            with lock:
                out.write(json.dumps(rec) + "\n")
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 512
    ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()


def read_jsonl(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                if line.endswith("\n"):
                    out.append(json.loads(line))
    except FileNotFoundError:
        pass
    return out


# --- the processes ---

class Daemon:
    """meetlink serve on a fixed loopback port and one store, killed and restarted."""

    def __init__(self, bin_, workdir, env):
        self.bin, self.workdir, self.env = bin_, workdir, env
        self.port = int(env["MEETLINK_LISTEN"].rsplit(":", 1)[1])
        self.log = open(os.path.join(workdir, "serve.log"), "ab")
        self.p = None
        self.kills = []  # times of each SIGKILL
        self.lock = threading.Lock()

    def start(self):
        self.p = subprocess.Popen([self.bin, "serve"], stdout=self.log, stderr=self.log,
                                  env=self.env, cwd=self.workdir)

    def kill(self, sig=signal.SIGKILL, restart=True):
        with self.lock:
            self.kills.append(time.time())
            with open(os.path.join(self.workdir, "kills.txt"), "a") as f:
                f.write("%.3f %d\n" % (self.kills[-1], sig))
            self.p.send_signal(sig)
            self.p.wait()
            if restart:
                self.start()

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/readyz" % self.port,
                                            timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("node on port %d not ready" % self.port)

    def stop(self):
        if self.p and self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        return self.p.returncode


class Api:
    """A keep-alive client that retries through restarts: connection errors and 5xx again
    after a short pause, until an answer that is not one."""

    def __init__(self, port, token=KEY):
        # One port, or the nodes' ports: a node that does not answer is left for the next.
        self.ports = list(port) if isinstance(port, (list, tuple)) else [port]
        self.port, self.token, self.conn = self.ports[0], token, None

    def call(self, method, path, body=None, headers=None, retry=True):
        h = {"Accept": "application/json", "Authorization": "Bearer " + self.token}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        tries = 0
        while True:
            tries += 1
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                self.conn.request(method, path, body=data, headers=h)
                r = self.conn.getresponse()
                raw = r.read()
                if r.status >= 500 and retry:
                    raise ConnectionError("HTTP %d" % r.status)
                return r.status, (json.loads(raw) if raw else None), tries
            except (OSError, http.client.HTTPException):
                if self.conn:
                    self.conn.close()
                self.conn = None
                if not retry:
                    raise
                self.port = self.ports[(self.ports.index(self.port) + 1) % len(self.ports)]
                time.sleep(0.05 if tries < 20 else 0.2)


def connect(api, daemon_url, sb, host_id, platform):
    st, body, _ = api.call("POST", "/v1/hosts/%s/connect-links" % host_id, {"platform": platform})
    assert st in (200, 201), (st, body)
    t = urllib.parse.parse_qs(urllib.parse.urlparse(body["url"]).query)["t"][0]
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    url = "%s/oauth/%s/start?t=%s" % (daemon_url, platform, urllib.parse.quote(t))
    with opener.open(url, timeout=30) as resp:
        resp.read()
    st, body, _ = api.call("GET", "/v1/hosts/%s/connections" % host_id)
    got = {x["platform"]: x["status"] for x in body["data"]}
    assert got.get(platform) == "connected", got


def soon(minutes):
    t = datetime.now(timezone.utc) + timedelta(minutes=minutes)
    return t.strftime("%Y-%m-%dT%H:%M:00Z")


def list_all(api, path):
    out, cursor = [], None
    while True:
        q = "%s%slimit=200%s" % (path, "&" if "?" in path else "?",
                                 "&cursor=" + urllib.parse.quote(cursor) if cursor else "")
        st, body, _ = api.call("GET", q)
        assert st == 200, (st, body)
        out += body["data"]
        cursor = body.get("next_cursor")
        if not cursor:
            return out


def main():
    if len(sys.argv) >= 4 and sys.argv[1] in ("--smtp-sink", "--webhook-sink"):
        fn = run_smtp_sink if sys.argv[1] == "--smtp-sink" else run_webhook_sink
        fn(int(sys.argv[2]), sys.argv[3])
        return 0
    build, outdir = (os.path.abspath(a) for a in sys.argv[1:3])
    os.makedirs(outdir, exist_ok=True)
    bin_ = os.path.join(build, "meetlink")
    workdir = tempfile.mkdtemp(prefix="chaos-", dir=outdir)
    procs = []
    try:
        return run(bin_, outdir, workdir, procs)
    finally:
        for p in procs:
            if isinstance(p, Daemon):
                p.stop()
            elif isinstance(p, str):  # a PostgreSQL server's state directory
                import pgserver
                import shutil
                try:  # its log stays with the run's
                    with open(os.path.join(p, "dir")) as f:
                        shutil.copy(os.path.join(f.read().strip(), "server.log"),
                                    os.path.join(workdir, "postgres.log"))
                except OSError:
                    pass
                pgserver.stop(p)
            elif p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def run(bin_, outdir, workdir, procs):
    smtp_port, hook_port = free_port(), free_port()
    ports = [free_port() for _ in range(NODES)]
    api_port = ports[0]
    mail_log, hook_log = os.path.join(workdir, "mail.jsonl"), os.path.join(workdir, "hooks.jsonl")
    me = os.path.abspath(__file__)
    for flag, port, path in (("--smtp-sink", smtp_port, mail_log),
                             ("--webhook-sink", hook_port, hook_log)):
        procs.append(subprocess.Popen([sys.executable, me, flag, str(port), path],
                                      stdout=subprocess.DEVNULL,
                                      stderr=open(path + ".err", "ab")))
    # The sandbox: its own process, not restarted; a short request log.
    sb_log = open(os.path.join(workdir, "sandbox.log"), "ab")
    sb = subprocess.Popen([bin_, "sandbox", "--listen", "127.0.0.1:0", "--log-capacity", "200"],
                          stdout=subprocess.PIPE, stderr=sb_log, cwd=workdir)
    procs.append(sb)
    line = sb.stdout.readline().decode()
    assert "listening on " in line, line
    sb_url = line.split("listening on ", 1)[1].strip()
    threading.Thread(target=lambda: [sb_log.write(x) for x in sb.stdout], daemon=True).start()
    sb_port = int(sb_url.rsplit(":", 1)[1])
    sbc = Api(sb_port, token="")

    def sb_post(path, body):
        st, b, _ = sbc.call("POST", path, body)
        assert st in (200, 201), (st, b)
        return b

    sb_post("/_sandbox/config", {"google": {"auto_approve": True},
                                 "microsoft": {"auto_approve": True},
                                 "zoom": {"auto_approve": True, "rate_limit_medium": 100000,
                                          "rate_limit_light": 100000,
                                          "rate_limit_heavy": 100000,
                                          "rate_limit_daily": 100000000,
                                          "daily_meeting_writes_per_user": 100000000}})
    env = dict(os.environ)
    env.update({
        "MEETLINK_LISTEN": "127.0.0.1:%d" % api_port,
        "MEETLINK_DB": "sqlite:" + os.path.join(workdir, "meetlink.db"),
        "MEETLINK_BOOTSTRAP_API_KEY": KEY,
        "MEETLINK_SANDBOX_URL": sb_url,
        "MEETLINK_SMTP_URL": "smtp://127.0.0.1:%d" % smtp_port,
        "MEETLINK_SMTP_FROM": "Chaos <chaos@example.test>",
        "MEETLINK_RETRY_BASE_MS": "200",
        "MEETLINK_PROVIDER_TIMEOUT_MS": str(TIMEOUT_MS),
        "MEETLINK_PROVIDER_POLL_MS": "100",
        "MEETLINK_MEETING_MAX_ATTEMPTS": "40",
        "MEETLINK_ZOOM_QPS": "200",
        "MEETLINK_LOG_LEVEL": "warn",
        # The webhook receiver is on 127.0.0.1: refused unless private targets are allowed
        # (the SSRF defence, as in the e2e tests).
        "MEETLINK_ALLOW_PRIVATE_TARGETS": "1",
        # One key drives the whole run, as in the benchmarks: the per-key limit is off.
        "MEETLINK_RATE_LIMIT": "0",
    })
    if os.environ.get("CHAOS_NO_MAIL") == "1":  # to tell mail's effect on the rest apart
        del env["MEETLINK_SMTP_URL"]
    daemons = []
    if NODES > 1:
        # One PostgreSQL database for every node, on a server of this run's own.
        import pgserver
        state = os.path.join(workdir, "pg")
        procs.append(state)
        pg_url, _ = pgserver.start(state, fsync=True)
        env.update({"MEETLINK_DB": pgserver.new_database(pg_url),
                    "MEETLINK_VAULT_KEYS": "chaos:" + "C" * 43 + "=",
                    "MEETLINK_JOB_LEASE_MS": str(LEASE_MS)})
        log("%d nodes on PostgreSQL %s" % (NODES, pg_url))
    for k, port in enumerate(ports):
        d_env = dict(env, MEETLINK_LISTEN="127.0.0.1:%d" % port)
        d_dir = workdir if NODES == 1 else os.path.join(workdir, "node%d" % k)
        os.makedirs(d_dir, exist_ok=True)
        d = Daemon(bin_, d_dir, d_env)
        procs.insert(0, d)
        d.start()
        if NODES > 1:
            d.wait_ready()  # one after the other: the first applies the migrations
        daemons.append(d)
    daemon = daemons[0]
    api = Api(ports)
    daemon_url = "http://127.0.0.1:%d" % api_port
    log("store, logs and sink records in %s" % workdir)

    # --- setup, no faults, no kills ---
    st, ep, _ = api.call("POST", "/v1/webhook-endpoints",
                         {"url": "http://127.0.0.1:%d/hook" % hook_port, "events": EVENTS})
    assert st == 201, (st, ep)
    st, b, _ = api.call("PUT", "/v1/credentials/twilio", {
        "account_sid": "AC00000000000000000000000000000001",
        "api_key_sid": "SK00000000000000000000000000000001",
        "api_key_secret": "SandboxApiKeySecret0000000000001"})
    assert st in (200, 201), (st, b)
    services = {p: [] for p in PLATFORMS}
    for p in PLATFORMS:
        for i in range(HOSTS):
            st, h, _ = api.call("POST", "/v1/hosts", {
                "name": "Host %s %d" % (p, i), "email": "host-%s-%d@example.test" % (p, i),
                "timezone": "Europe/London"})
            assert st == 201, (st, h)
            if p != "twilio":
                key, users = USERS[p]
                sb_post("/_sandbox/config", {SB_NAME[p]: {key: users[i % 2]}})
                connect(api, daemon_url, sb, h["id"], p)
            st, s, _ = api.call("POST", "/v1/services", {
                "host_id": h["id"], "name": "Chaos %s" % p, "is_online": True,
                "platform": p, "duration_minutes": 30})
            assert st == 201, (st, s)
            services[p].append(s["id"])
    log("setup: %d hosts on %d platforms connected, webhook endpoint %s" % (
        HOSTS * len(PLATFORMS), len(PLATFORMS), ep["id"]))

    # --- faults on every provider API call ---
    faults = []
    for prov, path in API_PATH.items():
        for spec in ({"status": 503, "probability": 0.10},
                     {"drop_after": True, "probability": 0.03},
                     {"latency_ms": TIMEOUT_MS + 700, "probability": 0.01},
                     {"drop": True, "probability": 0.03}):
            faults.append(dict(spec, provider=prov, path=path))
    sb_post("/_sandbox/faults", {"faults": faults})

    stop_kills, stop_bursts = threading.Event(), threading.Event()
    bursts = []

    def burster():
        while not stop_bursts.wait(random.uniform(4, 8)):
            prov = random.choice(list(API_PATH))
            try:
                sb_post("/_sandbox/faults", {"provider": prov, "path": API_PATH[prov],
                                             "status": 429, "retry_after": "1", "count": 60})
                bursts.append(prov)
            except AssertionError:
                pass

    def killer():
        if NODES == 1:
            while not stop_kills.wait(random.uniform(KILL_MIN, KILL_MAX)):
                daemon.kill()
            return
        # Many nodes: node 1 SIGKILLed at a third of the confirms (and left down), node 2
        # stopped and started again at two thirds.
        for frac, node, sig, restart in ((1 / 3, 1, signal.SIGKILL, False),
                                         (2 / 3, 2, signal.SIGTERM, True)):
            while sum(1 for r in results if r) < frac * N:
                if stop_kills.wait(0.2):
                    return
            daemons[node].kill(sig, restart)
            log("node %d %s at %d confirms" % (
                node, "SIGKILLed" if not restart else "restarted",
                sum(1 for r in results if r)))

    # --- load: create + confirm with Idempotency-Keys, retried until answered ---
    results = [None] * N
    counters = {"create_tries": 0, "confirm_tries": 0, "refused": []}
    clock = threading.Lock()
    next_i = [0]

    def driver(k):
        # The load generator yields to the daemon and the sandbox (the sinks keep up).
        try:
            os.nice(5)
        except OSError:
            pass
        a = Api(ports[k % len(ports):] + ports[:k % len(ports)])
        while True:
            with clock:
                i = next_i[0]
                next_i[0] += 1
            if i >= N:
                return
            p = PLATFORMS[i % len(PLATFORMS)]
            sid = services[p][(i // len(PLATFORMS)) % HOSTS]
            st, b, tries = a.call("POST", "/v1/bookings", {
                "service_id": sid, "start": soon(5 + i % 4), "timezone": "Europe/London",
                "title": "chaos-%06d" % i, "external_id": "chaos-%06d" % i,
                "customer": {"name": "Customer %d" % i, "email": "c%06d@example.test" % i}},
                headers={"Idempotency-Key": "chaos-create-%06d" % i})
            with clock:
                counters["create_tries"] += tries
            if st not in (200, 201, 202):
                with clock:
                    counters["refused"].append(("create", i, st, b))
                continue
            st2, b2, tries = a.call("POST", "/v1/bookings/%s/confirm" % b["id"],
                                    {"allow_overlap": True},  # few hosts, same hours
                                    headers={"Idempotency-Key": "chaos-confirm-%06d" % i})
            with clock:
                counters["confirm_tries"] += tries
            if st2 not in (200, 202):
                with clock:
                    counters["refused"].append(("confirm", i, st2, b2))
                continue
            results[i] = (b["id"], p)

    # The machine is shared: the load average is part of every figure.
    loads, stop_loads = [], threading.Event()

    def load_sampler():
        while True:
            loads.append(os.getloadavg()[0])
            if stop_loads.wait(10):
                return
    threading.Thread(target=load_sampler, daemon=True).start()

    t_load = time.time()
    threads = [threading.Thread(target=killer), threading.Thread(target=burster)]
    threads += [threading.Thread(target=driver, args=(k,)) for k in range(THREADS)]
    for t in threads:
        t.start()
    last_report = time.time()
    while any(t.is_alive() for t in threads[2:]):
        time.sleep(1)
        if time.time() - last_report >= 15:
            last_report = time.time()
            log("%d/%d bookings confirmed, %d kills so far" % (
                sum(1 for r in results if r), N, sum(len(d.kills) for d in daemons)))
    t_confirmed = time.time()
    log("all %d confirms answered in %.1f s (%d kills); kills go on for %.0f s" % (
        N, t_confirmed - t_load, sum(len(d.kills) for d in daemons),
        KILL_DRAIN_S if NODES == 1 else 0))
    if NODES == 1:
        time.sleep(KILL_DRAIN_S)
    stop_kills.set()
    stop_bursts.set()
    threads[0].join()
    threads[1].join()
    t_calm = time.time()
    kills = sorted(k for d in daemons for k in d.kills)
    log("kills stopped after %d; draining" % len(kills))

    # --- drain ---
    ids = {r[0]: r[1] for r in results if r}
    want_mail = 2 * len(ids) if "MEETLINK_SMTP_URL" in env else 0  # host + customer each
    want_hooks = len(EVENTS) * len(ids)
    deadline = t_calm + DRAIN_TIMEOUT
    state = {}
    while time.time() < deadline:
        mails = [m for m in read_jsonl(mail_log) if "id" in m]
        hooks = read_jsonl(hook_log)
        st, body, _ = api.call("GET", "/v1/jobs?limit=1&state=running")
        busy = len(body["data"])
        # Queued jobs due within the hour only: a calendar watch's renewal (provider.watch)
        # is queued days ahead and never drains (the run waited out DRAIN_TIMEOUT for it).
        st, body, _ = api.call("GET", "/v1/jobs?limit=200&state=queued")
        soon = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        busy += 1 if body.get("next_cursor") else sum(
            1 for j in body["data"] if j.get("run_at", "") <= soon)
        state = {"mails": len({m["id"] for m in mails}), "hooks": len({h["id"] for h in hooks}),
                 "busy": busy}
        if busy == 0 and state["mails"] >= want_mail and state["hooks"] >= want_hooks:
            bookings = [b for b in list_all(api, "/v1/bookings") if b["id"] in ids]
            ready = sum(1 for b in bookings if b["meeting"]["status"] == "ready")
            if ready == len(ids):
                break
            state["ready"] = ready
        time.sleep(2)
        if int(time.time()) % 30 < 2:
            log("draining: %s" % state)
    t_drained = time.time()
    drain_s = t_drained - t_calm
    time.sleep(3)  # anything sent twice late arrives by now

    # --- count ---
    every = list_all(api, "/v1/bookings")
    by_ext = {}
    for b in every:
        by_ext[b.get("external_id")] = by_ext.get(b.get("external_id"), 0) + 1
    double_booked = sum(1 for v in by_ext.values() if v > 1)
    bookings = [b for b in every if b["id"] in ids]
    status = {}
    for b in bookings:
        k = (b["status"], b["meeting"]["status"])
        status[k] = status.get(k, 0) + 1
    failed_jobs = list_all(api, "/v1/jobs?state=failed")
    waiting_jobs = list_all(api, "/v1/jobs?state=waiting")

    def sb_state(prov):
        st, body, _ = sbc.call("GET", "/_sandbox/state?provider=" + prov)
        assert st == 200
        return body

    class SbEnv:
        pass
    env_ = SbEnv()
    env_.sb_state = sb_state
    import pipeline as pl
    by_name = {b["meeting"].get("external_id"): b["id"] for b in bookings}
    live = {"google_meet": pl.google_events(env_), "zoom": pl.zoom_meetings(env_),
            "teams": pl.teams_meetings(env_), "twilio": pl.twilio_rooms(env_, by_name)}
    one_each = {p: 0 for p in PLATFORMS}
    none, extra = [], []
    for bid, p in ids.items():
        n = len(live[p].get(bid, []))
        if n == 1:
            one_each[p] += 1
        elif n == 0:
            none.append((bid, p))
        else:
            extra.append((bid, p, n))

    mails = read_jsonl(mail_log)
    stray = [m for m in mails if "stray" in m]
    mails = [m for m in mails if "id" in m]
    per_id, per_rcpt = {}, {}
    for m in mails:
        per_id.setdefault(m["id"], []).append(m["t"])
        per_rcpt[(m["subject"], tuple(m["rcpt"]))] = per_rcpt.get(
            (m["subject"], tuple(m["rcpt"])), 0) + 1
    mail_dups = {k: v for k, v in per_id.items() if len(v) > 1}
    hooks = read_jsonl(hook_log)
    hook_id, hook_ev = {}, {}
    for h in hooks:
        hook_id.setdefault(h["id"], []).append(h["t"])
        k = (h.get("type"), h.get("booking"))
        hook_ev.setdefault(k, set()).add(h["id"])
    hook_dups = {k: v for k, v in hook_id.items() if len(v) > 1}
    hook_ev_multi = {k: v for k, v in hook_ev.items() if len(v) > 1}
    hooks_lost = [(t, bid) for bid in ids for t in EVENTS if (t, bid) not in hook_ev]
    mail_lost = want_mail - len(per_id)

    def near_kill(times, window=5.0):
        """A repeat explained by a crash: a SIGKILL within `window` s after the first
        delivery (the answer came, the outcome's commit did not), or just before the sink
        wrote it down (it logs after reading the whole request)."""
        first = min(times)
        return any(first - 0.5 <= k <= first + window for k in kills)

    def to_kill(times):
        later = [k - min(times) for k in kills if k >= min(times) - 0.5]
        return min(later) if later else None

    crash_mail = sum(1 for v in mail_dups.values() if near_kill(v))
    crash_hook = sum(1 for v in hook_dups.values() if near_kill(v))
    gaps = [g for g in (to_kill(v) for v in list(mail_dups.values()) + list(hook_dups.values()))
            if g is not None]
    widest = round(max(gaps), 2) if gaps else None
    daemon_rc = [d.stop() for d in daemons]
    daemon_rc = daemon_rc[0] if NODES == 1 else daemon_rc
    stop_loads.set()
    # Jobs retried, read from the store once the daemons stopped (jobs are never deleted).
    jobs = {}
    q = ("SELECT kind, count(*), sum(CASE WHEN attempts > 1 THEN 1 ELSE 0 END), "
         "sum(attempts), max(attempts) FROM jobs GROUP BY kind ORDER BY kind")
    if NODES == 1:
        db = sqlite3.connect(os.path.join(workdir, "meetlink.db"))
        rows = list(db.execute(q))
        db.close()
    else:
        import pgserver
        rows = [line.split("\t") for line in
                pgserver.psql(env["MEETLINK_DB"], q).splitlines() if line]
    for kind, n, retried, att, mx in rows:
        jobs[kind] = {"jobs": int(n), "retried": int(retried), "attempts": int(att),
                      "max_attempts_used": int(mx)}
    errors = [l for d in daemons
              for l in open(os.path.join(d.workdir, "serve.log"), errors="replace")
              if l.split(" ", 2)[1:2] == ["error"]]
    res = {
        "bookings": N, "confirmed_by_driver": len(ids), "bookings_in_store": len(every),
        "external_ids_booked_twice": double_booked, "refused": counters["refused"][:10],
        "create_requests": counters["create_tries"], "confirm_requests": counters["confirm_tries"],
        "kills": len(kills), "bursts_429": len(bursts),
        "load_s": round(t_confirmed - t_load, 1), "drain_s": round(drain_s, 1),
        "drained": t_drained < deadline,
        "booking_meeting_status": {"%s/%s" % k: v for k, v in status.items()},
        "one_live_meeting": one_each, "no_live_meeting": len(none),
        "more_than_one_live_meeting": len(extra),
        "failed_jobs": len(failed_jobs), "waiting_jobs": len(waiting_jobs),
        "mail_expected": want_mail, "mail_accepted": len(mails),
        "mail_distinct_message_ids": len(per_id), "mail_lost": mail_lost,
        "mail_duplicated_ids": len(mail_dups), "mail_dups_within_5s_before_a_kill": crash_mail,
        "mail_per_booking_recipient_over_1": sum(1 for v in per_rcpt.values() if v > 1),
        "smtp_stray_lines": len(stray),
        "hook_expected": want_hooks, "hook_deliveries": len(hooks),
        "hook_distinct_ids": len(hook_id), "hook_lost": len(hooks_lost),
        "hook_duplicated_ids": len(hook_dups), "hook_dups_within_5s_before_a_kill": crash_hook,
        "repeat_first_delivery_to_kill_max_s": widest,
        "hook_events_with_two_ids": len(hook_ev_multi),
        "daemon_error_lines": len(errors), "daemon_exit_status": daemon_rc,
        "jobs_by_kind": jobs,
        "load_average_1m": {"min": round(min(loads), 1), "max": round(max(loads), 1),
                            "mean": round(sum(loads) / len(loads), 1)},
        "kill_times": kills,
        "examples": {"no_live": none[:5], "extra": extra[:5], "hook_lost": hooks_lost[:5],
                     "failed_jobs": [(j["kind"], j["last_error"]) for j in failed_jobs[:5]],
                     "stray": stray[:5], "errors": errors[:5]},
    }
    res["nodes"] = NODES
    res["platforms"] = PLATFORMS
    with open(os.path.join(outdir, "chaos_results.json"), "w") as f:
        json.dump(res, f, indent=1)
    print()
    print("chaos: %d bookings over %s, %d SIGKILLs, %d 429 bursts" % (
        N, "/".join(PLATFORMS), len(kills), len(bursts)))
    print("  load (create+confirm, retried through kills)  %.1f s" % res["load_s"])
    print("  drain (kills stopped -> all done)              %.1f s%s" % (
        drain_s, "" if res["drained"] else "  ** NOT DRAINED **"))
    print("  bookings in the store / booked twice           %d / %d" % (len(every), double_booked))
    print("  meetings ready (API)                           %s" % res["booking_meeting_status"])
    print("  exactly one live meeting at the provider       %s (none: %d, more: %d)" % (
        one_each, len(none), len(extra)))
    print("  failed / waiting jobs                          %d / %d" % (
        len(failed_jobs), len(waiting_jobs)))
    print("  mail: expected %d, accepted %d, distinct %d, lost %d, duplicated ids %d "
          "(%d within 5 s before a kill), stray SMTP lines %d" % (
              want_mail, len(mails), len(per_id), mail_lost, len(mail_dups), crash_mail,
              len(stray)))
    print("  webhooks: expected %d, deliveries %d, distinct ids %d, lost %d, duplicated ids %d "
          "(%d within 5 s before a kill), events with two ids %d" % (
              want_hooks, len(hooks), len(hook_id), len(hooks_lost), len(hook_dups),
              crash_hook, len(hook_ev_multi)))
    print("  widest gap from a repeat's first delivery to the kill after it   %s s" % widest)
    print("  daemon error lines %d, exit status at the end %s" % (len(errors), daemon_rc))
    for kind, j in jobs.items():
        print("  jobs %-22s %6d, retried %5d, attempts %6d, most attempts of one %d" % (
            kind, j["jobs"], j["retried"] or 0, j["attempts"] or 0, j["max_attempts_used"] or 0))
    print("  load average (1 min) during the run: min %.1f, mean %.1f, max %.1f" % (
        res["load_average_1m"]["min"], res["load_average_1m"]["mean"],
        res["load_average_1m"]["max"]))
    ok = (res["drained"] and not none and not extra and mail_lost == 0 and not hooks_lost
          and not stray and not hook_ev_multi and not failed_jobs and len(ids) == N
          and len(every) == N and not double_booked
          and res["mail_per_booking_recipient_over_1"] == len(mail_dups)
          and crash_mail == len(mail_dups) and crash_hook == len(hook_dups))
    print("chaos: %s (results in %s)" % ("PASS" if ok else "FAIL",
                                          os.path.join(outdir, "chaos_results.json")))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
