DROP INDEX outbox_recipient;
DROP INDEX outbox_sent;
ALTER TABLE outbox DROP COLUMN secret;
DROP TABLE sign_in_failures;
