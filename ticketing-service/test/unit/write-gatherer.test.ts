import { describe, expect, it } from 'vitest';
import { createWriteGatherer, type GatheredWrite } from '../../src/db/write-gatherer.js';

type Write = { cartId: string; fails?: boolean };

/** A database whose statements finish when the test says so, and that records what each held. */
function scriptedDatabase() {
  const statements: Array<{ writes: string[]; gathered: boolean; finish: (error?: Error) => void }> = [];
  const start = (writes: Write[], gathered: boolean) =>
    new Promise<void>((resolve, reject) => {
      statements.push({
        writes: writes.map((write) => write.cartId),
        gathered,
        finish: (error) => (error ? reject(error) : resolve()),
      });
    });
  const kind = (options: Partial<GatheredWrite<Write, string>> = {}): GatheredWrite<Write, string> => ({
    maxPerStatement: 3,
    statementsInFlight: 1,
    keyOf: (write) => write.cartId,
    writeOne: async (write) => {
      await start([write], false);
      if (write.fails) throw new Error(`${write.cartId} refused`);
      return `wrote ${write.cartId}`;
    },
    writeMany: async (writes) => {
      await start([...writes], true);
      // The database leaves a cart whose name says so unwritten, as a stale version would be.
      return new Map(writes.filter((w) => !w.cartId.startsWith('stale')).map((w) => [w.cartId, `wrote ${w.cartId}`]));
    },
    ...options,
  });
  /** Finishes the statements running now, oldest first, and lets their callers go on. */
  const finishRunning = async (error?: Error) => {
    for (const statement of statements.filter((s) => !('done' in s))) {
      Object.assign(statement, { done: true });
      statement.finish(error);
    }
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { statements, kind, finishRunning };
}

describe('write gatherer', () => {
  it('When the database is idle, then a write starts at once in a statement of its own', async () => {
    const db = scriptedDatabase();
    const gatherer = createWriteGatherer(db.kind());

    const written = gatherer.write({ cartId: 'a' });
    await db.finishRunning();

    await expect(written).resolves.toBe('wrote a');
    expect(db.statements.map((s) => [s.writes, s.gathered])).toEqual([[['a'], false]]);
  });

  it('When writes come while a statement runs, then they wait and the next statement takes them together, in arrival order, up to its limit', async () => {
    const db = scriptedDatabase();
    const observed: number[] = [];
    const gatherer = createWriteGatherer(db.kind({ onStatement: (writes) => observed.push(writes) }));

    const writes = ['a', 'b', 'c', 'd', 'e'].map((cartId) => gatherer.write({ cartId }));
    expect(gatherer.waiting()).toBe(4);
    await db.finishRunning();
    expect(gatherer.waiting()).toBe(1);
    await db.finishRunning();
    await db.finishRunning();

    await expect(Promise.all(writes)).resolves.toEqual(['wrote a', 'wrote b', 'wrote c', 'wrote d', 'wrote e']);
    expect(db.statements.map((s) => s.writes)).toEqual([['a'], ['b', 'c', 'd'], ['e']]);
    expect(observed).toEqual([1, 3, 1]);
    expect(gatherer.waiting()).toBe(0);
  });

  it('When two statements may run at once, then the second write starts at once too', async () => {
    const db = scriptedDatabase();
    const gatherer = createWriteGatherer(db.kind({ statementsInFlight: 2 }));

    const writes = ['a', 'b', 'c'].map((cartId) => gatherer.write({ cartId }));

    expect(db.statements.map((s) => s.writes)).toEqual([['a'], ['b']]);
    expect(gatherer.waiting()).toBe(1);
    await db.finishRunning();
    await db.finishRunning();
    await expect(Promise.all(writes)).resolves.toHaveLength(3);
  });

  it('When two writes of one cart wait together, then the second goes in the statement after, behind none of the others', async () => {
    const db = scriptedDatabase();
    const gatherer = createWriteGatherer(db.kind());

    const writes = [
      gatherer.write({ cartId: 'first' }),
      gatherer.write({ cartId: 'a' }),
      gatherer.write({ cartId: 'a' }),
      gatherer.write({ cartId: 'b' }),
    ];
    await db.finishRunning();
    await db.finishRunning();
    await db.finishRunning();

    await Promise.all(writes);
    expect(db.statements.map((s) => s.writes)).toEqual([['first'], ['a', 'b'], ['a']]);
  });

  it('When the statement leaves one cart unwritten, then that write alone answers undefined', async () => {
    const db = scriptedDatabase();
    const gatherer = createWriteGatherer(db.kind());

    const writes = ['first', 'a', 'stale-b', 'c'].map((cartId) => gatherer.write({ cartId }));
    await db.finishRunning();
    await db.finishRunning();

    await expect(Promise.all(writes)).resolves.toEqual(['wrote first', 'wrote a', undefined, 'wrote c']);
  });

  it('When a gathered statement fails, then each of its writes is run alone and only the one that fails alone rejects', async () => {
    const db = scriptedDatabase();
    const failures: boolean[] = [];
    const gatherer = createWriteGatherer(db.kind({ onStatement: (_, failed) => failures.push(failed) }));

    const first = gatherer.write({ cartId: 'first' });
    const writes = [{ cartId: 'a' }, { cartId: 'b', fails: true }, { cartId: 'c' }].map((write) =>
      gatherer.write(write).then(
        (value) => ({ value }),
        (error: Error) => ({ error: error.message }),
      ),
    );
    await db.finishRunning();
    await db.finishRunning(new Error('deadlock detected'));
    await db.finishRunning();

    await expect(first).resolves.toBe('wrote first');
    await expect(Promise.all(writes)).resolves.toEqual([
      { value: 'wrote a' },
      { error: 'b refused' },
      { value: 'wrote c' },
    ]);
    expect(db.statements.map((s) => [s.writes, s.gathered])).toEqual([
      [['first'], false],
      [['a', 'b', 'c'], true],
      [['a'], false],
      [['b'], false],
      [['c'], false],
    ]);
    expect(failures).toEqual([false, true]);
  });
});
