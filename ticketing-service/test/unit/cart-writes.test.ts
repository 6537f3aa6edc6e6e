import { describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/queryable.js';
import { gatheredCartWrites, type WriteKind } from '../../src/domain/cart-writes.js';

/** A database whose statements of several carts fail with `error`, and whose statements of one answer. */
function failingDatabase(error: Error) {
  const statements: number[] = [];
  const db = {
    query: async (config: { values: unknown[] }) => {
      const first = config.values[0];
      const carts = Array.isArray(first) ? first.length : 1;
      statements.push(carts);
      if (carts > 1) throw error;
      return { rows: [{ cartId: first, version: 0 }], rowCount: 1 };
    },
  } as unknown as Db;
  return { db, statements };
}

/** The gathered writes on `db`, one statement at a time, and the kinds of statement written again alone. */
function gatheredOn({ db, statements }: ReturnType<typeof failingDatabase>) {
  const failed: WriteKind[] = [];
  const writes = gatheredCartWrites(db, {
    maxPerStatement: 16,
    statementsInFlight: 1,
    observer: { statement: () => undefined, failed: (kind) => failed.push(kind) },
  });
  return { writes, statements, failed };
}

function newCart(cartId: string) {
  return { cartId, customerEmail: 'ada@example.com', customerName: 'Ada' };
}

describe('gathered cart writes, when a statement of several fails', () => {
  it.each([
    ['a deadlock', Object.assign(new Error('deadlock detected'), { code: '40P01' })],
    ['a constraint', Object.assign(new Error('duplicate key value'), { code: '23505' })],
  ])('When it fails on %s, then each command is written again alone', async (_, error) => {
    const { writes, statements, failed } = gatheredOn(failingDatabase(error));

    const rows = await Promise.all(['a', 'b', 'c'].map((id) => writes.insertCart(newCart(id))));

    expect(rows.map((row) => row.cartId)).toEqual(['a', 'b', 'c']);
    expect(statements).toEqual([3, 1, 1, 1]);
    expect(failed).toEqual(['insertCart']);
  });

  it.each([
    ['a lost connection', new Error('Connection terminated unexpectedly')],
    [
      'a statement timeout',
      Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }),
    ],
  ])('When it fails on %s, then every command fails with that error and none is sent again', async (_, error) => {
    const { writes, statements, failed } = gatheredOn(failingDatabase(error));

    const outcomes = await Promise.allSettled(['a', 'b', 'c'].map((id) => writes.insertCart(newCart(id))));

    expect(outcomes).toEqual(['a', 'b', 'c'].map(() => ({ status: 'rejected', reason: error })));
    expect(statements).toEqual([3]);
    expect(failed).toEqual([]);
  });
});
