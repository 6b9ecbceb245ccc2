DROP INDEX connection_tombstones_owner_change;
CREATE INDEX connection_tombstones_owner ON connection_tombstones (owner_id, deleted_at, connection_id);
DROP INDEX connections_owner_change;
CREATE INDEX connections_owner_updated ON connections (owner_id, updated_at, id);
ALTER TABLE connection_tombstones DROP COLUMN change_seq;
ALTER TABLE connections DROP COLUMN change_seq;
DROP TABLE sync_counters;
