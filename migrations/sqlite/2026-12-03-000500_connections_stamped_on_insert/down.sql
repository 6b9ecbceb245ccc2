-- Nothing on SQLite: a change number comes from the owner's counter, set after the insert
-- (src/db/changes.rs). The folder exists so both backends list the same migrations.
SELECT 1;
