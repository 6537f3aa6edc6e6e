-- Up Migration
-- The response to a POST that carried an Idempotency-Key, written in the transaction of the change
-- it answers. The primary key makes a concurrent second request with the same key wait for the
-- first one's commit, then read its response.
CREATE TABLE idempotency_keys (
  key text PRIMARY KEY,
  -- sha256 of method, path and body: the same key with another request is refused.
  fingerprint text NOT NULL,
  response_status integer,
  response_body jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE idempotency_keys;
