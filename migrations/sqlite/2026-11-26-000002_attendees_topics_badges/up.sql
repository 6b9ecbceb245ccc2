-- Topics seeded by organizers, attendee event profiles and their topic choices, badges, join codes.

ALTER TABLE accounts ADD COLUMN last_sign_in_at TIMESTAMP;

ALTER TABLE events ADD COLUMN join_code TEXT;

ALTER TABLE memberships ADD COLUMN name TEXT;
ALTER TABLE memberships ADD COLUMN company TEXT;
ALTER TABLE memberships ADD COLUMN headline TEXT;
ALTER TABLE memberships ADD COLUMN bio TEXT;
ALTER TABLE memberships ADD COLUMN phone TEXT;
ALTER TABLE memberships ADD COLUMN links TEXT NOT NULL DEFAULT '[]';
ALTER TABLE memberships ADD COLUMN in_directory BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE memberships ADD COLUMN share_email BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE memberships ADD COLUMN share_phone BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE memberships ADD COLUMN share_company BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE memberships ADD COLUMN share_headline BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE memberships ADD COLUMN share_bio BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE memberships ADD COLUMN share_links BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE memberships ADD COLUMN invited_at TIMESTAMP;
CREATE INDEX memberships_event ON memberships (event_id, id);

CREATE TABLE topics (
    id TEXT PRIMARY KEY NOT NULL,
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    prompts TEXT NOT NULL DEFAULT '[]',
    position INTEGER NOT NULL,
    archived_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (event_id, slug)
);

CREATE TABLE membership_topics (
    membership_id TEXT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    topic_id TEXT NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('can_talk_about', 'want_to_learn')),
    PRIMARY KEY (membership_id, topic_id, kind)
);
CREATE INDEX membership_topics_topic ON membership_topics (topic_id);
CREATE INDEX membership_topics_event ON membership_topics (event_id);

CREATE TABLE badges (
    id TEXT PRIMARY KEY NOT NULL,
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    membership_id TEXT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    code TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
-- One working badge per membership; rotated ones stay, revoked, so that their codes answer "revoked".
CREATE UNIQUE INDEX badges_one_active ON badges (membership_id) WHERE revoked_at IS NULL;
CREATE INDEX badges_event ON badges (event_id);
