import { type Logger, type MaintenanceSettings, repeatInBatches } from '@notify/shared/platform';
import type { HandlerConfig } from '../config.js';
import { erasePersonalData, FINAL_STATUSES, purgeNotifications } from './notification-retention.js';

/** Every row of these is inserted then updated: without vacuum they fill with dead rows. */
export const HANDLER_TABLES = ['notifications.notifications', 'notifications.notification_attempts'];

/**
 * What one handler instance at a time does every MAINTENANCE_INTERVAL_MS: delete final
 * notifications past NOTIFICATION_RETENTION_DAYS (their attempts go with them), erase the personal
 * data of final ones past PERSONAL_DATA_RETENTION_DAYS, then vacuum the tables that need it.
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
