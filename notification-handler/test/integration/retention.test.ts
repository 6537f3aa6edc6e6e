import { randomUUID } from 'node:crypto';
import { encodeNotification, type NotificationMessage } from '@notify/shared';
import { lockKey } from '@notify/shared/platform';
import { buildMessage } from '@notify/test-support/messages.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOCK_SKEW_ALLOWANCE_MS } from '../../src/domain/clock-skew.js';
import { type Harness, startHarness } from './support/handler-harness.js';

type Status = 'in_progress' | 'retry_scheduled' | 'sent' | 'failed';

describe('retention of notifications (state, responses, logs)', () => {
  let harness: Harness;

  beforeAll(async () => {
    // A database of its own: the job purges every old row it finds, other test files' included.
    harness = await startHarness(
      'retention',
      { NOTIFICATION_RETENTION_DAYS: '90', PERSONAL_DATA_RETENTION_DAYS: '30', MAINTENANCE_INTERVAL_MS: '86400000' },
      { ownDatabase: true },
    );
  });
  afterAll(async () => {
    await harness?.stop();
  });

  /** A notification created `ageDays` ago in `status`, with one attempt. */
  async function notification(status: Status, ageDays: number, message = buildMessage()): Promise<string> {
    await harness.db.query(
      `WITH n AS (
         INSERT INTO notifications.notifications
           (tracking_id, operation, recipient_email, recipient_name, request, status, attempt_count,
            last_error, lease_expires_at, occurred_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 1, CASE WHEN $6 = 'failed' THEN 'HTTP 400' END,
                 now() - make_interval(days => $7), now() - make_interval(days => $7),
                 now() - make_interval(days => $7), now() - make_interval(days => $7) + interval '1 second')
         RETURNING tracking_id, created_at)
       INSERT INTO notifications.notification_attempts (tracking_id, attempt_number, started_at, finished_at, outcome)
       SELECT tracking_id, 1, created_at, created_at, 'transient_error' FROM n`,
      [
        message.trackingId,
        message.operation,
        message.recipient.email,
        message.recipient.name,
        message,
        status,
        ageDays,
      ],
    );
    return message.trackingId;
  }

  /** As the dead-letter page's replay republishes a copy: the stored message, marked as a replay. */
  async function replayDeadLetterCopy(message: NotificationMessage) {
    const { routingKey, content, properties } = encodeNotification(message, 'handler-test');
    harness.publishRaw(routingKey, content, {
      ...properties,
      headers: { ...properties.headers, 'x-replay-requested-at': new Date().toISOString() },
    });
    return harness.decided(message.trackingId, 'dead-lettered');
  }

  async function rowOf(trackingId: string) {
    const { rows } = await harness.db.query(
      `SELECT status, last_error, recipient_email, recipient_name, request, personal_data_erased_at, created_at, updated_at,
              (SELECT count(*)::int FROM notifications.notification_attempts a WHERE a.tracking_id = n.tracking_id) AS attempts
       FROM notifications.notifications n WHERE tracking_id = $1`,
      [trackingId],
    );
    return rows[0];
  }

  it('When the job runs, then notifications past retention go with their attempts, unfinished ones included, and recent ones stay', async () => {
    const oldSent = await notification('sent', 100);
    const oldFailed = await notification('failed', 100);
    const oldInProgress = await notification('in_progress', 100);
    const oldWaiting = await notification('retry_scheduled', 100);
    const recent = await notification('sent', 1);
    const recentWaiting = await notification('retry_scheduled', 1);

    const run = await harness.handler.maintenance.runOnce();

    expect(run).toMatchObject({ ran: true });
    for (const old of [oldSent, oldFailed, oldInProgress, oldWaiting]) expect(await rowOf(old)).toBeUndefined();
    const { rows } = await harness.db.query(
      'SELECT count(*)::int AS n FROM notifications.notification_attempts WHERE tracking_id = ANY($1::uuid[])',
      [[oldSent, oldFailed, oldInProgress, oldWaiting]],
    );
    expect(rows[0].n).toBe(0);
    expect(await rowOf(recent)).toMatchObject({ status: 'sent', personal_data_erased_at: null });
    expect(await rowOf(recentWaiting)).toMatchObject({ status: 'retry_scheduled', personal_data_erased_at: null });
  });

  it('When notifications are still unfinished past the personal-data retention, then they are closed as failed and erased, unless a lease still runs', async () => {
    const waiting = await notification('retry_scheduled', 40);
    const lapsed = await notification('in_progress', 40);
    const held = await notification('in_progress', 40);
    await harness.db.query(
      `UPDATE notifications.notifications SET lease_expires_at = now() + interval '1 minute' WHERE tracking_id = $1`,
      [held],
    );
    const before = new Map([
      [waiting, await rowOf(waiting)],
      [lapsed, await rowOf(lapsed)],
    ]);

    const closedWarnings = () =>
      harness.logs.find(
        'notifications still unfinished after their personal data retention were closed as failed and erased',
      );
    const warningsBefore = closedWarnings().length;

    const run = await harness.handler.maintenance.runOnce();

    expect(run).toMatchObject({ ran: true, changed: { unfinishedNotificationsClosed: 2 } });
    for (const [closed, { created_at, updated_at }] of before) {
      const after = await rowOf(closed);
      expect(after).toMatchObject({
        status: 'failed',
        last_error: expect.stringContaining('not finished within its personal data retention'),
        recipient_email: null,
        recipient_name: null,
        request: null,
        personal_data_erased_at: expect.any(Date),
        created_at,
        attempts: 1,
      });
      expect(after.updated_at.getTime()).toBeGreaterThan(updated_at.getTime());
    }
    expect(await rowOf(held)).toMatchObject({ status: 'in_progress', personal_data_erased_at: null });
    expect(closedWarnings().slice(warningsBefore)).toEqual([
      expect.objectContaining({ level: 40, closed: 2, retentionDays: 30 }),
    ]);
    const { status, body } = await harness.api(`/notifications/${waiting}/retry`, { method: 'POST' });
    expect(status).toBe(410);
    expect(body.error.code).toBe('personal_data_erased');
  });

  it('When final notifications are past the personal-data retention, then their recipient and request are erased and the rest is kept', async () => {
    const sent = await notification('sent', 40);
    const unfinished = await notification('retry_scheduled', 20);
    const before = await rowOf(sent);

    await harness.handler.maintenance.runOnce();

    const after = await rowOf(sent);
    expect(after).toMatchObject({
      status: 'sent',
      recipient_email: null,
      recipient_name: null,
      request: null,
      personal_data_erased_at: expect.any(Date),
      created_at: before.created_at,
      updated_at: before.updated_at,
      attempts: 1,
    });
    expect(await rowOf(unfinished)).toMatchObject({ personal_data_erased_at: null, request: expect.any(Object) });
    const { status, body } = await harness.api(`/notifications/${sent}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'sent', recipient: { email: null, name: null } });
    expect(body.personalDataErasedAt).toEqual(expect.any(String));
  });

  it('When an erased failed notification is replayed, then it answers 410 and queues nothing', async () => {
    const failed = await notification('failed', 40);
    await harness.handler.maintenance.runOnce();

    const { status, body } = await harness.api(`/notifications/${failed}/retry`, { method: 'POST' });

    expect(status).toBe(410);
    expect(body.error.code).toBe('personal_data_erased');
    expect(await rowOf(failed)).toMatchObject({ status: 'failed', request: null });
  });

  it('When a dead-letter copy of an erased failed notification is replayed, then nothing is sent and it is dead-lettered again', async () => {
    const message = buildMessage();
    await notification('failed', 40, message);
    await harness.handler.maintenance.runOnce();

    const decision = await replayDeadLetterCopy(message);
    expect(decision).toMatchObject({
      cause: 'already_failed',
      reason: expect.stringContaining('personal data erased'),
    });
    expect(harness.emailsFor(message.trackingId)).toHaveLength(0);
    expect(await rowOf(message.trackingId)).toMatchObject({
      status: 'failed',
      recipient_email: null,
      request: null,
      personal_data_erased_at: expect.any(Date),
    });
  });

  it('When a dead-letter copy is replayed after its row was purged, then nothing is sent nor stored again and it is dead-lettered again', async () => {
    const message = buildMessage();
    message.occurredAt = new Date(Date.now() - 95 * 86_400_000).toISOString();

    const decision = await replayDeadLetterCopy(message);
    expect(decision).toMatchObject({
      cause: 'already_failed',
      reason: expect.stringContaining('older than its personal data retention'),
    });
    expect(harness.emailsFor(message.trackingId)).toHaveLength(0);
    expect(await rowOf(message.trackingId)).toBeUndefined();
  });

  it('When a copy dated within the clock skew allowance of the retention is replayed, then it is refused as past it: its row, created up to that much earlier, may be purged already', async () => {
    const message = buildMessage();
    const retentionMs = 30 * 86_400_000;
    message.occurredAt = new Date(Date.now() - retentionMs + CLOCK_SKEW_ALLOWANCE_MS / 2).toISOString();

    const decision = await replayDeadLetterCopy(message);
    expect(decision).toMatchObject({
      cause: 'already_failed',
      reason: expect.stringContaining('older than its personal data retention'),
    });
    expect(harness.emailsFor(message.trackingId)).toHaveLength(0);
    expect(await rowOf(message.trackingId)).toBeUndefined();
  });

  it('When another instance holds the maintenance lock, then this one purges nothing until it is released', async () => {
    const old = await notification('sent', 100);
    const holder = await harness.db.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1::bigint)', [lockKey('notification-handler')]);

      const skipped = await harness.handler.maintenance.runOnce();

      expect(skipped).toEqual({ ran: false, reason: 'another instance holds the lock' });
      expect(await rowOf(old)).toMatchObject({ status: 'sent' });
    } finally {
      await holder.query('SELECT pg_advisory_unlock_all()');
      holder.release();
    }
    expect(await harness.handler.maintenance.runOnce()).toMatchObject({ ran: true });
    expect(await rowOf(old)).toBeUndefined();
  });

  it('When the handler starts on a server whose autovacuum is off, then it logs one warning saying it maintains its tables', async () => {
    const { rows } = await harness.db.query('SHOW autovacuum');
    const warnings = harness.logs.find(
      'PostgreSQL autovacuum is off: this service vacuums and analyzes its own tables; other tables on this server get no vacuum at all',
    );

    expect(warnings).toHaveLength(rows[0].autovacuum === 'off' ? 1 : 0);
    if (warnings[0]) {
      expect(warnings[0]).toMatchObject({
        level: 40,
        maintainedTables: ['notifications.notifications', 'notifications.notification_attempts'],
      });
    }
  });

  it('When an unknown id is replayed, then it still answers 404, not 410', async () => {
    const { status } = await harness.api(`/notifications/${randomUUID()}/retry`, { method: 'POST' });

    expect(status).toBe(404);
  });
});
