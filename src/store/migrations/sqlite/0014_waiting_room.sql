-- The waiting room (docs/waiting-room.md): one row per participant of a booking who has asked
-- to join it, holding where that participant stands (waiting, admitted, rejected, left,
-- closed). `seq` numbers the booking's changes (1, 2, ...): the live pages' event ids, so a
-- reconnecting page asks for what changed after the last id it saw.
CREATE TABLE admissions (
  org_id TEXT NOT NULL,
  booking_id TEXT NOT NULL,
  participant_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  body TEXT NOT NULL, -- {"participant_id","role","name","state","since","decided_at","reason","asks",...}
  PRIMARY KEY (org_id, booking_id, participant_id)
) WITHOUT ROWID;
CREATE INDEX admissions_seq ON admissions (org_id, booking_id, seq);

-- Organization-wide settings (GET/PATCH /v1/organization/settings) as a JSON object, e.g.
-- {"waiting_room_default": true}; NULL: every default.
ALTER TABLE orgs ADD COLUMN settings TEXT;
