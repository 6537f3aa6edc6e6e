import pg from 'pg';

/**
 * A pool for a test's or a harness's own statements. An idle connection the server ends emits
 * 'error' on its pool, which without a listener fails the whole run as an unhandled error: a test
 * database dropped WITH (FORCE) just after `pool.end()` resolved (it resolves before its connections
 * have closed), or a server a fault scenario stopped. Errors of statements still reject their queries.
 */
export function testPool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool(config);
  pool.on('error', () => undefined);
  return pool;
}
