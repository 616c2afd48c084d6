-- jobs and audit_events numbered their rows with AUTOINCREMENT, which makes every insert read
-- and rewrite the table's row in sqlite_sequence too: two b-tree look-ups more for each of
-- the five such rows a booking's create and confirm write. A plain INTEGER PRIMARY KEY still
-- numbers rows in insertion order (the largest + 1); a number can come back only after the
-- newest row is deleted, which the audit trail never does, and which for jobs (queued
-- deliveries of a deleted endpoint) leaves the order of every remaining job as it was.
CREATE TABLE jobs_new (
  seq          INTEGER PRIMARY KEY,
  id           TEXT NOT NULL UNIQUE,
  org_id       TEXT NOT NULL,
  kind         TEXT NOT NULL,
  group_key    TEXT,             -- jobs sharing a key run one at a time, in order
  coalesce_key TEXT,             -- a newer job replaces a queued one with the same key
  state        TEXT NOT NULL,    -- queued | running | waiting | done | failed | cancelled
  wait_key     TEXT,             -- waiting: what it waits for (a connection id)
  payload      TEXT NOT NULL,
  attempts     INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  run_at       INTEGER NOT NULL, -- ms
  lease_until  INTEGER,          -- ms
  worker       TEXT,
  last_error   TEXT,
  result       TEXT,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
);
INSERT INTO jobs_new (seq, id, org_id, kind, group_key, coalesce_key, state, wait_key, payload,
                      attempts, max_attempts, run_at, lease_until, worker, last_error, result,
                      created_at, updated_at)
  SELECT seq, id, org_id, kind, group_key, coalesce_key, state, wait_key, payload, attempts,
         max_attempts, run_at, lease_until, worker, last_error, result, created_at, updated_at
  FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
CREATE INDEX jobs_ready ON jobs(state, run_at);
CREATE INDEX jobs_group ON jobs(group_key, seq) WHERE group_key IS NOT NULL;
CREATE INDEX jobs_coalesce ON jobs(coalesce_key) WHERE coalesce_key IS NOT NULL;
CREATE INDEX jobs_wait ON jobs(wait_key) WHERE wait_key IS NOT NULL;
CREATE INDEX jobs_org ON jobs(org_id, state, seq);

CREATE TABLE audit_events_new (
  seq        INTEGER PRIMARY KEY,
  org_id     TEXT NOT NULL,
  booking_id TEXT,
  at         INTEGER NOT NULL,
  type       TEXT NOT NULL,
  actor      TEXT NOT NULL,
  ip         TEXT,
  data       TEXT
);
INSERT INTO audit_events_new (seq, org_id, booking_id, at, type, actor, ip, data)
  SELECT seq, org_id, booking_id, at, type, actor, ip, data FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_new RENAME TO audit_events;
CREATE INDEX audit_booking ON audit_events(org_id, booking_id, seq);

DELETE FROM sqlite_sequence WHERE name IN ('jobs', 'audit_events');
