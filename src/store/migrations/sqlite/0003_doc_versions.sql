-- Row versions for optimistic transactions: every update bumps the version, and a write
-- prepared against a snapshot applies only if the versions it read are still current.
ALTER TABLE hosts ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE services ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE bookings ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
