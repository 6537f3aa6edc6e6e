import { openAmqp, publishConfirmed, republishOptions } from '@notify/test-support/system/broker-tools.js';
import type { System } from '@notify/test-support/system/system.js';
import { verifySystem } from '@notify/test-support/system/verifier.js';
import { waitFor } from '@notify/test-support/wait.js';
import type { Options } from 'amqplib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadWithFault, record, SETTLE_DEADLINE_MS, startScenarioSystem } from '../support/scenario.js';

const SCENARIO = '8. same message published twice';
const COPIED = 10;

describe(SCENARIO, () => {
  let system: System | undefined;
  beforeAll(async () => {
    system = await startScenarioSystem('duplicate-publish');
  });
  afterAll(async () => {
    await system?.stop();
  });

  test('When real messages are published twice more, while in progress and once sent, then each still makes one email', async (context) => {
    const sut = system!;
    // A tap queue of our own on the exchange: copies of what the ticketing service really published.
    const tap = await openAmqp(sut.amqpUrl);
    const copies: Array<{ routingKey: string; content: Buffer; options: Options.Publish; trackingId: string }> = [];
    try {
      const { queue } = await tap.channel.assertQueue('', { exclusive: true, autoDelete: true });
      await tap.channel.bindQueue(queue, sut.topology.exchange, 'checkout.completed');
      await tap.channel.consume(queue, (message) => {
        if (!message) return;
        tap.channel.ack(message);
        if (copies.length < COPIED) {
          copies.push({
            routingKey: message.fields.routingKey,
            content: message.content,
            options: republishOptions(message),
            trackingId: String(message.properties.messageId),
          });
        }
      });
      const republish = () =>
        publishConfirmed(
          sut.amqpUrl,
          copies.map(({ routingKey, content, options }) => ({
            exchange: sut.topology.exchange,
            routingKey,
            content,
            options,
          })),
        );

      const { load, faultEndedAt } = await loadWithFault(sut, async () => {
        await waitFor(() => (copies.length >= COPIED ? true : undefined), {
          timeoutMs: 30_000,
          what: `${COPIED} tapped messages`,
        });
        // Twice more right away, likely while the first delivery is still being handled...
        await republish();
        await republish();
        return Date.now();
      });
      // ...and once more after they were sent.
      await waitFor(
        async () => {
          const { rows } = await sut.db.query(
            `SELECT count(*)::int AS n FROM notifications.notifications WHERE tracking_id = ANY($1::uuid[]) AND status = 'sent'`,
            [copies.map((copy) => copy.trackingId)],
          );
          return rows[0].n === copies.length ? true : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 200, what: 'the copied notifications to be sent' },
      );
      await republish();

      const report = await verifySystem(sut, { accepted: load.accepted, faultEndedAt, deadlineMs: SETTLE_DEADLINE_MS });
      for (const { trackingId } of copies) {
        if (!load.accepted.has(trackingId))
          report.problems.push(`copied message ${trackingId} is not one the API accepted`);
        const emails = (await sut.mailjet.messages(trackingId)).length;
        if (emails !== 1) report.problems.push(`${trackingId}: ${emails} emails after 4 deliveries, expected 1`);
      }
      const skipped = sut.handler.find('duplicate delivery of a sent notification; nothing sent').length;
      if (skipped < COPIED)
        report.problems.push(`handler skipped ${skipped} duplicate deliveries, expected at least ${COPIED}`);
      record(context, sut, SCENARIO, report, load);

      expect(report.problems).toEqual([]);
    } finally {
      await tap.close();
    }
  });
});
