DROP INDEX connection_notes_written;
