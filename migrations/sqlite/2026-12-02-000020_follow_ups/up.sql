-- Follow-ups: promises and reminders on connections, with their history (done, dismissed), the
-- touches people log, each person's time zone and digest choice, and the digests sent.

-- A person's time zone (IANA name) decides what "due today" means and when their digest goes.
ALTER TABLE accounts ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
-- `none`, `daily` or `weekly` (Mondays), at `digest_hour` (0-23) in `time_zone`.
ALTER TABLE accounts ADD COLUMN digest TEXT NOT NULL DEFAULT 'none';
ALTER TABLE accounts ADD COLUMN digest_hour INTEGER NOT NULL DEFAULT 8;

-- The post-event queue is generated once per event, in chunks of connections by id: the last id
-- done, and when it was finished.
ALTER TABLE events ADD COLUMN follow_ups_cursor TEXT;
ALTER TABLE events ADD COLUMN follow_ups_generated_at TIMESTAMP;

-- Stay in touch: `weekly`, `monthly`, `quarterly`, `yearly` or `days` (every `cadence_days`);
-- NULL for none. The last touch (logged, or a completed follow-up) schedules the next check-in.
ALTER TABLE connections ADD COLUMN cadence TEXT;
ALTER TABLE connections ADD COLUMN cadence_days INTEGER;
ALTER TABLE connections ADD COLUMN last_touched_at TIMESTAMP;

CREATE TABLE follow_ups (
    id TEXT PRIMARY KEY NOT NULL,
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    owner_id TEXT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    -- The owner's account: the queue spans all of a person's events.
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    note TEXT,
    -- A due date (that day in the person's time zone) or a due instant: exactly one.
    due_on DATE,
    due_at TIMESTAMP,
    -- Where it sorts in the queue: the due instant, the start of the due day in the person's
    -- time zone, or the end of a snooze. Kept when the person's time zone changes.
    queue_at TIMESTAMP NOT NULL,
    state TEXT NOT NULL,
    -- Open or snoozed: in the queue (a column of its own so that one index serves the queue).
    is_open BOOLEAN NOT NULL,
    snoozed_until TIMESTAMP,
    completed_at TIMESTAMP,
    completion_note TEXT,
    -- manual, scan, post_event, cadence (more may come, e.g. from conversation starters).
    origin TEXT NOT NULL,
    -- The conversation starter a follow-up came from, when it did (nullable, free text).
    origin_starter_id TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((due_on IS NULL) <> (due_at IS NULL))
);
CREATE INDEX follow_ups_queue ON follow_ups (account_id, is_open, queue_at, id);
CREATE INDEX follow_ups_connection ON follow_ups (connection_id, id);
CREATE INDEX follow_ups_connection_open ON follow_ups (connection_id, is_open, queue_at);
CREATE INDEX follow_ups_owner ON follow_ups (owner_id);
CREATE INDEX follow_ups_event ON follow_ups (event_id);
-- Never two follow-ups for one connection from the post-event rule, whatever the workers do.
CREATE UNIQUE INDEX follow_ups_one_post_event ON follow_ups (connection_id)
    WHERE origin = 'post_event';
-- A connection with a cadence has one upcoming check-in of its cadence, never two.
CREATE UNIQUE INDEX follow_ups_one_cadence ON follow_ups (connection_id)
    WHERE origin = 'cadence' AND is_open;

CREATE TABLE touches (
    id TEXT PRIMARY KEY NOT NULL,
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    owner_id TEXT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    note TEXT,
    happened_at TIMESTAMP NOT NULL,
    -- The day it happened in the person's time zone when it was logged.
    happened_on DATE NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX touches_connection ON touches (connection_id, id);
CREATE INDEX touches_owner ON touches (owner_id);
CREATE INDEX touches_account ON touches (account_id);
CREATE INDEX touches_event ON touches (event_id);

-- One digest per person and period (`d2026-09-21`, `w2026-W39`), enforced here: a period is
-- recorded in the transaction that queues its email (or finds nothing due).
CREATE TABLE digests_sent (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    period_key TEXT NOT NULL,
    items INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, period_key)
);

-- The single promise a connection held becomes a follow-up (its id is the connection's: one
-- each). A due stored as a UTC midnight was a date-only due: it becomes that date again.
INSERT INTO follow_ups (id, event_id, connection_id, owner_id, account_id, kind, note, due_on,
                        due_at, queue_at, state, is_open, origin, created_at, updated_at)
SELECT c.id, c.event_id, c.id, c.owner_id, m.account_id, 'other', c.follow_up_text,
       CASE WHEN c.follow_up_due_at IS NOT NULL
                 AND strftime('%H:%M:%f', c.follow_up_due_at) = '00:00:00.000'
            THEN date(c.follow_up_due_at) END,
       CASE WHEN c.follow_up_due_at IS NULL
            THEN strftime('%Y-%m-%d %H:%M:%f', e.ends_at,
                          '+' || e.follow_up_window_days || ' days')
            WHEN strftime('%H:%M:%f', c.follow_up_due_at) <> '00:00:00.000'
            THEN c.follow_up_due_at END,
       COALESCE(c.follow_up_due_at,
                strftime('%Y-%m-%d %H:%M:%f', e.ends_at, '+' || e.follow_up_window_days || ' days')),
       'open', 1, 'scan', c.updated_at, c.updated_at
FROM connections c
JOIN memberships m ON m.id = c.owner_id
JOIN events e ON e.id = c.event_id
WHERE c.follow_up_text IS NOT NULL AND c.deleted_at IS NULL;

ALTER TABLE connections DROP COLUMN follow_up_text;
ALTER TABLE connections DROP COLUMN follow_up_due_at;
