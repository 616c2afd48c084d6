-- Provider watches (SQLite's 0018, docs/provider-changes.md): one row per host connection
-- whose calendar meetlink watches (a Google Calendar channel); the current channel id and
-- the one being replaced at a renewal are indexed for the notifications.
CREATE TABLE provider_watches (
  id              text NOT NULL PRIMARY KEY,
  org_id          text NOT NULL,
  host_id         text NOT NULL,
  platform        text NOT NULL,
  channel_id      text,
  prev_channel_id text,
  updated_at      bigint NOT NULL,
  doc             text NOT NULL
);
CREATE UNIQUE INDEX provider_watches_host ON provider_watches(org_id, host_id, platform);
CREATE INDEX provider_watches_channel ON provider_watches(channel_id);
CREATE INDEX provider_watches_prev ON provider_watches(prev_channel_id);
