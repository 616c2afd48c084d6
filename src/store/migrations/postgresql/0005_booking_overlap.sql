-- Conflicts (issue 18 §5), as SQLite's migration 0016: a booking's end as a column, and the
-- host's busy bookings indexed by start, so the overlap check before a confirm or a reschedule
-- is a range seek, not a scan of the organization's bookings. Only confirmed and in_progress
-- bookings can conflict: the partial index holds only them. A booking lasts at most 7 days,
-- so the bookings that may overlap [s, e) start in (s - 7 days, e) (docs/store.md,
-- booking_overlap); end_at and id are included, so the index covers the query. The check
-- serializes the writers of one host with a transaction advisory lock
-- (src/store/postgres/overlap.c).
ALTER TABLE bookings ADD COLUMN end_at bigint;
UPDATE bookings
  SET end_at = (extract(epoch FROM (doc::json ->> 'end')::timestamptz) * 1000)::bigint;
CREATE INDEX bookings_busy ON bookings(org_id, host_id, start_at) INCLUDE (end_at, id)
  WHERE status IN ('confirmed', 'in_progress');
