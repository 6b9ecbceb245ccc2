ALTER TABLE connections ADD COLUMN follow_up_text TEXT;
ALTER TABLE connections ADD COLUMN follow_up_due_at TIMESTAMP;
UPDATE connections SET
    follow_up_text = (SELECT f.note FROM follow_ups f WHERE f.connection_id = connections.id
                      AND f.is_open ORDER BY f.queue_at LIMIT 1),
    follow_up_due_at = (SELECT COALESCE(f.due_at, date(f.due_on) || ' 00:00:00') FROM follow_ups f
                        WHERE f.connection_id = connections.id AND f.is_open
                        ORDER BY f.queue_at LIMIT 1);
DROP TABLE digests_sent;
DROP TABLE touches;
DROP TABLE follow_ups;
ALTER TABLE connections DROP COLUMN last_touched_at;
ALTER TABLE connections DROP COLUMN cadence_days;
ALTER TABLE connections DROP COLUMN cadence;
ALTER TABLE events DROP COLUMN follow_ups_generated_at;
ALTER TABLE events DROP COLUMN follow_ups_cursor;
ALTER TABLE accounts DROP COLUMN digest_hour;
ALTER TABLE accounts DROP COLUMN digest;
ALTER TABLE accounts DROP COLUMN time_zone;
