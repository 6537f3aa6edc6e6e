import { type StoredMessage, trackingIdOf } from './message-store.js';
import { isObject } from './validate-messages.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Every value the page shows goes through here: safe in text and in quoted attributes alike. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (char) => ESCAPES[char] as string);
}

/**
 * No script may run on this page or in a message: the page sends none, CSP forbids them, and the
 * HTML part lives in a sandboxed iframe (an empty `sandbox` grants nothing, scripts included).
 */
export const INBOX_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src * data:; frame-ancestors 'none'";

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:2rem;max-width:60rem}
article{border:1px solid #ccc;border-radius:6px;padding:1rem;margin:1rem 0}
dl{display:grid;grid-template-columns:8rem 1fr;gap:.2rem 1rem;margin:.5rem 0}dt{color:#666}dd{margin:0}
pre{white-space:pre-wrap;background:#f6f6f6;padding:.5rem}iframe{width:100%;height:20rem;border:1px solid #ddd}`;

/** `messages` newest first; `total` is how many the store holds (the page may show fewer). */
export function renderInbox(messages: StoredMessage[], total: number): string {
  const heading = `Mailjet and SendGrid sandbox inbox: ${total} message${total === 1 ? '' : 's'}`;
  const shown = messages.length < total ? `<p>Showing the newest ${messages.length}.</p>` : '';
  const body = messages.length === 0 ? '<p>No message received yet.</p>' : messages.map(renderMessage).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(heading)}</title><style>${STYLE}</style></head>
<body><h1>${escapeHtml(heading)}</h1>${shown}
${body}
</body></html>`;
}

function renderMessage(message: StoredMessage): string {
  const view = message.provider === 'sendgrid' ? sendGridView(message) : mailjetView(message);
  const subject = typeof view.subject === 'string' && view.subject !== '' ? view.subject : '(no subject)';
  const fields = view.fields
    .filter(([, value]) => value !== undefined && value !== null && value !== '')
    .map(([name, value]) => `<dt>${name}</dt><dd>${escapeHtml(value)}</dd>`)
    .join('');
  return `<article>
<h2>${escapeHtml(subject)}</h2>
<dl><dt>Provider</dt><dd>${escapeHtml(message.provider)}</dd>${fields}</dl>
${renderParts(view)}
</article>`;
}

/** What the page shows of a message, whichever provider's field names it has. */
type MessageView = { subject: unknown; fields: [string, unknown][]; text: unknown; html: unknown; variables: unknown };

function mailjetView(message: StoredMessage): MessageView {
  const fields: [string, unknown][] = [
    ['From', formatAddress(message.From)],
    ['To', formatAddresses(message.To)],
    ['Cc', formatAddresses(message.Cc)],
    ['Bcc', formatAddresses(message.Bcc)],
    ['CustomID', message.CustomID],
    ['TemplateID', message.TemplateID],
    ['MessageID', message.MessageID],
    ['MessageUUID', message.MessageUUID],
    ['Received', message.receivedAt],
  ];
  return {
    subject: message.Subject,
    fields,
    text: message.TextPart,
    html: message.HTMLPart,
    variables: message.Variables,
  };
}

function sendGridView(message: StoredMessage): MessageView {
  const fields: [string, unknown][] = [
    ['From', formatAddress(message.from)],
    ['To', formatAddresses(message.to)],
    ['Cc', formatAddresses(message.cc)],
    ['Bcc', formatAddresses(message.bcc)],
    ['Tracking id', trackingIdOf(message)],
    ['custom_args', message.custom_args === undefined ? undefined : JSON.stringify(message.custom_args)],
    ['X-Message-Id', message.MessageID],
    ['Received', message.receivedAt],
  ];
  const content = Array.isArray(message.content) ? message.content.filter(isObject) : [];
  const part = (type: string) => content.find((entry) => entry.type === type)?.value;
  return { subject: message.subject, fields, text: part('text/plain'), html: part('text/html'), variables: undefined };
}

function renderParts(view: MessageView): string {
  const parts: string[] = [];
  if (typeof view.text === 'string' && view.text !== '') {
    parts.push(`<h3>Text part</h3><pre>${escapeHtml(view.text)}</pre>`);
  }
  if (typeof view.html === 'string' && view.html !== '') {
    parts.push(`<h3>HTML part</h3><iframe sandbox title="HTML part" srcdoc="${escapeHtml(view.html)}"></iframe>`);
  }
  if (view.variables !== undefined) {
    parts.push(`<h3>Variables</h3><pre>${escapeHtml(JSON.stringify(view.variables, null, 2))}</pre>`);
  }
  return parts.join('\n');
}

/** Mailjet writes `Email` and `Name`, SendGrid `email` and `name`. */
function formatAddress(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  const email = String(value.Email ?? value.email ?? '');
  const name = value.Name ?? value.name;
  return typeof name === 'string' && name !== '' ? `${name} <${email}>` : email;
}

function formatAddresses(value: unknown): string | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  return value.map(formatAddress).join(', ');
}
