import { describe, expect, it } from 'vitest';
import type { Queryable } from '../../src/db/notification-repository.js';
import { markReplayQueued } from '../../src/db/replay-queries.js';

/** A database whose statements fail with these SQLSTATEs, in turn, then succeed; it counts them. */
function databaseFailingWith(...codes: string[]) {
  let statements = 0;
  const db = {
    query: async () => {
      const code = codes[statements];
      statements += 1;
      if (code) throw Object.assign(new Error(`failed with ${code}`), { code });
      return { rows: [], rowCount: 2 };
    },
  } as unknown as Queryable;
  return { db, statements: () => statements };
}

const IDS = ['01a234a9-b407-7191-bbea-c4e1eae2abc1', '01a234a9-b490-75ff-a79f-bcba0837d323'];

describe('markReplayQueued', () => {
  it('When PostgreSQL breaks a deadlock by failing the mark, then the mark runs again and succeeds', async () => {
    const { db, statements } = databaseFailingWith('40P01');
    await expect(markReplayQueued(db, IDS, new Date())).resolves.toBeUndefined();
    expect(statements()).toBe(2);
  });

  it('When the mark keeps losing deadlocks, then it gives up after five statements with the error', async () => {
    const { db, statements } = databaseFailingWith('40P01', '40P01', '40P01', '40P01', '40P01', '40P01');
    await expect(markReplayQueued(db, IDS, new Date())).rejects.toMatchObject({ code: '40P01' });
    expect(statements()).toBe(5);
  });

  it('When the database refuses the mark for another reason, then it fails at once', async () => {
    const { db, statements } = databaseFailingWith('42501');
    await expect(markReplayQueued(db, IDS, new Date())).rejects.toMatchObject({ code: '42501' });
    expect(statements()).toBe(1);
  });
});
