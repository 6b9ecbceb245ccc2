-- Introductions (step 4): an introducer puts two of their connections in touch; each side accepts
-- or declines, from an emailed link or in the app; only when both accept do they become
-- connections. `side_a` < `side_b` (membership ids), so a pair is one key whoever is named first.
CREATE TABLE introductions (
    id TEXT PRIMARY KEY NOT NULL,
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    introducer_id TEXT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    introducer_account_id TEXT NOT NULL,
    side_a TEXT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    side_a_account_id TEXT NOT NULL,
    side_b TEXT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    side_b_account_id TEXT NOT NULL,
    note_a TEXT NOT NULL,
    note_b TEXT NOT NULL,
    answer_a TEXT,
    answer_b TEXT,
    state TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP,
    CHECK (side_a < side_b),
    CHECK (state IN ('pending', 'accepted', 'declined', 'expired'))
);
-- One pending introduction per pair at a time, whoever makes it.
CREATE UNIQUE INDEX introductions_one_pending ON introductions (event_id, side_a, side_b)
    WHERE state = 'pending';
CREATE INDEX introductions_pair ON introductions (event_id, side_a, side_b);
CREATE INDEX introductions_by_introducer ON introductions (introducer_account_id, id);
CREATE INDEX introductions_by_a ON introductions (side_a_account_id, id);
CREATE INDEX introductions_by_b ON introductions (side_b_account_id, id);
CREATE INDEX introductions_expiring ON introductions (state, expires_at);

-- The emailed links: one single-purpose token per side, stored as its SHA-256 (hex), usable once.
CREATE TABLE introduction_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    introduction_id TEXT NOT NULL REFERENCES introductions (id) ON DELETE CASCADE,
    membership_id TEXT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX introduction_tokens_of ON introduction_tokens (introduction_id);

-- A person blocked by another in an event: gone from the blocker's lists, never introduced.
CREATE TABLE blocks (
    blocker_id TEXT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    blocked_id TEXT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);
CREATE INDEX blocks_blocked ON blocks (blocked_id);

-- People a person took off their people-to-meet list.
CREATE TABLE people_dismissals (
    membership_id TEXT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    dismissed_id TEXT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (membership_id, dismissed_id)
);

ALTER TABLE memberships ADD COLUMN open_to_introductions BOOLEAN NOT NULL DEFAULT TRUE;
-- A connection made by an accepted introduction: who introduced, and their note.
ALTER TABLE connections ADD COLUMN introduced_by TEXT;
ALTER TABLE connections ADD COLUMN introduction_note TEXT;
