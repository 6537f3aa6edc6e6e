-- Up Migration
-- Personal data leaves a final notification after PERSONAL_DATA_RETENTION_DAYS: the recipient and
-- the stored request become NULL and the row keeps its status, timestamps and attempts. Replay needs
-- the request, so an erased notification no longer replays.
ALTER TABLE notifications
  ALTER COLUMN recipient_email DROP NOT NULL,
  ALTER COLUMN recipient_name DROP NOT NULL,
  ALTER COLUMN request DROP NOT NULL;
ALTER TABLE notifications ADD COLUMN personal_data_erased_at timestamptz;
-- NOT VALID: new rows are checked; existing ones all hold their data, and are not scanned under
-- this migration's lock.
ALTER TABLE notifications ADD CONSTRAINT notifications_personal_data_erased CHECK (
  (personal_data_erased_at IS NULL) = (recipient_email IS NOT NULL AND recipient_name IS NOT NULL AND request IS NOT NULL)
) NOT VALID;

-- The erasure job's way to the final rows still holding personal data, oldest first: erased rows
-- leave the index, so the job never walks over them again. (Purging by age uses the existing
-- (status, created_at) index.) Not CONCURRENTLY, since migrations run in one transaction: on a
-- large existing table, create it CONCURRENTLY under this name before upgrading, and this skips it.
CREATE INDEX IF NOT EXISTS notifications_personal_data_due ON notifications (created_at)
  WHERE personal_data_erased_at IS NULL AND status IN ('sent', 'failed');

-- Down Migration
