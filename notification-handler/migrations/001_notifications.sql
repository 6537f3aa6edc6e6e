-- Up Migration
CREATE TABLE notifications (
  tracking_id uuid PRIMARY KEY,
  operation text NOT NULL,
  channel text NOT NULL DEFAULT 'email',
  recipient_email text NOT NULL,
  recipient_name text NOT NULL,
  -- The message as received: replay re-publishes exactly this.
  request jsonb NOT NULL,
  status text NOT NULL CHECK (status IN ('in_progress', 'sent', 'failed')),
  attempt_count integer NOT NULL DEFAULT 0,
  last_error text,
  provider_message_id text,
  -- A handler owns an in_progress row until then; past it, a redelivery may take the row over.
  lease_expires_at timestamptz NOT NULL,
  occurred_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz
);

-- Keyset pagination of the status API, newest first, optionally by status.
CREATE INDEX notifications_created_idx ON notifications (created_at DESC, tracking_id DESC);
CREATE INDEX notifications_status_created_idx ON notifications (status, created_at DESC, tracking_id DESC);

CREATE TABLE notification_attempts (
  tracking_id uuid NOT NULL REFERENCES notifications (tracking_id) ON DELETE CASCADE,
  attempt_number integer NOT NULL,
  started_at timestamptz NOT NULL,
  finished_at timestamptz NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('sent', 'transient_error', 'permanent_error')),
  http_status integer,
  error_code text,
  message text,
  provider_message_id text,
  PRIMARY KEY (tracking_id, attempt_number)
);

-- Down Migration
