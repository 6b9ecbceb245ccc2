-- Nothing on SQLite: one process owns the file, and its token buckets live in that process's
-- memory (src/http/rate_limit.rs). The folder exists so both backends list the same migrations.
SELECT 1;
