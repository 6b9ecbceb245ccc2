-- A first view of a pair's starters records its shows and their counters in one call of a
-- function whose statements keep their plans for the connection's life (a statement sent as
-- text is parsed and planned on every call; that was half of a first view's time in the
-- database). Its transaction does not wait for the WAL to reach the disk: a database crash may
-- lose the last fraction of a second of shows, which the next view of the pair records again
-- (their ids are the same), and their counts. Gives back how many shows were new and how many
-- the viewer has now.
--
-- The counters are taken in key order, as every writer takes them, so that viewers at once wait
-- for each other instead of deadlocking.
CREATE FUNCTION starter_shows_record(
  p_event TEXT, p_viewer TEXT, p_other TEXT, p_at TIMESTAMP,
  p_ids TEXT[], p_prompts TEXT[], p_topics TEXT[], p_stages TEXT[],
  OUT o_inserted BIGINT, OUT o_kept BIGINT)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  WITH new AS (
    INSERT INTO starter_shows
           (id, event_id, viewer_id, other_id, prompt_id, topic_slug, stage, shown_at)
    SELECT s.id, p_event, p_viewer, p_other, s.prompt_id, s.topic_slug, s.stage, p_at
      FROM unnest(p_ids, p_prompts, p_topics, p_stages) AS s (id, prompt_id, topic_slug, stage)
    ON CONFLICT DO NOTHING
    RETURNING prompt_id, topic_slug
  ), counted AS (
    INSERT INTO prompt_counts AS c
           (event_id, prompt_id, topic_slug, shown, used, helpful, not_helpful)
    SELECT p_event, n.prompt_id, n.topic_slug, count(*), 0, 0, 0 FROM new n
     GROUP BY n.prompt_id, n.topic_slug ORDER BY n.prompt_id, n.topic_slug
    ON CONFLICT (event_id, prompt_id, topic_slug)
    DO UPDATE SET shown = c.shown + excluded.shown
  )
  SELECT count(*) INTO o_inserted FROM new;
  -- A statement of its own: it sees the rows just inserted.
  SELECT count(*) INTO o_kept FROM starter_shows WHERE viewer_id = p_viewer;
END $$;

-- Fewer indexes to write per show. Pruning a viewer's oldest shows reads them by the pair index
-- (its first column is the viewer) and sorts at most a few more than the cap. A show's event is
-- its viewer's: deleting an event still deletes its shows, through its memberships.
DROP INDEX starter_shows_viewer_shown;
DROP INDEX starter_shows_event;
ALTER TABLE starter_shows DROP CONSTRAINT starter_shows_event_id_fkey;
