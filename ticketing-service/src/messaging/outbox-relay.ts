import {
  beforeDeadline,
  inTransaction,
  type Logger,
  type OutgoingMessage,
  type PublishOutcome,
} from '@notify/shared/platform';
import type pg from 'pg';
import { claimDueRows, type OutboxRow, releaseUnpublished, type UnpublishedRow } from '../db/outbox-repository.js';

export type BatchPublisher = {
  /** False while no channel is open or the broker blocks publishing: the relay then claims nothing. */
  canPublish: () => boolean;
  publishBatch: (messages: OutgoingMessage[]) => Promise<PublishOutcome[]>;
};

export type RelaySettings = {
  /** The relay claims only rows addressed to this exchange: its own topology. */
  exchange: string;
  batchSize: number;
  pollIntervalMs: number;
  /**
   * After a wake-up, how long the relay lets more commits gather before it claims: at a steady
   * rate each batch then carries the rows of that window for one claim's round trips, instead of
   * one claim per commit.
   */
  lingerMs: number;
  /** Longest wait before a row the broker refused is tried again. */
  retryMaxDelayMs: number;
  /**
   * Batches whose confirms may be awaited at once. With more than one, the relay claims the next
   * batch while the broker confirms the last, so a backlog drains at the publish rate rather than
   * at one confirm round trip per batch. Each batch holds a connection of `pool` while it is open.
   */
  batchesInFlight: number;
};

export type BatchSummary = { claimed: number; published: number; refused: number; failed: number };

const NOTHING_CLAIMED: BatchSummary = { claimed: 0, published: 0, refused: 0, failed: 0 };

/** A batch under way: how many rows it claimed, known before its confirms; then its outcome. */
type BatchInFlight = { claimed: Promise<number>; settled: Promise<BatchSummary> };

/**
 * Moves committed outbox rows to RabbitMQ. A batch is claimed and marked published in one
 * statement (FOR UPDATE SKIP LOCKED) of a transaction held while it is published and confirmed:
 * other relays skip those rows, and if this process dies mid-batch its locks and its uncommitted
 * mark go with its connection and the rows are simply pending again. The transaction commits only
 * after the broker confirmed, with the rows it did not confirm handed back first, so a row is
 * published for good only once confirmed: delivery is at least once. Three round trips a batch:
 * BEGIN, the claim, COMMIT. While a full batch awaits its confirms, the next one is claimed on
 * another connection (up to `batchesInFlight`): the first batch's rows are locked, so SKIP LOCKED
 * passes over them. The relay should have a pool of its own: on the API's pool, each batch would
 * wait behind the queued requests, and the outbox would fall behind exactly when the API is busiest.
 */
export class OutboxRelay {
  private loop: Promise<void> | undefined;
  private stopping = false;
  /** Epoch ms: past it the stop waits for no batch and starts none. */
  private stopDeadline = Number.POSITIVE_INFINITY;
  private woken = false;
  private wakeSleeper: () => void = () => undefined;

  constructor(
    private readonly deps: {
      pool: pg.Pool;
      publisher: BatchPublisher;
      log: Logger;
      /** After each batch's transaction committed (metrics): its rows are published for good. */
      onBatchCommitted?: (summary: BatchSummary) => void;
    },
    private readonly settings: RelaySettings,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** After a commit, or when the broker comes back: publish now rather than at the next poll. */
  wake(): void {
    this.woken = true;
    this.wakeSleeper();
  }

  /**
   * Lets the batches in flight settle (confirms or their timeout), relays one last batch, then
   * stops. The last batch carries the rows that the last requests committed while the loop
   * lingered or slept, which would otherwise wait for the next start of some instance. Not after a
   * batch that failed: those rows wait for the next relay.
   *
   * Waits for batches until `deadline` (epoch ms) at most, if given: a database gone silent holds
   * each statement for a whole read timeout, and a stop that waited for a batch stuck on it, then
   * for a last batch stuck in turn, would overrun the service's shutdown bound. A batch left behind
   * loses nothing. It commits only what the broker confirmed, as any batch does, or nothing once
   * the pool's end drops its connection (the server rolls back its claim); its other rows stay
   * pending for another relay or the next start, which publishes again any that this one sent:
   * delivery is at least once, and consumers deduplicate by tracking id.
   */
  async stop(deadline?: number): Promise<void> {
    this.stopping = true;
    if (deadline !== undefined) this.stopDeadline = deadline;
    this.wake();
    if (deadline === undefined) return this.loop;
    const stopped = this.loop?.then(() => true) ?? Promise.resolve(true);
    if (await beforeDeadline(stopped, deadline, false)) return;
    this.deps.log.warn(
      'outbox batches still under way at the stop deadline: left to roll back; their rows wait for the next relay',
    );
  }

  /** One batch: claim, publish, await confirms, record. Exposed for tests and tools. */
  relayBatch(): Promise<BatchSummary> {
    return this.beginBatch().settled;
  }

  private beginBatch(): BatchInFlight {
    const { pool, publisher } = this.deps;
    let reportClaimed: (count: number) => void = () => undefined;
    const claimed = new Promise<number>((resolve) => {
      reportClaimed = resolve;
    });
    const settled = (async () => {
      try {
        if (!publisher.canPublish()) return NOTHING_CLAIMED;
        const summary = await inTransaction(pool, async (client) => {
          const rows = await claimDueRows(client, this.settings.exchange, this.settings.batchSize);
          reportClaimed(rows.length);
          if (rows.length === 0) return NOTHING_CLAIMED;
          const outcomes = await publisher.publishBatch(rows.map(toOutgoing));
          return this.record(client, rows, outcomes);
        });
        this.deps.onBatchCommitted?.(summary);
        return summary;
      } finally {
        reportClaimed(0); // no claim happened (broker not ready, no connection): nothing to chain on
      }
    })();
    return { claimed, settled };
  }

  private async run(): Promise<void> {
    const inFlight = new Set<Promise<unknown>>();
    let lastBatchFailed = false;
    while (!this.stopping) {
      if (inFlight.size >= this.settings.batchesInFlight) {
        await Promise.race(inFlight);
        continue;
      }
      this.woken = false;
      const batch = this.beginBatch();
      const tracked = batch.settled
        .then((summary) => {
          lastBatchFailed = summary.failed > 0;
        })
        .catch((err: unknown) => {
          lastBatchFailed = true;
          this.deps.log.warn({ err }, 'outbox batch failed; retrying at the next poll');
        })
        .finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      // A full batch means a backlog: claim the next at once, without waiting for this one's
      // confirms. Short of that, let the batches in flight settle first, so that the rows
      // committed meanwhile go out as one batch, not as many small ones (each costs the relay,
      // the broker and the handler per batch, not per row). After a batch the broker failed, let
      // them settle too, and wait for the poll unless the last of them went through: a broker
      // failing every publish gets a batch or two per poll, not the backlog.
      const full = (await batch.claimed) === this.settings.batchSize;
      if (!full || lastBatchFailed) await Promise.all(inFlight);
      if (this.stopping) break;
      if (full && !lastBatchFailed) continue;
      if (!this.woken) await this.sleep(this.settings.pollIntervalMs);
      if (this.woken && !this.stopping && this.settings.lingerMs > 0) await this.linger();
    }
    await Promise.all(inFlight);
    // A broker that did not confirm the last batch (gone silent, say) would hold a last one for a
    // whole confirm timeout more, its rows included again (an unconfirmed row is due at once): two
    // timeouts, past a stop bound sized for one, and the closers after the relay would never run.
    if (lastBatchFailed) {
      this.deps.log.warn(
        'the last outbox batch failed: no last batch before stopping; its rows wait for the next relay',
      );
      return;
    }
    // The stop's time for its work is spent (or stop() stopped waiting while the batches in
    // flight settled): a batch started now would run on while the pools close.
    if (Date.now() >= this.stopDeadline) {
      this.deps.log.warn('no time left for a last outbox batch before stopping; pending rows wait for the next relay');
      return;
    }
    await this.relayBatch().catch((err: unknown) =>
      this.deps.log.warn({ err }, 'last outbox batch before stopping failed; its rows wait for the next relay'),
    );
  }

  /** Waits out the linger; only stop() cuts it short. */
  private linger(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, this.settings.lingerMs);
      this.wakeSleeper = () => {
        if (!this.stopping) return;
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeSleeper = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async record(client: pg.PoolClient, rows: OutboxRow[], outcomes: PublishOutcome[]): Promise<BatchSummary> {
    let published = 0;
    const unpublished: UnpublishedRow[] = [];
    rows.forEach((row, index) => {
      const outcome = outcomes[index] ?? { status: 'not_sent', reason: 'no outcome' };
      if (outcome.status === 'published') published++;
      else if (outcome.status === 'not_sent') unpublished.push({ id: row.id });
      else {
        unpublished.push({ id: row.id, error: outcome.reason, refused: outcome.status === 'refused' });
        this.logFailure(row, outcome);
      }
    });
    await releaseUnpublished(client, unpublished, this.settings.retryMaxDelayMs);
    const failures = unpublished.filter((row) => row.error !== undefined);
    const refused = failures.filter((row) => row.refused).length;
    const summary = { claimed: rows.length, published, refused, failed: failures.length - refused };
    this.deps.log.debug({ ...summary, exchange: this.settings.exchange }, 'outbox batch relayed');
    return summary;
  }

  private logFailure(row: OutboxRow, outcome: PublishOutcome & { reason: string }): void {
    this.deps.log.warn(
      {
        trackingId: row.trackingId,
        exchange: row.exchange,
        routingKey: row.routingKey,
        attempt: row.attempts + 1,
        reason: outcome.reason,
      },
      outcome.status === 'refused'
        ? 'broker refused a notification; it stays pending'
        : 'notification not confirmed; it stays pending',
    );
  }
}

function toOutgoing(row: OutboxRow): OutgoingMessage {
  return {
    exchange: row.exchange,
    routingKey: row.routingKey,
    content: row.content,
    properties: row.properties,
  };
}
