import { retry } from './retry.js';

// SQLSTATE classes that mean our statement is wrong, not that the database is away.
const PERMANENT_SQLSTATE_CLASSES = ['22', '23', '42'];

function isTransientDatabaseError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return !(typeof code === 'string' && PERMANENT_SQLSTATE_CLASSES.includes(code.slice(0, 2)));
}

/**
 * Settling a row after the email went out must survive a short database outage: giving up
 * would put the message back on the queue and send the email again. Still bounded (~30 s), so a
 * long outage ends in a requeue rather than a stuck consumer. Not cut short by shutdown either,
 * since the email has already left.
 */
export function persistently<T>(write: () => Promise<T>): Promise<T> {
  return retry(write, {
    maxRetries: 8,
    delay: { kind: 'exponential', baseMs: 250, capMs: 8_000 },
    shouldRetry: isTransientDatabaseError,
  }).catch((error: unknown) => {
    throw (error as { lastError?: unknown }).lastError ?? error;
  });
}
