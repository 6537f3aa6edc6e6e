-- Up Migration
-- Which provider an attempt went to (mailjet, sendgrid), now that there can be more than one.
-- Every attempt made before this column existed went to Mailjet, the only provider then: the
-- default fills them without rewriting the table (a constant default is stored in the catalogue),
-- and is dropped at once, so that a new attempt always names its provider.
ALTER TABLE notification_attempts ADD COLUMN provider text DEFAULT 'mailjet';
ALTER TABLE notification_attempts ALTER COLUMN provider DROP DEFAULT;

-- Down Migration
