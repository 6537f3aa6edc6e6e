import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { openAmqp } from '@notify/test-support/system/index.js';
import amqp, { type Options } from 'amqplib';
import pg from 'pg';
import { AMQP_URL, cleanupOnAbort } from './infrastructure.js';
import { ratePerSecond } from './stats.js';

/** A message as the ticketing service's outbox holds it: what the baselines publish and store. */
export type SampleMessage = { routingKey: string; content: Buffer; properties: Options.Publish };

export type RabbitBaseline = {
  queueType: 'quorum';
  messages: number;
  messageBytes: number;
  confirmBatch: number;
  prefetch: number;
  publishConfirmPerSec: number;
  consumeAckPerSec: number;
};

export type PostgresBaseline = { pairs: number; pool: number; pairsPerSec: number };

/** The handler's pool size: the baseline at that size is the one the pipeline is compared with. */
export const HANDLER_POOL = 20;

/** The PostgreSQL baseline's pairs a second at the handler's pool size, if it ran at that size. */
export function pairsAtHandlerPool(postgres: readonly PostgresBaseline[]): number | undefined {
  return postgres.find((entry) => entry.pool === HANDLER_POOL)?.pairsPerSec;
}

/**
 * amqplib alone on a quorum queue of our own: publish `count` persistent messages on a confirm
 * channel the way the relay does (a batch of `confirmBatch` handed over, then all its confirms
 * awaited), then consume them at `prefetch`, acking each one.
 */
export async function measureRabbitMq(
  name: string,
  samples: SampleMessage[],
  count: number,
  { prefetch, confirmBatch }: { prefetch: number; confirmBatch: number },
): Promise<RabbitBaseline> {
  const exchange = `${name}.events`;
  const queue = `${name}.queue`;
  const cleanUp = cleanupOnAbort(() => deleteQueueAndExchange(queue, exchange));
  const connection = await amqp.connect(AMQP_URL, { timeout: 5_000 });
  connection.on('error', () => undefined);
  try {
    const publisher = await connection.createConfirmChannel();
    publisher.on('error', () => undefined);
    await publisher.assertExchange(exchange, 'topic', { durable: true });
    await publisher.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    for (const key of new Set(samples.map((sample) => sample.routingKey)))
      await publisher.bindQueue(queue, exchange, key);

    const publishStart = performance.now();
    for (let sent = 0; sent < count; ) {
      const batchEnd = Math.min(count, sent + confirmBatch);
      for (; sent < batchEnd; sent += 1) {
        const sample = samples[sent % samples.length] as SampleMessage;
        const properties = { ...sample.properties, messageId: randomUUID(), mandatory: true, persistent: true };
        if (!publisher.publish(exchange, sample.routingKey, sample.content, properties)) {
          await new Promise((resolve) => publisher.once('drain', resolve));
        }
      }
      await publisher.waitForConfirms();
    }
    const publishMs = performance.now() - publishStart;

    const consumer = await connection.createChannel();
    consumer.on('error', () => undefined);
    await consumer.prefetch(prefetch);
    const consumeStart = performance.now();
    await new Promise<void>((resolve, reject) => {
      let received = 0;
      consumer
        .consume(queue, (delivery) => {
          if (delivery === null) return reject(new Error('baseline consumer cancelled by the broker'));
          consumer.ack(delivery);
          received += 1;
          if (received === count) resolve();
        })
        .catch(reject);
    });
    const consumeMs = performance.now() - consumeStart;
    await consumer.close();
    return {
      queueType: 'quorum',
      messages: count,
      messageBytes: Math.round(samples.reduce((sum, sample) => sum + sample.content.length, 0) / samples.length),
      confirmBatch,
      prefetch,
      publishConfirmPerSec: ratePerSecond(count, publishMs),
      consumeAckPerSec: ratePerSecond(count, consumeMs),
    };
  } finally {
    await connection.close().catch(() => undefined);
    await cleanUp();
  }
}

async function deleteQueueAndExchange(queue: string, exchange: string): Promise<void> {
  const session = await openAmqp(AMQP_URL);
  try {
    await session.channel.deleteQueue(queue);
    await session.channel.deleteExchange(exchange);
  } finally {
    await session.close();
  }
}

// Same columns and indexes as notifications.notifications: the handler's claim and settle pay for them too.
const PAIRS_TABLE = `
DROP TABLE IF EXISTS bench_pairs;
CREATE TABLE bench_pairs (
  tracking_id uuid PRIMARY KEY, operation text NOT NULL, channel text NOT NULL DEFAULT 'email',
  recipient_email text NOT NULL, recipient_name text NOT NULL, request jsonb NOT NULL,
  status text NOT NULL CHECK (status IN ('in_progress', 'sent', 'failed')),
  attempt_count integer NOT NULL DEFAULT 0, last_error text, provider_message_id text,
  lease_expires_at timestamptz NOT NULL, occurred_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(), sent_at timestamptz
);
CREATE INDEX bench_pairs_created_idx ON bench_pairs (created_at DESC, tracking_id DESC);
CREATE INDEX bench_pairs_status_created_idx ON bench_pairs (status, created_at DESC, tracking_id DESC);`;

/**
 * pg alone: `count` pairs of INSERT (a row shaped like a notification, in_progress) then UPDATE
 * (to sent), one worker per pooled connection, each statement on its own (autocommit), like the
 * handler's claim and settle.
 */
export async function measurePostgres(
  url: string,
  sample: SampleMessage,
  count: number,
  pool: number,
): Promise<PostgresBaseline> {
  const db = new pg.Pool({ connectionString: url, max: pool });
  db.on('error', () => undefined);
  try {
    await db.query(PAIRS_TABLE);
    const request = JSON.parse(sample.content.toString('utf8')) as Record<string, unknown>;
    let next = 0;
    const worker = async () => {
      while (next < count) {
        next += 1;
        const id = randomUUID();
        await db.query(
          `INSERT INTO bench_pairs (tracking_id, operation, recipient_email, recipient_name, request, status, lease_expires_at, occurred_at)
           VALUES ($1, $2, $3, $4, $5, 'in_progress', now() + interval '45 seconds', now())`,
          [id, sample.routingKey, 'bench@example.com', 'Bench Customer', request],
        );
        await db.query(
          `UPDATE bench_pairs SET status = 'sent', attempt_count = 1, provider_message_id = $2, sent_at = now(), updated_at = now()
           WHERE tracking_id = $1`,
          [id, '1152921500000000000'],
        );
      }
    };
    // Warm the pool so that connecting is not timed.
    await Promise.all(Array.from({ length: pool }, () => db.query('SELECT 1')));
    const start = performance.now();
    await Promise.all(Array.from({ length: pool }, worker));
    return { pairs: count, pool, pairsPerSec: ratePerSecond(count, performance.now() - start) };
  } finally {
    await db.end().catch(() => undefined);
  }
}
