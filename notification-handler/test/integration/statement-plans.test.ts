import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createPool, migrate } from '@notify/shared/platform';
import { silentLogger } from '@notify/test-support/logger.js';
import { buildMessage } from '@notify/test-support/messages.js';
import { checkStatementPlans, type PlanReport, statementRecorder } from '@notify/test-support/statement-plans.js';
import { createDatabase, dropDatabase, withDatabase } from '@notify/test-support/system/database.js';
import { preloadHistory } from '@notify/test-support/system/history.js';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  claimNotifications,
  releaseLease,
  renewLease,
  settleNotifications,
} from '../../src/db/notification-repository.js';
import {
  closeUnfinishedNotifications,
  erasePersonalData,
  purgeNotifications,
} from '../../src/db/notification-retention.js';
import { markReplayQueued } from '../../src/db/replay-queries.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));
const HOT_TABLES = ['notifications.notifications', 'notifications.notification_attempts'];
const HISTORY_ROWS = 200_000;

/**
 * The hot statements as the handler sends them (a claim and a settlement of 50, a bulk replay's
 * mark of 20, a lease released and renewed) and the maintenance job's batches.
 */
async function recordHotStatements() {
  const recorder = statementRecorder();
  const messages = Array.from({ length: 50 }, () => buildMessage());
  const claimToken = randomUUID();
  const requests = messages.map((message, index) => ({ message, replay: index === 0, claimToken }));
  const [first] = messages;
  if (!first) throw new Error('no message');
  const startedAt = new Date();
  await recorder.record('claim', () => claimNotifications(recorder.db, requests, 60_000));
  await recorder.record('settle', () =>
    settleNotifications(
      recorder.db,
      messages.map((message, index) => ({
        trackingId: message.trackingId,
        claimToken,
        status: index % 10 === 0 ? 'retry_scheduled' : 'sent',
        attempt: { number: 1, startedAt, finishedAt: new Date(), outcome: 'sent', httpStatus: 200 },
      })),
      60_000,
    ),
  );
  await recorder.record('mark replays queued', () =>
    markReplayQueued(
      recorder.db,
      messages.slice(0, 20).map((message) => message.trackingId),
      new Date(),
    ),
  );
  await recorder.record('release lease', () => releaseLease(recorder.db, first.trackingId, claimToken));
  await recorder.record('renew lease', () => renewLease(recorder.db, first.trackingId, claimToken, 60_000));
  await recorder.record('close unfinished', () => closeUnfinishedNotifications(recorder.db, 'in_progress', 30, 1_000));
  await recorder.record('purge sent', () => purgeNotifications(recorder.db, 'sent', 90, 1_000));
  await recorder.record('erase personal data', () => erasePersonalData(recorder.db, 30, 1_000));
  // And with a retention every history row is past: a full batch to take, as after a long pause.
  await recorder.record('purge sent, a full batch due', () => purgeNotifications(recorder.db, 'sent', 0, 1_000));
  await recorder.record('erase personal data, a full batch due', () => erasePersonalData(recorder.db, 0, 1_000));
  await recorder.record('close unfinished, a full batch due', () =>
    closeUnfinishedNotifications(recorder.db, 'retry_scheduled', 0, 1_000),
  );
  return recorder.statements;
}

describe('hot statements of the handler (plans on large tables with stale statistics)', () => {
  const adminUrl = withDatabase(inject('databaseUrl'), 'postgres');
  const databaseName = `${inject('runId')}_handler_plans`;
  let pool: pg.Pool;
  let report: PlanReport;

  beforeAll(async () => {
    const url = await createDatabase(adminUrl, databaseName);
    await migrate({ databaseUrl: url, dir: MIGRATIONS_DIR, schema: 'notifications' }, silentLogger);
    // Sessions as the handler opens them: the same factory, the same settings, but for the statement
    // timeout, which changes no plan: the history's chunks of 100,000 rows can outlast the 10 s
    // default on a busy machine (seen in CI).
    pool = createPool(
      { url, applicationName: 'statement-plans', maxConnections: 2, statementTimeoutMs: 120_000 },
      silentLogger,
    );
    report = await checkStatementPlans({
      pool,
      tables: HOT_TABLES,
      statements: await recordHotStatements(),
      fill: () => preloadHistory(pool, { notifications: HISTORY_ROWS }),
    });
  }, 180_000);
  afterAll(async () => {
    await pool?.end();
    await dropDatabase(adminUrl, databaseName);
  });

  it('When a prepared statement kept the plan it got on the empty tables, then that plan still reaches rows through an index', () => {
    expect(report.keptFromEmpty).toEqual([]);
  });

  it('When the statements are planned for their parameters on large tables with stale statistics, then every read goes through an index', () => {
    expect(report.custom).toEqual([]);
  });

  it('When their generic plans are made on large tables with stale statistics, then every read goes through an index', () => {
    expect(report.generic).toEqual([]);
  });

  it('When a session without the services’ enable_seqscan = off plans them on fresh statistics, then every read still goes through an index', () => {
    expect(report.withoutSessionOptions).toEqual([]);
  });
});
