import type { Db } from './queryable.js';

export type IdempotencyKeyRow = {
  fingerprint: string;
  responseStatus: number | null;
  responseBody: unknown;
};

/**
 * True when this transaction now owns the key: a new key, or one older than `ttlHours`, which is
 * taken over as new (an expired key never replays, even before the purge deleted it). If another
 * transaction inserted or took over the same key and has not finished, PostgreSQL makes this one
 * wait for its outcome: on its commit this returns false and the caller reads the stored response;
 * on its rollback this one goes through. A live key is locked until this transaction ends, so
 * replays of one key take turns.
 */
export async function claimIdempotencyKey(
  db: Db,
  key: string,
  fingerprint: string,
  ttlHours: number,
): Promise<boolean> {
  const result = await db.query(
    `INSERT INTO ticketing.idempotency_keys AS k (key, fingerprint) VALUES ($1, $2)
     ON CONFLICT (key) DO UPDATE
        SET fingerprint = EXCLUDED.fingerprint, response_status = NULL, response_body = NULL, created_at = now()
      WHERE k.created_at < now() - make_interval(hours => $3::int)
     RETURNING key`,
    [key, fingerprint, ttlHours],
  );
  return result.rowCount === 1;
}

export async function findIdempotencyKey(db: Db, key: string): Promise<IdempotencyKeyRow | undefined> {
  const result = await db.query<IdempotencyKeyRow>(
    `SELECT fingerprint, response_status AS "responseStatus", response_body AS "responseBody"
       FROM ticketing.idempotency_keys WHERE key = $1`,
    [key],
  );
  return result.rows[0];
}

export async function saveIdempotentResponse(db: Db, key: string, status: number, body: unknown): Promise<void> {
  await db.query(`UPDATE ticketing.idempotency_keys SET response_status = $2, response_body = $3 WHERE key = $1`, [
    key,
    status,
    JSON.stringify(body),
  ]);
}

/**
 * Deletes up to `limit` keys older than `ttlHours`, oldest first, through idempotency_keys_created;
 * the keys found are deleted by primary key from an array (see purgePublished).
 */
export async function purgeExpiredKeys(db: Db, ttlHours: number, limit: number): Promise<number> {
  const result = await db.query(
    `DELETE FROM ticketing.idempotency_keys
      WHERE key = ANY(ARRAY(
        SELECT key FROM ticketing.idempotency_keys
         WHERE created_at < now() - make_interval(hours => $1::int)
         ORDER BY created_at
         LIMIT $2
         FOR UPDATE SKIP LOCKED))`,
    [ttlHours, limit],
  );
  return result.rowCount ?? 0;
}
