import type { Response } from 'express';
import { html } from './html.js';
import { sendPage } from './layout.js';

export function sendSignIn(res: Response, status: number, problem?: string): void {
  sendPage(res, status, {
    title: 'Sign in',
    body: html`${problem ? html`<p class="error">${problem}</p>` : ''}
<form method="post" action="/sign-in">
<p><label for="token">Operator token</label>
<input id="token" name="token" type="password" autocomplete="off" required autofocus></p>
<p><button>Sign in</button></p>
</form>
<p class="note">The token is the handler's OPERATOR_TOKEN setting. Signing in keeps you signed in for 8 hours,
until you sign out, or until the handler restarts.</p>`,
  });
}
