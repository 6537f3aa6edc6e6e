import type { Response } from 'express';
import { html, type SafeHtml } from './html.js';
import { type PageContext, sendPage } from './layout.js';

export type Confirmation = {
  title: string;
  /** What will happen, in a sentence or two, with what it applies to. */
  details: SafeHtml;
  action: string;
  fields?: Record<string, string>;
  button: string;
  danger?: boolean;
  cancel: string;
};

/** Every change the page makes goes through this second step: a GET shows it, only its POST acts. */
export function sendConfirmation(res: Response, context: PageContext, confirmation: Confirmation): void {
  const fields = Object.entries(confirmation.fields ?? {}).map(
    ([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`,
  );
  sendPage(res, 200, {
    title: confirmation.title,
    context,
    body: html`${confirmation.details}
<form method="post" action="${confirmation.action}">
<input type="hidden" name="csrf" value="${context.csrf}">${fields}
<button${confirmation.danger ? html` class="danger"` : ''}>${confirmation.button}</button>
<a href="${confirmation.cancel}">Cancel</a>
</form>`,
  });
}
