import type { ChannelModel, ConfirmChannel, Message, Options } from 'amqplib';
import { beforeDeadline } from './confirm-waits.js';
import type { Logger } from './logger.js';
import { confirmOutcome, describeReturn, type PublishOutcome, returnKey } from './publish-outcomes.js';

export type OutgoingMessage = {
  /** '' is the default exchange: the routing key is then a queue name. */
  exchange: string;
  routingKey: string;
  content: Buffer;
  /** `mandatory` is always set, whatever is given here: an unroutable message is 'refused'. */
  properties?: Options.Publish;
};

export type ExchangeToAssert = {
  name: string;
  type: 'topic' | 'direct' | 'fanout' | 'headers';
  options?: Options.AssertExchange;
};

type Unconfirmed = {
  exchange: string;
  content: Buffer;
  returned: string | undefined;
  answered: Promise<PublishOutcome>;
};

/** One confirm channel and the publishes on it still waiting for the broker's answer. */
export type PublisherChannel = {
  channel: ConfirmChannel;
  /** By `returnKey`: at most one publish per key is unconfirmed at a time (see `earlierCopy`). */
  unconfirmed: Map<string, Unconfirmed>;
  /** Set by the channel's 'error', which amqplib emits before 'close' and the failed confirms. */
  closedBecause: Error | undefined;
  drained: Promise<'drained' | 'closed'> | undefined;
};

export async function openPublisherChannel(
  model: ChannelModel,
  {
    exchanges,
    log,
    onClose,
  }: { exchanges: ExchangeToAssert[]; log: Logger; onClose: (closed: PublisherChannel) => void },
): Promise<PublisherChannel> {
  const channel = await model.createConfirmChannel();
  const current: PublisherChannel = { channel, unconfirmed: new Map(), closedBecause: undefined, drained: undefined };
  channel.on('error', (err: Error) => {
    current.closedBecause = err;
    log.warn({ err }, 'publisher channel error');
  });
  channel.on('handler-error', (err: Error, event: string) =>
    log.error({ err, event }, 'publisher channel handler threw'),
  );
  channel.on('return', (returned: Message) => {
    const { exchange, routingKey } = returned.fields;
    const sent = current.unconfirmed.get(returnKey(exchange, routingKey, returned.properties.messageId));
    if (sent) sent.returned = describeReturn(returned);
    else log.warn({ exchange, routingKey }, 'a returned message matches no unconfirmed publish');
  });
  channel.once('close', () => onClose(current));
  for (const { name, type, options } of exchanges) await channel.assertExchange(name, type, options);
  return current;
}

/**
 * basic.return names no delivery tag, so returns are matched by exchange, routing key and
 * messageId. Two publishes with the same three (a message sent twice at once) could not be told
 * apart: the second waits until the broker answered the first. When the first was routed and is
 * the very same message (a messageId, the same bytes), it is the second's copy too (`published`):
 * a caller that timed out on it and tries again, once a blocked connection is read again say, must
 * not leave a second copy. Otherwise the key is free for a copy of its own (`free`); messages
 * without a messageId share their key with every other one to that destination, and are never
 * taken for each other. `timed out`: no answer before `deadline`.
 */
export async function earlierCopy(
  current: PublisherChannel,
  message: OutgoingMessage,
  key: string,
  deadline: number,
): Promise<'published' | 'free' | 'timed out'> {
  const identified = message.properties?.messageId !== undefined;
  for (let earlier = current.unconfirmed.get(key); earlier; earlier = current.unconfirmed.get(key)) {
    const outcome = await beforeDeadline(earlier.answered, deadline, undefined);
    if (outcome === undefined) return 'timed out';
    if (outcome.status === 'published' && identified && earlier.content.equals(message.content)) return 'published';
  }
  return 'free';
}

/** Undefined when the channel closed under us: the message was never handed to the broker. */
export function handOver(current: PublisherChannel, message: OutgoingMessage, key: string) {
  const { exchange, routingKey, content, properties } = message;
  let answer: (outcome: PublishOutcome) => void = () => undefined;
  const answered = new Promise<PublishOutcome>((resolve) => {
    answer = resolve;
  });
  const sent: Unconfirmed = { exchange, content, returned: undefined, answered };
  const onConfirm = (err: Error | null) => {
    if (current.unconfirmed.get(key) === sent) current.unconfirmed.delete(key);
    answer(confirmOutcome(err, sent, current.closedBecause));
  };
  try {
    const accepted = current.channel.publish(
      exchange,
      routingKey,
      content,
      { ...properties, mandatory: true },
      onConfirm,
    );
    current.unconfirmed.set(key, sent);
    return { accepted, answered };
  } catch {
    return undefined;
  }
}

/** One wait per channel, however many publishes are held up by the same full socket buffer. */
export function waitForDrain(current: PublisherChannel, deadline: number) {
  current.drained ??= new Promise((resolve) => {
    const finish = (how: 'drained' | 'closed') => {
      current.channel.off('drain', onDrain);
      current.channel.off('close', onClose);
      current.drained = undefined;
      resolve(how);
    };
    const onDrain = () => finish('drained');
    const onClose = () => finish('closed');
    current.channel.on('drain', onDrain);
    current.channel.on('close', onClose);
  });
  return beforeDeadline<'drained' | 'closed' | 'timed out'>(current.drained, deadline, 'timed out');
}
