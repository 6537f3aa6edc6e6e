import type { Logger } from '@notify/shared/platform';
import pg from 'pg';
import { OUTBOX_CHANNEL } from './outbox-repository.js';

export type OutboxListenerSettings = {
  databaseUrl: string;
  applicationName: string;
  /** Only notifications naming this exchange wake the relay: other topologies share the database. */
  exchange: string;
  reconnectDelayMs: number;
  /** Bounds the connection attempt and the LISTEN statement. */
  timeoutMs?: number;
};

export type OutboxListener = {
  /** True while LISTEN is in place: this instance's own commits reach its relay through it too. */
  isListening: () => boolean;
  close: () => Promise<void>;
};

/**
 * Hears every instance's outbox commits (`pg_notify` in the insert's transaction) and wakes this
 * instance's relay, so that a second instance need not wait for its poll. LISTEN belongs to a
 * session, so this is a connection of its own, not a pooled one. When it drops, it comes back
 * after `reconnectDelayMs` and wakes the relay once: a commit while nobody listened went unheard.
 * The relay's poll stays as the fallback while it is away.
 */
export function listenForOutboxRows(
  settings: OutboxListenerSettings,
  deps: { log: Logger; onRows: () => void },
): OutboxListener {
  const { log, onRows } = deps;
  const timeoutMs = settings.timeoutMs ?? 5_000;
  let latest: pg.Client | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let closed = false;
  let listenedBefore = false;
  let listening = false;

  const retry = (failed: pg.Client, err: unknown) => {
    // Only the newest client may schedule: a late 'end' of an old one must not start a second.
    if (closed || failed !== latest || retryTimer) return;
    listening = false;
    log.warn({ err }, 'outbox listener lost its database connection; relay polls until it is back');
    failed.end().catch(() => undefined);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, settings.reconnectDelayMs);
  };

  const connect = async () => {
    if (closed) return;
    const client = new pg.Client({
      connectionString: settings.databaseUrl,
      application_name: settings.applicationName,
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
      keepAlive: true,
    });
    latest = client;
    client.on('error', (err) => retry(client, err));
    client.on('end', () => retry(client, new Error('connection ended')));
    client.on('notification', ({ channel, payload }) => {
      if (channel === OUTBOX_CHANNEL && payload === settings.exchange) onRows();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
    } catch (err) {
      retry(client, err);
      return;
    }
    if (closed) {
      await client.end().catch(() => undefined);
      return;
    }
    log.info({ channel: OUTBOX_CHANNEL, again: listenedBefore }, 'outbox listener listening');
    listenedBefore = true;
    listening = true;
    onRows();
  };

  void connect();
  return {
    isListening: () => listening && !closed,
    close: async () => {
      closed = true;
      clearTimeout(retryTimer);
      await latest?.end().catch(() => undefined);
    },
  };
}
