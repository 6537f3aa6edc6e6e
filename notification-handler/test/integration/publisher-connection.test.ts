import { setTimeout as sleep } from 'node:timers/promises';
import { buildMessage } from '@notify/test-support/messages.js';
import { createRabbitNode, type RabbitNode, TEST_NODE_MARKER_DIR } from '@notify/test-support/system/rabbitmq-node.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Harness, startHarness } from './support/handler-harness.js';

const PREFETCH = 5;

/**
 * The handler publishes on a connection of its own. On a RabbitMQ node of this file's own: the
 * machine's broker is never alarmed nor limited (every other test publishes there).
 */
describe("the publisher's connection of its own", () => {
  let node: RabbitNode;
  let harness: Harness;

  /** Ready and unacknowledged: what the broker still holds of a queue (the work queue unless named). */
  const queueHolds = async (queue = harness.topology.queue) => {
    const line = (await node.ctl('list_queues', '--quiet', '--no-table-headers', 'name', 'messages'))
      .split('\n')
      .find((row) => row.startsWith(`${queue}\t`));
    return Number(line?.split('\t')[1]);
  };

  const readiness = async () => {
    const response = await fetch(`${harness.handler.url}/readyz`, { signal: AbortSignal.timeout(5_000) });
    return { status: response.status, broker: ((await response.json()) as { broker: string }).broker };
  };
  /** The Erlang pid RabbitMQ names a connection by, from the name the client gave it. */
  const connectionPid = async (connectionName: string) => {
    const rows = await node.ctl('list_connections', '--quiet', '--no-table-headers', 'pid', 'client_properties');
    const row = rows.split('\n').find((line) => line.includes(`"${connectionName}"`));
    if (!row) throw new Error(`no connection named ${connectionName} in:\n${rows}`);
    return row.split('\t')[0] as string;
  };

  beforeAll(async () => {
    node = await createRabbitNode({ nodeName: `alarm-${inject('runId')}@localhost`, markerDir: TEST_NODE_MARKER_DIR });
    await node.start();
    harness = await startHarness(
      'memory-alarm',
      { PREFETCH: String(PREFETCH), PUBLISH_CONFIRM_TIMEOUT_MS: '1000' },
      { amqpUrl: node.amqpUrl },
    );
  }, 180_000);
  afterAll(async () => {
    try {
      await node?.clearMemoryAlarm().catch(() => undefined);
      await harness?.stop();
    } finally {
      await node?.destroy();
    }
  }, 120_000);

  // Under a memory alarm the broker stops reading every connection that has published, and a
  // connection that only consumes and acks goes on.
  it('When a dead letter is blocked by the alarm, then the handler still sends and acks every other message of the backlog, and the dead letter follows once the alarm clears', async () => {
    await harness.stopHandler();
    // First in the queue: the handler's first publish (its dead letter) meets the alarm.
    const poisonId = `poison-${inject('runId')}`;
    harness.publishRaw('checkout.completed', Buffer.from('{not json'), {
      contentType: 'application/json',
      messageId: poisonId,
      persistent: true,
    });
    const backlog = Array.from({ length: PREFETCH * 6 }, () => buildMessage());
    for (const message of backlog) harness.publish(message);
    await harness.waitFor(async () => ((await queueHolds()) === backlog.length + 1 ? true : undefined));

    await node.raiseMemoryAlarm();
    await harness.waitFor(async () => ((await node.memoryAlarmRaised()) ? true : undefined));
    await harness.restartHandler();

    // All of it while the alarm stands: on one connection for both, the blocked dead letter would
    // stop the acks with it, and nothing past the first prefetch window would be delivered.
    for (const message of backlog) expect(await harness.settled(message.trackingId)).toMatchObject({ status: 'sent' });
    await harness.waitFor(async () => ((await queueHolds()) <= 1 ? true : undefined));
    expect(harness.logs.find('broker blocked publishing').length).toBeGreaterThan(0);
    expect(await node.memoryAlarmRaised()).toBe(true);

    await node.clearMemoryAlarm();
    const deadLetter = await harness.deadLetter(poisonId);
    expect(String(deadLetter.properties.headers?.['x-failure-reason'])).toMatch(/json/i);
    await harness.waitFor(async () => ((await queueHolds()) === 0 ? true : undefined));
    for (const message of backlog) expect(harness.emailsFor(message.trackingId)).toHaveLength(1);
    // One copy: the dead letter's publish that waited out the alarm and the one that replaced it are one.
    expect(await queueHolds(harness.topology.deadLetterQueue)).toBe(0);
  });

  it('When a retry cannot be rescheduled for as long as the alarm stands, then its delivery is held, not requeued round after round (nor dead-lettered by the broker past its delivery limit), and the retry goes through once the alarm clears', async () => {
    await harness.stopHandler();
    const message = buildMessage();
    harness.publish(message);
    await harness.waitFor(async () => ((await queueHolds()) === 1 ? true : undefined));
    await node.raiseMemoryAlarm();
    await harness.waitFor(async () => ((await node.memoryAlarmRaised()) ? true : undefined));
    harness.sandbox.faults.set({ failRate: 1, status: 503 });
    harness.sandbox.stats.reset();
    // One call, no immediate retry, then a delayed retry, well within its deadline. Requeued after
    // each 200 ms confirm timeout and the harness's 50 ms requeue delay, the message would spend
    // the work queue's 20 deliveries in about six seconds.
    await harness.restartHandler({
      RETRY_MAX_RETRIES: '0',
      NOTIFICATION_DEADLINE_MS: '600000',
      PUBLISH_CONFIRM_TIMEOUT_MS: '200',
    });

    await harness.waitFor(() =>
      harness.logs.find('delayed copy not published; holding the delivery until the broker takes it').length > 0
        ? true
        : undefined,
    );
    await sleep(8_000);
    const callsDuringTheAlarm = harness.sandbox.stats.current('mailjet').calls.total;
    const requeued = harness.decisions.filter((d) => d.kind === 'requeued' && d.trackingId === message.trackingId);
    const heldOnTheQueue = await queueHolds();
    const deadLettered = await queueHolds(harness.topology.deadLetterQueue);
    harness.sandbox.faults.clear();
    await node.clearMemoryAlarm();

    expect({ callsDuringTheAlarm, requeued, heldOnTheQueue, deadLettered }).toEqual({
      callsDuringTheAlarm: 1,
      requeued: [],
      heldOnTheQueue: 1,
      deadLettered: 0,
    });
    expect(await harness.settled(message.trackingId)).toMatchObject({ status: 'sent' });
    expect(harness.emailsFor(message.trackingId)).toHaveLength(1);
    expect(harness.logs.find('delayed copy published after a wait').length).toBeGreaterThan(0);
    await harness.waitFor(async () => ((await queueHolds()) === 0 ? true : undefined));
    expect(await queueHolds(harness.topology.deadLetterQueue)).toBe(0);
  }, 60_000);

  it('When the publisher loses its connection, then readiness says the broker is down while sending goes on, and ready again once it reconnects', async () => {
    expect(await readiness()).toEqual({ status: 200, broker: 'up' });
    // New connections refused from now on: the publisher's stays away until the limit goes.
    await node.ctl('set_vhost_limits', '-p', '/', '{"max-connections": 2}');
    try {
      await node.ctl('close_connection', await connectionPid('notification-handler publisher'), 'test: publisher away');
      await harness.waitFor(async () => ((await readiness()).status === 503 ? true : undefined));
      expect(await readiness()).toEqual({ status: 503, broker: 'down' });

      const message = buildMessage();
      harness.publish(message);
      expect(await harness.settled(message.trackingId)).toMatchObject({ status: 'sent' });
    } finally {
      await node.ctl('set_vhost_limits', '-p', '/', '{"max-connections": -1}');
    }
    await harness.waitFor(async () => ((await readiness()).status === 200 ? true : undefined));
    expect(await readiness()).toEqual({ status: 200, broker: 'up' });
  });
});
