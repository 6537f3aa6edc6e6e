import type { ConfirmChannel, Options } from 'amqplib';

export const CONFIRM_TIMEOUT_MS = 10_000;

/** Publishes and waits for the broker's confirm; a nack, a closed channel or no answer rejects. */
export function publishConfirmed(
  channel: ConfirmChannel,
  exchange: string,
  routingKey: string,
  content: Buffer,
  options: Options.Publish,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no publisher confirm within ${CONFIRM_TIMEOUT_MS} ms`)),
      CONFIRM_TIMEOUT_MS,
    );
    try {
      channel.publish(exchange, routingKey, content, options, (error) => {
        clearTimeout(timer);
        if (error) reject(error instanceof Error ? error : new Error('broker nacked the message'));
        else resolve();
      });
    } catch (error) {
      clearTimeout(timer);
      reject(error);
    }
  });
}
