-- Delta sync's horizon. Each change to a connection (or tombstone) takes the next number of its
-- owner's counter, in the transaction that makes it; the counter's row stays locked until that
-- transaction commits, so one owner's numbers commit in order, and a reader that sees number N
-- also sees every change numbered below it. A sync token is such a number: unlike a time, it is
-- never passed by a slow transaction that commits later.
CREATE TABLE sync_counters (
    membership_id TEXT PRIMARY KEY NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    last_change BIGINT NOT NULL
);

ALTER TABLE connections ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE connection_tombstones ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;

-- What exists is change 1 of its owner: a client's next sync (any old token reads as 0) gets it.
UPDATE connections SET change_seq = 1;
UPDATE connection_tombstones SET change_seq = 1;
INSERT INTO sync_counters (membership_id, event_id, last_change)
    SELECT owner_id, event_id, 1 FROM connections
    UNION SELECT owner_id, event_id, 1 FROM connection_tombstones;

DROP INDEX connections_owner_updated;
CREATE INDEX connections_owner_change ON connections (owner_id, change_seq, id);
DROP INDEX connection_tombstones_owner;
CREATE INDEX connection_tombstones_owner_change
    ON connection_tombstones (owner_id, change_seq, connection_id);
