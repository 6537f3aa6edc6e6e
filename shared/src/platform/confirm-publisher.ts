import type { ChannelModel } from 'amqplib';
import { allBeforeDeadline } from './confirm-waits.js';
import type { Logger } from './logger.js';
import { type PublishOutcome, returnKey } from './publish-outcomes.js';
import {
  type ExchangeToAssert,
  earlierCopy,
  handOver,
  type OutgoingMessage,
  openPublisherChannel,
  type PublisherChannel,
  waitForDrain,
} from './publisher-channel.js';

export type { PublishOutcome } from './publish-outcomes.js';
export type { ExchangeToAssert, OutgoingMessage } from './publisher-channel.js';

export type PublisherSettings = {
  /** How long a publish (or a whole batch) waits for the broker's confirms. */
  confirmTimeoutMs: number;
  /** Wait before reopening the channel after a channel-level error while the connection lives. */
  reopenDelayMs: number;
  /** Declared on every channel the publisher opens; none when not given. */
  assertExchanges?: ExchangeToAssert[];
};

const TIMED_OUT: PublishOutcome = { status: 'failed', reason: 'no confirm before the timeout' };
const BLOCKED = 'the broker blocks publishing (a memory or disk alarm)';

/**
 * Publishes with confirms on a channel of its own, so that a publish the broker rejects by closing
 * the channel (a missing exchange: 404) closes only this channel, never the connection or a
 * consumer's channel. `attach` (from the broker's setup hook) opens it after every (re)connect; a
 * channel-level error while the connection lives on reopens it after `reopenDelayMs`.
 */
export class ConfirmPublisher {
  private current: PublisherChannel | undefined;
  private model: ChannelModel | undefined;
  private reopenTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The broker said connection.blocked: it reads nothing this connection sends until unblocked. */
  private blocked = false;
  private readonly readyListeners: Array<() => void> = [];
  /** Callers of `whenPublishable` waiting now. */
  private readonly waiters = new Set<() => void>();
  /**
   * The broker's answer, once it comes, to each copy whose publish timed out, by the message its
   * caller handed over: a caller that tries that same message again is answered by this copy.
   */
  private readonly lateAnswers = new WeakMap<OutgoingMessage, { outcome: PublishOutcome | undefined }>();

  constructor(
    private readonly log: Logger,
    private readonly settings: PublisherSettings,
  ) {}

  isReady(): boolean {
    return this.current !== undefined;
  }

  /**
   * Ready and not blocked by a resource alarm: a publish now reaches the broker. While blocked,
   * publishes are refused unsent: written anyway, they would wait in a socket the broker does not
   * read, time out, and go out after the alarm beside the copy that replaced them.
   */
  canPublish(): boolean {
    return this.current !== undefined && !this.blocked;
  }

  /** Called each time publishing becomes possible: a channel opened (every (re)connect and reopen), or the broker unblocked. */
  onReady(listener: () => void): void {
    this.readyListeners.push(listener);
  }

  /**
   * Resolves once a publish can reach the broker (at once if it can now), when the publisher
   * closes, when `signal` aborts, or after `timeoutMs`.
   */
  async whenPublishable(signal: AbortSignal, timeoutMs = Number.POSITIVE_INFINITY): Promise<void> {
    if (this.canPublish() || this.closed || signal.aborted) return;
    let wake: () => void = () => undefined;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      wake = resolve;
      this.waiters.add(wake);
      signal.addEventListener('abort', wake, { once: true });
      if (Number.isFinite(timeoutMs)) timer = setTimeout(wake, timeoutMs);
    });
    clearTimeout(timer);
    this.waiters.delete(wake);
    signal.removeEventListener('abort', wake);
  }

  async attach(model: ChannelModel): Promise<void> {
    if (this.closed) return;
    this.model = model;
    this.blocked = false;
    model.on('error', (err: Error) => this.log.debug({ err }, 'publisher connection error'));
    model.on('blocked', () => {
      if (this.model === model) this.blocked = true;
    });
    model.on('unblocked', () => {
      if (this.model !== model || !this.blocked) return;
      this.blocked = false;
      if (this.current) this.announceReady();
    });
    model.once('close', () => {
      if (this.model === model) this.model = undefined;
    });
    await this.openChannel(model);
  }

  /** Stops publishing and reopening; the channel closes with its connection. */
  close(): void {
    this.closed = true;
    this.current = undefined;
    clearTimeout(this.reopenTimer);
    for (const wake of [...this.waiters]) wake();
  }

  async publish(message: OutgoingMessage): Promise<PublishOutcome> {
    const [outcome] = await this.publishBatch([message]);
    return outcome ?? { status: 'not_sent', reason: 'no outcome' };
  }

  /**
   * Publishes every message in order, then waits for all confirms; one deadline for the batch.
   * A message (the very object) whose earlier publish timed out and whose copy the broker has since
   * routed is `published` without a second copy: a caller that holds its work until the broker
   * takes the message, through a resource alarm say, retries with the same object, and the copy
   * that timed out may be confirmed while it pauses. Only that caller's own copy answers so: another
   * message with the same bytes (a replay asked for again) is a copy of its own.
   */
  async publishBatch(messages: OutgoingMessage[]): Promise<PublishOutcome[]> {
    const current = this.current;
    if (!current) return messages.map(() => ({ status: 'not_sent', reason: 'no broker channel' }));
    if (this.blocked) return messages.map(() => ({ status: 'not_sent', reason: BLOCKED }));
    const deadline = Date.now() + this.settings.confirmTimeoutMs;
    const confirms: Promise<PublishOutcome>[] = [];
    let unsent: PublishOutcome = { status: 'not_sent', reason: 'no outcome' };
    for (const message of messages) {
      const late = this.lateAnswers.get(message);
      if (late?.outcome?.status === 'published') {
        confirms.push(Promise.resolve(late.outcome));
        continue;
      }
      if (late?.outcome) this.lateAnswers.delete(message);
      const key = returnKey(message.exchange, message.routingKey, message.properties?.messageId);
      // Checked again after every wait, with no await between the check and the hand-over: several
      // publishes of one key wake together when the earlier one is answered, and only one may go.
      let earlier: Awaited<ReturnType<typeof earlierCopy>> = 'free';
      while (earlier === 'free' && current.unconfirmed.has(key))
        earlier = await earlierCopy(current, message, key, deadline);
      if (earlier === 'published') {
        confirms.push(Promise.resolve({ status: 'published' }));
        continue;
      }
      if (earlier === 'timed out') {
        unsent = { status: 'not_sent', reason: 'the same message sent earlier is still unconfirmed' };
        break;
      }
      const sent = handOver(current, message, key);
      if (!sent) {
        unsent = { status: 'not_sent', reason: 'channel closed' };
        break;
      }
      confirms.push(sent.answered);
      // The socket buffer is full: wait for it to empty rather than pile up memory.
      const drained = sent.accepted ? 'drained' : await waitForDrain(current, deadline);
      if (drained !== 'drained') {
        const reason = drained === 'closed' ? 'channel closed' : 'socket buffer not drained before the timeout';
        unsent = { status: 'not_sent', reason };
        break;
      }
    }
    const outcomes = await allBeforeDeadline(confirms, deadline, TIMED_OUT);
    outcomes.forEach((outcome, index) => {
      const message = messages[index];
      const answered = confirms[index];
      if (outcome === TIMED_OUT && message && answered) this.awaitLateAnswer(message, answered);
    });
    return messages.map((_, index) => outcomes[index] ?? unsent);
  }

  private awaitLateAnswer(message: OutgoingMessage, answered: Promise<PublishOutcome>): void {
    const late: { outcome: PublishOutcome | undefined } = { outcome: undefined };
    this.lateAnswers.set(message, late);
    void answered.then((outcome) => {
      late.outcome = outcome;
    });
  }

  private async openChannel(model: ChannelModel): Promise<void> {
    const current = await openPublisherChannel(model, {
      exchanges: this.settings.assertExchanges ?? [],
      log: this.log,
      onClose: (closed) => this.onChannelClosed(closed),
    });
    if (this.closed) return;
    this.current = current;
    this.announceReady();
  }

  private announceReady(): void {
    for (const listener of this.readyListeners) listener();
    for (const wake of [...this.waiters]) wake();
  }

  private onChannelClosed(current: PublisherChannel): void {
    if (this.current !== current) return;
    this.current = undefined;
    this.scheduleReopen();
  }

  private scheduleReopen(): void {
    const model = this.model;
    if (this.closed || !model) return; // the connection is gone; recovery's setup reopens.
    clearTimeout(this.reopenTimer);
    this.reopenTimer = setTimeout(() => {
      if (this.closed || this.model !== model || this.current) return;
      this.openChannel(model).catch((err: unknown) => {
        this.log.warn({ err }, 'reopening the publisher channel failed; retrying');
        this.scheduleReopen();
      });
    }, this.settings.reopenDelayMs);
    this.reopenTimer.unref();
  }
}
