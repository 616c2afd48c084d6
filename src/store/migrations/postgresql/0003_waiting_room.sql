-- The waiting room (SQLite's 0014, docs/waiting-room.md): one row per participant of a booking
-- who has asked to join it; `seq` numbers the booking's changes (the live pages' event ids).
CREATE TABLE admissions (
  org_id         text NOT NULL,
  booking_id     text NOT NULL,
  participant_id text NOT NULL,
  seq            bigint NOT NULL,
  body           text NOT NULL,
  PRIMARY KEY (org_id, booking_id, participant_id)
);
CREATE INDEX admissions_seq ON admissions (org_id, booking_id, seq);

-- Organization-wide settings (GET/PATCH /v1/organization/settings) as a JSON object.
ALTER TABLE orgs ADD COLUMN settings text;
