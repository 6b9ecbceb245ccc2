-- Events whose follow-up window had already passed when follow-ups arrived count as generated:
-- a check-in due weeks ago for every connection of every past event would flood the queue and
-- the digests. Events still inside their window get their post-event queue as usual.
UPDATE events SET follow_ups_generated_at = strftime('%Y-%m-%d %H:%M:%f', 'now')
WHERE follow_ups_generated_at IS NULL
  AND strftime('%Y-%m-%d %H:%M:%f', ends_at, '+' || follow_up_window_days || ' days')
      <= strftime('%Y-%m-%d %H:%M:%f', 'now');
