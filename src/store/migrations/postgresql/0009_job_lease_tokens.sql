-- A job's lease token (PostgreSQL only; docs/many-nodes.md, "Exactly once"): every claim
-- takes the next one, and the holder's heartbeat and outcome present it, so a node whose
-- lease was taken over (it ran out while the node was slow) can neither renew it nor write
-- its outcome over the new holder's.
ALTER TABLE jobs ADD COLUMN lease_token bigint NOT NULL DEFAULT 0;
