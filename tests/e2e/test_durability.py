"""A crash at any moment leaves the store consistent: every write the API acknowledged
survives SIGKILL, and the daemon restarts on the same store and carries on."""

import os
import signal
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
from harness import Client, main, start_daemon  # noqa: E402


class Durability(unittest.TestCase):
    def test_acknowledged_writes_survive_sigkill(self):
        d = start_daemon()
        try:
            c = Client(d.host, d.port, d.api_key)
            _, s = fx.setup_jitsi(c)
            acked, lock, stop = [], threading.Lock(), threading.Event()

            def writer(n):
                cl = Client(d.host, d.port, d.api_key)
                i = 0
                while not stop.is_set():
                    i += 1
                    try:
                        r = cl.post("/v1/bookings", {
                            "service_id": s["id"], "start": "2026-12-01T15:00:00Z",
                            "external_id": "w%d-%d" % (n, i), "status": "confirmed",
                            "allow_overlap": True,  # one host, one hour, many bookings
                            "customer": {"name": "G", "email": "g@example.test"}})
                    except Exception:
                        return
                    if r.status == 201:
                        with lock:
                            acked.append((r.json["id"], r.json["meeting"]["join_url"]))

            threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
            for t in threads:
                t.start()
            time.sleep(1.0)
            d.kill(signal.SIGKILL)
            stop.set()
            for t in threads:
                t.join(10)
            self.assertGreater(len(acked), 20, "the writers made progress before the kill")

            d.start()  # same store, same workdir
            c = Client(d.host, d.port, d.api_key)
            self.assertEqual(c.get("/readyz").status, 200)
            for bid, link in acked:
                r = c.get("/v1/bookings/" + bid)
                self.assertEqual(r.status, 200, bid)
                self.assertEqual(r.json["status"], "confirmed")
                self.assertEqual(r.json["meeting"]["join_url"], link)
                # The audit trail committed with the booking, never half of it.
                types = [e["type"] for e in c.get("/v1/bookings/%s/events" % bid).json["data"]]
                self.assertEqual(types, ["booking.created", "booking.confirmed", "meeting.ready"])
            # Whatever was stored beyond the acknowledged set is whole, too.
            page = c.get("/v1/bookings?limit=200&service_id=" + s["id"]).json
            for b in page["data"]:
                self.assertEqual(b["meeting"]["status"], "ready")
            # The daemon carries on.
            self.assertEqual(fx.booking(c, s["id"], status="confirmed", allow_overlap=True)
                             ["meeting"]["status"], "ready")
        finally:
            d.close()


if __name__ == "__main__":
    main()
