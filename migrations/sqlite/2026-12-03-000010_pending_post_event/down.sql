DROP INDEX events_follow_ups_pending;
