import { randomUUID } from 'node:crypto';
import { topologyNames } from '@notify/shared';
import { openTestBroker, type TestBroker, uniquePrefix } from '@notify/test-support/broker.js';
import { captureLogs } from '@notify/test-support/logger.js';
import { buildMessage } from '@notify/test-support/messages.js';
import { queueDepth } from '@notify/test-support/system/broker-tools.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { assertDeadLetterQueue, deadLetterPolicyCommand } from '../../src/messaging/topology.js';
import { type Harness, startHarness } from './support/handler-harness.js';

const json = { contentType: 'application/json', persistent: true };

describe('the dead-letter queue bound (queues, decisions, logs)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness('dead-letter-bound', { DEAD_LETTER_MAX_MESSAGES: '1' });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  /** A message that does not decode: the handler dead-letters it at once. */
  function publishInvalid(): string {
    const trackingId = randomUUID();
    harness.publishRaw('checkout.completed', Buffer.from('{"trackingId":'), { ...json, messageId: trackingId });
    return trackingId;
  }

  it('When the dead-letter queue is full, then the next dead letter is refused and waits on the work queue until there is room', async () => {
    // A quorum queue applies its bound once it is exceeded: with a bound of 1 it takes a second one.
    const accepted = [publishInvalid(), publishInvalid()];
    for (const trackingId of accepted) await harness.decided(trackingId, 'dead-lettered');

    const waiting = publishInvalid();
    const refused = await harness.decided(waiting, 'requeued');

    expect(refused.reason).toMatch(/dead-lettering failed/);
    expect(harness.logs.find('dead-lettering failed; the message stays on the queue').length).toBeGreaterThan(0);
    expect((await queueDepth(inject('amqpUrl'), harness.topology.deadLetterQueue)).messages).toBe(2);
    // Room again: the waiting message gets there (by the handler, or by the broker past its
    // delivery limit), and nothing was lost on the way.
    for (const trackingId of accepted)
      expect((await harness.deadLetter(trackingId)).properties.messageId).toBe(trackingId);
    expect((await harness.deadLetter(waiting)).properties.messageId).toBe(waiting);
    expect((await queueDepth(inject('amqpUrl'), harness.topology.queue)).messages).toBe(0);
  });

  it('When a failed notification meets a full dead-letter queue, then it keeps waiting on the work queue, failed, until its copy gets there', async () => {
    const fillers = [publishInvalid(), publishInvalid()];
    for (const trackingId of fillers) await harness.decided(trackingId, 'dead-lettered');
    harness.sandbox.faults.set({ failRecipients: 'fail.example' });
    const message = buildMessage();
    const failing = {
      ...message,
      recipient: { ...message.recipient, email: `${randomUUID().slice(0, 8)}@fail.example` },
    };

    harness.publish(failing);
    // Its row says failed from the first delivery on; each redelivery must still try to dead-letter it.
    await harness.waitFor(() => {
      const requeued = harness.decisions.filter((d) => d.kind === 'requeued' && d.trackingId === failing.trackingId);
      return requeued.length >= 2 ? requeued : undefined;
    });
    harness.sandbox.faults.clear();

    const row = await harness.settled(failing.trackingId, ['failed']);
    for (const trackingId of fillers) await harness.deadLetter(trackingId);
    const copy = await harness.deadLetter(failing.trackingId);
    // The reason its row keeps, as the first delivery would have written it.
    expect(copy.properties.headers?.['x-failure-reason']).toBe(row.lastError);
    expect(harness.decisions.filter((d) => d.kind === 'acked' && d.trackingId === failing.trackingId)).toEqual([]);
    expect(harness.emailsFor(failing.trackingId)).toHaveLength(0);
    await harness.waitFor(async () =>
      (await queueDepth(inject('amqpUrl'), harness.topology.queue)).messages === 0 ? true : undefined,
    );
  });
});

describe('declaring the dead-letter queue (queues and logs)', () => {
  let broker: TestBroker;
  const queues: string[] = [];

  beforeAll(async () => {
    broker = await openTestBroker();
  });
  afterAll(async () => {
    for (const queue of queues) await broker.channel.deleteQueue(queue).catch(() => undefined);
    await broker?.close();
  });

  it('When the queue is new, then it is declared with the bound, and declaring it again agrees', async () => {
    const topology = topologyNames(uniquePrefix('dlq-new'));
    queues.push(topology.deadLetterQueue);
    const logs = captureLogs();

    const first = await assertDeadLetterQueue(broker.connection, topology, 5, logs.log);
    const again = await assertDeadLetterQueue(broker.connection, topology, 5, logs.log);

    expect([first, again]).toEqual(['bounded', 'bounded']);
    expect(logs.lines.filter((line) => line.level >= 40)).toEqual([]);
  });

  it('When the queue was declared before the bound existed, then it is kept as it is and a warning gives the policy to apply', async () => {
    const topology = topologyNames(uniquePrefix('dlq-old'));
    queues.push(topology.deadLetterQueue);
    await broker.channel.assertQueue(topology.deadLetterQueue, {
      durable: true,
      arguments: { 'x-queue-type': 'quorum' },
    });
    const logs = captureLogs();

    const outcome = await assertDeadLetterQueue(broker.connection, topology, 5, logs.log);

    expect(outcome).toBe('kept as declared');
    const [warning] = logs.find(
      'the dead-letter queue exists with other arguments (declared before its length bound, or with another DEAD_LETTER_MAX_MESSAGES); kept as it is: bound it with this policy',
    );
    expect(warning).toMatchObject({ level: 40, queue: topology.deadLetterQueue, maxMessages: 5 });
    expect(warning?.policy).toBe(deadLetterPolicyCommand(topology, 5));
    expect(warning?.policy).toContain('"max-length":5');
    await expect(broker.channel.checkQueue(topology.deadLetterQueue)).resolves.toMatchObject({ messageCount: 0 });
  });
});
