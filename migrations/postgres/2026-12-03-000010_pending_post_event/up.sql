-- The worker's claim of the next ended event whose post-event queue is unfinished reads this
-- index (see db::post_event::claim_ended), not the whole table.
CREATE INDEX events_follow_ups_pending ON events (ends_at, id) WHERE follow_ups_generated_at IS NULL;
