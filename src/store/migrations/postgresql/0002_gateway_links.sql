-- The join gateway's personal links (SQLite's 0013, docs/gateway.md): only the SHA-256 of each
-- link's token is kept, never the token.
CREATE TABLE gateway_links (
  token_hash     text NOT NULL,
  org_id         text NOT NULL,
  booking_id     text NOT NULL,
  participant_id text NOT NULL,
  role           text NOT NULL,
  generation     bigint NOT NULL,
  created_at     bigint NOT NULL
);
CREATE UNIQUE INDEX gateway_links_hash ON gateway_links(token_hash);
CREATE INDEX gateway_links_participant ON gateway_links(org_id, booking_id, participant_id);
