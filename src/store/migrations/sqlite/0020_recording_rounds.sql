-- Recordings (docs/recordings.md): a booking's meeting may have more than one recording (a
-- booking moved after its bot was sent gets a new bot, with a key of its own), and a
-- recording of a calendar bot may belong to no booking (booking_id ''). The one-per-meeting
-- rule goes; the lookup stays.
DROP INDEX recordings_meeting;
CREATE INDEX recordings_meeting ON recordings(org_id, booking_id, meeting_id);
