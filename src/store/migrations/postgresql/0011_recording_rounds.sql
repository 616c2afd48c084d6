-- Recordings (SQLite's 0020, docs/recordings.md): a booking's meeting may have more than one
-- recording (a booking moved after its bot was sent gets a new bot), and a recording of a
-- calendar bot may belong to no booking (booking_id ''). The one-per-meeting rule goes.
DROP INDEX recordings_meeting;
CREATE INDEX recordings_meeting ON recordings(org_id, booking_id, meeting_id);
