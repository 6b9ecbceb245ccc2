-- People who left an event they were imported into: an import does not bring them (and an
-- invitation) back; only they can, by joining again.
CREATE TABLE event_departures (
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    left_at TIMESTAMP NOT NULL,
    PRIMARY KEY (event_id, email)
);
