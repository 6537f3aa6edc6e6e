import { html, type SafeHtml } from './html.js';

/** `2026-11-30 09:15:02 UTC`: one zone for every operator, whatever the database session's. */
export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function statusBadge(status: string): SafeHtml {
  return html`<span class="status ${status}">${status.replace('_', ' ')}</span>`;
}

export function count(value: number): string {
  return value.toLocaleString('en');
}
