import { Closers, createLogger, exitOnSignal } from '@notify/shared/platform';
import { type HandlerConfig, loadConfig } from './config.js';
import { startNotificationHandler } from './start-handler.js';

const config = readConfig();
const log = createLogger({ name: 'notification-handler', level: config.LOG_LEVEL, format: config.LOG_FORMAT });
const closers = new Closers(log);
// Registered first, so that a signal during start-up still closes whatever opened so far.
exitOnSignal(closers, log, config.SHUTDOWN_TIMEOUT_MS);

try {
  await startNotificationHandler(config, log, { closers });
} catch (err) {
  log.fatal({ err }, 'notification handler failed to start');
  process.exitCode = 1;
}

function readConfig(): HandlerConfig {
  try {
    return loadConfig(process.env);
  } catch (error) {
    // One line per wrong variable, without a stack trace in the way.
    console.error(`notification-handler: ${(error as Error).message}`);
    process.exit(1);
  }
}
