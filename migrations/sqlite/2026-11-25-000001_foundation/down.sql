DROP TABLE outbox;
DROP TABLE memberships;
DROP TABLE events;
DROP TABLE refresh_tokens;
DROP TABLE email_codes;
DROP TABLE accounts;
