import { randomUUID } from 'node:crypto';
import { buildMessage } from '@notify/test-support/messages.js';
import { testPool } from '@notify/test-support/pool.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeWritable } from '../../src/db/database-availability.js';
import { type Harness, startHarness } from './support/handler-harness.js';

const PREFETCH = 5;
const PROBE_MS = 100;

describe("a database that answers but cannot run the handler's statements (a table missing, a grant revoked)", () => {
  let harness: Harness;

  beforeAll(async () => {
    // A database of its own: the test renames its table.
    harness = await startHarness(
      'db-grants',
      { PREFETCH: String(PREFETCH), DATABASE_PROBE_MS: String(PROBE_MS) },
      { ownDatabase: true },
    );
  });
  afterAll(async () => {
    await harness?.db
      .query('ALTER TABLE IF EXISTS notifications.notifications_restoring RENAME TO notifications')
      .catch(() => {});
    await harness?.stop();
  });

  it('When its table is gone for a while, then consumption stays paused with nothing dead-lettered, and all is sent once when it is back', async () => {
    const awayBefore = harness.logs.find('database away: pausing consumption, holding messages in flight').length;
    // As a restore looks to the handler: the table it writes is not there for a while.
    await harness.db.query('ALTER TABLE notifications.notifications RENAME TO notifications_restoring');
    const messages = Array.from({ length: PREFETCH * 4 }, () => buildMessage());
    for (const message of messages) harness.publish(message);

    await harness.waitFor(() => (harness.handler.consumer.pausedBy().includes('database') ? true : undefined));
    // Twenty probes' time: a probe that did not look for the table would resume after each one.
    const mostHeld = await harness.mostHeldDuring(20 * PROBE_MS, PROBE_MS / 4);

    expect(mostHeld).toBeLessThanOrEqual(PREFETCH);
    expect(harness.handler.consumer.pausedBy()).toContain('database');
    expect(harness.logs.find('database answers again: resuming').length).toBe(0);
    // Not ready while it cannot consume, though the database answers a plain query.
    const paused = await harness.api('/readyz');
    expect(paused.status).toBe(503);
    expect(paused.body).toMatchObject({ status: 'not_ready', database: 'down', pausedBy: ['database'] });
    const away = harness.logs.find('database away: pausing consumption, holding messages in flight');
    expect(away.length).toBe(awayBefore + 1);
    expect(JSON.stringify(away.at(-1))).toMatch(/does not exist/);
    expect(harness.decisions.filter((decision) => decision.kind === 'dead-lettered')).toEqual([]);

    await harness.db.query('ALTER TABLE notifications.notifications_restoring RENAME TO notifications');

    for (const message of messages) {
      expect(await harness.settled(message.trackingId)).toMatchObject({ status: 'sent' });
      expect(harness.emailsFor(message.trackingId)).toHaveLength(1);
    }
    expect(harness.handler.consumer.pausedBy()).not.toContain('database');
    expect(harness.decisions.filter((decision) => decision.kind === 'dead-lettered')).toEqual([]);
    expect(await harness.api('/readyz')).toMatchObject({ status: 200, body: { database: 'up', pausedBy: [] } });
  });

  it('When the role the handler connects as lacks a grant its statements need, then the probe says the database is not usable until it has it', async () => {
    const role = `handler_probe_${randomUUID().slice(0, 8)}`;
    const password = randomUUID();
    await harness.db.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    const url = new URL(harness.config.DATABASE_URL);
    url.username = role;
    url.password = password;
    const asRole = testPool({ connectionString: url.toString(), max: 1 });
    try {
      await harness.db.query(`GRANT USAGE ON SCHEMA notifications TO ${role}`);
      await harness.db.query(`GRANT SELECT, UPDATE ON notifications.notifications TO ${role}`);
      await harness.db.query(`GRANT INSERT ON notifications.notification_attempts TO ${role}`);
      await expect(probeWritable(asRole)).rejects.toThrow(/grant/);

      await harness.db.query(`GRANT INSERT ON notifications.notifications TO ${role}`);
      await expect(probeWritable(asRole)).resolves.toBeUndefined();
    } finally {
      await asRole.end();
      await harness.db.query(`DROP OWNED BY ${role}`);
      await harness.db.query(`DROP ROLE ${role}`);
    }
  });
});
