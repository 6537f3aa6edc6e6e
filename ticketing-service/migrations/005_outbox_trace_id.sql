-- Up Migration
-- The W3C trace id of the request that wrote the row, so that an operator can follow a trace
-- from the API to the outbox (the full traceparent travels in the row's AMQP headers). Rows
-- written before this migration have none.
ALTER TABLE outbox ADD COLUMN trace_id text;
-- NOT VALID: new rows are checked, and the existing ones (all NULL) are not scanned under the
-- migration's exclusive lock, which on a large outbox would stop the API for that long.
ALTER TABLE outbox ADD CONSTRAINT outbox_trace_id_format CHECK (trace_id ~ '^[0-9a-f]{32}$') NOT VALID;

-- Down Migration
ALTER TABLE outbox DROP COLUMN trace_id;
