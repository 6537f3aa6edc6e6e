import { createHash } from 'node:crypto';
import type { Response } from 'express';
import { html, SafeHtml } from './html.js';

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d232a;background:#f7f8fa}
header{display:flex;gap:1.2rem;align-items:center;padding:.7rem 1.5rem;background:#1d2a3a;color:#fff}
header a{color:#cfe3ff;text-decoration:none}header strong{margin-right:1rem}header form{margin-left:auto}
main{padding:1rem 1.5rem;max-width:72rem}h1{font-size:1.35rem}h2{font-size:1.1rem;margin-top:1.6rem}
table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #e3e6ea;vertical-align:top}
th{background:#eef1f5;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
.status{display:inline-block;padding:0 .45rem;border-radius:9px;font-size:12px;background:#e3e6ea}
.sent{background:#d5f5dd}.failed{background:#fbd9d9}.retry_scheduled{background:#fff1c9}.in_progress{background:#dde9ff}
.cards{display:flex;flex-wrap:wrap;gap:1rem}.card{background:#fff;border:1px solid #e3e6ea;border-radius:6px;padding:.7rem 1rem;min-width:12rem}
.card b{display:block;font-size:1.3rem}.note{color:#5b6570}.error{color:#a3192d}.done{background:#e4f6e8;padding:.5rem .8rem;border-radius:6px}
main form{margin:.6rem 0 1rem}label{margin-right:.8rem;white-space:nowrap}input,select,button{font:inherit;padding:.2rem .4rem}
button{cursor:pointer;border:1px solid #8a96a3;border-radius:4px;background:#fff}button.danger{border-color:#a3192d;color:#a3192d}
ol.timeline{list-style:none;padding:0;border-left:3px solid #c9d1da;margin-left:.5rem}
ol.timeline li{padding:.3rem 0 .6rem 1rem}pre{white-space:pre-wrap;background:#fff;border:1px solid #e3e6ea;padding:.6rem}
dl{display:grid;grid-template-columns:11rem 1fr;gap:.25rem 1rem}dt{color:#5b6570}dd{margin:0}`;

/**
 * No script at all, styles only from the one inline block (allowed by its hash), forms posting to
 * this origin only, never framed.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** What every page needs from the request: the CSRF token of its forms, and whether to offer sign-out. */
export type PageContext = { csrf: string; signedIn: boolean };

export function sendPage(
  res: Response,
  status: number,
  { title, body, context }: { title: string; body: SafeHtml; context?: PageContext },
): void {
  res
    .status(status)
    .set({
      'Content-Security-Policy': PAGE_CSP,
      // frame-ancestors says the same, but browsers from before CSP level 2 read only this one.
      'X-Frame-Options': 'DENY',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
    })
    .type('html')
    .send(
      html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${title} · notify operator</title><style>${new SafeHtml(STYLE)}</style></head>
<body>${context ? navigation(context) : html`<header><strong>notify operator</strong></header>`}
<main><h1>${title}</h1>
${body}
</main></body></html>`.text,
    );
}

function navigation({ csrf, signedIn }: PageContext): SafeHtml {
  return html`<header><strong>notify operator</strong><a href="/">Overview</a>
<a href="/operator/notifications">Notifications</a><a href="/operator/dead-letters">Dead letters</a>
${signedIn ? html`<form method="post" action="/sign-out"><input type="hidden" name="csrf" value="${csrf}"><button>Sign out</button></form>` : ''}</header>`;
}
