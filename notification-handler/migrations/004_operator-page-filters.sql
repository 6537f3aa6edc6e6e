-- Up Migration
-- The operator page filters the list by operation and by recipient (matched case-insensitively),
-- newest first: each filter gets an index that also gives the keyset order.
CREATE INDEX notifications_operation_created_idx ON notifications (operation, created_at DESC, tracking_id DESC);
CREATE INDEX notifications_recipient_email_idx ON notifications (lower(recipient_email), created_at DESC, tracking_id DESC);

-- Down Migration
