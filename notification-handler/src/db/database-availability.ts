import { EventEmitter, once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@notify/shared/platform';
import type pg from 'pg';
import { classifyDatabaseError, DatabaseRefusal, DatabaseWaitInterrupted } from './database-errors.js';

export type DatabaseAvailability = ReturnType<typeof createDatabaseAvailability>;

/** How often a statement that fails during a stop runs, at once, before it is given up. */
const TRIES_WHILE_STOPPING = 3;

/**
 * What the consumer's statements need of the handler's tables: claims read, insert and update
 * notifications; settlements add their attempts.
 */
const CONSUMER_GRANTS: ReadonlyArray<readonly [table: string, privilege: string]> = [
  ['notifications.notifications', 'SELECT'],
  ['notifications.notifications', 'INSERT'],
  ['notifications.notifications', 'UPDATE'],
  ['notifications.notification_attempts', 'INSERT'],
];

/**
 * The probe after an outage asks whether the database takes the consumer's writes, since that is
 * what the statements that found it away need: a standby answering during a failover, or a server
 * set read-only, answers `SELECT 1` while every claim still fails; so does one whose tables a
 * restore has not brought back yet (the probe fails on the missing table too), or whose grants
 * were taken from the handler's role.
 */
export async function probeWritable(db: Pick<pg.Pool, 'query'>): Promise<void> {
  const { rows } = await db.query<{ writable: boolean; granted: boolean }>(
    `SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off' AS writable,
            bool_and(has_table_privilege(g.tbl, g.privilege)) AS granted
       FROM unnest($1::text[], $2::text[]) AS g(tbl, privilege)`,
    [CONSUMER_GRANTS.map(([table]) => table), CONSUMER_GRANTS.map(([, privilege]) => privilege)],
  );
  if (!rows[0]?.writable) throw new Error('the database answers but takes no writes (read-only or a standby)');
  if (!rows[0].granted) {
    throw new Error("the database answers but the handler's role lacks a grant on its tables (SELECT, INSERT, UPDATE)");
  }
}

type Events = { change: [up: boolean] };

/**
 * Whether the database answers, as the handler's statements find it. A statement that finds it away
 * marks it so (the consumer pauses on that) and waits; a probe asks again every `probeIntervalMs`
 * until it answers, then every waiting statement runs again. A statement is never given up for an
 * outage, however long: holding a message costs nothing, failing it would lose an email.
 */
export function createDatabaseAvailability(
  ping: () => Promise<unknown>,
  { probeIntervalMs, log }: { probeIntervalMs: number; log: Logger },
) {
  const events = new EventEmitter<Events>();
  events.setMaxListeners(0);
  const closed = new AbortController();
  let up = true;

  function markAway(err: unknown): void {
    if (!up) return;
    up = false;
    log.warn({ err }, 'database away: pausing consumption, holding messages in flight');
    events.emit('change', false);
    // One probe loop per outage: only the change from up to away starts one.
    probeUntilBack().catch((probeError: unknown) => log.error({ err: probeError }, 'database probe failed'));
  }

  async function probeUntilBack(): Promise<void> {
    const startedAt = Date.now();
    while (!closed.signal.aborted) {
      await sleep(probeIntervalMs, undefined, { signal: closed.signal }).catch(() => undefined);
      if (closed.signal.aborted) return;
      try {
        await ping();
        up = true;
        log.info({ awayMs: Date.now() - startedAt }, 'database answers again: resuming');
        events.emit('change', true);
        return;
      } catch {
        // still away; the next probe follows
      }
    }
  }

  async function whenUp(): Promise<void> {
    while (!up) {
      if (closed.signal.aborted) throw new DatabaseWaitInterrupted();
      await once(events, 'change', { signal: closed.signal }).catch(() => undefined);
    }
  }

  /**
   * Runs `statement` until it succeeds. Away: wait until the database answers, then again. A
   * conflict: again at once. Refused: throws DatabaseRefusal. Ends only with shutdown (throws
   * DatabaseWaitInterrupted).
   */
  async function runThroughOutages<T>(statement: () => Promise<T>): Promise<T> {
    let triesWhileStopping = 0;
    for (;;) {
      await whenUp();
      try {
        return await statement();
      } catch (error) {
        const failure = classifyDatabaseError(error);
        if (failure === 'refused') throw new DatabaseRefusal(error as Error);
        if (!closed.signal.aborted) {
          if (failure === 'unavailable') markAway(error);
          continue;
        }
        // Stopping, the drain still settles what is in flight: nothing waits for the database any
        // more, but one lost connection (a pooled one the server ended) or a deadlock is tried again
        // at once, and marks nothing away. Marking it would fail every later statement of the drain
        // unasked, a sent email's record among them, and its message would send it again.
        triesWhileStopping += 1;
        if (triesWhileStopping >= TRIES_WHILE_STOPPING) throw new DatabaseWaitInterrupted();
      }
    }
  }

  return {
    isUp: () => up,
    onChange: (listener: (up: boolean) => void) => events.on('change', listener),
    markAway,
    runThroughOutages,
    /** Ends every wait (shutdown); statements in flight finish as they will. */
    close(): void {
      closed.abort();
    },
  };
}
