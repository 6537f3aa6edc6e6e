import { randomBytes } from 'node:crypto';
import { type SandboxOptions, startSandbox } from '@notify/mailjet-sandbox';
import { type EncodeOptions, encodeNotification, type NotificationMessage, topologyNames } from '@notify/shared';
import { openTestBroker, uniquePrefix } from '@notify/test-support/broker.js';
import { captureLogs } from '@notify/test-support/logger.js';
import { deleteTopology } from '@notify/test-support/system/broker-tools.js';
import { createDatabase, dropDatabase, withDatabase } from '@notify/test-support/system/database.js';
import { waitFor } from '@notify/test-support/wait.js';
import type { GetMessage } from 'amqplib';
import pg from 'pg';
import { inject } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import type { Decision } from '../../../src/messaging/notification-consumer.js';
import { type RunningHandler, startNotificationHandler } from '../../../src/start-handler.js';

export type Harness = Awaited<ReturnType<typeof startHarness>>;

/**
 * The real handler in-process on its own topology prefix and the run's database, sending to an
 * in-process sandbox (Mailjet's endpoint, and SendGrid's when EMAIL_PROVIDERS names it). Only the
 * outside world (the providers) is faked.
 */
export async function startHarness(
  label: string,
  env: Record<string, string> = {},
  {
    ownDatabase = false,
    sandboxOptions = {},
    amqpUrl = inject('amqpUrl'),
  }: { ownDatabase?: boolean; sandboxOptions?: SandboxOptions; amqpUrl?: string } = {},
) {
  const sandbox = await startSandbox({ ...sandboxOptions, port: 0 });
  const prefix = uniquePrefix(label);
  const topology = topologyNames(prefix);
  const logs = captureLogs();
  // A database of its own, for a test that works on every row (bulk replay): the run's database
  // holds other test files' rows.
  const ownDatabaseName = ownDatabase
    ? `${prefix.replace(/[^a-z0-9]/gi, '_').toLowerCase()}db`.slice(0, 63)
    : undefined;
  const databaseUrl = ownDatabaseName
    ? await createDatabase(withDatabase(inject('databaseUrl'), 'postgres'), ownDatabaseName)
    : inject('databaseUrl');
  const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  db.on('error', () => undefined);
  const baseEnv: Record<string, string> = {
    AMQP_URL: amqpUrl,
    DATABASE_URL: databaseUrl,
    PORT: '0',
    TOPOLOGY_PREFIX: prefix,
    MAILJET_API_URL: sandbox.url,
    MAILJET_API_KEY: sandbox.apiKey,
    MAILJET_API_SECRET: sandbox.apiSecret,
    MAILJET_TIMEOUT_MS: '500',
    SENDGRID_API_URL: sandbox.url,
    SENDGRID_API_KEY: sandbox.sendgridApiKey,
    SENDGRID_TIMEOUT_MS: '500',
    RETRY_DELAY_MS: '20',
    SHUTDOWN_TIMEOUT_MS: '5000',
    // Unless a test says otherwise: a send that runs out of retries fails at once (its deadline has
    // passed), and the breaker does not open between tests that make Mailjet fail on purpose.
    REDELIVERY_DELAYS_MS: '1000',
    NOTIFICATION_DEADLINE_MS: '1000',
    PROVIDER_BREAKER_FAILURES: '1000',
    LEASE_POLL_MS: '100',
    // As npm start and docker compose run it; `api` sends it. A test of the open mode passes ''.
    OPERATOR_TOKEN: randomBytes(24).toString('hex'),
    // Tests of the guard send wrong tokens from one address on purpose; the limit's own test sets it.
    OPERATOR_WRONG_TOKEN_LIMIT: '100000',
    ...env,
  };
  let config = loadConfig(baseEnv);
  const broker = await openTestBroker(amqpUrl);
  const deadLetters = new Map<string, GetMessage>();
  /** Every decision the consumer made, in order, across restarts. */
  const decisions: Decision[] = [];
  const start = async () => {
    const running = await startNotificationHandler(config, logs.log, { requeueDelayMs: 50 });
    running.consumer.events.on('decided', (decision) => decisions.push(decision));
    return running;
  };
  let handler: RunningHandler | undefined = await start();

  const api = async (path: string, init?: RequestInit) => {
    if (!handler) throw new Error('handler is stopped');
    const headers = new Headers(init?.headers);
    // The harness's own calls are the operator's; tests of the guard use fetch.
    if (config.OPERATOR_TOKEN && !headers.has('authorization'))
      headers.set('authorization', `Bearer ${config.OPERATOR_TOKEN}`);
    const response = await fetch(`${handler.url}${path}`, { ...init, headers, signal: AbortSignal.timeout(5_000) });
    return { status: response.status, body: (await response.json()) as any };
  };

  return {
    sandbox,
    topology,
    logs,
    broker,
    get config() {
      return config;
    },
    get handler() {
      if (!handler) throw new Error('handler is stopped');
      return handler;
    },
    api,
    /** As the ticketing service publishes it; `traceparent` goes in the AMQP header of that name. */
    publish(message: NotificationMessage | Record<string, unknown>, options: EncodeOptions = {}) {
      const { routingKey, content, properties } = encodeNotification(
        message as NotificationMessage,
        'handler-test',
        options,
      );
      broker.channel.publish(topology.exchange, routingKey, content, properties);
    },
    publishRaw(routingKey: string, content: Buffer, properties: Record<string, unknown>) {
      broker.channel.publish(topology.exchange, routingKey, content, properties);
    },
    /** Waits until the notification's status is one of `statuses`, then returns the status API's view. */
    async settled(trackingId: string, statuses = ['sent', 'failed']) {
      return waitFor(
        async () => {
          const { status, body } = await api(`/notifications/${trackingId}`);
          return status === 200 && statuses.includes(body.status) ? body : undefined;
        },
        { timeoutMs: 15_000, what: `notification ${trackingId} to be ${statuses.join(' or ')}` },
      );
    },
    /** Every email the sandbox took for this notification, from either provider. */
    emailsFor: (trackingId: string) => sandbox.store.list({ trackingId }),
    decisions,
    /** A pool on the handler's database, for arranging rows and reading them directly. */
    db,
    /** Takes dead letters off the queue until this notification's, and gives it (others are kept for later calls). */
    async deadLetter(trackingId: string) {
      return waitFor(
        async () => {
          const kept = deadLetters.get(trackingId);
          if (kept) return kept;
          const message = await broker.channel.get(topology.deadLetterQueue, { noAck: true });
          if (message !== false) deadLetters.set(String(message.properties.messageId), message);
          return deadLetters.get(trackingId);
        },
        { timeoutMs: 15_000, what: `a dead letter for ${trackingId}` },
      );
    },
    waitFor: <T>(probe: () => T | undefined, timeoutMs = 15_000) => waitFor(probe, { timeoutMs }),
    /** The most deliveries the consumer held at once over `ms`, sampled every `sampleMs`. */
    async mostHeldDuring(ms: number, sampleMs: number): Promise<number> {
      let mostHeld = 0;
      const until = Date.now() + ms;
      while (Date.now() < until) {
        if (handler) mostHeld = Math.max(mostHeld, handler.consumer.inFlightCount());
        await new Promise((resolve) => setTimeout(resolve, sampleMs));
      }
      return mostHeld;
    },
    /** Waits until the consumer made a decision of this kind about this notification. */
    decided<Kind extends Decision['kind']>(trackingId: string | undefined, kind: Kind, timeoutMs = 15_000) {
      return waitFor(
        () =>
          decisions.find(
            (decision): decision is Extract<Decision, { kind: Kind }> =>
              decision.kind === kind && decision.trackingId === trackingId,
          ),
        { timeoutMs, what: `the consumer to have ${kind} ${trackingId}` },
      );
    },
    async stopHandler() {
      await handler?.stop();
      handler = undefined;
    },
    /** Starts the handler again; with `env`, on the harness's settings with these changed (a fixed key, say). */
    async restartHandler(env: Record<string, string> = {}) {
      config = loadConfig({ ...baseEnv, ...env });
      handler = await start();
    },
    async stop() {
      await handler?.stop();
      await deleteTopology(amqpUrl, topology, { delaysMs: config.REDELIVERY_DELAYS_MS });
      await db.end();
      if (ownDatabaseName) await dropDatabase(withDatabase(inject('databaseUrl'), 'postgres'), ownDatabaseName);
      await broker.close();
      await sandbox.stop();
    },
  };
}
