-- Changes made at the provider come back (docs/provider-changes.md): one row per host
-- connection whose calendar meetlink watches (a Google Calendar events.watch channel, a
-- Microsoft Graph subscription). `channel_id` is the provider's channel or subscription id
-- now, `prev_channel_id` the one being replaced at a renewal (notifications to either are
-- accepted until the old one is stopped). The rest (resource id, expiry, sync token, status)
-- is in `doc`.
CREATE TABLE provider_watches (
  id              TEXT NOT NULL PRIMARY KEY,
  org_id          TEXT NOT NULL,
  host_id         TEXT NOT NULL,
  platform        TEXT NOT NULL,
  channel_id      TEXT,
  prev_channel_id TEXT,
  updated_at      INTEGER NOT NULL, -- ms
  doc             TEXT NOT NULL
);
CREATE UNIQUE INDEX provider_watches_host ON provider_watches(org_id, host_id, platform);
CREATE INDEX provider_watches_channel ON provider_watches(channel_id);
CREATE INDEX provider_watches_prev ON provider_watches(prev_channel_id);
