-- Up Migration
-- One row per notification, written in the transaction of the business change it reports.
-- It holds the message as encoded at that moment (routing key, bytes, AMQP properties), so the
-- relay publishes exactly what was validated, and the exchange it targets, so that a relay only
-- ever publishes rows meant for its own topology.
CREATE TABLE outbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tracking_id uuid NOT NULL UNIQUE,
  exchange text NOT NULL,
  routing_key text NOT NULL,
  content bytea NOT NULL,
  properties jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- A row the broker refused (nack, unroutable return) waits before its next try.
  available_at timestamptz NOT NULL DEFAULT now(),
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  published_at timestamptz
);

-- Only pending rows are ever scanned; published ones stay out of the index.
CREATE INDEX outbox_pending ON outbox (exchange, id) WHERE published_at IS NULL;

-- Down Migration
DROP TABLE outbox;
