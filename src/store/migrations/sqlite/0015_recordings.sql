-- Recording bots (docs/recordings.md): one row per recording of a booking's meeting, its
-- state and what the recorder gave back (media, transcript) in `doc`. A booking's meeting
-- has at most one (a regenerated meeting gets its own).
CREATE TABLE recordings (
  org_id     TEXT NOT NULL,
  id         TEXT NOT NULL PRIMARY KEY,
  booking_id TEXT NOT NULL,
  meeting_id TEXT NOT NULL,
  host_id    TEXT,
  state      TEXT NOT NULL,
  bot_id     TEXT,
  created_at INTEGER NOT NULL, -- ms
  updated_at INTEGER NOT NULL,
  doc        TEXT NOT NULL
);
CREATE INDEX recordings_page ON recordings(org_id, created_at, id);
CREATE UNIQUE INDEX recordings_meeting ON recordings(org_id, booking_id, meeting_id);

-- A host's calendar registered with the recorder: which calendar the recorder's id is.
CREATE TABLE recording_calendars (
  org_id      TEXT NOT NULL,
  id          TEXT NOT NULL PRIMARY KEY,
  host_id     TEXT NOT NULL,
  external_id TEXT,
  created_at  INTEGER NOT NULL,
  doc         TEXT NOT NULL
);
CREATE INDEX recording_calendars_host ON recording_calendars(org_id, host_id);
