-- meetlink initial schema (SQLite). Resources are JSON documents with their queryable
-- fields duplicated into indexed columns; times are Unix milliseconds.
CREATE TABLE orgs (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
  id         TEXT PRIMARY KEY,
  org_id     TEXT NOT NULL REFERENCES orgs(id),
  hash       TEXT NOT NULL UNIQUE,   -- hex SHA-256 of the secret; the secret is never stored
  prefix     TEXT NOT NULL,          -- first characters, to recognise a key in a list
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);

CREATE TABLE hosts (
  org_id      TEXT NOT NULL,
  id          TEXT NOT NULL PRIMARY KEY,
  external_id TEXT,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  doc         TEXT NOT NULL
);
CREATE UNIQUE INDEX hosts_external ON hosts(org_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX hosts_page ON hosts(org_id, created_at, id);

CREATE TABLE services (
  org_id      TEXT NOT NULL,
  id          TEXT NOT NULL PRIMARY KEY,
  external_id TEXT,
  host_id     TEXT,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  doc         TEXT NOT NULL
);
CREATE UNIQUE INDEX services_external ON services(org_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX services_page ON services(org_id, created_at, id);
CREATE INDEX services_host ON services(org_id, host_id);

CREATE TABLE bookings (
  org_id      TEXT NOT NULL,
  id          TEXT NOT NULL PRIMARY KEY,
  external_id TEXT,
  service_id  TEXT,
  host_id     TEXT,
  status      TEXT NOT NULL,
  start_at    INTEGER,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  doc         TEXT NOT NULL
);
CREATE UNIQUE INDEX bookings_external ON bookings(org_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX bookings_page ON bookings(org_id, created_at, id);
CREATE INDEX bookings_service ON bookings(org_id, service_id, status);
CREATE INDEX bookings_host ON bookings(org_id, host_id, status);

CREATE TABLE audit_events (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id     TEXT NOT NULL,
  booking_id TEXT,
  at         INTEGER NOT NULL,
  type       TEXT NOT NULL,
  actor      TEXT NOT NULL,
  ip         TEXT,
  data       TEXT
);
CREATE INDEX audit_booking ON audit_events(org_id, booking_id, seq);

CREATE TABLE idempotency_keys (
  org_id     TEXT NOT NULL,
  key        TEXT NOT NULL,
  body_hash  TEXT NOT NULL,
  status     INTEGER NOT NULL,
  response   TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (org_id, key)
);

-- Server-wide secrets made once per store (e.g. the key that makes room names unguessable),
-- so every node sharing the store derives the same names.
CREATE TABLE server_secrets (
  name       TEXT PRIMARY KEY,
  value      BLOB NOT NULL,
  created_at INTEGER NOT NULL
);
