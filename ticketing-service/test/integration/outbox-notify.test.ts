import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openTestBroker, type TestBroker, uniquePrefix } from '../../../test-support/broker.js';
import { captureLogs } from '../../../test-support/logger.js';
import { waitFor } from '../../../test-support/wait.js';
import { listenForOutboxRows, type OutboxListener } from '../../src/db/outbox-listener.js';
import { OUTBOX_CHANNEL } from '../../src/db/outbox-repository.js';
import type { TicketingService } from '../../src/service.js';
import {
  apiClient,
  bindTestQueue,
  collectMessages,
  deleteTestTopology,
  openPool,
  startService,
  TICKET_TYPES,
  testConfig,
} from '../support/harness.js';

// Polls far apart: only a notification can wake a relay within these tests.
const NEVER_POLL = { OUTBOX_POLL_INTERVAL_MS: '600000' };

describe('ticketing outbox: instances wake each other', () => {
  const prefix = uniquePrefix('ticketing-notify');
  const services: TicketingService[] = [];
  const listeners: OutboxListener[] = [];
  let broker: TestBroker;
  let pool: pg.Pool;
  let queue: string;

  beforeAll(async () => {
    broker = await openTestBroker();
    pool = openPool();
    queue = await bindTestQueue(broker.channel, prefix, 'notify');
  });

  afterAll(async () => {
    for (const listener of listeners) await listener.close();
    for (const service of services) await service.stop();
    await pool?.end();
    await broker?.close();
    await deleteTestTopology(prefix, [queue]);
  });

  it('When a row is written through instance A whose relay is stopped, then instance B publishes it without waiting for its poll', async () => {
    const a = await startService(testConfig(prefix, NEVER_POLL));
    services.push(a);
    const bLogs = captureLogs('info');
    const b = await startService(testConfig(prefix, NEVER_POLL), bLogs.log);
    services.push(b);
    await bLogs.waitFor('outbox listener listening');
    await waitFor(async () => ((await apiClient(b).get('/readyz')).body.broker === 'up' ? true : undefined), {
      what: 'instance B to reach the broker',
    });
    await a.relay.stop();
    const api = apiClient(a);
    const { cartId } = await api.createCart();

    const added = await api.addTicket(cartId, TICKET_TYPES.jazzStanding.id, 1);

    expect(added.status).toBe(201);
    const trackingId = added.body.notification.trackingId as string;
    const [message] = await collectMessages(broker.channel, queue, [trackingId], 10_000);
    expect(message?.properties.messageId).toBe(trackingId);
  });

  it('When the listening connection is cut, then it listens again, catches up once, and hears the next commit', async () => {
    const { log, find, waitFor: waitForLog } = captureLogs('info');
    const applicationName = `outbox-listener-test-${randomBytes(4).toString('hex')}`;
    const exchange = `${prefix}listener-test`;
    let wakes = 0;
    listeners.push(
      listenForOutboxRows(
        { databaseUrl: inject('databaseUrl'), applicationName, exchange, reconnectDelayMs: 100 },
        { log, onRows: () => (wakes += 1) },
      ),
    );
    await waitForLog('outbox listener listening');
    expect(wakes).toBe(1);

    await pool.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
      applicationName,
    ]);

    await waitFor(() => (find('outbox listener listening').length === 2 ? true : undefined), {
      what: 'the listener to listen again',
    });
    expect(find('outbox listener lost its database connection; relay polls until it is back')).toHaveLength(1);
    expect(wakes).toBe(2);
    // One commit: both arrive together, in order; the other topology's must wake nothing.
    await pool.query('SELECT pg_notify($1, $2), pg_notify($1, $3)', [
      OUTBOX_CHANNEL,
      `${prefix}another-topology`,
      exchange,
    ]);
    await waitFor(() => (wakes >= 3 ? true : undefined), { what: 'the commit to wake the relay' });
    expect(wakes).toBe(3);
  });
});
