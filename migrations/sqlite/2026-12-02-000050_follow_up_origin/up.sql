-- A follow-up's origin_starter_id names the conversation starter (a row of starter_shows) it came
-- from. Ids that name no shown starter (free text accepted before this) are cleared.
UPDATE follow_ups SET origin_starter_id = NULL
WHERE origin_starter_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM starter_shows s WHERE s.id = follow_ups.origin_starter_id);
-- SQLite cannot add a foreign key to an existing column without rebuilding the table, so the
-- reference is kept by code (a new origin must be a starter shown to the owner about that
-- person: domain::starters::record::origin) and by this trigger, which does what PostgreSQL's
-- `ON DELETE SET NULL` does: a starter that goes leaves its follow-ups without an origin.
-- (Deletes by a foreign key's cascade fire it too.)
CREATE TRIGGER starter_shows_origin_set_null AFTER DELETE ON starter_shows
BEGIN
    UPDATE follow_ups SET origin_starter_id = NULL WHERE origin_starter_id = OLD.id;
END;
-- For the trigger above and the prompt statistics' join.
CREATE INDEX follow_ups_origin_starter ON follow_ups (origin_starter_id);
-- The export pages a person's follow-ups and touches by id.
CREATE INDEX follow_ups_account ON follow_ups (account_id, id);
DROP INDEX touches_account;
CREATE INDEX touches_account ON touches (account_id, id);
