-- A connection is stamped with the transaction that inserts it (see src/db/changes.rs): the
-- change number a delta sync reads, without a second write of the row to set it.
ALTER TABLE connections ALTER COLUMN change_seq SET DEFAULT (pg_current_xact_id()::text::bigint);
