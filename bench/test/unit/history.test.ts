import { describe, expect, it } from 'vitest';
import { HISTORY_VACUUM, historySize } from '../../lib/history.js';
import { WATCHED_TABLES } from '../../lib/table-rows.js';

describe('--history', () => {
  it('When a history is loaded, then the carts, their lines and orders carry one too, not only the purged tables', () => {
    expect(historySize(1_000)).toEqual({ notifications: 1_000, outbox: 1_000, idempotencyKeys: 1_000, carts: 1_000 });
  });

  it('When the history is loaded, then every table the services maintain is vacuumed and analyzed', () => {
    for (const table of WATCHED_TABLES) expect(HISTORY_VACUUM).toContain(table);
    expect(HISTORY_VACUUM).toContain('ticketing.carts');
    expect(HISTORY_VACUUM).toContain('ticketing.orders');
  });
});
