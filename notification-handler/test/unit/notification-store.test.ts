import { silentLogger } from '@notify/test-support/logger.js';
import { buildMessage } from '@notify/test-support/messages.js';
import { describe, expect, it } from 'vitest';
import { createDatabaseAvailability } from '../../src/db/database-availability.js';
import type { ClaimRequest } from '../../src/db/notification-repository.js';
import { createNotificationStore } from '../../src/db/notification-store.js';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** A database whose claim statements each wait until the test lets them answer: every row claimed. */
function heldDatabase() {
  const statements: { rows: number; answer: () => void }[] = [];
  const db = {
    async query({ values }: { values: unknown[] }) {
      const input = JSON.parse(values[0] as string) as { tracking_id: string }[];
      await new Promise<void>((answer) => statements.push({ rows: input.length, answer }));
      return {
        rows: input.map((row) => ({ tracking_id: row.tracking_id, status: 'claimed', attempt_count: 0 })),
      };
    },
  };
  return { db, statements };
}

function claimRequest(): ClaimRequest {
  return { message: buildMessage(), replay: false, claimToken: crypto.randomUUID() };
}

describe('the notification store', () => {
  it('When claims come one turn after another while the allowed claim statements run, then they wait and go together in the next', async () => {
    const { db, statements } = heldDatabase();
    const availability = createDatabaseAvailability(async () => undefined, {
      probeIntervalMs: 1_000,
      log: silentLogger,
    });
    const store = createNotificationStore(db as never, availability, { leaseMs: 60_000, maxConcurrentBatches: 2 });

    const claims: Promise<unknown>[] = [];
    for (let i = 0; i < 5; i += 1) {
      claims.push(store.claim(claimRequest()));
      await nextTurn();
    }
    expect(statements.map(({ rows }) => rows)).toEqual([1, 1]);

    statements[0]?.answer();
    for (let turn = 0; turn < 10 && statements.length < 3; turn += 1) await nextTurn();
    expect(statements.map(({ rows }) => rows)).toEqual([1, 1, 3]);

    for (const statement of statements.slice(1)) statement.answer();
    expect(await Promise.all(claims)).toEqual(Array(5).fill({ kind: 'claimed', previousAttempts: 0 }));
    availability.close();
  });
});
