-- Badge scans (each recorded once per scanner and client id) and the connections they create.

CREATE TABLE scans (
    id TEXT PRIMARY KEY NOT NULL,
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    scanner_id TEXT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    client_scan_id TEXT NOT NULL,
    badge_code TEXT NOT NULL,
    scanned_id TEXT REFERENCES memberships (id) ON DELETE SET NULL,
    status TEXT NOT NULL,
    device_time TIMESTAMP NOT NULL,
    scanned_at TIMESTAMP NOT NULL,
    server_time TIMESTAMP NOT NULL,
    UNIQUE (scanner_id, client_scan_id)
);
CREATE INDEX scans_event ON scans (event_id);

CREATE TABLE connections (
    id TEXT PRIMARY KEY NOT NULL,
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    owner_id TEXT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    other_id TEXT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    first_met_at TIMESTAMP NOT NULL,
    last_met_at TIMESTAMP NOT NULL,
    scan_count INTEGER NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    rating INTEGER,
    follow_up_text TEXT,
    follow_up_due_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP,
    UNIQUE (event_id, owner_id, other_id)
);
CREATE INDEX connections_owner_updated ON connections (owner_id, updated_at, id);
-- The scanned person's side of a pair, found from the scanner: (other, owner).
CREATE INDEX connections_other_owner ON connections (other_id, owner_id);

CREATE TABLE connection_notes (
    id TEXT PRIMARY KEY NOT NULL,
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    written_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX connection_notes_connection ON connection_notes (connection_id, created_at);
