-- A connection whose other side went with that person's deleted account: kept, without that
-- person's profile (their former attendee id and the owner's own record of the meeting), so that
-- the owner's devices learn of it by delta sync (as a tombstone) instead of keeping it for ever.
CREATE TABLE connection_tombstones (
    connection_id TEXT PRIMARY KEY NOT NULL,
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    owner_id TEXT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    other_id TEXT NOT NULL,
    first_met_at TIMESTAMP NOT NULL,
    last_met_at TIMESTAMP NOT NULL,
    scan_count INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP NOT NULL
);
CREATE INDEX connection_tombstones_owner ON connection_tombstones (owner_id, deleted_at, connection_id);
