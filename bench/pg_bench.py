#!/usr/bin/env python3
"""make bench, PostgreSQL part (bench/pg_bench.sh runs it; bench/README.md, "PostgreSQL").

On a PostgreSQL server of its own (tests/e2e/pgserver.py, fsync on: every commit durable), in
the same run as the SQLite figures of bench/run.sh and bench/pipeline.sh:

  1. the ceiling: a bare libpq insert loop (bench/pg_ceiling.c), one row per commit, with 1
     and with 8 connections: commits/s;
  2. the main job (create + confirm pairs, bench/loadgen.c) against 1 node, then 3 nodes on
     one database (the load split evenly, the nodes' pairs/s added up);
  3. the meeting pipeline (Google Meet, 150 ms added latency at the sandbox): links/s with 1
     node and with 3, against the Little's-law bound (nodes x 512 in flight / the provider
     call's measured latency).

Usage: pg_bench.py BUILD_DIR OUT_DIR. Knobs: BENCH_DURATION (10), BENCH_WARMUP (2),
BENCH_CONNS (64), BENCH_PG_PIPELINE (0; 1 runs part 3), BENCH_PG_PIPELINE_N (10000),
BENCH_PIPELINE_LATENCY_MS (150), BENCH_PIPELINE_INFLIGHT (512). Loopback only; every process it starts is stopped by its PID."""

import http.cookiejar
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import pgserver  # noqa: E402

BUILD, OUT = (os.path.abspath(a) for a in sys.argv[1:3])
BIN = os.path.join(BUILD, "meetlink")
LOADGEN, PLOAD, CEIL = (os.path.join(OUT, x) for x in ("loadgen", "pipeline_load", "pg_ceiling"))
DURATION = int(os.environ.get("BENCH_DURATION", "10"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "2"))
CONNS = int(os.environ.get("BENCH_CONNS", "64"))
N = int(os.environ.get("BENCH_PG_PIPELINE_N", "10000"))
LAT = int(os.environ.get("BENCH_PIPELINE_LATENCY_MS", "150"))
INFLIGHT = int(os.environ.get("BENCH_PIPELINE_INFLIGHT", "512"))
KEY = "benchkey_pg_0123456789abcdef"
VAULT = "bench:" + "D" * 43 + "="
procs = []


def kv(text):
    return {a: b for a, b in (line.split(None, 1) for line in text.splitlines() if " " in line)}


def run(args, timeout=900):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise SystemExit("bench: %s failed: %s" % (args[0], r.stderr[-2000:]))
    return kv(r.stdout)


def start(args, env, log):
    e = dict(os.environ)
    e.update(env)
    p = subprocess.Popen([BIN] + args, stdout=subprocess.PIPE, stderr=open(log, "ab"), env=e,
                         cwd=OUT)
    procs.append(p)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = p.stdout.readline().decode()
        if "listening on " in line:
            threading.Thread(target=lambda: p.stdout.read(), daemon=True).start()
            return p, line.split("listening on ", 1)[1].strip()
        if not line and p.poll() is not None:
            break
    raise SystemExit("bench: %s did not start (see %s)" % (args[0], log))


def stop(p):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def nodes(n, db, extra, tag):
    env = {"MEETLINK_LISTEN": "127.0.0.1:0", "MEETLINK_DB": db, "MEETLINK_VAULT_KEYS": VAULT,
           "MEETLINK_BOOTSTRAP_API_KEY": KEY, "MEETLINK_RATE_LIMIT": "0", "MEETLINK_DB_POOL": "32",
           "MEETLINK_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "warn")}
    env.update(extra)
    # One after the other: the first applies the migrations and makes the key.
    return [start(["serve"], env, os.path.join(OUT, "pg_%s_node%d.err" % (tag, k)))
            for k in range(n)]


def main_job(pg_url, n):
    db = pgserver.new_database(pg_url)
    ds = nodes(n, db, {}, "pairs%d" % n)
    outs = [None] * n

    def one(k):
        port = ds[k][1].rsplit(":", 1)[1]
        outs[k] = run([LOADGEN, "-p", port, "-k", KEY, "-c", max(1, CONNS // n), "-t", 1,
                       "-w", WARMUP, "-d", DURATION, "-m", "pairs"])

    ts = [threading.Thread(target=one, args=(k,)) for k in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for p, _ in ds:
        stop(p)
    return {"pairs_per_s": sum(float(o["pairs_per_s"]) for o in outs),
            "pair_p99_ms": max(float(o["pair_p99_ms"]) for o in outs),
            "errors": sum(int(o["errors"]) for o in outs)}


class C:
    def __init__(self, url, key=None):
        self.url, self.key = url, key

    def req(self, method, path, body=None):
        r = urllib.request.Request(self.url + path, method=method,
                                   data=json.dumps(body).encode() if body is not None else None,
                                   headers={"Content-Type": "application/json"})
        if self.key:
            r.add_header("Authorization", "Bearer " + self.key)
        with urllib.request.urlopen(r, timeout=60) as resp:
            data = resp.read()
            return resp.status, (json.loads(data) if data else None)


def pipeline(pg_url, n):
    db = pgserver.new_database(pg_url)
    sb, sb_url = start(["sandbox", "--listen", "127.0.0.1:0", "--log-capacity", "2000"], {},
                       os.path.join(OUT, "pg_psandbox%d.err" % n))
    ds = nodes(n, db, {"MEETLINK_SANDBOX_URL": sb_url}, "pipe%d" % n)
    sbc, api = C(sb_url), C(ds[0][1], KEY)
    sbc.req("POST", "/_sandbox/config", {"google": {"auto_approve": True}})
    st, h = api.req("POST", "/v1/hosts", {"name": "Ada", "email": "ada@example.test",
                                          "timezone": "Europe/London"})
    st, link = api.req("POST", "/v1/hosts/%s/connect-links" % h["id"],
                       {"platform": "google_meet"})
    t = urllib.parse.parse_qs(urllib.parse.urlparse(link["url"]).query)["t"][0]
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    opener.open("%s/oauth/google_meet/start?t=%s" % (ds[0][1], urllib.parse.quote(t))).read()
    st, svc = api.req("POST", "/v1/services", {"host_id": h["id"], "name": "Math",
                                               "is_online": True, "platform": "google_meet",
                                               "duration_minutes": 50})
    sbc.req("DELETE", "/_sandbox/faults")
    sbc.req("POST", "/_sandbox/faults", {"provider": "google", "latency_ms": LAT})
    raw = run([PLOAD, "raw", sb_url, "ya29.sandbox-ada", max(4 * INFLIGHT, N // 4), INFLIGHT])
    lat_s = float(raw["lat_mean_ms"]) / 1000.0
    work = tempfile.mkdtemp(prefix="pgbench-", dir=OUT)
    ids = os.path.join(work, "ids.txt")
    run([PLOAD, "create", ds[0][1], KEY, svc["id"], N, 64, ids])
    with open(ids) as f:
        all_ids = f.read().split()
    parts = []
    for k in range(n):
        path = os.path.join(work, "ids%d.txt" % k)
        with open(path, "w") as f:
            f.write("\n".join(all_ids[k::n]) + "\n")
        parts.append(path)
    seq0 = int(pgserver.psql(db, "SELECT coalesce(max(seq), 0) FROM jobs").strip())
    t0 = time.time()
    ts = [threading.Thread(target=run, args=([PLOAD, "confirm", ds[k][1], KEY, parts[k],
                                               max(1, 64 // n), 0],)) for k in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    q = ("SELECT count(*), min(created_at), max(updated_at) FROM jobs WHERE "
         "kind = 'meeting.create' AND state = 'done' AND seq > %d" % seq0)
    while True:
        done, first, last = pgserver.psql(db, q).rstrip("\n").split("\t")
        if int(done) >= N:
            break
        if time.time() - t0 > 900:
            raise SystemExit("bench: the pipeline did not finish (%s of %d)" % (done, N))
        time.sleep(0.2)
    window = (int(last) - int(first)) / 1000.0
    dups = int(pgserver.psql(db, "SELECT count(*) FROM (SELECT 1 FROM jobs WHERE kind = "
                                 "'meeting.create' AND seq > %d GROUP BY group_key HAVING "
                                 "count(*) > 1) x" % seq0).strip())
    for p, _ in ds:
        stop(p)
    stop(sb)
    bound = n * INFLIGHT / lat_s
    return {"links_per_s": N / window, "lat_ms": lat_s * 1000, "bound": bound,
            "of_bound": N / window / bound, "create_jobs_twice": dups}


def main():
    state = tempfile.mkdtemp(prefix="pg-state-", dir=OUT)
    try:
        pg_url, _ = pgserver.start(state, fsync=True)
        ceil_db = pg_url + "/ml"
        res = {"pg": pg_url}
        print("bench: PostgreSQL ceiling (libpq insert loop, 1 row per commit), 2 x 3 s")
        res["ceiling_1"] = float(run([CEIL, ceil_db, 3, 1])["commits_per_s"])
        res["ceiling_8"] = float(run([CEIL, ceil_db, 3, 8])["commits_per_s"])
        for n in (1, 3):
            print("bench: PostgreSQL main job, %d node(s), %d connections, %ds" % (
                n, CONNS, DURATION))
            res["pairs_%d" % n] = main_job(pg_url, n)
        # The pipeline part is off by default: at this machine's load it stopped on
        # "every store connection is busy" (bench/README.md, "PostgreSQL").
        for n in (1, 3) if os.environ.get("BENCH_PG_PIPELINE") == "1" else ():
            print("bench: PostgreSQL pipeline, %d node(s), %d bookings, %d ms latency" % (
                n, N, LAT))
            res["pipeline_%d" % n] = pipeline(pg_url, n)
    finally:
        for p in procs:
            stop(p)
        pgserver.stop(state)
    report(res)


def report(r):
    def sqlite_fig(path, key):
        try:
            with open(os.path.join(OUT, path)) as f:
                return kv(f.read()).get(key)
        except OSError:
            return None
    lines = [
        "PostgreSQL store — %s, %d cores (fsync on, synchronous commit)" % (
            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), os.cpu_count()),
        "",
        "%-52s %12s" % ("figure", "value"),
        "%-52s %12s" % ("-" * 52, "-" * 12),
        "%-52s %12.0f" % ("ceiling: libpq insert loop, 1 connection (commits/s)", r["ceiling_1"]),
        "%-52s %12.0f" % ("ceiling: libpq insert loop, 8 connections (commits/s)", r["ceiling_8"]),
    ]
    for n in (1, 3):
        p = r["pairs_%d" % n]
        lines.append("%-52s %12.0f" % ("main job, %d node%s: confirmed bookings/s" % (
            n, "s" if n > 1 else ""), p["pairs_per_s"]))
        lines.append("%-52s %12s" % ("  pair p99 (ms) / errors", "%.1f / %d" % (
            p["pair_p99_ms"], p["errors"])))
        lines.append("%-52s %12.2f" % ("  pairs/s ÷ ceiling (8 connections)",
                                       p["pairs_per_s"] / r["ceiling_8"]))
    for n in (1, 3) if "pipeline_1" in r else ():
        p = r["pipeline_%d" % n]
        lines.append("%-52s %12.0f" % ("pipeline, %d node%s: links/s" % (
            n, "s" if n > 1 else ""), p["links_per_s"]))
        lines.append("%-52s %12s" % ("  Little's bound (%d x %d in flight / %.0f ms)" % (
            n, INFLIGHT, p["lat_ms"]), "%.0f" % p["bound"]))
        lines.append("%-52s %12.2f" % ("  links/s ÷ bound", p["of_bound"]))
        lines.append("%-52s %12d" % ("  meeting.create jobs twice for a booking",
                                     p["create_jobs_twice"]))
    sq = sqlite_fig("pairs.txt", "pairs_per_s")
    if sq:
        lines.append("%-52s %12s" % ("SQLite main job, same run (pairs/s)", sq))
    try:
        with open(os.path.join(OUT, "pipeline_results.json")) as f:
            pj = json.load(f)
        lines.append("%-52s %12.0f" % ("SQLite pipeline, same run (links/s)", pj["links_per_s"]))
    except (OSError, ValueError, KeyError):
        pass
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(OUT, "pg_results.txt"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(OUT, "pg_results.json"), "w") as f:
        json.dump(r, f, indent=1)


if __name__ == "__main__":
    main()
