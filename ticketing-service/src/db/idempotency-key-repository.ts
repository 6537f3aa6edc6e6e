import type { Db } from './queryable.js';

export type IdempotencyKeyRow = {
  fingerprint: string;
  responseStatus: number | null;
  responseBody: unknown;
};

/**
 * True when this transaction now owns the key. If another transaction inserted the same key and
 * has not finished, PostgreSQL makes this insert wait for its outcome: on its commit this returns
 * false and the caller reads the stored response; on its rollback this insert goes through.
 */
export async function claimIdempotencyKey(db: Db, key: string, fingerprint: string): Promise<boolean> {
  const result = await db.query(
    `INSERT INTO ticketing.idempotency_keys (key, fingerprint) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING key`,
    [key, fingerprint],
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
