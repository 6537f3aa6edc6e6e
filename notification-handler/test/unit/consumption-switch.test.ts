import { silentLogger } from '@notify/test-support/logger.js';
import type { Channel } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { createConsumptionSwitch } from '../../src/messaging/consumption-switch.js';

/** A channel that records what the switch asks of the broker. */
function recordingChannel() {
  const calls: string[] = [];
  const consumeOptions: unknown[] = [];
  let consumers = 0;
  const channel = {
    prefetch: async (count: number) => {
      calls.push(`prefetch ${count}`);
    },
    consume: async (_queue: string, _onMessage: unknown, options: unknown) => {
      consumeOptions.push(options);
      consumers += 1;
      calls.push('consume');
      return { consumerTag: `c${consumers}` };
    },
    cancel: async (tag: string) => {
      calls.push(`cancel ${tag}`);
    },
  } as unknown as Channel;
  return { channel, calls, consumeOptions };
}

/** Deliveries the consumer still holds, settled when the test says so. */
function heldDeliveries() {
  let held = 0;
  let settle: (() => void) | undefined;
  return {
    take: (count = 1) => {
      held += count;
    },
    settle: (count: number) => {
      held -= count;
      settle?.();
    },
    whenHeldAtMost: async (limit: number, signal: AbortSignal) => {
      while (held > limit && !signal.aborted)
        await new Promise<void>((resolve) => {
          settle = resolve;
          signal.addEventListener('abort', () => resolve(), { once: true });
        });
    },
  };
}

const settledTurn = () => new Promise((resolve) => setImmediate(resolve));

const CONSUMER_TIMEOUT_MS = 86_500_000;

/** A switch at a prefetch of 50, consuming on a recording channel. */
async function subscribed() {
  const { channel, calls, consumeOptions } = recordingChannel();
  const held = heldDeliveries();
  const consumption = createConsumptionSwitch({
    queue: 'q',
    prefetch: 50,
    consumerTimeoutMs: CONSUMER_TIMEOUT_MS,
    log: silentLogger,
  });
  await consumption.attach(channel, () => undefined, held.whenHeldAtMost);
  return { calls, consumeOptions, held, consumption };
}

/** Paused for the database and resumed while the first consumer's whole window is still held. */
async function resumedWhileAWindowIsHeld() {
  const switched = await subscribed();
  switched.held.take(50);
  switched.consumption.pause('database');
  await settledTurn();
  switched.consumption.resume('database');
  await settledTurn();
  return switched;
}

describe('consumption switch (calls to the broker)', () => {
  it('When consumption resumes while the cancelled consumer still holds deliveries, then the new consumer waits until at most half a window is still held', async () => {
    const { calls, held, consumption } = await resumedWhileAWindowIsHeld();

    // A second window of 50 beside the 50 still held would add a window to what is in memory at each flap.
    expect(calls).toEqual(['prefetch 50', 'consume', 'cancel c1']);
    expect(consumption.mode()).toBe('stopped');

    held.settle(24);
    await settledTurn();
    const whileMoreThanHalfHeld = [...calls];
    held.settle(1);
    await settledTurn();

    expect(whileMoreThanHalfHeld).toEqual(['prefetch 50', 'consume', 'cancel c1']);
    expect(calls).toEqual(['prefetch 50', 'consume', 'cancel c1', 'prefetch 50', 'consume']);
    expect(consumption.mode()).toBe('full');
  });

  it('When the pause comes back while the new consumer waits, then it does not subscribe at all', async () => {
    const { calls, held, consumption } = await resumedWhileAWindowIsHeld();

    consumption.pause('database');
    held.settle(50);
    await settledTurn();

    expect(calls).toEqual(['prefetch 50', 'consume', 'cancel c1']);
    expect(consumption.mode()).toBe('stopped');
  });

  it('When the handler stops while the new consumer waits, then the wait ends and nothing subscribes', async () => {
    const { calls, held, consumption } = await subscribed();
    held.take(50);
    consumption.pause('mailjet', { oneAtATime: true });
    await settledTurn();

    await consumption.stop();

    expect(calls).toEqual(['prefetch 50', 'consume', 'cancel c1']);
    expect(consumption.mode()).toBe('stopped');
  });

  it('When the handler stops while the prefetch is on its way, then no consumer is started', async () => {
    const { channel, calls } = recordingChannel();
    let prefetched: () => void = () => undefined;
    channel.prefetch = (async (count: number) => {
      calls.push(`prefetch ${count}`);
      await new Promise<void>((resolve) => {
        prefetched = resolve;
      });
    }) as unknown as Channel['prefetch'];
    const consumption = createConsumptionSwitch({ queue: 'q', prefetch: 50, consumerTimeoutMs: 1, log: silentLogger });

    const attached = consumption.attach(channel, () => undefined, heldDeliveries().whenHeldAtMost);
    await settledTurn();
    const stopped = consumption.stop();
    prefetched();
    await Promise.all([attached, stopped]);

    expect(calls).toEqual(['prefetch 50']);
    expect(consumption.mode()).toBe('stopped');
  });

  it('When it subscribes, then it asks the broker to let a delivery go unacked for as long as the handler may hold one', async () => {
    const { consumeOptions } = await subscribed();

    // Not the broker's 30 minutes: a delivery waits for an open breaker until its deadline.
    expect(consumeOptions).toEqual([{ arguments: { 'x-consumer-timeout': CONSUMER_TIMEOUT_MS } }]);
  });

  it('When a provider pauses one at a time and nothing is held, then one message at a time is taken at once', async () => {
    const { calls, consumption } = await subscribed();

    consumption.pause('mailjet', { oneAtATime: true });
    await settledTurn();

    expect(calls).toEqual(['prefetch 50', 'consume', 'cancel c1', 'prefetch 1', 'consume']);
    expect(consumption.mode()).toBe('one');
  });
});
