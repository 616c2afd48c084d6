-- Lists page in rowid order (insertion order) since cursors carry the rowid: an index on the
-- organization alone serves them (its entries are ordered by rowid within an org), so the
-- (org_id, created_at, id) indexes only cost every insert.
DROP INDEX hosts_page;
DROP INDEX services_page;
DROP INDEX bookings_page;
CREATE INDEX hosts_org ON hosts(org_id);
CREATE INDEX services_org ON services(org_id);
CREATE INDEX bookings_org ON bookings(org_id);
