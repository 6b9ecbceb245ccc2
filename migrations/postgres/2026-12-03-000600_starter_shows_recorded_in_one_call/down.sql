ALTER TABLE starter_shows
  ADD CONSTRAINT starter_shows_event_id_fkey
  FOREIGN KEY (event_id) REFERENCES events (id) ON DELETE CASCADE;
CREATE INDEX starter_shows_event ON starter_shows (event_id);
CREATE INDEX starter_shows_viewer_shown ON starter_shows (viewer_id, shown_at);
DROP FUNCTION starter_shows_record;
