import { randomUUID } from 'node:crypto';
import { buildMessage } from '@notify/test-support/messages.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/handler-harness.js';

describe('status API (responses)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness('status-api', { RETRY_MAX_RETRIES: '0' });
  });
  afterEach(() => {
    harness.sandbox.faults.clear();
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it('When a sent notification is asked for, then it answers with its attempts and timestamps', async () => {
    const message = buildMessage();
    harness.publish(message);
    await harness.settled(message.trackingId);

    const { status, body } = await harness.api(`/notifications/${message.trackingId}`);

    expect(status).toBe(200);
    expect(body).toMatchObject({ trackingId: message.trackingId, status: 'sent', operation: message.operation });
    expect(Date.parse(body.sentAt)).toBeGreaterThanOrEqual(Date.parse(body.createdAt));
    expect(body.attempts).toEqual([
      expect.objectContaining({
        number: 1,
        outcome: 'sent',
        httpStatus: 200,
        providerMessageId: body.providerMessageId,
      }),
    ]);
  });

  it('When a failed notification is asked for, then it answers failed with the reason', async () => {
    harness.sandbox.faults.set({ failNext: 1, status: 500 });
    const message = buildMessage();
    harness.publish(message);
    await harness.settled(message.trackingId);

    const { status, body } = await harness.api(`/notifications/${message.trackingId}`);

    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'failed', lastError: expect.stringMatching(/HTTP 500/) });
  });

  it('When the id is unknown, then 404; when it is malformed, then 400 naming the parameter', async () => {
    const unknown = await harness.api(`/notifications/${randomUUID()}`);
    const malformed = await harness.api('/notifications/not-a-uuid');

    expect(unknown.status).toBe(404);
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.details).toEqual([expect.objectContaining({ field: 'params.trackingId' })]);
  });

  it('When failed notifications are listed page by page, then each appears once, newest first', async () => {
    harness.sandbox.faults.set({ failNext: 3, status: 500 });
    const ours: string[] = [];
    for (let i = 0; i < 3; i++) {
      const message = buildMessage();
      harness.publish(message);
      await harness.settled(message.trackingId);
      ours.push(message.trackingId);
    }

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/notifications?status=failed&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const { status, body } = await harness.api(query);
      expect(status).toBe(200);
      for (const item of body.items) expect(item.status).toBe('failed');
      seen.push(...body.items.map((item: any) => item.trackingId));
      cursor = body.nextCursor;
    } while (cursor && !ours.every((id) => seen.includes(id)));

    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => ours.includes(id))).toEqual([...ours].reverse());
  });

  it('When a cursor is shaped like ours but names a time that does not exist, then 400, not 500', async () => {
    const forged = Buffer.from(JSON.stringify(['2026-02-30 10:00:00+00', randomUUID()])).toString('base64url');

    const { status, body } = await harness.api(`/notifications?cursor=${forged}`);

    expect(status).toBe(400);
    expect(body.error.message).toBe('cursor is not one this API gave out');
  });

  it('When the email filter carries a NUL, then 400 names query.email, not 500', async () => {
    const { status, body } = await harness.api('/notifications?email=ada%00@example.com');

    expect(status).toBe(400);
    expect(body.error.details).toEqual([{ field: 'query.email', message: expect.stringContaining('U+0000') }]);
  });

  it('When a cursor is shaped like ours but its zone offset is out of range, then 400, not 500', async () => {
    for (const time of ['2026-02-10 10:00:00+16', '2026-02-10 10:00:00-99:00']) {
      const forged = Buffer.from(JSON.stringify([time, randomUUID()])).toString('base64url');

      const { status, body } = await harness.api(`/notifications?cursor=${forged}`);

      expect(status).toBe(400);
      expect(body.error.message).toBe('cursor is not one this API gave out');
    }
  });

  it('When the list query is wrong, then 400 names the field', async () => {
    const { status, body } = await harness.api('/notifications?status=lost&limit=1000');
    expect(status).toBe(400);
    expect(body.error.details.map((d: any) => d.field).sort()).toEqual(['query.limit', 'query.status']);
  });
});
