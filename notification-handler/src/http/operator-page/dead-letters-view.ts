import type { DeadLetterView } from '../../messaging/dead-letter-queue.js';
import { when } from './format.js';
import { html, type SafeHtml } from './html.js';

const DONE: Record<string, string> = {
  replayed: 'Sent back to the work queue: the handler will try it again.',
  discarded: 'Discarded.',
};

export function renderDeadLetters(letters: DeadLetterView[], shown: number, done: string | undefined): SafeHtml {
  const rows = letters.map(
    (letter) => html`<tr><td>${when(letter.deadLetteredAt)}</td><td>${trackingLink(letter.trackingId)}</td>
<td>${letter.reason}</td><td>${letter.routingKey ?? '—'}</td><td>${actions(letter)}</td></tr>`,
  );
  return html`${done && DONE[done] ? html`<p class="done">${DONE[done]}</p>` : ''}
${
  rows.length > 0
    ? html`<table><thead><tr><th>Dead-lettered</th><th>Tracking id</th><th>Reason</th><th>Routing key</th><th></th></tr></thead>
<tbody>${rows}</tbody></table>`
    : html`<p>The dead-letter queue is empty.</p>`
}
<p class="note">The first ${shown} messages of the queue. Reading them takes them off the queue unacknowledged for
a moment and puts them back in place: meanwhile the queue's depth does not count them.</p>`;
}

export function describeLetter(letter: DeadLetterView): SafeHtml {
  return html`<dl><dt>Tracking id</dt><dd>${letter.trackingId ?? '—'}</dd><dt>Reason</dt><dd>${letter.reason}</dd>
<dt>Dead-lettered</dt><dd>${when(letter.deadLetteredAt)}</dd><dt>Routing key</dt><dd>${letter.routingKey ?? '—'}</dd></dl>`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A poison message's id is whatever its publisher put there: only a UUID becomes a link. */
function trackingLink(trackingId: string | undefined): SafeHtml | string {
  if (trackingId === undefined) return '—';
  return UUID.test(trackingId) ? html`<a href="/operator/notifications/${trackingId}">${trackingId}</a>` : trackingId;
}

function actions(letter: DeadLetterView): SafeHtml {
  const base = `/operator/dead-letters/${letter.key}`;
  return html`${letter.replayable ? html`<a href="${base}/replay">Replay…</a> ` : ''}<a href="${base}/discard">Discard…</a>`;
}
