import { type Logger, type MaintenanceSettings, repeatInBatches } from '@notify/shared/platform';
import type { HandlerConfig } from '../config.js';
import {
  closeUnfinishedNotifications,
  erasePersonalData,
  FINAL_STATUSES,
  purgeNotifications,
  UNFINISHED_STATUSES,
} from './notification-retention.js';

/** Every row of these is inserted then updated: without vacuum they fill with dead rows. */
export const HANDLER_TABLES = ['notifications.notifications', 'notifications.notification_attempts'];

/**
 * What one handler instance at a time does every MAINTENANCE_INTERVAL_MS: close as failed (and
 * erase) the notifications still unfinished past PERSONAL_DATA_RETENTION_DAYS, delete final ones past
 * NOTIFICATION_RETENTION_DAYS (their attempts go with them), erase the personal data of final ones
 * past PERSONAL_DATA_RETENTION_DAYS, then vacuum the tables that need it. Closing comes first, so
 * that a row unfinished for longer than both is purged in the same run.
 */
export function notificationMaintenance(config: HandlerConfig, log: Logger): MaintenanceSettings {
  return {
    name: 'notification-handler',
    databaseUrl: config.DATABASE_URL,
    intervalMs: config.MAINTENANCE_INTERVAL_MS,
    batchSize: config.MAINTENANCE_BATCH_SIZE,
    vacuumThresholdRows: config.MAINTENANCE_VACUUM_THRESHOLD_ROWS,
    tables: HANDLER_TABLES,
    log,
    tasks: [
      {
        name: 'unfinishedNotificationsClosed',
        run: async (client, context) => {
          let closed = 0;
          for (const status of UNFINISHED_STATUSES) {
            closed += await repeatInBatches(
              () =>
                closeUnfinishedNotifications(client, status, config.PERSONAL_DATA_RETENTION_DAYS, context.batchSize),
              context,
            );
          }
          // Each was a delivery lost: its message gone from the broker, or acknowledged unsettled.
          if (closed > 0)
            log.warn(
              { closed, retentionDays: config.PERSONAL_DATA_RETENTION_DAYS },
              'notifications still unfinished after their personal data retention were closed as failed and erased',
            );
          return closed;
        },
      },
      {
        name: 'notificationsPurged',
        run: async (client, context) => {
          let purged = 0;
          for (const status of FINAL_STATUSES) {
            purged += await repeatInBatches(
              () => purgeNotifications(client, status, config.NOTIFICATION_RETENTION_DAYS, context.batchSize),
              context,
            );
          }
          return purged;
        },
      },
      {
        name: 'personalDataErased',
        run: (client, context) =>
          repeatInBatches(
            () => erasePersonalData(client, config.PERSONAL_DATA_RETENTION_DAYS, context.batchSize),
            context,
          ),
      },
    ],
  };
}
