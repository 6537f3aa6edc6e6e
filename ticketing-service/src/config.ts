import { commonEnv, envInt, envMs, envPort, maintenanceEnv, parseEnv } from '@notify/shared/platform';
import { z } from 'zod';

const ConfigSchema = z.object({
  ...commonEnv,
  PORT: envPort(3000),
  /** Fallback wake-up of the relay; a commit in any instance wakes it at once (LISTEN/NOTIFY). */
  OUTBOX_POLL_INTERVAL_MS: envMs(1_000, { min: 10, max: 600_000 }),
  /** After a wake-up, the relay waits this long for more commits before it claims a batch. */
  OUTBOX_BATCH_LINGER_MS: envMs(5, { min: 0, max: 1_000 }),
  /** Wait before the outbox listener's connection is opened again after it dropped. */
  OUTBOX_LISTEN_RECONNECT_MS: envMs(1_000, { min: 10, max: 600_000 }),
  /** Rows claimed per batch; times OUTBOX_BATCHES_IN_FLIGHT, the window of messages awaiting confirms. */
  OUTBOX_BATCH_SIZE: envInt(200, { min: 1, max: 5_000 }),
  /** Batches awaiting confirms at once; the relay's own database connections. */
  OUTBOX_BATCHES_IN_FLIGHT: envInt(2, { min: 1, max: 16 }),
  /** How long a batch waits for its confirms before leaving the unconfirmed rows pending. */
  OUTBOX_CONFIRM_TIMEOUT_MS: envMs(10_000, { min: 100, max: 600_000 }),
  /**
   * The API's connections to PostgreSQL; the relay, the probes, the metrics and the listener have
   * their own. On two cores, in the closed-loop bench: 2 and 4 cut the rate by a third and a
   * sixth; 20 gained about a twelfth but the work then queued after its 201, and accepted → sent
   * doubled at p99 (bench/README.md, "The API's pool size").
   */
  DATABASE_POOL_SIZE: envInt(10, { min: 1, max: 200 }),
  /**
   * Concurrent commands of one kind (a new cart, one with its tickets, an added ticket, a checkout) written in one
   * statement at most; 1 writes each in its own. A statement of 16 costs PostgreSQL about a third
   * of what 16 of their own do (bench/README.md, "What gathering commands could save").
   */
  WRITE_BATCH_SIZE: envInt(16, { min: 1, max: 1_000 }),
  /** Statements of one kind under way at once: commands that come while they run wait and go together. */
  WRITE_BATCHES_IN_FLIGHT: envInt(2, { min: 1, max: 64 }),
  /**
   * Requests waiting for the database (a connection, or their write's statement) past which new ones get 503 at once: about a
   * second of what the API serves on two cores. Lower, it refuses while the service's own CPU is
   * the limit, where a refusal costs CPU too and a checkout refused halfway wastes its first steps.
   */
  MAX_WAITING_REQUESTS: envInt(500, { min: 1, max: 100_000 }),
  /**
   * Carts this instance remembers as it last wrote them, so that the next command on one skips its
   * read (about 2 KiB for a cart of two lines); 0 turns it off. Never trusted: each write checks
   * the cart's version.
   */
  CART_CACHE_MAX_CARTS: envInt(10_000, { min: 0, max: 1_000_000 }),
  ...maintenanceEnv,
  /** Published outbox rows are deleted this long after publishing; pending ones never are. */
  OUTBOX_RETENTION_HOURS: envInt(24, { min: 1, max: 87_600 }),
  /** An Idempotency-Key older than this is a new key (no replay), and is deleted. */
  IDEMPOTENCY_KEY_TTL_HOURS: envInt(24, { min: 1, max: 87_600 }),
});

/** Every variable the service reads (docker compose passes each one through). */
export const TICKETING_SETTING_NAMES = Object.keys(ConfigSchema.shape);

export type Config = z.infer<typeof ConfigSchema>;

/** The one place that reads the environment; fails with one line per wrong variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  return parseEnv(ConfigSchema, env);
}
