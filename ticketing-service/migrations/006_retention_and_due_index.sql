-- Up Migration
-- The relay's claim: pending rows of its exchange that are due, in the order they became due. This
-- index holds exactly those rows in that order, so a claim reads the rows it takes and stops, however
-- many rows wait for a later retry (a refused row backs off up to 30 s) or belong to other exchanges.
--
-- Not CONCURRENTLY, since migrations run in one transaction: on a large existing table, create these
-- CONCURRENTLY under the same names before upgrading, and this migration skips them.
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (exchange, available_at, id) WHERE published_at IS NULL;

-- Retention (OUTBOX_RETENTION_HOURS): published rows, oldest first. Pending rows are not in it, so
-- the purge cannot reach them.
CREATE INDEX IF NOT EXISTS outbox_published ON outbox (published_at) WHERE published_at IS NOT NULL;

-- Retention (IDEMPOTENCY_KEY_TTL_HOURS): keys, oldest first.
CREATE INDEX IF NOT EXISTS idempotency_keys_created ON idempotency_keys (created_at);

-- Down Migration
DROP INDEX IF EXISTS idempotency_keys_created;
DROP INDEX IF EXISTS outbox_published;
DROP INDEX IF EXISTS outbox_due;
