"""Object factories shared by the API end-to-end tests."""

import itertools
import os
import subprocess
import time

from harness import BIN

_n = itertools.count(1)


def create_key(daemon, org):
    """A fresh API key for organization `org` (made if new), via `meetlink keys create`."""
    out = subprocess.run([BIN, "keys", "create", "--org", org], capture_output=True, text=True,
                         env=dict(os.environ, MEETLINK_DB=daemon.env["MEETLINK_DB"]), check=True)
    key = out.stdout.strip()
    assert key.startswith("mlk_") and len(key) >= 40, key
    assert key not in out.stderr
    return key


def wait_for(fn, timeout=15.0, what="condition"):
    """Polls fn until it returns something true, and returns that."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def host(c, **kw):
    body = {"name": "Ada Lovelace", "email": "ada%d@example.test" % next(_n),
            "timezone": "Europe/London"}
    body.update(kw)
    r = c.post("/v1/hosts", body)
    assert r.status == 201, r
    return r.json


def service(c, host_id, **kw):
    body = {"host_id": host_id, "name": "Math tutoring", "is_online": True,
            "platform": "jitsi", "duration_minutes": 50}
    body.update(kw)
    r = c.post("/v1/services", body)
    assert r.status == 201, r
    return r.json


def booking(c, service_id, **kw):
    body = {"service_id": service_id, "start": "2026-12-01T15:00:00Z",
            "timezone": "Europe/London", "title": "Math with Ada",
            "customer": {"name": "Grace Hopper", "email": "grace@example.test"},
            "attendees": []}
    body.update(kw)
    r = c.post("/v1/bookings", body)
    assert r.status in (201, 202), r
    return r.json


def setup_jitsi(c, **service_kw):
    h = host(c)
    s = service(c, h["id"], **service_kw)
    return h, s
