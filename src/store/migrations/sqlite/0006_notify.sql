-- Messages out: per-organization email templates, outbound webhook endpoints, and the log of
-- every webhook delivery and each of its attempts.
CREATE TABLE email_templates (
  org_id     TEXT NOT NULL,
  name       TEXT NOT NULL,          -- invitation | update | cancellation | reconnect
  subject    TEXT NOT NULL,
  text_body  TEXT NOT NULL,
  html_body  TEXT NOT NULL,
  updated_at INTEGER NOT NULL,       -- ms
  PRIMARY KEY (org_id, name)
);

CREATE TABLE webhook_endpoints (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  id          TEXT NOT NULL UNIQUE,
  org_id      TEXT NOT NULL,
  url         TEXT NOT NULL,
  events      TEXT NOT NULL,         -- JSON array of event types or "prefix.*" / "*"
  description TEXT,
  secret      TEXT NOT NULL,         -- "whsec_…": shown once at creation, never returned again
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints(org_id, seq);

CREATE TABLE webhook_deliveries (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  id           TEXT NOT NULL UNIQUE, -- "msg_…": the webhook-id header, the same on every attempt
  org_id       TEXT NOT NULL,
  endpoint_id  TEXT NOT NULL,
  event_type   TEXT NOT NULL,
  booking_id   TEXT,
  body         TEXT NOT NULL,        -- the exact bytes signed and sent
  state        TEXT NOT NULL,        -- pending | delivered | failed
  attempts     INTEGER NOT NULL DEFAULT 0,
  last_status  INTEGER,
  last_error   TEXT,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  delivered_at INTEGER
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(org_id, endpoint_id, seq);

CREATE TABLE webhook_attempts (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id TEXT NOT NULL,
  at          INTEGER NOT NULL,      -- ms
  status      INTEGER,               -- HTTP status, NULL when no answer came back
  duration_ms INTEGER NOT NULL,
  error       TEXT
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id, seq);
