import { Closers, createLogger, exitOnSignal } from '@notify/shared/platform';
import { type Config, loadConfig } from './config.js';
import { SERVICE_NAME, startTicketingService } from './service.js';

const config = readConfig();
const log = createLogger({ name: SERVICE_NAME, level: config.LOG_LEVEL, format: config.LOG_FORMAT });
const closers = new Closers(log);
// Registered first, so that a signal during start-up still closes whatever opened so far.
exitOnSignal(closers, log, config.SHUTDOWN_TIMEOUT_MS);

try {
  await startTicketingService(config, log, { closers });
} catch (err) {
  log.fatal({ err }, 'ticketing service failed to start');
  process.exitCode = 1;
}

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    // One line per wrong variable, without a stack trace in the way.
    console.error((error as Error).message);
    process.exit(1);
  }
}
