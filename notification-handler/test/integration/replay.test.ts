import type { NotificationMessage } from '@notify/shared';
import { buildMessage } from '@notify/test-support/messages.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { replayRange } from '../../src/domain/replay-notification.js';
import { replayPublisher } from '../../src/messaging/replay-publisher.js';
import { type Harness, startHarness } from './support/handler-harness.js';

const DEADLINE_MS = 600_000;
const jsonPost = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

describe('replay (published messages, state, responses)', () => {
  let harness: Harness;
  let spyQueue: string;

  beforeAll(async () => {
    // Long enough that a replay stays pending while a test asks again; these tests fail their
    // notifications for good (Mailjet refuses the address), not by the deadline.
    harness = await startHarness('replay', { NOTIFICATION_DEADLINE_MS: String(DEADLINE_MS) }, { ownDatabase: true });
    // Another subscriber of the public exchange: it must see each business event once, never a replay.
    spyQueue = `${harness.topology.queue}.spy`;
    await harness.broker.channel.assertQueue(spyQueue, { durable: false, autoDelete: true });
    await harness.broker.channel.bindQueue(spyQueue, harness.topology.exchange, '#');
  });
  afterEach(() => {
    harness.sandbox.faults.clear();
  });
  afterAll(async () => {
    await harness?.broker.channel.deleteQueue(spyQueue).catch(() => undefined);
    await harness?.stop();
  });

  /** Notifications that failed for good (Mailjet refused the address), then Mailjet was fixed. */
  async function failedNotifications(count: number) {
    harness.sandbox.faults.set({ failRecipients: 'bounce.example' });
    const messages = Array.from({ length: count }, () => {
      const message = buildMessage();
      message.recipient.email = `someone-${message.trackingId.slice(0, 8)}@bounce.example`;
      return message;
    });
    for (const message of messages) harness.publish(message);
    for (const message of messages) await harness.settled(message.trackingId, ['failed']);
    harness.sandbox.faults.clear();
    return messages;
  }

  it('When one failed notification is replayed, then its message goes to the handler queue only, and it ends sent', async () => {
    const [message] = await failedNotifications(1);
    const spiedBefore = (await harness.broker.channel.checkQueue(spyQueue)).messageCount;

    const replay = await harness.api(`/notifications/${message?.trackingId}/retry`, { method: 'POST' });
    const sent = await harness.settled(message!.trackingId, ['sent']);

    expect(replay).toEqual({ status: 202, body: { trackingId: message?.trackingId, replay: 'queued' } });
    expect(sent).toMatchObject({ attemptCount: 2, replayQueuedAt: expect.any(String) });
    expect((await harness.broker.channel.checkQueue(spyQueue)).messageCount).toBe(spiedBefore);
    expect(harness.emailsFor(message!.trackingId)).toHaveLength(1);
  });

  it('When failed notifications are replayed in bulk, then each call queues at most its limit, none twice, and all end sent', async () => {
    const from = new Date(Date.now() - 1_000).toISOString();
    const messages = await failedNotifications(3);
    const to = new Date(Date.now() + 1_000).toISOString();

    const first = await harness.api('/notifications/retry', jsonPost({ status: 'failed', from, to, limit: 2 }));
    const second = await harness.api('/notifications/retry', jsonPost({ status: 'failed', from, to, limit: 2 }));
    for (const message of messages) await harness.settled(message.trackingId, ['sent']);
    const third = await harness.api('/notifications/retry', jsonPost({ status: 'failed', from, to, limit: 2 }));

    expect(first).toEqual({ status: 202, body: { queued: 2, notQueued: 0, invalid: 0, more: true } });
    expect(second).toEqual({ status: 202, body: { queued: 1, notQueued: 0, invalid: 0, more: false } });
    expect(third).toEqual({ status: 202, body: { queued: 0, notQueued: 0, invalid: 0, more: false } });
    for (const message of messages) expect(harness.emailsFor(message.trackingId)).toHaveLength(1);
  });

  it('When a replayed notification fails again before its replay is recorded, then a later bulk replay takes it again', async () => {
    const from = new Date(Date.now() - 1_000);
    const [message] = await failedNotifications(1);
    const trackingId = message!.trackingId;
    const to = new Date(Date.now() + 1_000);
    const failedBefore = await harness.settled(trackingId, ['failed']);
    const publish = replayPublisher(
      async ({ exchange, routingKey, content, properties }) => {
        harness.broker.channel.publish(exchange, routingKey, content, properties);
        return { status: 'published' };
      },
      harness.topology,
      'replay-test',
    );
    // The cause is still there, and the replayed message is claimed and fails again before the
    // broker's confirm reaches the bulk replay, which records the replay only after it.
    harness.sandbox.faults.set({ failRecipients: 'bounce.example' });
    const requeue = async (replayed: NotificationMessage, requestedAt: Date) => {
      const outcome = await publish(replayed, requestedAt);
      await harness.waitFor(async () => {
        const { body } = await harness.api(`/notifications/${trackingId}`);
        return body.status === 'failed' && body.attemptCount > failedBefore.attemptCount ? body : undefined;
      });
      return outcome;
    };

    const first = await replayRange(
      { status: 'failed', from, to, limit: 10 },
      { db: harness.db, requeue, pendingForMs: DEADLINE_MS, personalDataRetentionMs: 30 * 86_400_000 },
    );
    harness.sandbox.faults.clear();
    const second = await harness.api('/notifications/retry', jsonPost({ status: 'failed', from, to }));

    expect(first).toEqual({ queued: 1, notQueued: 0, invalid: 0, more: false });
    expect(second).toEqual({ status: 202, body: { queued: 1, notQueued: 0, invalid: 0, more: false } });
    expect(await harness.settled(trackingId, ['sent'])).toMatchObject({ status: 'sent' });
  });

  it('When one notification is replayed again before the handler took its replay, then 409 replay_pending and one copy is queued; once taken, it replays again', async () => {
    const [message] = await failedNotifications(1);
    const trackingId = message!.trackingId;
    const failedBefore = await harness.settled(trackingId, ['failed']);
    const retry = () => harness.api(`/notifications/${trackingId}/retry`, { method: 'POST' });
    // The replay stays in the queue, untaken, until consumption resumes.
    harness.handler.consumer.pause('replay test');
    await harness.waitFor(async () => {
      const { consumerCount } = await harness.broker.channel.checkQueue(harness.topology.queue);
      return consumerCount === 0 ? true : undefined;
    });

    const first = await retry();
    // A client that asks again, its first answer lost to a timeout.
    const second = await retry();
    const queuedCopies = (await harness.broker.channel.checkQueue(harness.topology.queue)).messageCount;
    // The cause is still there: the replay is taken and fails again.
    harness.sandbox.faults.set({ failRecipients: 'bounce.example' });
    harness.handler.consumer.resume('replay test');
    await harness.waitFor(async () => {
      const { body } = await harness.api(`/notifications/${trackingId}`);
      return body.status === 'failed' && body.attemptCount > failedBefore.attemptCount ? body : undefined;
    });
    harness.sandbox.faults.clear();
    const afterTaken = await retry();

    expect(first).toEqual({ status: 202, body: { trackingId, replay: 'queued' } });
    expect(second.status).toBe(409);
    expect(second.body.error).toEqual({
      code: 'replay_pending',
      message: expect.stringMatching(new RegExp(`^notification ${trackingId} was queued for replay at \\S+Z and`)),
    });
    expect(queuedCopies).toBe(1);
    expect(afterTaken).toEqual({ status: 202, body: { trackingId, replay: 'queued' } });
    expect(await harness.settled(trackingId, ['sent'])).toMatchObject({ attemptCount: failedBefore.attemptCount + 2 });
    expect(harness.emailsFor(trackingId)).toHaveLength(1);
  });

  it('When a replay was queued longer ago than the send deadline and never taken, then single and bulk replays queue it again', async () => {
    const from = new Date(Date.now() - 1_000).toISOString();
    const [single, bulk] = await failedNotifications(2);
    const to = new Date(Date.now() + 1_000).toISOString();
    // As a replay whose message was purged from the queue leaves its row: marked, and never taken.
    await harness.db.query(
      `UPDATE notifications.notifications
          SET updated_at = now() - make_interval(secs => $2::float8 / 1000 + 120),
              replay_queued_at = now() - make_interval(secs => $2::float8 / 1000 + 60)
        WHERE tracking_id = ANY($1::uuid[])`,
      [[single!.trackingId, bulk!.trackingId], DEADLINE_MS],
    );

    const singleReplay = await harness.api(`/notifications/${single!.trackingId}/retry`, { method: 'POST' });
    const bulkReplay = await harness.api('/notifications/retry', jsonPost({ status: 'failed', from, to }));

    expect(singleReplay).toEqual({ status: 202, body: { trackingId: single!.trackingId, replay: 'queued' } });
    expect(bulkReplay).toEqual({ status: 202, body: { queued: 1, notQueued: 0, invalid: 0, more: false } });
    expect(await harness.settled(bulk!.trackingId, ['sent'])).toMatchObject({ status: 'sent' });
  });

  it('When the bulk replay body is wrong, then 400 names the field', async () => {
    const response = await harness.api('/notifications/retry', jsonPost({ status: 'sent', from: 'yesterday' }));

    expect(response.status).toBe(400);
    const fields = response.body.error.details.map((detail: { field: string }) => detail.field);
    expect(fields).toEqual(expect.arrayContaining(['body.status', 'body.from']));
  });

  it('When the bulk replay body is sent as a form with the bearer token, then 415 names the content type, not a missing from', async () => {
    const from = new Date(Date.now() - 3_600_000).toISOString();

    const response = await harness.api('/notifications/retry', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ from }).toString(),
    });

    expect(response.status).toBe(415);
    expect(response.body.error).toMatchObject({
      code: 'unsupported_media_type',
      details: [{ field: 'headers.content-type', message: 'must be application/json' }],
    });
  });

  it('When the bulk replay body misspells a field, then 400 names it and nothing is replayed', async () => {
    const [failed] = await failedNotifications(1);
    const trackingId = failed?.trackingId ?? '';
    const from = new Date(Date.now() - 3_600_000).toISOString();

    // Meant: the retry_scheduled ones. Read without the misspelt field, it replayed the failed ones.
    const response = await harness.api('/notifications/retry', jsonPost({ from, stauts: 'retry_scheduled' }));

    expect(response.status).toBe(400);
    expect(response.body.error.details).toEqual([{ field: 'body.stauts', message: expect.any(String) }]);
    expect((await harness.api(`/notifications/${trackingId}`)).body).toMatchObject({
      status: 'failed',
      replayQueuedAt: null,
    });
    // Sent, so that no later bulk replay in this file finds it failed in its range.
    expect((await harness.api(`/notifications/${trackingId}/retry`, { method: 'POST' })).status).toBe(202);
    await harness.settled(trackingId, ['sent']);
  });

  it('When the range is empty, then 400 names the field the caller got wrong: to when given, else from', async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const past = new Date(Date.now() - 3_600_000).toISOString();

    const withoutTo = await harness.api('/notifications/retry', jsonPost({ from: future }));
    const withTo = await harness.api('/notifications/retry', jsonPost({ from: future, to: past }));

    expect(withoutTo.status).toBe(400);
    expect(withoutTo.body.error.details).toEqual([
      expect.objectContaining({ field: 'body.from', message: expect.stringMatching(/past/) }),
    ]);
    expect(withTo.status).toBe(400);
    expect(withTo.body.error.details).toEqual([expect.objectContaining({ field: 'body.to' })]);
  });

  // Last in the file: its stale rows stay failed, inside the range of any later bulk replay.
  it('When stored requests no longer pass the schema, then their replay is refused with 422 and a bulk replay reads on past them to the others', async () => {
    const from = new Date(Date.now() - 1_000).toISOString();
    const notifications = await failedNotifications(4);
    const stale = notifications.slice(0, 3);
    const valid = notifications[3];
    const to = new Date(Date.now() + 1_000).toISOString();
    // As requests accepted before the schema bounded an address's local part to 64 characters.
    await harness.db.query(
      `UPDATE notifications.notifications
          SET request = jsonb_set(request, '{recipient,email}', to_jsonb(repeat('a', 65) || '@example.com'))
        WHERE tracking_id = ANY($1::uuid[])`,
      [stale.map((message) => message.trackingId)],
    );
    // The valid one last in the range, behind every stale one.
    await harness.db.query(`UPDATE notifications.notifications SET created_at = now() WHERE tracking_id = $1`, [
      valid!.trackingId,
    ]);

    const single = await harness.api(`/notifications/${stale[0]!.trackingId}/retry`, { method: 'POST' });
    // More stale rows than the limit: the replay must not stop at them.
    const bulk = await harness.api('/notifications/retry', jsonPost({ status: 'failed', from, to, limit: 2 }));
    await harness.settled(valid!.trackingId, ['sent']);

    expect(single.status).toBe(422);
    expect(single.body.error).toMatchObject({
      code: 'stored_request_invalid',
      message: expect.stringContaining('recipient.email'),
    });
    expect(bulk).toEqual({ status: 202, body: { queued: 1, notQueued: 3, invalid: 3, more: false } });
    for (const message of stale) {
      expect(harness.emailsFor(message.trackingId)).toHaveLength(0);
      expect((await harness.api(`/notifications/${message.trackingId}`)).body.status).toBe('failed');
    }
  });
});
