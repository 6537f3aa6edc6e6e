import type { AttemptView, NotificationView } from '../../db/notification-queries.js';
import { REPLAYABLE_STATUSES } from '../../db/replay-queries.js';
import { statusBadge, when } from './format.js';
import { html, type SafeHtml } from './html.js';

export function renderNotification(
  notification: NotificationView & { attempts: AttemptView[] },
  request: unknown,
  replayQueued: boolean,
): SafeHtml {
  const n = notification;
  // An erased notification has no stored request left to send: no link that could only fail.
  const replayable = (REPLAYABLE_STATUSES as readonly string[]).includes(n.status) && n.personalDataErasedAt === null;
  return html`${replayQueued ? html`<p class="done">Replay queued: the handler will send it again shortly.</p>` : ''}
<dl><dt>Status</dt><dd>${statusBadge(n.status)}${
    replayable ? html` <a href="/operator/notifications/${n.trackingId}/replay">Replay…</a>` : ''
  }</dd>
<dt>Tracking id</dt><dd>${n.trackingId}</dd><dt>Operation</dt><dd>${n.operation}</dd>
<dt>Recipient</dt><dd>${n.recipient.name} &lt;${n.recipient.email}&gt;</dd>
<dt>Occurred</dt><dd>${when(n.occurredAt)}</dd><dt>Received</dt><dd>${when(n.createdAt)}</dd>
<dt>Last change</dt><dd>${when(n.updatedAt)}</dd><dt>Sent</dt><dd>${when(n.sentAt)}</dd>
<dt>Next attempt</dt><dd>${when(n.nextAttemptAt)}</dd><dt>Replay queued</dt><dd>${when(n.replayQueuedAt)}</dd>
<dt>Mailjet message id</dt><dd>${n.providerMessageId ?? '—'}</dd><dt>Last error</dt><dd>${n.lastError ?? '—'}</dd></dl>
<h2>Attempts</h2>
${n.attempts.length > 0 ? html`<ol class="timeline">${n.attempts.map(renderAttempt)}</ol>` : html`<p>None yet.</p>`}
<h2>Message</h2>
<pre>${JSON.stringify(request, null, 2)}</pre>`;
}

function renderAttempt(attempt: AttemptView): SafeHtml {
  return html`<li><strong>#${attempt.number}</strong> ${when(attempt.startedAt)} · ${attempt.outcome.replace('_', ' ')}
· HTTP ${attempt.httpStatus ?? '—'} · ${Math.max(0, Date.parse(attempt.finishedAt) - Date.parse(attempt.startedAt))} ms
${attempt.errorCode ? html`<br><span class="note">${attempt.errorCode}</span>` : ''}${attempt.message ? html`<br>${attempt.message}` : ''}</li>`;
}
