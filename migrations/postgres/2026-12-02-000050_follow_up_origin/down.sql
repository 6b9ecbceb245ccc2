DROP INDEX touches_account;
CREATE INDEX touches_account ON touches (account_id);
DROP INDEX follow_ups_account;
DROP INDEX follow_ups_origin_starter;
ALTER TABLE follow_ups DROP CONSTRAINT follow_ups_origin_starter_fkey;
