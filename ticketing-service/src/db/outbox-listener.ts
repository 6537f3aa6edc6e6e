import { endClient, isReadTimeout, type Logger } from '@notify/shared/platform';
import pg from 'pg';
import { OUTBOX_CHANNEL } from './outbox-repository.js';

export type OutboxListenerSettings = {
  databaseUrl: string;
  applicationName: string;
  /** Only notifications naming this exchange wake the relay: other topologies share the database. */
  exchange: string;
  reconnectDelayMs: number;
  /** Bounds the connection attempt, the LISTEN statement and each check of the session. */
  timeoutMs?: number;
  /** How often the listening session is asked to answer (see IDLE_CHECK_MS). */
  idleCheckMs?: number;
};

export type OutboxListener = {
  /**
   * Tells the other instances that this one committed outbox rows. Call it after the commit:
   * announcements asked for while one is on its way, or within ANNOUNCE_GAP_MS of the last, go
   * out as one more after it, so commits cost at most one notification per gap, not one each.
   * Nothing is sent while the connection is away.
   */
  announce: () => void;
  close: () => Promise<void>;
};

/**
 * The least time between two announcements. Each commit already wakes its own instance's relay,
 * so an announcement only lets the others help: sent back to back under load it was one NOTIFY
 * per round trip, hundreds a second, each taking PostgreSQL's server-wide notify lock at its
 * commit. 50 ms bounds that at 20 a second and keeps the others well ahead of their poll.
 */
const ANNOUNCE_GAP_MS = 50;

/**
 * A listening session only receives: when its server or the network goes silent, nothing it sends
 * meets the silence unless the instance announces a commit, and an instance that commits nothing
 * would listen on a dead session until the kernel gave up on it (over two hours of TCP keepalive
 * by default), its relay woken by no other instance meanwhile. A statement this often, bounded by
 * the read timeout, finds the silence within one interval and a timeout.
 */
const IDLE_CHECK_MS = 30_000;

/**
 * The instance's session on the outbox channel. It hears the other instances' announcements and
 * wakes this instance's relay, so that a second instance need not wait for its poll (when the
 * first one's relay cannot publish, say); and it announces this instance's commits, from this
 * session and after the commit, never inside the command's transaction (see
 * `outboxInsertAfter`). It ignores its own announcements: the commit woke this relay directly.
 * LISTEN belongs to a session, so this is a connection of its own, not a pooled one. When it drops,
 * it comes back after `reconnectDelayMs` and wakes the relay once: an announcement while nobody
 * listened went unheard. The relay's poll stays as the fallback while it is away, and for rows
 * whose instance stopped between its commit and its announcement.
 */
export function listenForOutboxRows(
  settings: OutboxListenerSettings,
  deps: { log: Logger; onRows: () => void },
): OutboxListener {
  const { log, onRows } = deps;
  const timeoutMs = settings.timeoutMs ?? 5_000;
  let latest: pg.Client | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let checkTimer: NodeJS.Timeout | undefined;
  let closed = false;
  let listenedBefore = false;
  let listening = false;
  let announcing = false;
  let announceAgain = false;

  const retry = (failed: pg.Client, err: unknown) => {
    // Only the newest client may schedule: a late 'end' of an old one must not start a second.
    if (closed || failed !== latest || retryTimer) return;
    listening = false;
    clearInterval(checkTimer);
    log.warn({ err }, 'outbox listener lost its database connection; relay polls until it is back');
    void endClient(failed);
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
    client.on('notification', ({ channel, payload, processId }) => {
      const own = processId === (client as pg.Client & { processID?: number }).processID;
      if (channel === OUTBOX_CHANNEL && payload === settings.exchange && !own) onRows();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
    } catch (err) {
      retry(client, err);
      return;
    }
    if (closed) {
      await endClient(client);
      return;
    }
    log.info({ channel: OUTBOX_CHANNEL, again: listenedBefore }, 'outbox listener listening');
    listenedBefore = true;
    listening = true;
    checkWhileListening(client);
    onRows();
  };

  const checkWhileListening = (client: pg.Client) => {
    clearInterval(checkTimer);
    checkTimer = setInterval(() => {
      if (closed || client !== latest || !listening) return;
      // Any other failure ends the session through its 'error' or 'end', which retry already hears.
      client.query('SELECT 1').catch((err: unknown) => {
        if (isReadTimeout(err)) retry(client, err);
      });
    }, settings.idleCheckMs ?? IDLE_CHECK_MS);
    checkTimer.unref();
  };

  const announce = () => {
    const client = latest;
    if (!listening || closed || !client) return;
    if (announcing) {
      announceAgain = true;
      return;
    }
    announcing = true;
    client
      .query('SELECT pg_notify($1, $2)', [OUTBOX_CHANNEL, settings.exchange])
      .catch((err: unknown) => {
        // No answer at all: the session is as good as gone (a server or a network that went
        // silent), and it would go on hearing nothing; a new one is opened instead.
        if (isReadTimeout(err)) retry(client, err);
        else log.debug({ err }, 'outbox announcement not sent; other instances poll');
      })
      .then(() => new Promise((resolve) => setTimeout(resolve, ANNOUNCE_GAP_MS).unref()))
      .finally(() => {
        announcing = false;
        if (!announceAgain) return;
        announceAgain = false;
        announce();
      });
  };

  void connect();
  return {
    announce,
    close: async () => {
      closed = true;
      clearTimeout(retryTimer);
      clearInterval(checkTimer);
      // A server gone silent would hold a plain end() until the kernel gave up on the socket, and
      // the service's stop with it: the relay and the broker, closed after this, never would be.
      if (latest) await endClient(latest);
    },
  };
}
