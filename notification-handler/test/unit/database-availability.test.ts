import { silentLogger } from '@notify/test-support/logger.js';
import { describe, expect, it } from 'vitest';
import { createDatabaseAvailability } from '../../src/db/database-availability.js';
import { DatabaseWaitInterrupted } from '../../src/db/database-errors.js';

const connectionEnded = () =>
  Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });

/** A statement that fails `failures` times with `error`, then answers. */
function statementFailing(failures: number, error: () => Error) {
  let calls = 0;
  return {
    run: async () => {
      calls += 1;
      if (calls <= failures) throw error();
      return 'recorded';
    },
    calls: () => calls,
  };
}

describe('database availability while the handler stops (state)', () => {
  it('When a statement of the drain loses its connection once, then it runs again at once and the next statements still run', async () => {
    const availability = createDatabaseAvailability(async () => undefined, {
      probeIntervalMs: 60_000,
      log: silentLogger,
    });
    availability.close();
    const recordSent = statementFailing(1, connectionEnded);
    const nextRecord = statementFailing(0, connectionEnded);

    await expect(availability.runThroughOutages(recordSent.run)).resolves.toBe('recorded');
    await expect(availability.runThroughOutages(nextRecord.run)).resolves.toBe('recorded');

    expect(recordSent.calls()).toBe(2);
    expect(availability.isUp()).toBe(true);
  });

  it('When a statement of the drain keeps failing, then it is given up after three tries, not waited for', async () => {
    const availability = createDatabaseAvailability(async () => undefined, {
      probeIntervalMs: 60_000,
      log: silentLogger,
    });
    availability.close();
    const statement = statementFailing(Number.POSITIVE_INFINITY, connectionEnded);

    await expect(availability.runThroughOutages(statement.run)).rejects.toBeInstanceOf(DatabaseWaitInterrupted);

    expect(statement.calls()).toBe(3);
  });

  it('When the database was found away before the stop, then a statement is given up at once', async () => {
    const availability = createDatabaseAvailability(() => new Promise(() => {}), {
      probeIntervalMs: 60_000,
      log: silentLogger,
    });
    availability.markAway(connectionEnded());
    availability.close();
    const statement = statementFailing(0, connectionEnded);

    await expect(availability.runThroughOutages(statement.run)).rejects.toBeInstanceOf(DatabaseWaitInterrupted);

    expect(statement.calls()).toBe(0);
  });
});
