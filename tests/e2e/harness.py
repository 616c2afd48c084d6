"""Shared end-to-end harness: start the real binary on a free loopback port with a fresh
store, talk HTTP to it, and clean up by PID. Standard library only (plus Debian's
python3-jsonschema where a test validates schemas)."""

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

BIN = os.environ.get("MEETLINK_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "meetlink")
SPECS = os.environ.get("ML_SPECS") or os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "shared", "specs")
# The store the daemons of this run use: "sqlite" (a file per daemon), or "postgres" (a fresh
# database per daemon on the server tests/e2e/pgserver.py started: CTest's e2e-pg/ entries).
STORE = os.environ.get("ML_TEST_STORE", "sqlite")
# The key ring the daemons get on PostgreSQL, where a key file beside the store cannot be.
PG_VAULT_KEYS = "tpg:" + "B" * 43 + "="


def new_db_url(workdir):
    """A fresh store for a daemon: a SQLite file in workdir, or a new PostgreSQL database."""
    if STORE == "postgres":
        import pgserver
        return pgserver.new_database(pgserver.server_url())
    return "sqlite:" + os.path.join(workdir, "meetlink.db")


def store_blobs(db_url):
    """Everything a store holds at rest, as (name, bytes): a SQLite store's files (database,
    WAL), or a PostgreSQL database's every row (pg_dump --data-only)."""
    if db_url.startswith("sqlite:"):
        import glob
        out = []
        for path in glob.glob(db_url[len("sqlite:"):] + "*"):
            with open(path, "rb") as f:
                out.append((path, f.read()))
        return out
    import subprocess
    args = ["pg_dump", "--data-only", db_url]
    if "search_path%3D" in db_url:  # the test store's own schema (pgserver.new_database)
        args.append("--schema=" + db_url.rsplit("search_path%3D", 1)[1])
    r = subprocess.run(args, capture_output=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("pg_dump: %s" % r.stderr.decode(errors="replace"))
    return [("pg_dump", r.stdout)]


def store_query(db_url, sql, args=()):
    """Rows of a query on a daemon's store, SQLite or PostgreSQL ('?' placeholders; values as
    the backend returns them: on PostgreSQL every value is text or None)."""
    if db_url.startswith("sqlite:"):
        import sqlite3
        con = sqlite3.connect("file:%s?mode=ro" % db_url[len("sqlite:"):], uri=True)
        try:
            return [tuple(r) for r in con.execute(sql, args)]
        finally:
            con.close()
    parts = sql.split("?")
    assert len(parts) == len(args) + 1, sql
    text = parts[0]
    for a, rest in zip(args, parts[1:]):
        text += ("'%s'" % str(a).replace("'", "''")) + rest
    # One row per record, fields split by a unit separator, NULL as a marker no value has.
    import subprocess
    r = subprocess.run(["psql", db_url, "-X", "-q", "-A", "-t", "-F", "\x1f", "-R", "\x1e",
                        "-P", "null=\x02NULL", "-v", "ON_ERROR_STOP=1", "-c", text],
                       capture_output=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("psql: %s" % r.stderr.decode(errors="replace"))
    out = []
    for rec in r.stdout.decode().rstrip("\n").split("\x1e"):
        if rec == "":
            continue
        out.append(tuple(None if v == "\x02NULL" else v for v in rec.split("\x1f")))
    return out


def store_tables(db_url):
    """The store's table names."""
    if db_url.startswith("sqlite:"):
        return [t for (t,) in store_query(db_url, "SELECT name FROM sqlite_master "
                                          "WHERE type = 'table'")]
    return [t for (t,) in store_query(db_url, "SELECT table_name FROM information_schema.tables "
                                      "WHERE table_schema = current_schema()")]


def psql(db_url, sql):
    """SQL on a daemon's PostgreSQL store (tests that look inside the store on both)."""
    import pgserver
    return pgserver.psql(db_url, sql)


class Proc:
    """A meetlink subprocess (serve or sandbox) listening on a port it picked itself.

    The binary prints `meetlink: listening on http://HOST:PORT` once it accepts connections;
    we read the port from that line, so tests never race for ports."""

    def __init__(self, args, env=None, workdir=None):
        self.workdir = workdir or tempfile.mkdtemp(prefix="ml-e2e-")
        self.own_workdir = workdir is None
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.log_path = os.path.join(self.workdir, "%s.log" % args[0])
        self.log = open(self.log_path, "ab")
        self.args = args
        self.env = full_env
        self.start()

    def start(self):
        self.p = subprocess.Popen([BIN] + self.args, stdout=subprocess.PIPE, stderr=self.log,
                                  env=self.env, cwd=self.workdir)
        deadline = time.time() + 20
        line = b""
        while time.time() < deadline:
            line = self.p.stdout.readline()
            if not line:
                break
            if b"listening on " in line:
                self.url = line.decode().split("listening on ", 1)[1].strip()
                hostport = self.url.split("//", 1)[1]
                self.host, port = hostport.rsplit(":", 1)
                self.port = int(port)
                # Keep draining stdout so the child never blocks on a full pipe.
                threading.Thread(target=self._drain, daemon=True).start()
                return
        self.stop()
        raise RuntimeError("%s did not start: %r\n%s" % (self.args, line, self.logs()))

    def _drain(self):
        for line in self.p.stdout:
            self.log.write(line)

    def logs(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def kill(self, sig=signal.SIGKILL):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()

    def stop(self):
        self.kill(signal.SIGTERM)

    def close(self, check=True):
        """Stops the process; with check, fails unless it exited cleanly (status 0), so a
        crash, a sanitizer report or a leak at exit fails the test that started it."""
        was_running = self.p.poll() is None
        self.stop()
        self.log.close()
        if check and was_running and self.p.returncode != 0:
            logs = self.logs()
            if not os.environ.get("ML_KEEP"):
                shutil.rmtree(self.workdir, ignore_errors=True) if self.own_workdir else None
            raise AssertionError("%s exited with status %s:\n%s" % (
                self.args[0], self.p.returncode, logs[-6000:]))
        if self.own_workdir and not os.environ.get("ML_KEEP"):
            shutil.rmtree(self.workdir, ignore_errors=True)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def json(self):
        return json.loads(self.body) if self.body else None

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def __repr__(self):
        return "<%d %s>" % (self.status, self.body[:300])


class Client:
    """A small keep-alive HTTP client with JSON helpers."""

    def __init__(self, host, port, token=None):
        self.host, self.port, self.token = host, port, token
        self.conn = None

    def request(self, method, path, body=None, headers=None, raw=None):
        h = {"Accept": "application/json"}
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if headers:
            h.update(headers)
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.conn.request(method, path, body=data, headers=h)
                r = self.conn.getresponse()
                return Response(r.status, r.getheaders(), r.read())
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def start_sandbox(extra_args=None, env=None):
    return Proc(["sandbox", "--listen", "127.0.0.1:0"] + (extra_args or []), env=env)


def start_daemon(env=None, workdir=None, api_key="ml_test_bootstrap_key_0123456789abcdef"):
    """Starts `meetlink serve` on a fresh store (new_db_url) with a bootstrap API key."""
    e = {
        "MEETLINK_LISTEN": "127.0.0.1:0",
        "MEETLINK_BOOTSTRAP_API_KEY": api_key,
        # Tests deliver webhooks to receivers on 127.0.0.1: allowed here, refused in
        # production. Tests of the SSRF defence pass "0".
        "MEETLINK_ALLOW_PRIVATE_TARGETS": "1",
        # Tests drive one API key harder than any client should (thousands of requests in a
        # burst on a quiet machine): the per-key rate limit is off here; test_rate_limit.py
        # turns it on.
        "MEETLINK_RATE_LIMIT": "0",
    }
    e.update(env or {})
    own = workdir is None
    workdir = workdir or tempfile.mkdtemp(prefix="ml-e2e-")
    if "MEETLINK_DB" not in e:
        # A daemon started again in the same workdir finds the same store (on PostgreSQL its
        # database's URL is kept there).
        keep = os.path.join(workdir, "db_url")
        if os.path.exists(keep):
            with open(keep) as f:
                e["MEETLINK_DB"] = f.read().strip()
        else:
            e["MEETLINK_DB"] = new_db_url(workdir)
            with open(keep, "w") as f:
                f.write(e["MEETLINK_DB"] + "\n")
    if e["MEETLINK_DB"].startswith("postgres") and "MEETLINK_VAULT_KEYS" not in e:
        e["MEETLINK_VAULT_KEYS"] = PG_VAULT_KEYS
    d = Proc(["serve"], env=e, workdir=workdir)
    d.own_workdir = own
    d.api_key = api_key
    return d


def error_lines(log_text):
    """The daemon log's lines at level error (`<time> error <message>`): normal operation,
    retries included, must log none."""
    return [l for l in log_text.splitlines() if l.split(" ", 2)[1:2] == ["error"]]


def main():
    import warnings
    warnings.simplefilter("ignore", ResourceWarning)
    unittest.main(verbosity=2)
