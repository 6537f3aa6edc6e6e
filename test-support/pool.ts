import pg from 'pg';

/**
 * A pool for a test's own statements. `pool.end()` resolves before its connections have closed, and
 * the test's database is then dropped WITH (FORCE): a connection the drop terminates meanwhile
 * emits 'error' on the pool, which without a listener fails the whole run as an unhandled error.
 * Errors of statements still reject their queries.
 */
export function testPool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool(config);
  pool.on('error', () => undefined);
  return pool;
}
