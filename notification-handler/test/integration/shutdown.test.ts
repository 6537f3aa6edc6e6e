import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { spawnService } from '@notify/test-support/child-service.js';
import { buildMessage } from '@notify/test-support/messages.js';
import { waitFor } from '@notify/test-support/wait.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Harness, startHarness } from './support/handler-harness.js';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

describe('SIGTERM under load (state and outbound calls)', () => {
  let harness: Harness;

  beforeAll(async () => {
    // The harness's own in-process handler is stopped: the process under test is a real child.
    harness = await startHarness('shutdown');
    await harness.stopHandler();
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it('When SIGTERM arrives with sends in flight, then it exits 0 and every message ends sent exactly once after a restart', async () => {
    harness.sandbox.faults.set({ latencyMs: 300 });
    const child = spawnService(MAIN, {
      AMQP_URL: inject('amqpUrl'),
      DATABASE_URL: inject('databaseUrl'),
      PORT: '0',
      TOPOLOGY_PREFIX: harness.config.TOPOLOGY_PREFIX,
      MAILJET_API_URL: harness.sandbox.url,
      MAILJET_API_KEY: harness.sandbox.apiKey,
      MAILJET_API_SECRET: harness.sandbox.apiSecret,
      PREFETCH: '5',
      MAILJET_TIMEOUT_MS: '2000',
      SHUTDOWN_TIMEOUT_MS: '10000',
    });
    await child.waitForLog('consuming');
    const messages = Array.from({ length: 30 }, () => buildMessage());
    for (const message of messages) harness.publish(message);
    await waitFor(() => (harness.sandbox.store.list({}).length >= 5 ? true : undefined), { what: 'first sends' });

    child.child.kill('SIGTERM');
    const code = await child.exited;

    expect(code).toBe(0);
    expect(child.lines.map((line) => line.msg)).toContain('shutdown complete');
    const sentBeforeRestart = messages.filter((m) => harness.emailsFor(m.trackingId).length > 0);
    expect(sentBeforeRestart.length).toBeGreaterThan(0);
    expect(sentBeforeRestart.length).toBeLessThan(messages.length);
    // Every delivery sent before the stop was acked before its channel closed: only the others are back.
    const { messageCount } = await harness.broker.channel.checkQueue(harness.topology.queue);
    expect(messageCount).toBe(messages.length - sentBeforeRestart.length);

    harness.sandbox.faults.clear();
    await harness.restartHandler();
    for (const message of messages) {
      expect(await harness.settled(message.trackingId)).toMatchObject({ status: 'sent' });
      expect(harness.emailsFor(message.trackingId)).toHaveLength(1);
    }
  });
});

describe('stop (outbound connections)', () => {
  it.each(['mailjet', 'sendgrid'])(
    'When the handler stops after sending through %s, then it leaves no connection to the provider open',
    async (provider) => {
      const harness = await startHarness(`shutdown-${provider}`, { EMAIL_PROVIDERS: provider });
      try {
        const message = buildMessage();
        harness.publish(message);
        expect(await harness.settled(message.trackingId)).toMatchObject({ status: 'sent' });
        const keptAlive = await harness.sandbox.openConnections();

        await harness.stopHandler();

        // Well inside the 5 s that the agents keep an idle connection before closing it themselves.
        await waitFor(async () => ((await harness.sandbox.openConnections()) === 0 ? true : undefined), {
          timeoutMs: 2_000,
          what: `the handler's connections to ${provider} to close`,
        });
        expect(keptAlive).toBeGreaterThan(0);
      } finally {
        await harness.stop();
      }
    },
  );
});

describe('stop while a send waits out a 429', () => {
  it('When the handler stops during the pause a Retry-After asked for, then no call goes after the stop, the row is given back, and after a restart the email goes once', async () => {
    // A 10 s call timeout makes the lease 46 s, so a Retry-After of 20 s is waited out in full
    // (the pause is capped at half a lease): past the stop's drain, 10.4 s (80 % of 13 s, the least
    // that leaves a 10 s call its timeout).
    const harness = await startHarness('shutdown-throttled', {
      MAILJET_TIMEOUT_MS: '10000',
      SHUTDOWN_TIMEOUT_MS: '13000',
    });
    try {
      harness.sandbox.faults.set({ failNext: 1, status: 429, retryAfterSeconds: 20 });
      const message = buildMessage();
      harness.publish(message);
      await harness.waitFor(() => harness.logs.find('provider throttled us (429): pausing calls')[0]);

      await harness.stopHandler();

      const { rows } = await harness.db.query(
        `SELECT status, lease_expires_at <= now() AS released FROM notifications.notifications WHERE tracking_id = $1`,
        [message.trackingId],
      );
      expect(rows).toEqual([{ status: 'in_progress', released: true }]);
      expect(harness.emailsFor(message.trackingId)).toHaveLength(0);
      await harness.restartHandler();
      expect(await harness.settled(message.trackingId)).toMatchObject({ status: 'sent' });
      expect(harness.emailsFor(message.trackingId)).toHaveLength(1);
    } finally {
      await harness.stop();
    }
  });
});

describe('stop with a keep-alive client', () => {
  /** Whether the port still takes connections: not once the server's close has begun. */
  const acceptsConnections = (port: number) =>
    new Promise<boolean>((resolve) => {
      const probe = connect(port, '127.0.0.1');
      probe.once('connect', () => {
        probe.destroy();
        resolve(true);
      });
      probe.once('error', () => resolve(false));
    });

  it('When a keep-alive request is under way as the HTTP server closes, then its answer says Connection: close, its connection closes after it, and the stop does not wait out the grace', {
    timeout: 15_000,
  }, async () => {
    // A quarter of it, 30 s, is the close's grace: twice this test's own timeout.
    const harness = await startHarness(
      'shutdown-keep-alive',
      { SHUTDOWN_TIMEOUT_MS: '120000' },
      // Its own database: the test locks the notifications table.
      { ownDatabase: true },
    );
    const holder = await harness.db.connect();
    try {
      const port = Number(new URL(harness.handler.url).port);
      // As a scrape or an operator's browser holds one: busy when the close comes.
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE notifications.notifications IN ACCESS EXCLUSIVE MODE');
      const client: Socket = connect(port, '127.0.0.1');
      client.on('error', () => undefined);
      let answer = '';
      client.on('data', (chunk) => {
        answer += chunk.toString();
      });
      const clientClosed = new Promise<void>((resolve) => client.once('close', () => resolve()));
      client.write(
        `GET /notifications/${randomUUID()} HTTP/1.1\r\nHost: localhost\r\n` +
          `Authorization: Bearer ${harness.config.OPERATOR_TOKEN}\r\n\r\n`,
      );
      const { rows } = await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await harness.waitFor(async () => {
        const waiting = await harness.db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
          [rows[0]!.pid],
        );
        return waiting.rows[0]!.n > 0 ? true : undefined;
      });

      const stopped = harness.stopHandler();
      await harness.waitFor(async () => ((await acceptsConnections(port)) ? undefined : true));
      await holder.query('COMMIT');

      await clientClosed;
      await stopped;
      expect(answer).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
      expect(answer).toMatch(/\r\nConnection: close\r\n/i);
      expect(answer).toContain('"code":"not_found"');
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      holder.release();
      await harness.stop();
    }
  });
});
