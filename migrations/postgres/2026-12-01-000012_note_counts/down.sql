DROP INDEX connection_notes_connection_id;
CREATE INDEX connection_notes_connection ON connection_notes (connection_id, created_at);
ALTER TABLE connections DROP COLUMN note_count;
