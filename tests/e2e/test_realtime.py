"""MEETLINK_REALTIME (README, docs/architecture.md "Priority"): with 1, the store's writer and
the worker's event loop and committer run at real-time priority (SCHED_FIFO 1) where the
process may have it, and fall back to nice -10 where it may not; ordinary threads stay as
they are; the pipeline works the same (Google Meet bookings get exactly one event each). A
value other than 0 or 1 stops the daemon at start with the variable named."""

import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import BIN, main  # noqa: E402
from pipeline import Env, google_events  # noqa: E402

SCHED_OTHER, SCHED_FIFO = 0, 1


def threads(pid):
    """comm -> [(policy, nice)] for every thread of pid (from /proc: fields 41 and 19)."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            comm = open("/proc/%d/task/%s/comm" % (pid, tid)).read().strip()
            stat = open("/proc/%d/task/%s/stat" % (pid, tid)).read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # stat after the comm: state is field 3, so field N is stat[N - 3]
        out.setdefault(comm, []).append((int(stat[41 - 3]), int(stat[19 - 3])))
    return out


def fifo_allowed():
    """Whether this process may use SCHED_FIFO (as the daemon, its child, would)."""
    r = subprocess.run([sys.executable, "-c", "import os; os.sched_setscheduler(0, "
                        "os.SCHED_FIFO, os.sched_param(1))"], capture_output=True)
    return r.returncode == 0


class Realtime(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.e = Env({"MEETLINK_REALTIME": "1"})

    @classmethod
    def tearDownClass(cls):
        cls.e.close()

    def test_threads_and_pipeline(self):
        e = self.e
        h, s = e.setup("google_meet")
        ids = [e.book(s["id"]).json["id"] for _ in range(5)]
        for b in e.wait_meetings(ids):
            self.assertEqual(b["meeting"]["status"], "ready", b)
        e.wait_idle()
        live = google_events(e)
        for bid in ids:
            self.assertEqual(len(live.get(bid, [])), 1, bid)

        t = threads(e.d.p.pid)
        # SQLite's writer and checkpointer are its own threads; PostgreSQL has neither.
        sqlite = harness.STORE == "sqlite"
        fast = ("ml-writer", "ml-worker") if sqlite else ("ml-worker", "ml-pg-async")
        for name in fast + (("ml-checkpoint",) if sqlite else ()):
            self.assertIn(name, t, sorted(t))
        fifo = [(name, p) for name, v in t.items() for p, _ in v if p == SCHED_FIFO]
        if fifo_allowed():
            # the writer (SQLite) or the async writer (PostgreSQL), the worker's event loop,
            # its committer (unnamed): only those
            self.assertEqual(len(fifo), len(fast) + 1, t)
            for name in fast:
                self.assertEqual([p for p, _ in t[name]], [SCHED_FIFO], (name, t[name]))
        else:
            self.assertEqual(fifo, [])
        if sqlite:
            self.assertEqual([p for p, _ in t["ml-checkpoint"]], [SCHED_OTHER])

    def test_bad_value_is_refused(self):
        env = dict(os.environ, MEETLINK_REALTIME="yes", MEETLINK_LISTEN="127.0.0.1:0",
                   MEETLINK_DB="sqlite:/nonexistent-dir-ml/never.db")
        r = subprocess.run([BIN, "serve"], env=env, capture_output=True, timeout=20)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"MEETLINK_REALTIME", r.stderr + r.stdout)


if __name__ == "__main__":
    main()
