-- Up Migration
-- The W3C trace id the message's traceparent header carried (null when it had none): joins the
-- notification to the ticketing request that caused it, in logs and in the status API.
ALTER TABLE notifications ADD COLUMN trace_id text;

-- Down Migration
