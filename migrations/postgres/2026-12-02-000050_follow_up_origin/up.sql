-- A follow-up's origin_starter_id names the conversation starter (a row of starter_shows) it came
-- from. Ids that name no shown starter (free text accepted before this) are cleared; from now on
-- the database keeps it true, and a starter that goes (a viewer's oldest past the cap, a person
-- who left) leaves its follow-ups without an origin instead of taking them along.
UPDATE follow_ups SET origin_starter_id = NULL
WHERE origin_starter_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM starter_shows s WHERE s.id = follow_ups.origin_starter_id);
ALTER TABLE follow_ups ADD CONSTRAINT follow_ups_origin_starter_fkey
    FOREIGN KEY (origin_starter_id) REFERENCES starter_shows (id) ON DELETE SET NULL;
-- For the SET NULL above and the prompt statistics' join.
CREATE INDEX follow_ups_origin_starter ON follow_ups (origin_starter_id);
-- The export pages a person's follow-ups and touches by id.
CREATE INDEX follow_ups_account ON follow_ups (account_id, id);
DROP INDEX touches_account;
CREATE INDEX touches_account ON touches (account_id, id);
