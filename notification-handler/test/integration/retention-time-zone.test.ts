import type { NotificationMessage } from '@notify/shared';
import { buildMessage } from '@notify/test-support/messages.js';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Harness, startHarness } from './support/handler-harness.js';

const DAY_MS = 86_400_000;

/**
 * Zones whose clocks moved within the last few years, by the season (Sydney, Amsterdam) or for
 * good (Istanbul went from +02/+03 to +03 in 2016, Moscow from +04 to +03 in 2014): whatever the
 * date the test runs on, one of them has moved its clocks forward, and one back, within some
 * number of days before now.
 */
const ZONES = ['Australia/Sydney', 'Europe/Amsterdam', 'Europe/Istanbul', 'Europe/Moscow'];

/**
 * A zone, and a number of days, such that `days` calendar days before now in that zone is `shift`
 * (+1 or -1 hour) away from exactly `days` × 24 hours before now: the clocks moved in between.
 */
async function zoneWhoseClocksMoved(shift: '1 hour' | '-1 hour'): Promise<{ zone: string; days: number }> {
  const client = new pg.Client({ connectionString: inject('databaseUrl') });
  await client.connect();
  try {
    const { rows } = await client.query<{ zone: string; days: number }>(
      `SELECT zone, days FROM unnest($1::text[]) AS zone, generate_series(2, 6000) AS days
        WHERE ((now() AT TIME ZONE zone) - make_interval(days => days)) AT TIME ZONE zone
              - (now() - make_interval(hours => days * 24)) = $2::interval
        ORDER BY days LIMIT 1`,
      [ZONES, shift],
    );
    const found = rows[0];
    if (!found) throw new Error(`no zone of ${ZONES.join(', ')} moved its clocks by ${shift} within 6,000 days`);
    return found;
  } finally {
    await client.end();
  }
}

/**
 * A handler on a database of its own whose sessions run in a zone where the clocks moved by
 * `shift` within `days` days before now; `retention` gives its retention settings for those days.
 */
async function handlerAcrossClockChange(
  label: string,
  shift: '1 hour' | '-1 hour',
  retention: (days: number) => Record<string, string>,
): Promise<{ harness: Harness; days: number }> {
  const { zone, days } = await zoneWhoseClocksMoved(shift);
  const harness = await startHarness(
    label,
    { ...retention(days), MAINTENANCE_INTERVAL_MS: '86400000' },
    { ownDatabase: true },
  );
  const { rows } = await harness.db.query<{ name: string }>('SELECT current_database() AS name');
  // As a server whose `timezone` is set to it: sessions opened from now on, the maintenance job's
  // among them (one per run), take it.
  await harness.db.query(`ALTER DATABASE "${rows[0]?.name}" SET timezone = '${zone}'`);
  return { harness, days };
}

/** A sent notification of `message`, created (and occurred) `ageMs` ago. */
async function sentNotification(harness: Harness, message: NotificationMessage, ageMs: number): Promise<void> {
  const createdAt = new Date(Date.now() - ageMs);
  message.occurredAt = createdAt.toISOString();
  await harness.db.query(
    `INSERT INTO notifications.notifications
       (tracking_id, operation, recipient_email, recipient_name, request, status, attempt_count, lease_expires_at,
        occurred_at, created_at, updated_at, sent_at)
     VALUES ($1, $2, $3, $4, $5, 'sent', 1, $6, $6, $6, $6, $6)`,
    [message.trackingId, message.operation, message.recipient.email, message.recipient.name, message, createdAt],
  );
}

async function rowOf(harness: Harness, trackingId: string) {
  const { rows } = await harness.db.query(
    'SELECT status, recipient_email, personal_data_erased_at FROM notifications.notifications WHERE tracking_id = $1',
    [trackingId],
  );
  return rows[0];
}

describe('retention where the database’s clocks move (daylight saving time)', () => {
  describe('clocks moved forward within the retention, which is the same for rows and personal data', () => {
    let harness: Harness;
    let days: number;

    beforeAll(async () => {
      ({ harness, days } = await handlerAcrossClockChange('retention-dst-forward', '1 hour', (within) => ({
        NOTIFICATION_RETENTION_DAYS: String(within),
        PERSONAL_DATA_RETENTION_DAYS: String(within),
      })));
    });
    afterAll(async () => {
      await harness?.stop();
    });

    it('When a sent notification is half an hour short of its retention and a copy of its message comes again, then the row is kept and nothing is sent again', async () => {
      const message = buildMessage();
      await sentNotification(harness, message, days * DAY_MS - 30 * 60_000);

      await harness.handler.maintenance.runOnce();
      // A copy of its message: a redelivery, or a dead-letter copy replayed by an operator.
      harness.publish(message);

      const decision = await harness.decided(message.trackingId, 'acked');
      expect(decision.outcome).toBe('duplicate');
      expect(harness.emailsFor(message.trackingId)).toHaveLength(0);
      expect(await rowOf(harness, message.trackingId)).toMatchObject({ status: 'sent' });
    });
  });

  describe('clocks moved back within the personal data retention', () => {
    let harness: Harness;
    let days: number;

    beforeAll(async () => {
      ({ harness, days } = await handlerAcrossClockChange('retention-dst-back', '-1 hour', (within) => ({
        NOTIFICATION_RETENTION_DAYS: String(within + 30),
        PERSONAL_DATA_RETENTION_DAYS: String(within),
      })));
    });
    afterAll(async () => {
      await harness?.stop();
    });

    it('When a sent notification is half an hour past its personal data retention, then the job erases its recipient', async () => {
      const message = buildMessage();
      await sentNotification(harness, message, days * DAY_MS + 30 * 60_000);

      await harness.handler.maintenance.runOnce();

      expect(await rowOf(harness, message.trackingId)).toMatchObject({
        status: 'sent',
        recipient_email: null,
        personal_data_erased_at: expect.any(Date),
      });
    });
  });
});
