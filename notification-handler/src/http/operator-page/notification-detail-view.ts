import type { AttemptView, NotificationView } from '../../db/notification-queries.js';
import type { ReplayCandidate } from '../../db/replay-queries.js';
import { statusBadge, when } from './format.js';
import { html, type SafeHtml } from './html.js';

/**
 * `candidate`: what a replay of it would meet now, as the replay itself decides it. The page offers
 * a Replay link only where the replay would queue it, never one that could only be refused.
 */
export type ReplayState = { justQueued: boolean; candidate: ReplayCandidate['kind'] };

export function renderNotification(
  notification: NotificationView & { attempts: AttemptView[] },
  request: unknown,
  replay: ReplayState,
): SafeHtml {
  const n = notification;
  return html`${replay.justQueued ? html`<p class="done">Replay queued: the handler will send it again shortly.</p>` : ''}
<dl><dt>Status</dt><dd>${statusBadge(n.status)}${replayAction(n.trackingId, replay.candidate)}</dd>
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

function replayAction(trackingId: string, candidate: ReplayCandidate['kind']): SafeHtml | string {
  if (candidate === 'replayable') return html` <a href="/operator/notifications/${trackingId}/replay">Replay…</a>`;
  if (candidate === 'replay_pending')
    return html` <span class="note">replay queued, not taken by the handler yet</span>`;
  return '';
}

function renderAttempt(attempt: AttemptView): SafeHtml {
  return html`<li><strong>#${attempt.number}</strong> ${when(attempt.startedAt)} · ${attempt.outcome.replace('_', ' ')}
· HTTP ${attempt.httpStatus ?? '—'} · ${Math.max(0, Date.parse(attempt.finishedAt) - Date.parse(attempt.startedAt))} ms
${attempt.errorCode ? html`<br><span class="note">${attempt.errorCode}</span>` : ''}${attempt.message ? html`<br>${attempt.message}` : ''}</li>`;
}
