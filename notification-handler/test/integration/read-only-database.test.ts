import { buildMessage } from '@notify/test-support/messages.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/handler-harness.js';

const PREFETCH = 5;
const PROBE_MS = 100;

describe('a database that answers but takes no writes (state, consumption, logs)', () => {
  let harness: Harness;
  let databaseName: string;

  beforeAll(async () => {
    // A database of its own: the test sets it read-only.
    harness = await startHarness(
      'db-read-only',
      { PREFETCH: String(PREFETCH), DATABASE_PROBE_MS: String(PROBE_MS) },
      { ownDatabase: true },
    );
    databaseName = new URL(harness.config.DATABASE_URL).pathname.slice(1);
  });
  afterAll(async () => {
    await harness?.db.query(`ALTER DATABASE "${databaseName}" RESET default_transaction_read_only`).catch(() => {});
    await harness?.stop();
  });

  /** As a failover to a standby, or a server set read-only, looks to the handler: new sessions refuse writes. */
  async function setReadOnly(readOnly: boolean) {
    await harness.db.query(
      readOnly
        ? `ALTER DATABASE "${databaseName}" SET default_transaction_read_only = on`
        : `ALTER DATABASE "${databaseName}" RESET default_transaction_read_only`,
    );
    // Sessions take the setting when they open: the handler's open ones are ended, as a failover would.
    await harness.db.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [databaseName],
    );
  }

  it('When the database refuses writes for a while, then consumption stays paused with at most PREFETCH held, and all is sent once when it takes writes again', async () => {
    const awayBefore = harness.logs.find('database away: pausing consumption, holding messages in flight').length;
    await setReadOnly(true);
    const messages = Array.from({ length: PREFETCH * 4 }, () => buildMessage());
    for (const message of messages) harness.publish(message);

    await harness.waitFor(() => (harness.handler.consumer.pausedBy().includes('database') ? true : undefined));
    // Twenty probes' time: a probe that only asked `SELECT 1` would resume after each one, and
    // every resume took a new window of PREFETCH on top of the deliveries still held.
    const mostHeld = await harness.mostHeldDuring(20 * PROBE_MS, PROBE_MS / 4);
    const resumedMeanwhile = harness.logs.find('database answers again: resuming').length;
    const { messageCount } = await harness.broker.channel.checkQueue(harness.topology.queue);

    expect(mostHeld).toBeLessThanOrEqual(PREFETCH);
    expect(messageCount).toBeGreaterThanOrEqual(messages.length - PREFETCH);
    expect(harness.handler.consumer.pausedBy()).toContain('database');
    expect(resumedMeanwhile).toBe(0);
    // Not ready while it cannot consume, though the database answers a plain query.
    const paused = await harness.api('/readyz');
    expect(paused.status).toBe(503);
    expect(paused.body).toMatchObject({ status: 'not_ready', database: 'down', pausedBy: ['database'] });
    expect(harness.logs.find('database away: pausing consumption, holding messages in flight').length).toBe(
      awayBefore + 1,
    );

    await setReadOnly(false);

    for (const message of messages) {
      expect(await harness.settled(message.trackingId)).toMatchObject({ status: 'sent' });
      expect(harness.emailsFor(message.trackingId)).toHaveLength(1);
    }
    expect(harness.handler.consumer.pausedBy()).not.toContain('database');
    expect(harness.decisions.filter((decision) => decision.kind === 'dead-lettered')).toEqual([]);
    expect(await harness.api('/readyz')).toMatchObject({ status: 200, body: { database: 'up', pausedBy: [] } });
  });
});
