-- Webhook endpoints that fail for days are disabled (docs/notifications.md, "Failing
-- endpoints"): each endpoint knows since when every attempt has failed, whether it is still
-- enabled, and whom to tell when it is disabled.
ALTER TABLE webhook_endpoints ADD COLUMN status TEXT NOT NULL DEFAULT 'enabled'; -- enabled | disabled
ALTER TABLE webhook_endpoints ADD COLUMN failing_since INTEGER;  -- ms: first failed attempt after the last success; NULL while healthy
ALTER TABLE webhook_endpoints ADD COLUMN disabled_at INTEGER;    -- ms, while disabled
ALTER TABLE webhook_endpoints ADD COLUMN contact_email TEXT;     -- told when the endpoint is disabled
