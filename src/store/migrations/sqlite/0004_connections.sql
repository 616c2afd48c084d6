-- Connections: a host's authorised account on one platform (OAuth tokens), or an
-- organization's credentials for a platform (host_id NULL). Every secret column holds a vault
-- ciphertext (core/vault.h) bound to "<id>/<column>"; plaintext never reaches this file.
CREATE TABLE connections (
  id            TEXT PRIMARY KEY,   -- con_…
  org_id        TEXT NOT NULL,
  host_id       TEXT,               -- NULL: an organization credential
  platform      TEXT NOT NULL,      -- google_meet | zoom | teams | twilio | jaas | meetingbaas
  kind          TEXT NOT NULL,      -- oauth | zoom_s2s | jaas | twilio | meetingbaas
  status        TEXT NOT NULL,      -- connected | reauth_required | revoked
  account_email TEXT,
  scopes        TEXT,
  config        TEXT,               -- non-secret JSON (Zoom account_id, Twilio key sid, …)
  access_token  TEXT,               -- vault ciphertext
  refresh_token TEXT,               -- vault ciphertext
  secret        TEXT,               -- vault ciphertext of a JSON object (organization secrets)
  expires_at    INTEGER,            -- access token expiry, Unix seconds
  lease_until   INTEGER,            -- ms: a refresh is in flight until then (single flight)
  last_error    TEXT,
  last_error_code TEXT,
  last_error_at INTEGER,            -- ms
  connected_at  INTEGER,            -- ms
  refreshed_at  INTEGER,            -- ms
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX connections_host ON connections(org_id, host_id, platform)
  WHERE host_id IS NOT NULL;
CREATE UNIQUE INDEX connections_org ON connections(org_id, platform) WHERE host_id IS NULL;

-- OAuth authorization requests in flight: the state (stored as its hash), the PKCE verifier
-- (vault ciphertext), and the hash of the browser cookie the state is bound to. Single use.
CREATE TABLE oauth_states (
  state_hash  TEXT PRIMARY KEY,
  org_id      TEXT NOT NULL,
  host_id     TEXT NOT NULL,
  platform    TEXT NOT NULL,
  cookie_hash TEXT NOT NULL,
  verifier    TEXT NOT NULL,
  link_expires INTEGER NOT NULL,    -- the connect link's own expiry (Unix seconds)
  expires_at  INTEGER NOT NULL,     -- ms
  used_at     INTEGER,
  created_at  INTEGER NOT NULL
);
CREATE INDEX oauth_states_expiry ON oauth_states(expires_at);
