// Why the database failed a statement, as both services read it: an outage holds the message, a
// refusal dead-letters it as poison (refusing it for an outage would dead-letter every message
// until the outage passes).
export { classifyDatabaseError, type DatabaseFailure } from '@notify/shared/platform';

/** A statement the database refused: carries the database's reason for the dead-letter header. */
export class DatabaseRefusal extends Error {
  override readonly name = 'DatabaseRefusal';
  constructor(override readonly cause: Error & { code?: string }) {
    super(`database refused: ${cause.message}${cause.code ? ` (SQLSTATE ${cause.code})` : ''}`);
  }
}

/** Thrown to the waiting callers when shutdown ends a wait for the database. */
export class DatabaseWaitInterrupted extends Error {
  override readonly name = 'DatabaseWaitInterrupted';
  constructor() {
    super('stopped waiting for the database: shutting down');
  }
}
