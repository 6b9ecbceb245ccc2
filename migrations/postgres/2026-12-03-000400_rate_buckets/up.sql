-- Token buckets shared by every API process (see src/db/rate_buckets.rs). One row per key and
-- group of buckets settled together (a person's write budgets: requests, scans, characters of
-- notes), so that one statement admits or refuses all of a request's buckets at once.
-- `tokens[i]` is bucket i's level at `updated_at` (negative: in debt); `full_at` is when every
-- bucket is full again, after which the row means nothing (a missing row is a full bucket) and
-- the worker deletes it. Losing rows (an unflushed commit at a crash) only refills buckets.
CREATE TABLE rate_buckets (
    key text PRIMARY KEY,
    tokens double precision[] NOT NULL,
    updated_at timestamptz NOT NULL,
    full_at timestamptz NOT NULL
);
