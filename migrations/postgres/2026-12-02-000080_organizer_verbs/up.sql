-- Notes are listed in the order they were written (offline notes arrive late).
CREATE INDEX connection_notes_written ON connection_notes (connection_id, written_at, id);
