"""A real PostgreSQL server for the tests: initdb and pg_ctl (Debian's `postgresql` package,
installed by scripts/bootstrap.sh check) into a temporary directory, listening on a free port
on 127.0.0.1 only, run as an unprivileged user when the tests run as root (initdb refuses
root), stopped by its PID. No mock.

    python3 pgserver.py start STATE_DIR   starts one and writes STATE_DIR/url and STATE_DIR/pid
    python3 pgserver.py stop STATE_DIR    stops it by PID and removes its files

From Python: `new_database(url)` makes a fresh database on it and returns its URL (each
daemon of a test gets one), `psql(url, sql)` runs SQL and returns the rows as text."""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

USER = "meetlink"  # the database superuser initdb makes (trust auth, loopback only)


def bindir():
    for cand in (os.environ.get("ML_PG_BINDIR"),):
        if cand and os.path.exists(os.path.join(cand, "pg_ctl")):
            return cand
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                             check=True).stdout.strip()
        if os.path.exists(os.path.join(out, "pg_ctl")):
            return out
    except (OSError, subprocess.CalledProcessError):
        pass
    base = "/usr/lib/postgresql"
    if os.path.isdir(base):
        for v in sorted(os.listdir(base), reverse=True):
            d = os.path.join(base, v, "bin")
            if os.path.exists(os.path.join(d, "pg_ctl")):
                return d
    raise RuntimeError("PostgreSQL's server binaries not found (apt install postgresql)")


def _as_user(cmd):
    """cmd as an unprivileged user when we are root (initdb and postgres refuse root)."""
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "nobody", "--"] + cmd


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(state_dir, fsync=False, max_connections=300):
    """Starts a server; returns (url, pid). Its files live in a new temporary directory
    (named in state_dir/dir), owned by the user it runs as."""
    os.makedirs(state_dir, exist_ok=True)
    bd = bindir()
    work = tempfile.mkdtemp(prefix="ml-pg-")
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(work, nobody.pw_uid, nobody.pw_gid)
    data = os.path.join(work, "data")
    subprocess.run(_as_user([os.path.join(bd, "initdb"), "-D", data, "-U", USER, "-A", "trust",
                             "-E", "UTF8", "--no-sync", "--locale=C"]),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    last = None
    for _ in range(5):
        port = _free_port()
        opts = ("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=%d "
                "-c shared_buffers=128MB" % (port, work, max_connections))
        if not fsync:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        r = subprocess.run(_as_user([os.path.join(bd, "pg_ctl"), "-D", data, "-l",
                                     os.path.join(work, "server.log"), "-o", opts, "-w",
                                     "-t", "60", "start"]),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode == 0:
            break
        last = r.stderr
    else:
        shutil.rmtree(work, ignore_errors=True)
        raise RuntimeError("postgres did not start: %r" % last)
    with open(os.path.join(data, "postmaster.pid")) as f:
        pid = int(f.readline().strip())
    url = "postgresql://%s@127.0.0.1:%d" % (USER, port)
    # The tests' database; each daemon gets a schema of its own in it (new_database).
    psql(url + "/postgres", "CREATE DATABASE ml")
    for name, value in (("url", url), ("pid", str(pid)), ("dir", work)):
        with open(os.path.join(state_dir, name), "w") as f:
            f.write(value + "\n")
    return url, pid


def _alive(pid, work):
    """Still running: not gone, not a zombie nobody reaped (a container's PID 1 may not),
    and its postmaster.pid still there (it removes it last)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return False
    except OSError:
        return False
    return not work or os.path.exists(os.path.join(work, "data", "postmaster.pid"))


def stop(state_dir):
    """Stops the server named in state_dir by its PID (fast shutdown) and removes it."""
    def read(name):
        try:
            with open(os.path.join(state_dir, name)) as f:
                return f.read().strip()
        except OSError:
            return None
    pid, work = read("pid"), read("dir")
    if pid:
        pid = int(pid)
        try:
            # Immediate shutdown: the data is thrown away next, so no checkpoint is owed.
            os.kill(pid, signal.SIGQUIT)
            for _ in range(400):
                if not _alive(pid, work):
                    break
                time.sleep(0.05)
            else:
                os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if work and os.path.basename(work).startswith("ml-pg-"):
        shutil.rmtree(work, ignore_errors=True)
    for name in ("url", "pid", "dir"):
        try:
            os.unlink(os.path.join(state_dir, name))
        except OSError:
            pass


def psql(url, sql):
    """Runs sql; returns stdout (rows, tab-separated, no header)."""
    r = subprocess.run(["psql", url, "-X", "-q", "-A", "-t", "-F", "\t", "-v",
                        "ON_ERROR_STOP=1", "-c", sql],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("psql: %s" % r.stderr)
    return r.stdout


def new_database(url):
    """A fresh, empty store on the server at url (postgresql://user@host:port): a schema of
    its own in the tests' database (cheaper than a database: no template copied), named in
    the URL's search_path. Its URL."""
    name = "ml_" + uuid.uuid4().hex[:16]
    psql(url + "/ml", "CREATE SCHEMA %s" % name)
    return "%s/ml?options=-csearch_path%%3D%s" % (url, name)


def server_url():
    """The URL of the server the test suite started (ML_TEST_PG_STATE), or None."""
    state = os.environ.get("ML_TEST_PG_STATE")
    if not state:
        return None
    with open(os.path.join(state, "url")) as f:
        return f.read().strip()


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("start", "stop"):
        sys.exit("usage: pgserver.py start|stop STATE_DIR")
    if sys.argv[1] == "start":
        stop(sys.argv[2])  # a server left by an interrupted run
        url, pid = start(sys.argv[2])
        print("postgres %d listening at %s" % (pid, url))
    else:
        stop(sys.argv[2])
