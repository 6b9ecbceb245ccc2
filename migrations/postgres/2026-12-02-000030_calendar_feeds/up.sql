-- Each person's secret calendar-feed token, stored only as its SHA-256 (hex): the URL is shown
-- once, when made. One per person: rotating replaces the row, which revokes the old URL.
CREATE TABLE calendar_feeds (
    account_id TEXT PRIMARY KEY NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);
