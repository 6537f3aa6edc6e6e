import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnService } from '@notify/test-support/child-service.js';
import { type PostgresNode, startPostgresNode } from '@notify/test-support/system/postgres-node.js';
import { createRabbitNode, type RabbitNode, TEST_NODE_MARKER_DIR } from '@notify/test-support/system/rabbitmq-node.js';
import { createTestCertificates, type TestCertificates } from '@notify/test-support/system/tls-certificates.js';
import { waitFor } from '@notify/test-support/wait.js';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LOCAL_OPERATOR_TOKEN } from '../../../scripts/local-settings.js';
import { type RunningSystem, startSystem } from '../support/system.js';

/** Never asked for (the node trusts loopback), so it shows only if something logs the URL whole. */
const DATABASE_PASSWORD = 'tls-test-database-password';
const TICKET_TYPE_ID = 'a1000000-0000-4000-8000-000000000001';
const handlerEntry = fileURLToPath(new URL('../../../notification-handler/src/main.ts', import.meta.url));

describe('TLS to PostgreSQL and RabbitMQ (a CA of our own, given as NODE_EXTRA_CA_CERTS)', () => {
  let dir: string;
  let certificates: TestCertificates;
  let database: PostgresNode | undefined;
  let broker: RabbitNode | undefined;
  let databaseUrl: string;
  let brokerUrl: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'notify-tls-'));
    certificates = await createTestCertificates(dir);
    database = await startPostgresNode({ tls: certificates });
    broker = await createRabbitNode({
      nodeName: `tls-${inject('runId')}@localhost`,
      markerDir: TEST_NODE_MARKER_DIR,
      tls: certificates,
    });
    await broker.start();
    if (!broker.amqpsUrl) throw new Error('the RabbitMQ node has no TLS listener');
    brokerUrl = broker.amqpsUrl;
    databaseUrl = `postgres://postgres:${DATABASE_PASSWORD}@localhost:${database.port}/postgres?sslmode=verify-full`;
  }, 120_000);
  afterAll(async () => {
    await broker?.destroy();
    await database?.dispose();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  describe('when both services are given the CA', () => {
    let system: RunningSystem;

    beforeAll(async () => {
      system = await startSystem({
        amqpUrl: brokerUrl,
        cleanupAmqpUrl: broker?.amqpUrl,
        databaseUrl,
        env: { NODE_EXTRA_CA_CERTS: certificates.caFile },
      });
    }, 90_000);
    afterAll(async () => {
      await system?.stop();
    }, 30_000);

    it('When a checkout is made, then its emails are sent, and every connection to PostgreSQL and RabbitMQ is encrypted', async () => {
      const api = `http://127.0.0.1:${system.ports[3000]}`;
      const cart = await postJson(`${api}/carts`, { customer: { email: 'ada@example.com', name: 'Ada Lovelace' } });
      const added = await postJson(`${api}/carts/${cart.cartId}/tickets`, {
        ticketTypeId: TICKET_TYPE_ID,
        quantity: 1,
      });
      const checkedOut = await postJson(`${api}/carts/${cart.cartId}/checkout`);

      for (const trackingId of [added.notification.trackingId, checkedOut.notification.trackingId]) {
        await waitFor(async () => ((await notificationStatus(system, trackingId)) === 'sent' ? true : undefined), {
          timeoutMs: 20_000,
          what: `notification ${trackingId} to be sent`,
        });
      }
      const sessions = await databaseSessions(database as PostgresNode);
      expect(sessions.filter((session) => /^ticketing-service/.test(session.applicationName))).not.toEqual([]);
      expect(sessions.filter((session) => /^notification-handler/.test(session.applicationName))).not.toEqual([]);
      expect(sessions.filter((session) => !session.ssl)).toEqual([]);
      // The ticketing service's connection and the handler's two (publisher, consumer).
      const brokerConnections = (
        await (broker as RabbitNode).ctl('list_connections', '-q', '--no-table-headers', 'ssl')
      )
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean);
      expect(brokerConnections.length).toBeGreaterThanOrEqual(3);
      expect(brokerConnections.filter((ssl) => ssl !== 'true')).toEqual([]);
      expect(system.loggedText()).not.toContain(DATABASE_PASSWORD);
    });
  });

  it('When the handler is not given the CA, then it exits at once, naming the database and the certificate it could not verify, its password hidden', async () => {
    const handler = spawnService(handlerEntry, {
      AMQP_URL: brokerUrl,
      DATABASE_URL: databaseUrl,
      PORT: '0',
      OPERATOR_TOKEN: LOCAL_OPERATOR_TOKEN,
    });

    expect(await handler.exited).toBe(1);
    const failure = handler.lines.find((line) => line.msg === 'notification handler failed to start');
    expect(failure?.err?.message).toContain(
      `could not connect to PostgreSQL at postgres://postgres:***@localhost:${database?.port}/postgres?sslmode=verify-full`,
    );
    expect(failure?.err?.message).toMatch(/certificate/);
    expect(JSON.stringify(handler.lines)).not.toContain(DATABASE_PASSWORD);
  }, 30_000);

  it('When the handler is given the CA for PostgreSQL alone (sslrootcert), then it gets past PostgreSQL, and exits naming the broker whose certificate it could not verify', async () => {
    const handler = spawnService(handlerEntry, {
      AMQP_URL: brokerUrl,
      DATABASE_URL: `${databaseUrl}&sslrootcert=${encodeURIComponent(certificates.caFile)}`,
      PORT: '0',
      OPERATOR_TOKEN: LOCAL_OPERATOR_TOKEN,
    });

    expect(await handler.exited).toBe(1);
    // The broker is connected to after the migrations: a failure there means PostgreSQL took the CA.
    const failure = handler.lines.find((line) => line.msg === 'notification handler failed to start');
    expect(failure?.err?.message).toContain(
      `could not connect to RabbitMQ at ${brokerUrl.replace(':guest@', ':***@')}`,
    );
    expect(failure?.err?.message).toMatch(/certificate/);
  }, 30_000);
});

async function postJson(url: string, body?: unknown): Promise<any> {
  const response = await fetch(url, {
    method: 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`POST ${url} answered ${response.status}: ${await response.text()}`);
  return response.json();
}

async function notificationStatus(system: RunningSystem, trackingId: string): Promise<string | undefined> {
  const response = await fetch(`http://127.0.0.1:${system.ports[3001]}/notifications/${trackingId}`, {
    headers: { authorization: `Bearer ${LOCAL_OPERATOR_TOKEN}` },
    signal: AbortSignal.timeout(5_000),
  });
  return response.ok ? ((await response.json()) as { status?: string }).status : undefined;
}

/** The services' sessions, read over a connection of the test's own (the node takes plain ones too). */
async function databaseSessions(node: PostgresNode): Promise<Array<{ applicationName: string; ssl: boolean }>> {
  const client = new pg.Client({ connectionString: node.url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query<{ applicationName: string; ssl: boolean }>(
      `SELECT a.application_name AS "applicationName", s.ssl
         FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
        WHERE a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()`,
    );
    return rows;
  } finally {
    await client.end();
  }
}
