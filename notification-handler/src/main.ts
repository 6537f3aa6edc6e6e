import { ConfigError, createLogger, exitOnSignal } from '@notify/shared/platform';
import { loadConfig } from './config.js';
import { startNotificationHandler } from './start-handler.js';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`notification-handler: ${error.message}`);
  process.exit(1);
}

const log = createLogger({ name: 'notification-handler', level: config.LOG_LEVEL, format: config.LOG_FORMAT });
process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));

try {
  const handler = await startNotificationHandler(config, log);
  exitOnSignal(handler.closers, log, config.SHUTDOWN_TIMEOUT_MS);
} catch (err) {
  log.fatal({ err }, 'notification handler failed to start');
  process.exit(1);
}
