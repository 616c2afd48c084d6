-- Conflicts (issue 18 §5): a booking's end as a column, and the host's busy bookings indexed by
-- start, so the overlap check before a confirm or a reschedule is a range seek, not a scan of
-- the organization's bookings. Only confirmed and in_progress bookings can conflict: the
-- partial index holds only them (a booking enters it when confirmed, leaves it when cancelled
-- or completed). A booking lasts at most 7 days, so the bookings that may overlap [s, e) start
-- in (s - 7 days, e): a bounded range of the index (docs/store.md, booking_overlap), which
-- covers the query (end_at and id in the entry: no table row is read per booking in range).
ALTER TABLE bookings ADD COLUMN end_at INTEGER;
UPDATE bookings SET end_at = CAST(strftime('%s', json_extract(doc, '$.end')) AS INTEGER) * 1000;
CREATE INDEX bookings_busy ON bookings(org_id, host_id, start_at, end_at, id)
  WHERE status IN ('confirmed', 'in_progress');
