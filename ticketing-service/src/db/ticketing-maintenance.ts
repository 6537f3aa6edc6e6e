import { type Logger, type MaintenanceSettings, repeatInBatches } from '@notify/shared/platform';
import type { Config } from '../config.js';
import { purgeExpiredKeys } from './idempotency-key-repository.js';
import { purgePublished } from './outbox-repository.js';

/**
 * Every row of the outbox is updated once published and then deleted; keys are written twice per
 * request; a cart is updated at checkout: without vacuum these tables fill with dead rows.
 */
export const TICKETING_TABLES = [
  'ticketing.outbox',
  'ticketing.idempotency_keys',
  'ticketing.carts',
  'ticketing.cart_items',
  'ticketing.orders',
];

/**
 * Rows come and go at one end of their indexes: outbox rows published, and both tables purged
 * from their oldest rows; the relay's claim and the purges walk those indexes from there.
 * Vacuumed at the row threshold however large the tables are (`vacuumIfNeeded`).
 */
export const TICKETING_QUEUE_TABLES = ['ticketing.outbox', 'ticketing.idempotency_keys'];

/**
 * What one ticketing instance at a time does every MAINTENANCE_INTERVAL_MS: delete outbox rows
 * published more than OUTBOX_RETENTION_HOURS ago and idempotency keys older than
 * IDEMPOTENCY_KEY_TTL_HOURS, then vacuum the tables that need it. Carts and orders are business
 * records: vacuumed, never purged.
 */
export function ticketingMaintenance(config: Config, log: Logger): MaintenanceSettings {
  return {
    name: 'ticketing-service',
    databaseUrl: config.DATABASE_URL,
    intervalMs: config.MAINTENANCE_INTERVAL_MS,
    batchSize: config.MAINTENANCE_BATCH_SIZE,
    vacuumThresholdRows: config.MAINTENANCE_VACUUM_THRESHOLD_ROWS,
    tables: TICKETING_TABLES,
    queueTables: TICKETING_QUEUE_TABLES,
    log,
    tasks: [
      {
        name: 'outboxPurged',
        run: (client, context) =>
          repeatInBatches(() => purgePublished(client, config.OUTBOX_RETENTION_HOURS, context.batchSize), context),
      },
      {
        name: 'idempotencyKeysPurged',
        run: (client, context) =>
          repeatInBatches(() => purgeExpiredKeys(client, config.IDEMPOTENCY_KEY_TTL_HOURS, context.batchSize), context),
      },
    ],
  };
}
