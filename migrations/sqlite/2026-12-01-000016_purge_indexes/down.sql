DROP INDEX sign_in_failures_created;
DROP INDEX email_codes_expires;
DROP INDEX outbox_dead;
