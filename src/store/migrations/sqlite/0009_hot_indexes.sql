-- Fewer index pages rewritten per state change (each one a 4 KiB frame in the WAL at every
-- commit that touches it; a link rewrote ~22 per commit).
--
-- Jobs: the claim looks for queued jobs by run_at and for running jobs by lease_until; done,
-- failed and waiting jobs (nearly all rows, forever) need neither. Two partial indexes hold
-- only the live ones: small, so the pages a batch touches are few and stay in the cache, and a
-- job that finishes leaves them without being written anywhere else.
DROP INDEX jobs_ready;
CREATE INDEX jobs_due ON jobs(run_at) WHERE state = 'queued';
CREATE INDEX jobs_lease ON jobs(lease_until) WHERE state = 'running';

-- Bookings: a status change (every confirm, cancel, completion) moved the booking's entry in
-- two indexes whose status column no list needs in order: lists page by rowid, which an index
-- on (org_id, host_id) keeps within a host, and the status filter reads the row anyway.
DROP INDEX bookings_service;
DROP INDEX bookings_host;
CREATE INDEX bookings_service ON bookings(org_id, service_id);
CREATE INDEX bookings_host ON bookings(org_id, host_id);
