-- Up Migration
-- A transient failure that outlasts the immediate retries waits in a broker delay queue instead of
-- failing: the row says so, and when the next attempt is due.
ALTER TABLE notifications DROP CONSTRAINT notifications_status_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_status_check
  CHECK (status IN ('in_progress', 'retry_scheduled', 'sent', 'failed'));
ALTER TABLE notifications ADD COLUMN next_attempt_at timestamptz;
-- Set once a replay message is confirmed by the broker; a replay is pending while it is newer than
-- the row's last change, so bulk replay does not queue the same notification twice.
ALTER TABLE notifications ADD COLUMN replay_queued_at timestamptz;

-- Down Migration
