import type { ConfirmChannel } from 'amqplib';
import type { PublishOutcome } from './confirm-publisher.js';

// The two bounded waits of a batch: socket back-pressure, then the broker's confirms.

/** True on 'drain'; false when the channel closes or the deadline passes first. */
export function waitForDrain(channel: ConfirmChannel, deadline: number): Promise<boolean> {
  return new Promise((resolve) => {
    const finish = (drained: boolean) => {
      clearTimeout(timer);
      channel.off('drain', onDrain);
      channel.off('close', onClose);
      resolve(drained);
    };
    const onDrain = () => finish(true);
    const onClose = () => finish(false);
    const timer = setTimeout(() => finish(false), Math.max(0, deadline - Date.now()));
    channel.on('drain', onDrain);
    channel.on('close', onClose);
  });
}

export async function settleBy(confirms: Promise<PublishOutcome>[], deadline: number): Promise<PublishOutcome[]> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<PublishOutcome>((resolve) => {
    timer = setTimeout(
      () => resolve({ status: 'failed', reason: 'no confirm before the timeout' }),
      Math.max(0, deadline - Date.now()),
    );
  });
  try {
    return await Promise.all(confirms.map((confirmed) => Promise.race([confirmed, timedOut])));
  } finally {
    clearTimeout(timer);
  }
}
