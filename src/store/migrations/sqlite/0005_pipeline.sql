-- The meeting pipeline: which booking a provider's meeting belongs to (inbound provider
-- webhooks name the provider's id only), and the inbound events already handled (a
-- provider that delivers an event twice changes nothing the second time).
CREATE TABLE provider_meetings (
  platform    TEXT NOT NULL,
  external_id TEXT NOT NULL,
  org_id      TEXT NOT NULL,
  booking_id  TEXT NOT NULL,
  meeting_id  TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (platform, external_id)
);

CREATE TABLE inbound_events (
  provider    TEXT NOT NULL,
  event_key   TEXT NOT NULL,   -- the provider's event id, or a digest of the event
  received_at INTEGER NOT NULL, -- ms
  PRIMARY KEY (provider, event_key)
);
CREATE INDEX inbound_events_age ON inbound_events(received_at);
