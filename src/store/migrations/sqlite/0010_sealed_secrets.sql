-- Server secrets (the connect-link signing key, the room-name key) are vault ciphertexts from
-- now on, like every other secret of the store: `value` holds "mlv1:<kid>:…" bound to
-- "<name>/value". A store made before this keeps its raw bytes in `legacy` until the daemon's
-- next start seals them (ml_tx_sealed_upgrade, one transaction, idempotent): the secret keeps
-- its value, so connect links signed and rooms named before the upgrade stay valid.
-- (The raw bytes stay in the file's free pages until that sealing rewrites it: ml_store_scrub.)
CREATE TABLE server_secrets_sealed (
  name       TEXT PRIMARY KEY,
  value      TEXT,                  -- vault ciphertext
  legacy     BLOB,                  -- raw bytes of a store from before 0010, until sealed
  created_at INTEGER NOT NULL,
  CHECK ((value IS NULL) <> (legacy IS NULL))
);
INSERT INTO server_secrets_sealed(name, legacy, created_at)
  SELECT name, value, created_at FROM server_secrets;
DROP TABLE server_secrets;
ALTER TABLE server_secrets_sealed RENAME TO server_secrets;
