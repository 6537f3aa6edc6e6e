import { STATUSES } from '../../db/notification-queries.js';
import { OVERVIEW_COUNT_CAP } from '../../db/operator-queries.js';
import { count } from './format.js';
import { href, html, type SafeHtml } from './html.js';
import type { Known, Overview } from './overview.js';

export function renderOverview(overview: Overview, replaySince: string): SafeHtml {
  const breakers = Object.entries(overview.breaker).map(
    ([provider, state]) => html`<div class="card">Breaker (${provider})<b>${state.replace('_', ' ')}</b></div>`,
  );
  return html`<div class="cards">${breakers}
<div class="card">Consumption<b>${overview.pausedBy.length > 0 ? `paused: ${overview.pausedBy.join(', ')}` : 'running'}</b></div>
<div class="card">Work queue<b>${depth(overview.workQueue)}</b></div>
<div class="card">Dead-letter queue<b>${depth(overview.deadLetterQueue)}</b><a href="/operator/dead-letters">Show</a></div>
<div class="card">Ticketing outbox backlog<b>${backlog(overview.outbox)}</b></div>
</div>
<h2>Notifications by status</h2>
${renderCounts(overview.counts)}
<h2>Replay failed notifications</h2>
<form method="get" action="/operator/replay-failed">
<label>Created since <input name="since" value="${replaySince}" size="30"></label>
<button>Review…</button> <span class="note">ISO 8601 with a zone, e.g. 2026-11-30T08:00:00Z</span>
</form>`;
}

function renderCounts(counts: Overview['counts']): SafeHtml {
  if (!counts.ok) return html`<p class="error">Unknown: ${counts.reason}</p>`;
  const rows = STATUSES.map(
    (
      status,
    ) => html`<tr><td><a href="${href('/operator/notifications', { status })}">${status.replace('_', ' ')}</a></td>
<td class="n">${capped(counts.value[status].lastHour)}</td><td class="n">${capped(counts.value[status].lastDay)}</td></tr>`,
  );
  return html`<table><thead><tr><th>Status now</th><th>Created in the last hour</th><th>In the last day</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

/** A count that reached the cap is a lower bound: "10,000+". */
function capped(value: number): string {
  return value >= OVERVIEW_COUNT_CAP ? `${count(OVERVIEW_COUNT_CAP)}+` : count(value);
}

function depth(figure: Overview['workQueue']): SafeHtml {
  if (!figure.ok) return unknown(figure);
  return html`${count(figure.value.messages)} ready <span class="note">(${figure.value.consumers} consumers)</span>`;
}

function backlog(figure: Overview['outbox']): SafeHtml {
  if (!figure.ok) return unknown(figure);
  const { pending, oldestPendingAgeSeconds } = figure.value;
  if (Number.isNaN(pending)) return html`unknown <span class="note">(the service could not count)</span>`;
  return html`${count(pending)} pending <span class="note">(oldest ${Math.round(oldestPendingAgeSeconds)} s)</span>`;
}

function unknown(figure: Known<unknown> & { ok: false }): SafeHtml {
  return html`unknown <span class="note" title="${figure.reason}">(${figure.reason})</span>`;
}
