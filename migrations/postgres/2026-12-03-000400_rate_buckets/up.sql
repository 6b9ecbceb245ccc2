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

-- Settles one request against one row (see db::rate_buckets::settle): charges every bucket when
-- each holds what the request needs, or changes nothing. A function so that its statement is
-- planned once per session (PL/pgSQL caches its plans); sent as text, as diesel sends every
-- sql_query, it was planned on every call: pgbench, one client, 1.08 ms a call as text against
-- 0.41 ms through this function; 32 clients, 1,800 against 3,000 calls a second.
-- synchronous_commit is off for the caller's transaction only: an autocommitted call commits
-- without waiting for a WAL flush.
CREATE FUNCTION rate_bucket_settle(
    p_key text, p_caps float8[], p_rates float8[], p_needed float8[], p_costs float8[])
RETURNS TABLE (o_granted boolean, o_tokens float8[], o_elapsed float8)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  RETURN QUERY
  WITH settled AS (
    INSERT INTO rate_buckets AS b (key, tokens, updated_at, full_at)
    SELECT p_key,
           (SELECT array_agg(c.cap - c.cost ORDER BY c.i)
              FROM unnest(p_caps, p_costs) WITH ORDINALITY AS c(cap, cost, i)),
           now(),
           now() + make_interval(secs => (SELECT max(c.cost / c.rate)
              FROM unnest(p_rates, p_costs) AS c(rate, cost)))
    ON CONFLICT (key) DO UPDATE SET (tokens, full_at, updated_at) = (
        SELECT array_agg(r.refilled - r.cost ORDER BY r.i),
               now() + make_interval(secs => max((r.cap - r.refilled + r.cost) / r.rate)),
               now()
          FROM (SELECT c.i, c.cap, c.rate, c.cost,
                       least(c.cap, coalesce(b.tokens[c.i], c.cap)
                         + greatest(extract(epoch FROM now() - b.updated_at)::float8, 0) * c.rate)
                         AS refilled
                  FROM unnest(p_caps, p_rates, p_costs) WITH ORDINALITY AS c(cap, rate, cost, i)) r)
    WHERE (SELECT bool_and(least(c.cap, coalesce(b.tokens[c.i], c.cap)
                    + greatest(extract(epoch FROM now() - b.updated_at)::float8, 0) * c.rate)
                    >= c.needed)
             FROM unnest(p_caps, p_rates, p_needed) WITH ORDINALITY AS c(cap, rate, needed, i))
    RETURNING 1)
  SELECT true, NULL::float8[], NULL::float8 FROM settled
  UNION ALL
  SELECT false, r.tokens, greatest(extract(epoch FROM now() - r.updated_at)::float8, 0)
    FROM rate_buckets r
   WHERE r.key = p_key AND NOT EXISTS (SELECT FROM settled);
END
$$;
