import { describeProblem, type MessageDecodeError, type Operation, type Topology } from '@notify/shared';
import { type Logger, type OutgoingMessage, type PublishOutcome, scrubAddresses } from '@notify/shared/platform';
import type { ConsumeMessage } from 'amqplib';
import { abortableSleep } from '../domain/abortable-sleep.js';
import type { NotificationDelivery, SendNotificationOutcome } from '../domain/send-notification.js';
import { deadLetterCopy } from './dead-letter.js';
import type { DeadLetterCause, Decision } from './decisions.js';
import { decodeDelivery } from './decode-delivery.js';
import type { DeliveryAcks } from './delivery-acks.js';
import { delayedCopyProperties, readDelivery, readTraceId } from './delivery-headers.js';
import { delayQueueName } from './topology.js';

export type DeliveryDecisionDeps = {
  topology: Topology;
  handle: (delivery: NotificationDelivery, signal: AbortSignal) => Promise<SendNotificationOutcome>;
  /** Confirmed publishing on a channel of its own (dead letters, delayed retries). */
  publish: (message: OutgoingMessage) => Promise<PublishOutcome>;
  /**
   * Resolves once a publish can reach the broker again (its channel open, no resource alarm), on
   * abort, or after `timeoutMs`.
   */
  whenPublishable: (signal: AbortSignal, timeoutMs: number) => Promise<void>;
  /**
   * How long a delivery may be held, from its arrival, while its copy waits for the publisher;
   * short of the broker's consumer timeout, which would take back every delivery of the channel.
   */
  holdLimitMs: number;
  log: Logger;
  /**
   * How long to hold a message whose handling threw, or whose copy the broker refused, before
   * requeueing it. The wait ends with the delivery's `stopWork`: on shutdown the message goes back
   * at once; with its channel closed the broker has it back already.
   */
  requeueDelayMs: number;
  /** Told of every ack and requeue once it is handed to the delivery's channel. */
  decided: (decision: Decision) => void;
};

/**
 * The channel a delivery came on. Its ack or nack goes back on that channel (`acks`), and only
 * while it is open; `stopWork` is the signal the use case is handled with (shutdown, or this
 * channel closing).
 */
export type DeliveryChannel = { acks: DeliveryAcks; closed: AbortSignal; stopWork: AbortSignal };

/** What the broker not taking each kind of copy means for its delivery, as the log says it. */
const WHEN_NOT_TAKEN = {
  'dead-letter copy': { failure: 'dead-lettering failed', consequence: 'the message stays on the queue' },
  'delayed copy': { failure: 'rescheduling failed', consequence: 'the message goes back to the queue' },
} as const;
type Copy = keyof typeof WHEN_NOT_TAKEN;

/**
 * The delivery a decision is about, the logger whose lines carry its trace id, and until when it
 * may wait for the publisher.
 */
type Subject = { trackingId: string | undefined; operation: Operation | undefined; log: Logger; holdUntil: number };

/**
 * decode → validate → hand to the use case → map its outcome to ack, dead-letter, delayed retry
 * or requeue. Returns the function that does it for one delivery; it never throws for a message
 * the handler can decide about, whatever the message holds.
 */
export function createDeliveryDecisions(deps: DeliveryDecisionDeps) {
  const { log, topology } = deps;

  async function decide(on: DeliveryChannel, delivery: ConsumeMessage): Promise<void> {
    const holdUntil = Date.now() + deps.holdLimitMs;
    const traceId = readTraceId(delivery);
    const deliveryLog = traceId ? log.child({ traceId }) : log;
    const decoded = decodeDelivery(delivery);
    const subject: Subject = decoded.ok
      ? { trackingId: decoded.message.trackingId, operation: decoded.message.operation, log: deliveryLog, holdUntil }
      : { trackingId: decoded.error.trackingId, operation: undefined, log: deliveryLog, holdUntil };
    // Every step is awaited inside the try: a dead-letter copy or a reschedule that throws must reach
    // the catch and go back to the queue, not leave the delivery unacked on the channel until it closes.
    try {
      if (!decoded.ok) return await deadLetterInvalid(on, delivery, decoded.error, subject);
      const { trackingId, operation, occurredAt } = decoded.message;
      const known = { ...subject, trackingId, operation };
      const notification = readDelivery(decoded.message, delivery);
      const outcome = await deps.handle(notification, on.stopWork);
      if (outcome.kind === 'failed') return await deadLetter(on, delivery, known, outcome.reason, 'send_failed');
      if (outcome.kind === 'refused') return await deadLetter(on, delivery, known, outcome.reason, 'refused');
      // Its first delivery settled the row failed and then met a full dead-letter queue, or lost its
      // ack: a second copy in the dead-letter queue is better than none.
      if (outcome.kind === 'already_failed')
        return await deadLetter(on, delivery, known, outcome.reason, 'already_failed');
      if (outcome.kind === 'rescheduled') return await reschedule(on, delivery, known, outcome);
      if (outcome.kind === 'interrupted') return requeue(on, delivery, known, 'interrupted');
      const { replay } = notification;
      ack(on, delivery, { kind: 'acked', trackingId, operation, outcome: outcome.kind, occurredAt, replay });
    } catch (err) {
      deliveryLog.error({ err, trackingId: subject.trackingId }, 'notification not processed; back to the queue');
      await abortableSleep(deps.requeueDelayMs, on.stopWork);
      requeue(on, delivery, subject, (err as Error).message);
    }
  }

  function deadLetterInvalid(
    on: DeliveryChannel,
    delivery: ConsumeMessage,
    error: MessageDecodeError,
    subject: Subject,
  ) {
    // A problem may quote the body (JSON.parse does, and so does a wrong schemaVersion).
    const reasons = error.problems.map((problem) => scrubAddresses(describeProblem(problem)));
    subject.log.warn({ trackingId: subject.trackingId, reasons }, 'invalid message dead-lettered');
    return deadLetter(on, delivery, subject, `invalid message: ${reasons.join('; ')}`, 'invalid_message');
  }

  /** A copy with the reason in its headers goes to the dead-letter exchange, then the original is acked. */
  async function deadLetter(
    on: DeliveryChannel,
    delivery: ConsumeMessage,
    subject: Subject,
    reason: string,
    cause: DeadLetterCause,
  ) {
    const { trackingId, operation } = subject;
    // The last door out: whatever a reason quotes, no address leaves in clear with the copy.
    const scrubbed = scrubAddresses(reason);
    const copy = deadLetterCopy(delivery, scrubbed);
    // A full dead-letter queue refuses for as long as nobody drains it: the original waits on the
    // work queue meanwhile.
    const message = { exchange: topology.deadLetterExchange, ...copy, properties: copy.options };
    if (!(await publishOrRequeue(on, delivery, message, subject, 'dead-letter copy'))) return;
    ack(on, delivery, { kind: 'dead-lettered', trackingId, operation, reason: scrubbed, cause });
  }

  /** The message waits in the delay queue for its wait, holding no prefetch slot, then comes back. */
  async function reschedule(
    on: DeliveryChannel,
    delivery: ConsumeMessage,
    subject: Subject & { trackingId: string; operation: Operation },
    outcome: Extract<SendNotificationOutcome, { kind: 'rescheduled' }>,
  ) {
    const message = {
      exchange: '',
      routingKey: delayQueueName(topology, outcome.delayMs),
      content: delivery.content,
      properties: delayedCopyProperties(delivery, outcome.redeliveries),
    };
    // Requeued instead (refused, a stop, or held to its limit), the row (retry_scheduled) is claimed
    // again when it comes back: an early attempt, no loss.
    if (!(await publishOrRequeue(on, delivery, message, subject, 'delayed copy'))) return;
    ack(on, delivery, {
      kind: 'rescheduled',
      trackingId: subject.trackingId,
      operation: subject.operation,
      delayMs: outcome.delayMs,
      nextAttemptAt: outcome.nextAttemptAt,
    });
  }

  /**
   * Publishes the copy the delivery's ack waits for; true once the broker took it. Otherwise the
   * delivery has gone back to the queue (or, its channel closed, to the broker already).
   */
  async function publishOrRequeue(
    on: DeliveryChannel,
    delivery: ConsumeMessage,
    message: OutgoingMessage,
    subject: Subject,
    copy: Copy,
  ): Promise<boolean> {
    const result = await publishHolding(on, message, subject, copy);
    if (result.status === 'published') return true;
    await requeueUnpublished(on, delivery, subject, result.reason, copy);
    return false;
  }

  /**
   * A copy the delivery's ack waits for. A publisher that cannot publish now (no channel,
   * a resource alarm, no confirm in time) is an outage of our own, like the database's: the
   * delivery waits for it, held, rather than going back to the queue, where each round would spend
   * one of its deliveries (past the limit the broker dead-letters it, its row still waiting for a
   * retry) and, for a retry, a round of provider calls. A refusal is answered at once; the wait ends
   * on a stop, when the channel closes, or at the hold limit, and the last outcome is returned.
   */
  async function publishHolding(
    on: DeliveryChannel,
    message: OutgoingMessage,
    subject: Subject,
    copy: Copy,
  ): Promise<PublishOutcome> {
    // The broker gives the delivery back with its channel: a copy published now would be one more.
    if (on.closed.aborted) return { status: 'not_sent', reason: "the delivery's channel closed" };
    let result = await deps.publish(message);
    let attempts = 1;
    while (result.status === 'failed' || result.status === 'not_sent') {
      if (on.stopWork.aborted || Date.now() >= subject.holdUntil) return result;
      const line = { trackingId: subject.trackingId, reason: result.reason, attempts };
      if (attempts === 1)
        subject.log.warn(line, `${copy} not published; holding the delivery until the broker takes it`);
      else subject.log.debug(line, `${copy} still not published`);
      // After a lost channel or a confirm timeout the publisher may look able again at once: a
      // pause keeps held deliveries from turning into a loop of publishes.
      await abortableSleep(deps.requeueDelayMs, on.stopWork);
      await deps.whenPublishable(on.stopWork, Math.max(0, subject.holdUntil - Date.now()));
      if (on.stopWork.aborted || Date.now() >= subject.holdUntil) return result;
      result = await deps.publish(message);
      attempts += 1;
    }
    if (attempts > 1) subject.log.info({ trackingId: subject.trackingId, attempts }, `${copy} published after a wait`);
    return result;
  }

  /**
   * A copy the broker did not take: the delivery goes back to the queue after the requeue delay, so
   * that a broker refusing it meets no hot loop (of provider calls, for a retry). Not when its channel
   * closed: the broker has it back already, and a window of held deliveries would each log a line.
   * An error, but for a stop: a graceful stop hands back what it held, as any stop does.
   */
  async function requeueUnpublished(
    on: DeliveryChannel,
    delivery: ConsumeMessage,
    subject: Subject,
    reason: string,
    copy: Copy,
  ): Promise<void> {
    const { failure, consequence } = WHEN_NOT_TAKEN[copy];
    const fields = { trackingId: subject.trackingId, reason };
    if (on.closed.aborted) return subject.log.debug(fields, "copy not published: the delivery's channel closed");
    if (on.stopWork.aborted) subject.log.warn(fields, `${failure}; ${consequence}`);
    else subject.log.error(fields, `${failure}; ${consequence}`);
    await abortableSleep(deps.requeueDelayMs, on.stopWork);
    requeue(on, delivery, subject, `${failure}: ${reason}`);
  }

  function ack(on: DeliveryChannel, delivery: ConsumeMessage, decision: Decision): void {
    on.acks.ack(delivery, () => tell(decision));
  }

  /** Back to the queue: as a failure, but for a stop, whose deliveries are only given back. */
  function requeue(on: DeliveryChannel, delivery: ConsumeMessage, { trackingId, operation }: Subject, reason: string) {
    if (on.acks.requeue(delivery, { failed: !on.stopWork.aborted }))
      tell({ kind: 'requeued', trackingId, operation, reason });
  }

  /** The decision reached the broker: a listener that throws must not send the delivery through the catch again. */
  function tell(decision: Decision): void {
    try {
      deps.decided(decision);
    } catch (err) {
      log.error({ err, decision: decision.kind }, 'a listener of decided deliveries failed');
    }
  }

  return decide;
}
