import { OPERATIONS } from '@notify/shared';
import { type ListFilters, type Page, STATUSES } from '../../db/notification-queries.js';
import { statusBadge, when } from './format.js';
import { href, html, type SafeHtml } from './html.js';

export type BulkReplayResult = { queued: string; notQueued: string; invalid: string; more: string };

export function renderNotificationList(page: Page, filters: ListFilters, done?: BulkReplayResult): SafeHtml {
  const rows = page.items.map(
    (item) => html`<tr><td>${when(item.createdAt)}</td><td>${statusBadge(item.status)}</td><td>${item.operation}</td>
<td>${item.recipient.name}<br><span class="note">${item.recipient.email}</span></td><td class="n">${item.attemptCount}</td>
<td>${item.lastError ?? ''}</td><td><a href="/operator/notifications/${item.trackingId}">${item.trackingId}</a></td></tr>`,
  );
  const next = page.nextCursor
    ? html`<p><a href="${href('/operator/notifications', { ...filters, cursor: page.nextCursor })}">Next page →</a></p>`
    : '';
  return html`${done ? bulkReplayDone(done) : ''}${filterForm(filters)}
${
  rows.length > 0
    ? html`<table><thead><tr><th>Created</th><th>Status</th><th>Operation</th><th>Recipient</th><th>Attempts</th>
<th>Last error</th><th>Tracking id</th></tr></thead><tbody>${rows}</tbody></table>`
    : html`<p>No notification matches.</p>`
}${next}`;
}

function filterForm({ status, operation, trackingId, email }: ListFilters): SafeHtml {
  const option = (value: string, selected: string | undefined) =>
    html`<option value="${value}"${value === selected ? html` selected` : ''}>${value || 'any'}</option>`;
  return html`<form method="get" action="/operator/notifications">
<label>Status <select name="status">${['', ...STATUSES].map((value) => option(value, status ?? ''))}</select></label>
<label>Operation <select name="operation">${['', ...OPERATIONS].map((value) => option(value, operation ?? ''))}</select></label>
<label>Tracking id <input name="trackingId" value="${trackingId ?? ''}" size="36"></label>
<label>Email <input name="email" type="email" value="${email ?? ''}"></label>
<button>Filter</button> <a href="/operator/notifications">Clear</a>
</form>`;
}

function bulkReplayDone({ queued, notQueued, invalid, more }: BulkReplayResult): SafeHtml {
  const refused = Number(notQueued) - Number(invalid);
  return html`<p class="done">Replay queued for ${queued} failed notification(s)${
    refused > 0 ? html`; ${refused} could not be queued (the broker refused or did not answer)` : ''
  }${
    invalid !== '0'
      ? html`; ${invalid} skipped: their stored message no longer passes the message schema (replay one to see why)`
      : ''
  }.${more === 'true' ? ' More remain: replay again to queue the next ones.' : ''}</p>`;
}
