-- Mail as a budgeted resource: who caused each message, in which event (quotas), how urgent it
-- is (sign-in codes first, bulk invitations last), and when it was given up (dead letter).
ALTER TABLE outbox ADD COLUMN sender_id TEXT;
ALTER TABLE outbox ADD COLUMN event_id TEXT;
ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;
ALTER TABLE outbox ADD COLUMN dead_at TIMESTAMP;
DROP INDEX outbox_pending;
CREATE INDEX outbox_queue ON outbox (priority, next_attempt_at) WHERE sent_at IS NULL AND dead_at IS NULL;
CREATE INDEX outbox_sender_created ON outbox (sender_id, created_at) WHERE sender_id IS NOT NULL;
CREATE INDEX outbox_event_created ON outbox (event_id, created_at) WHERE event_id IS NOT NULL;
CREATE INDEX events_creator_created ON events (created_by, created_at);

-- Privacy: until a person confirms what they share, a badge exchange shares only their name,
-- company and headline.
ALTER TABLE memberships ADD COLUMN sharing_confirmed_at TIMESTAMP;
