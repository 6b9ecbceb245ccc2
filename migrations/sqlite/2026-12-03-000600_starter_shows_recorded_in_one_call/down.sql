CREATE INDEX starter_shows_viewer_shown ON starter_shows (viewer_id, shown_at);
