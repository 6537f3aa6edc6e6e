import { startSandbox } from '@notify/mailjet-sandbox';
import { encodeNotification, type NotificationMessage, topologyNames } from '@notify/shared';
import { inject } from 'vitest';
import { openTestBroker, uniquePrefix } from '../../../../test-support/broker.js';
import { captureLogs } from '../../../../test-support/logger.js';
import { deleteTopology } from '../../../../test-support/system/broker-tools.js';
import { waitFor } from '../../../../test-support/wait.js';
import { loadConfig } from '../../../src/config.js';
import { type RunningHandler, startNotificationHandler } from '../../../src/start-handler.js';

export type Harness = Awaited<ReturnType<typeof startHarness>>;

/**
 * The real handler in-process on its own topology prefix and the run's database, sending to an
 * in-process Mailjet sandbox. Only the outside world (Mailjet) is faked.
 */
export async function startHarness(label: string, env: Record<string, string> = {}) {
  const sandbox = await startSandbox({ port: 0 });
  const prefix = uniquePrefix(label);
  const topology = topologyNames(prefix);
  const logs = captureLogs();
  const config = loadConfig({
    AMQP_URL: inject('amqpUrl'),
    DATABASE_URL: inject('databaseUrl'),
    PORT: '0',
    TOPOLOGY_PREFIX: prefix,
    MAILJET_API_URL: sandbox.url,
    MAILJET_API_KEY: sandbox.apiKey,
    MAILJET_API_SECRET: sandbox.apiSecret,
    MAILJET_TIMEOUT_MS: '500',
    RETRY_DELAY_MS: '20',
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...env,
  });
  const broker = await openTestBroker();
  let handler: RunningHandler | undefined = await startNotificationHandler(config, logs.log, { requeueDelayMs: 50 });

  const api = async (path: string, init?: RequestInit) => {
    if (!handler) throw new Error('handler is stopped');
    const response = await fetch(`${handler.url}${path}`, { ...init, signal: AbortSignal.timeout(5_000) });
    return { status: response.status, body: (await response.json()) as any };
  };

  return {
    sandbox,
    topology,
    logs,
    broker,
    config,
    get handler() {
      if (!handler) throw new Error('handler is stopped');
      return handler;
    },
    api,
    publish(message: NotificationMessage | Record<string, unknown>) {
      const { routingKey, content, properties } = encodeNotification(message as NotificationMessage, 'handler-test');
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
    emailsFor: (trackingId: string) => sandbox.store.list({ customId: trackingId }),
    async stopHandler() {
      await handler?.stop();
      handler = undefined;
    },
    async restartHandler() {
      handler = await startNotificationHandler(config, logs.log, { requeueDelayMs: 50 });
    },
    async stop() {
      await handler?.stop();
      await deleteTopology(inject('amqpUrl'), topology);
      await broker.close();
      await sandbox.stop();
    },
  };
}
