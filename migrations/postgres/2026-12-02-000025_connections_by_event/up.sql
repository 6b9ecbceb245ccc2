-- An event's connections in id order: the post-event queue walks them a chunk at a time (and a
-- distributed PostgreSQL keys them by event).
CREATE INDEX connections_event ON connections (event_id, id);
