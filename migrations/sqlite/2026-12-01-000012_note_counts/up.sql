-- Each connection counts its notes, so that the caps on notes (per connection, and per person
-- across their connections) and every connection view read a number instead of counting rows.
ALTER TABLE connections ADD COLUMN note_count INTEGER NOT NULL DEFAULT 0;
UPDATE connections
SET note_count = (SELECT COUNT(*) FROM connection_notes n WHERE n.connection_id = connections.id);

-- Notes are paged by id (time-ordered UUIDs: the order the server received them).
DROP INDEX connection_notes_connection;
CREATE INDEX connection_notes_connection_id ON connection_notes (connection_id, id);
