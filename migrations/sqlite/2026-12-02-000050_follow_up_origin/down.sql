DROP INDEX touches_account;
CREATE INDEX touches_account ON touches (account_id);
DROP INDEX follow_ups_account;
DROP INDEX follow_ups_origin_starter;
DROP TRIGGER starter_shows_origin_set_null;
