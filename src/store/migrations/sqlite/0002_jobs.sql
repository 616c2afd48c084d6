-- Durable jobs (the transactional outbox): written in the same transaction as the change
-- that causes them, claimed with a lease, retried with backoff, then visible as failed.
CREATE TABLE jobs (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
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
CREATE INDEX jobs_ready ON jobs(state, run_at);
CREATE INDEX jobs_group ON jobs(group_key, seq) WHERE group_key IS NOT NULL;
CREATE INDEX jobs_coalesce ON jobs(coalesce_key) WHERE coalesce_key IS NOT NULL;
CREATE INDEX jobs_wait ON jobs(wait_key) WHERE wait_key IS NOT NULL;
CREATE INDEX jobs_org ON jobs(org_id, state, seq);
