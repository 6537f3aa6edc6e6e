import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NotificationMessage } from '@notify/shared';
import { buildMessage } from '@notify/test-support/messages.js';
import { waitFor } from '@notify/test-support/wait.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PAGE_CSP } from '../../src/http/operator-page/layout.js';
import { type Harness, startHarness } from './support/handler-harness.js';
import { csrfOf, operatorClient } from './support/operator-client.js';

const TOKEN = randomBytes(24).toString('hex');
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8';

describe('operator page (pages, replays, dead letters)', () => {
  let harness: Harness;
  let metrics: Server;
  let cookie: string;
  const client = operatorClient(() => harness.handler.url);
  const page = (path: string) => client.call(path, { headers: { cookie } });
  /** As a browser asks for a page: an error comes as a page too. */
  const browse = (path: string) => client.call(path, { headers: { cookie, accept: BROWSER_ACCEPT } });
  /** A confirmation page's form, posted as the browser would. */
  const confirm = async (path: string) => {
    const confirmation = await page(path);
    expect(confirmation.status).toBe(200);
    const fields = Object.fromEntries(
      [...confirmation.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
        m[1],
        m[2]?.replaceAll('&#39;', "'").replaceAll('&quot;', '"').replaceAll('&amp;', '&'),
      ]),
    );
    return client.postForm(path, cookie, { ...fields, csrf: csrfOf(confirmation.text) });
  };
  const send = async (message: NotificationMessage, statuses = ['sent', 'failed']) => {
    harness.publish(message);
    return harness.settled(message.trackingId, statuses);
  };
  const failing = () => {
    const message = buildMessage();
    return { ...message, recipient: { ...message.recipient, email: `${randomUUID().slice(0, 8)}@fail.example` } };
  };

  beforeAll(async () => {
    metrics = await serveMetrics('notify_outbox_pending 7\nnotify_outbox_oldest_pending_age_seconds 12.4\n');
    const metricsUrl = `http://127.0.0.1:${(metrics.address() as AddressInfo).port}/metrics`;
    // A database of its own: bulk replay works on every failed row of the database.
    harness = await startHarness(
      'operator-page',
      { OPERATOR_TOKEN: TOKEN, RETRY_MAX_RETRIES: '0', TICKETING_METRICS_URL: metricsUrl },
      { ownDatabase: true },
    );
    cookie = (await client.signIn(TOKEN)).cookie;
  });
  afterEach(() => {
    harness.sandbox.faults.clear();
  });
  afterAll(async () => {
    await harness?.stop();
    await new Promise((resolve) => metrics?.close(resolve));
  });

  it('When a customer name holds markup, then the list and the detail show it escaped, under a strict CSP, never framed', async () => {
    const message = buildMessage();
    const hostile = { ...message, recipient: { ...message.recipient, name: '<script>alert(1)</script> & "Ada"' } };
    await send(hostile);

    const list = await page(`/operator/notifications?email=${encodeURIComponent(hostile.recipient.email)}`);
    const detail = await page(`/operator/notifications/${hostile.trackingId}`);

    for (const answer of [list, detail]) {
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-security-policy')).toBe(PAGE_CSP);
      expect(answer.headers.get('x-frame-options')).toBe('DENY');
      expect(answer.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Ada&quot;');
      expect(answer.text).not.toMatch(/<script/i);
    }
    expect(PAGE_CSP).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; form-action 'self'/);
  });

  it('When the list is filtered by email, operation or tracking id, then only matching notifications show', async () => {
    const email = `Filter-${randomUUID().slice(0, 8)}@Example.com`;
    const added = { ...buildMessage('ticket.added_to_checkout'), recipient: { email, name: 'Filter' } };
    const completed = { ...buildMessage('checkout.completed'), recipient: { email, name: 'Filter' } };
    await send(added);
    await send(completed);

    const byEmail = await page(`/operator/notifications?email=${encodeURIComponent(email.toLowerCase())}`);
    const byOperation = await page(
      `/operator/notifications?email=${encodeURIComponent(email)}&operation=ticket.added_to_checkout`,
    );
    const byTrackingId = await page(`/operator/notifications?trackingId=${completed.trackingId}&status=`);

    expect(trackingIdsIn(byEmail.text)).toEqual([completed.trackingId, added.trackingId]);
    expect(trackingIdsIn(byOperation.text)).toEqual([added.trackingId]);
    expect(trackingIdsIn(byTrackingId.text)).toEqual([completed.trackingId]);
  });

  it('When the page is filtered by an email with a NUL, then 400 names query.email, not 500', async () => {
    const byEmail = await page('/operator/notifications?email=ada%00@example.com');

    expect(byEmail.status).toBe(400);
    expect(byEmail.text).toContain('query.email');
  });

  it('When the page is given a cursor with a zone offset out of range, then 400, not 500', async () => {
    const forged = Buffer.from(JSON.stringify(['2026-02-10 10:00:00+16', randomUUID()])).toString('base64url');

    const byCursor = await page(`/operator/notifications?cursor=${forged}`);

    expect(byCursor.status).toBe(400);
    expect(byCursor.text).toContain('cursor is not one this API gave out');
  });

  it('When the API lists by email page by page, then each notification of that recipient appears once, newest first', async () => {
    const email = `paging-${randomUUID().slice(0, 8)}@example.com`;
    const ours: string[] = [];
    for (let i = 0; i < 3; i++) {
      const message = { ...buildMessage(), recipient: { email, name: 'Paging' } };
      await send(message);
      ours.push(message.trackingId);
    }

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/notifications?email=${email}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const { status, body } = await harness.api(query);
      expect(status).toBe(200);
      seen.push(...body.items.map((item: any) => item.trackingId));
      cursor = body.nextCursor;
    } while (cursor);

    expect(seen).toEqual([...ours].reverse());
  });

  it('When each list filter is planned, then an index serves it', async () => {
    const { listQuery } = await import('../../src/db/notification-queries.js');
    const client = await harness.db.connect();
    try {
      // Few rows: without this the planner rightly prefers a sequential scan.
      await client.query('SET enable_seqscan = off');
      const plans: Record<string, string> = {};
      for (const [filter, filters] of Object.entries({
        status: { status: 'failed' as const },
        operation: { operation: 'checkout.completed' },
        email: { email: 'a@example.com' },
        trackingId: { trackingId: randomUUID() },
      })) {
        const { text, values } = listQuery(filters, undefined, 51);
        const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${text}`, values);
        plans[filter] = JSON.stringify(rows[0]['QUERY PLAN']).match(/"Index Name":"([^"]+)"/)?.[1] ?? 'no index';
      }
      expect(plans).toEqual({
        status: 'notifications_status_created_idx',
        operation: 'notifications_operation_created_idx',
        email: 'notifications_recipient_email_idx',
        trackingId: 'notifications_pkey',
      });
    } finally {
      client.release();
    }
  });

  it('When the overview is opened, then it shows counts, breaker, queue depths and the outbox backlog', async () => {
    const message = failing();
    harness.sandbox.faults.set({ failRecipients: 'fail.example' });
    await send(message);

    const overview = await page('/');

    expect(overview.status).toBe(200);
    expect(overview.text).toMatch(/Breaker \(mailjet\)<b>closed<\/b>/);
    expect(overview.text).toMatch(/Work queue<b>\d+ ready <span class="note">\(1 consumers\)/);
    expect(overview.text).toMatch(/Dead-letter queue<b>[1-9]\d* ready/);
    expect(overview.text).toContain('Ticketing outbox backlog<b>7 pending <span class="note">(oldest 12 s)');
    expect(overview.text).toMatch(/status=failed">failed<\/a><\/td>\s*<td class="n">[1-9]\d*<\/td>/);
  });

  it('When a failed notification is replayed through its confirmation, then it is sent', async () => {
    harness.sandbox.faults.set({ failRecipients: 'fail.example' });
    const message = failing();
    expect(await send(message)).toMatchObject({ status: 'failed' });
    harness.sandbox.faults.clear();

    const replayed = await confirm(`/operator/notifications/${message.trackingId}/replay`);

    expect(replayed.status).toBe(303);
    expect(replayed.headers.get('location')).toBe(`/operator/notifications/${message.trackingId}?replay=queued`);
    expect(await harness.settled(message.trackingId, ['sent'])).toMatchObject({ status: 'sent' });
  });

  it('When a failed notification whose replay the handler has not taken yet is opened or replayed again, then the page offers no Replay and refuses it with 409 replay_pending', async () => {
    harness.sandbox.faults.set({ failRecipients: 'fail.example' });
    const message = failing();
    expect(await send(message)).toMatchObject({ status: 'failed' });
    harness.sandbox.faults.clear();
    const replayPath = `/operator/notifications/${message.trackingId}/replay`;
    const offered = await page(`/operator/notifications/${message.trackingId}`);
    // What a replay confirmed by the broker, and not yet claimed by the consumer, leaves on the row.
    await harness.db.query(
      'UPDATE notifications.notifications SET replay_queued_at = statement_timestamp() WHERE tracking_id = $1',
      [message.trackingId],
    );

    const detail = await page(`/operator/notifications/${message.trackingId}`);
    const confirmation = await browse(replayPath);
    // A form kept open from before the first replay, posted.
    const replayed = await client.postForm(
      replayPath,
      cookie,
      { csrf: csrfOf(offered.text) },
      { accept: BROWSER_ACCEPT },
    );

    expect(offered.text).toContain(`href="${replayPath}"`);
    expect(detail.status).toBe(200);
    expect(detail.text).not.toContain(replayPath);
    expect(detail.text).toContain('replay queued, not taken by the handler yet');
    for (const refused of [confirmation, replayed]) {
      expect(refused.status).toBe(409);
      expect(refused.headers.get('content-type')).toMatch(/^text\/html/);
      expect(refused.text).toContain(`notification ${message.trackingId} was queued for replay at`);
      expect(refused.text).toContain('Code: replay_pending.');
    }
    expect((await harness.api(`/notifications/${message.trackingId}`)).body).toMatchObject({ status: 'failed' });
  });

  it('When a sent notification is opened, then no Replay is offered and its confirmation page refuses with 409 not_replayable', async () => {
    const message = buildMessage();
    expect(await send(message)).toMatchObject({ status: 'sent' });
    const replayPath = `/operator/notifications/${message.trackingId}/replay`;

    const detail = await page(`/operator/notifications/${message.trackingId}`);
    const confirmation = await browse(replayPath);

    expect(detail.status).toBe(200);
    expect(detail.text).not.toContain(replayPath);
    expect(confirmation.status).toBe(409);
    expect(confirmation.text).toContain('Code: not_replayable.');
  });

  it('When a failed notification whose personal data was erased is replayed, then the page refuses with 410 and offers no replay', async () => {
    harness.sandbox.faults.set({ failRecipients: 'fail.example' });
    const message = failing();
    expect(await send(message)).toMatchObject({ status: 'failed' });
    harness.sandbox.faults.clear();
    // What the retention job leaves of it (PERSONAL_DATA_RETENTION_DAYS).
    await harness.db.query(
      `UPDATE notifications.notifications
          SET recipient_email = NULL, recipient_name = NULL, request = NULL, personal_data_erased_at = now()
        WHERE tracking_id = $1`,
      [message.trackingId],
    );
    const detail = await page(`/operator/notifications/${message.trackingId}`);

    const confirmation = await page(`/operator/notifications/${message.trackingId}/replay`);
    const posted = await client.postForm(`/operator/notifications/${message.trackingId}/replay`, cookie, {
      csrf: csrfOf(detail.text),
    });

    expect(detail.status).toBe(200);
    expect(detail.text).not.toContain(`/operator/notifications/${message.trackingId}/replay`);
    expect(confirmation.status).toBe(410);
    expect(posted.status).toBe(410);
    expect(posted.text).toContain('no stored request any more');
    expect(harness.emailsFor(message.trackingId)).toHaveLength(0);
  });

  it('When all failed since a time are replayed, then each is sent and the page says how many were queued', async () => {
    harness.sandbox.faults.set({ failRecipients: 'fail.example' });
    const since = new Date(Date.now() - 1_000).toISOString();
    const messages = [failing(), failing()];
    for (const message of messages) await send(message);
    harness.sandbox.faults.clear();

    const replayed = await confirm(`/operator/replay-failed?since=${encodeURIComponent(since)}`);

    expect(replayed.status).toBe(303);
    expect(replayed.headers.get('location')).toMatch(/^\/operator\/notifications\?status=failed&queued=[1-9]/);
    for (const message of messages) {
      expect(await harness.settled(message.trackingId, ['sent'])).toMatchObject({ status: 'sent' });
    }
  });

  it('When a poison message is dead-lettered, then the page shows its reason and reading puts it back', async () => {
    const marker = randomUUID();
    harness.publishRaw('checkout.completed', Buffer.from('{"trackingId":'), {
      contentType: 'application/json',
      messageId: marker,
    });
    await harness.decided(marker, 'dead-lettered');
    const depth = async () => (await harness.broker.channel.checkQueue(harness.topology.deadLetterQueue)).messageCount;
    const before = await depth();

    const letters = await page('/operator/dead-letters');

    expect(letters.status).toBe(200);
    expect(rowOf(letters.text, marker)).toMatch(/invalid message: body is not JSON/);
    expect(rowOf(letters.text, marker)).not.toContain('/replay');
    // Back in the queue (ready again) once the broker applied the page's nack.
    await waitFor(async () => ((await depth()) === before ? true : undefined), {
      timeoutMs: 5_000,
      what: 'the dead letters read by the page to be back in the queue',
    });
  });

  it('When a poison message is discarded through its confirmation, then it leaves the dead-letter queue', async () => {
    const marker = randomUUID();
    harness.publishRaw('checkout.completed', Buffer.from('not json'), {
      contentType: 'application/json',
      messageId: marker,
    });
    await harness.decided(marker, 'dead-lettered');
    const key = keyIn(rowOf((await page('/operator/dead-letters')).text, marker));

    const discarded = await confirm(`/operator/dead-letters/${key}/discard`);
    const again = await page('/operator/dead-letters');

    expect(discarded.status).toBe(303);
    expect(discarded.headers.get('location')).toBe('/operator/dead-letters?done=discarded');
    expect(again.text).not.toContain(marker);
  });

  it('When a failed notification is sent back from the dead-letter queue, then it leaves the queue and is sent', async () => {
    harness.sandbox.faults.set({ failRecipients: 'fail.example' });
    const message = failing();
    await send(message);
    await harness.decided(message.trackingId, 'dead-lettered');
    harness.sandbox.faults.clear();
    const key = keyIn(rowOf((await page('/operator/dead-letters')).text, message.trackingId));

    const replayed = await confirm(`/operator/dead-letters/${key}/replay`);

    expect(replayed.status).toBe(303);
    expect(replayed.headers.get('location')).toBe('/operator/dead-letters?done=replayed');
    expect(await harness.settled(message.trackingId, ['sent'])).toMatchObject({ status: 'sent' });
    expect(rowOf((await page('/operator/dead-letters')).text, message.trackingId)).toBe('');
  });

  it('When a dead letter is acted on with a key the queue does not hold, then 404 and nothing changes', async () => {
    const answer = await client.postForm('/operator/dead-letters/AAAAAAAAAAAAAAAAAAAAAA/discard', cookie, {
      csrf: csrfOf((await page('/operator/dead-letters')).text),
    });
    expect(answer.status).toBe(404);
  });
});

function trackingIdsIn(html: string): string[] {
  return [...html.matchAll(/<a href="\/operator\/notifications\/([0-9a-f-]{36})">/g)].map((m) => m[1] as string);
}

/** The dead-letter table's row that mentions `text`, or '' when none does. */
function rowOf(html: string, text: string): string {
  return html.split('<tr>').find((row) => row.includes(text)) ?? '';
}

function keyIn(row: string): string {
  const key = /\/operator\/dead-letters\/([A-Za-z0-9_-]{22})\//.exec(row)?.[1];
  if (!key) throw new Error(`no dead letter key in the row: ${row}`);
  return key;
}

function serveMetrics(body: string): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer((_req, res) => res.end(body));
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}
