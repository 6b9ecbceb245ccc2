-- Wrong sign-in guesses, counted per email address and per client address rather than per code:
-- one client's wrong guesses must not kill the code another client (its owner) is about to use.
CREATE TABLE sign_in_failures (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    client_ip TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX sign_in_failures_email_created ON sign_in_failures (email, created_at);
CREATE INDEX sign_in_failures_ip_created ON sign_in_failures (client_ip, created_at);

-- The secret part of a message (a sign-in code) is kept apart from its subject and body, which
-- hold a placeholder, and is dropped once the message is sent.
ALTER TABLE outbox ADD COLUMN secret TEXT;
-- Sent messages are purged after a retention period; a deleted account's messages at once.
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX outbox_recipient ON outbox (recipient);
-- Sign-in messages sent before this migration hold their code in the clear.
UPDATE outbox SET subject = 'Your Hallway sign-in code', body_text = '(removed once sent)'
    WHERE kind = 'sign_in_code' AND sent_at IS NOT NULL;
