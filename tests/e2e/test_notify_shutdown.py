"""A daemon stopped (SIGTERM) while mail is going out ends every SMTP session cleanly: the
mail in flight finishes within the stop's grace (MEETLINK_STOP_GRACE_MS), or its connection
is closed without another byte — never an end-of-data `.` the message did not reach (libcurl
sends one when a transfer is removed from its multi handle mid-session: the server then takes
a cut or empty message, or reads `.` as a command). After a restart on the same store every
message is delivered exactly once: a message is marked sent only once the server accepted it,
and one whose transfer was cut is sent again (the server never accepted it)."""

import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixtures as fx  # noqa: E402
import smtpsink  # noqa: E402
from harness import Client, main, start_daemon  # noqa: E402

BOOKINGS, PER_BOOKING = 3, 4  # host, customer, two attendees


def make_bookings(c):
    _, s = fx.setup_jitsi(c)
    out = []
    for i in range(BOOKINGS):
        out.append(fx.booking(c, s["id"], status="confirmed", allow_overlap=True, attendees=[
            {"name": "A%d" % i, "email": "a%d@example.test" % i},
            {"name": "B%d" % i, "email": "b%d@example.test" % i}]))
    return out


class StopWhileSending(unittest.TestCase):
    def run_case(self, grace_ms, data_delay, expect_accepted_before_restart):
        sink = smtpsink.Sink(data_delay=data_delay).start()
        env = {"MEETLINK_SMTP_URL": sink.url(), "MEETLINK_RETRY_BASE_MS": "100",
               "MEETLINK_SMTP_FROM": "Meet Link <noreply@example.test>"}
        if grace_ms is not None:
            env["MEETLINK_STOP_GRACE_MS"] = str(grace_ms)
        d = start_daemon(env=env)
        try:
            c = Client(d.host, d.port, d.api_key)
            bookings = make_bookings(c)
            total = BOOKINGS * PER_BOOKING
            fx.wait_for(lambda: sink.data_commands >= 1, what="a DATA in flight")
            self.assertEqual(sink.accepted, [], "the sink is still holding every DATA")
            t0 = time.time()
            d.kill(signal.SIGTERM)
            stopped_in = time.time() - t0
            self.assertEqual(d.p.returncode, 0, d.logs()[-3000:])
            # Whatever the sink was still holding has been answered or has seen the close.
            time.sleep(data_delay + 0.5)
            self.assertEqual(sink.garbage(), [], "protocol garbage reached the server")
            before = sink.message_ids()
            self.assertTrue(all(n == 1 for n in before.values()), before)
            if expect_accepted_before_restart:
                self.assertGreaterEqual(len(before), 1, "the mail in flight finished")
            else:
                self.assertEqual(before, {}, "nothing was accepted: every transfer was cut")
                self.assertLess(stopped_in, data_delay, "the stop did not wait for the server")

            sink.data_delay = 0
            d.start()  # same store
            c = Client(d.host, d.port, d.api_key)
            sink.wait_accepted(total)
            time.sleep(1.0)  # anything sent twice would arrive by now
            ids = sink.message_ids()
            self.assertEqual(len(ids), total, ids)
            self.assertTrue(all(n == 1 for n in ids.values()), ids)
            self.assertNotIn(None, ids)
            self.assertEqual(sink.garbage(), [])
            for b in bookings:
                sent = fx.wait_for(lambda: [e for e in c.get(
                    "/v1/bookings/%s/events" % b["id"]).json["data"]
                    if e["type"] == "email.sent"], what="email.sent")
                fx.wait_for(lambda: len([e for e in c.get(
                    "/v1/bookings/%s/events" % b["id"]).json["data"]
                    if e["type"] == "email.sent"]) == PER_BOOKING, what="4 x email.sent")
                self.assertTrue(sent)
        finally:
            d.close()
            sink.stop()

    def test_mail_in_flight_finishes_within_the_grace(self):
        self.run_case(None, 1.0, True)

    def test_mail_still_in_flight_after_the_grace_is_cut_cleanly(self):
        self.run_case(300, 4.0, False)


if __name__ == "__main__":
    main()
