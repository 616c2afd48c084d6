-- Per-organization request rate limits (meetlink keys limit --org NAME --rps N --burst M).
-- NULL: the daemon's default (MEETLINK_RATE_LIMIT, MEETLINK_RATE_BURST) applies to each of the
-- organization's API keys; rate_rps 0: no limit for that organization.
ALTER TABLE orgs ADD COLUMN rate_rps INTEGER;
ALTER TABLE orgs ADD COLUMN rate_burst INTEGER;
