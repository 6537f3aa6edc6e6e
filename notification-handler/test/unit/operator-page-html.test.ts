import { describe, expect, it } from 'vitest';
import { OVERVIEW_COUNT_CAP } from '../../src/db/operator-queries.js';
import { html, SafeHtml } from '../../src/http/operator-page/html.js';
import { renderNotificationList } from '../../src/http/operator-page/notification-list-view.js';
import { renderOverview } from '../../src/http/operator-page/overview-view.js';
import { parseOutboxBacklog } from '../../src/ticketing/outbox-backlog.js';

describe('operator page markup', () => {
  it('When values are interpolated, then each is escaped unless it is markup the page built', () => {
    const name = `<img src=x onerror="alert('x')">&`;
    const built = html`<p title="${name}">${name}${[name, html`<b>${name}</b>`]}${undefined}${false}</p>`;

    expect(built).toBeInstanceOf(SafeHtml);
    expect(built.text).toBe(
      `<p title="&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;">` +
        `&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;`.repeat(2) +
        `<b>&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;</b></p>`,
    );
  });

  it('When a figure of the overview is unknown, then it says so with the reason and the others still show', () => {
    const page = renderOverview(
      {
        counts: { ok: false, reason: 'database <away>' },
        workQueue: { ok: true, value: { messages: 1234, consumers: 2 } },
        deadLetterQueue: { ok: false, reason: 'no broker connection' },
        outbox: { ok: false, reason: 'TICKETING_METRICS_URL is not set' },
        breaker: { mailjet: 'half_open' },
        pausedBy: ['mailjet'],
      },
      '2026-11-30T08:00:00.000Z',
    ).text;

    expect(page).toContain('Unknown: database &lt;away&gt;');
    expect(page).toContain('1,234 ready');
    expect(page).toContain('unknown <span class="note" title="no broker connection">(no broker connection)</span>');
    expect(page).toContain('(TICKETING_METRICS_URL is not set)');
    expect(page).toContain('Breaker (mailjet)<b>half open</b>');
    expect(page).toContain('paused: mailjet');
  });
});

describe('operator overview counts', () => {
  it('When a status count reached the cap, then the page shows it as a lower bound', () => {
    const counts = Object.fromEntries(
      ['in_progress', 'sent', 'retry_scheduled', 'failed'].map((status) => [status, { lastHour: 0, lastDay: 0 }]),
    ) as Record<string, { lastHour: number; lastDay: number }>;
    counts.sent = { lastHour: 9_999, lastDay: OVERVIEW_COUNT_CAP };
    const page = renderOverview(
      {
        counts: { ok: true, value: counts as never },
        workQueue: { ok: true, value: { messages: 0, consumers: 1 } },
        deadLetterQueue: { ok: true, value: { messages: 0, consumers: 0 } },
        outbox: { ok: false, reason: 'TICKETING_METRICS_URL is not set' },
        breaker: { mailjet: 'closed' },
        pausedBy: [],
      },
      '2026-11-30T08:00:00.000Z',
    ).text;

    expect(page).toContain('<td class="n">9,999</td><td class="n">10,000+</td>');
  });
});

describe('ticketing outbox backlog (Prometheus text)', () => {
  it('When the gauges are there, then their values are read, NaN included', () => {
    const text = [
      '# HELP notify_outbox_pending Outbox rows not yet confirmed.',
      '# TYPE notify_outbox_pending gauge',
      'notify_outbox_pending 42',
      'notify_outbox_pending_other 9',
      'notify_outbox_oldest_pending_age_seconds NaN',
    ].join('\n');
    expect(parseOutboxBacklog(text)).toEqual({ pending: 42, oldestPendingAgeSeconds: Number.NaN });
  });

  it('When a gauge is missing, then it says which', () => {
    expect(() => parseOutboxBacklog('notify_outbox_pending 1\n')).toThrow(/notify_outbox_oldest_pending_age_seconds/);
  });
});

describe('bulk replay result', () => {
  const noRows = { items: [], nextCursor: null };

  it('When some were refused by the broker and some skipped as invalid, then the page tells the two apart', () => {
    const text = renderNotificationList(noRows, {}, { queued: '4', notQueued: '3', invalid: '2', more: 'true' }).text;

    expect(text).toContain('Replay queued for 4 failed notification(s)');
    expect(text).toContain('; 1 could not be queued (the broker refused or did not answer)');
    expect(text).toContain('; 2 skipped: their stored message no longer passes the message schema');
    expect(text).toContain('More remain');
  });

  it('When only invalid ones were not queued, then no broker refusal is reported', () => {
    const text = renderNotificationList(noRows, {}, { queued: '1', notQueued: '2', invalid: '2', more: 'false' }).text;

    expect(text).not.toContain('could not be queued');
    expect(text).toContain('2 skipped');
    expect(text).not.toContain('More remain');
  });
});
