DROP FUNCTION rate_bucket_settle(text, float8[], float8[], float8[], float8[]);
DROP TABLE rate_buckets;
