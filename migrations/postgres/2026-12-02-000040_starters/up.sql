-- Conversation starters. starter_shows: each starter a person was shown about another person, once
-- per (viewer, other person, prompt, topic); its id is the starter_id clients send feedback on, and
-- what a follow-up names as its origin. It is made from those four (a hash), so the same pair gets
-- the same ids on every call and a repeated call writes nothing. At most 1,000 per viewer: the
-- oldest without feedback go first (see domain::starters::record).
CREATE TABLE starter_shows (
    id TEXT PRIMARY KEY NOT NULL,
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    viewer_id TEXT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    other_id TEXT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    prompt_id TEXT NOT NULL,
    -- The topic the starter was about, '' for none.
    topic_slug TEXT NOT NULL,
    stage TEXT NOT NULL,
    shown_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    helpful BOOLEAN,
    feedback_at TIMESTAMP
);
CREATE INDEX starter_shows_pair ON starter_shows (viewer_id, other_id);
CREATE INDEX starter_shows_viewer_shown ON starter_shows (viewer_id, shown_at);
CREATE INDEX starter_shows_other ON starter_shows (other_id);
CREATE INDEX starter_shows_event ON starter_shows (event_id);

-- Counters per event, prompt and topic ('' for none): how often a starter was shown to a new pair,
-- used, and marked helpful or not. They outlive the shows they count.
CREATE TABLE prompt_counts (
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    prompt_id TEXT NOT NULL,
    topic_slug TEXT NOT NULL,
    shown BIGINT NOT NULL DEFAULT 0,
    used BIGINT NOT NULL DEFAULT 0,
    helpful BIGINT NOT NULL DEFAULT 0,
    not_helpful BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (event_id, prompt_id, topic_slug)
);

-- What organizers set for their event's starters: built-in prompts on or off, and built-in
-- prompts switched off one by one (a JSON array of prompt ids). No row: the defaults.
CREATE TABLE starter_settings (
    event_id TEXT PRIMARY KEY NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    builtin_prompts BOOLEAN NOT NULL,
    disabled_prompts TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
