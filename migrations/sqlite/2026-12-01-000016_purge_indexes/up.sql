-- The worker purges after every round that sent mail: each purge condition gets an index of its
-- own, so that a purge reads what it deletes instead of the whole table.
CREATE INDEX outbox_dead ON outbox (dead_at) WHERE dead_at IS NOT NULL;
CREATE INDEX email_codes_expires ON email_codes (expires_at);
CREATE INDEX sign_in_failures_created ON sign_in_failures (created_at);
