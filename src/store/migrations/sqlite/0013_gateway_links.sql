-- The join gateway's personal links (docs/gateway.md): only the SHA-256 of each link's token
-- is kept, never the token. A row names the participant the link lets in; a participant
-- removed, or the booking's links regenerated, loses its rows (revoked).
CREATE TABLE gateway_links (
  token_hash TEXT NOT NULL,        -- hex SHA-256 of the token in /j/{token}
  org_id TEXT NOT NULL,
  booking_id TEXT NOT NULL,
  participant_id TEXT NOT NULL,
  role TEXT NOT NULL,              -- host | customer | attendee | admin
  generation INTEGER NOT NULL,     -- the participant's link generation the token was made for
  created_at INTEGER NOT NULL      -- ms
);
CREATE UNIQUE INDEX gateway_links_hash ON gateway_links(token_hash);
CREATE INDEX gateway_links_participant ON gateway_links(org_id, booking_id, participant_id);
