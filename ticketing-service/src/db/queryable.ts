import type pg from 'pg';

/** The pool for a single statement, or a client inside a transaction: repositories take either. */
export type Db = Pick<pg.PoolClient, 'query'>;
