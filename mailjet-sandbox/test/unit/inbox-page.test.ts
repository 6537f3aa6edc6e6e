import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeHtml, type Sandbox, startSandbox } from '../../src/index.js';
import { sendThroughMailjet } from '../support/mailjet-clients.js';
import { buildMessage, uniqueId } from '../support/messages.js';
import { callSandbox } from '../support/sandbox-http.js';

const HOSTILE = '<script>alert(1)</script>';

describe('GET / (the inbox page)', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0 });
  });
  afterAll(async () => {
    await sandbox.stop();
  });

  it('When a subject and a name carry a script, then the page shows them escaped and runs nothing', async () => {
    const message = buildMessage({
      Subject: HOSTILE,
      To: [{ Email: 'victim@example.com', Name: `"><img src=x onerror=alert(1)>${HOSTILE}` }],
      HTMLPart: `<p>Hi</p>${HOSTILE}<a href="https://x.example/?a=1&b=2">link</a>`,
      TextPart: `Plain ${HOSTILE}`,
    });
    await sendThroughMailjet(sandbox, 'protocol', { Messages: [message] });

    const page = await callSandbox(sandbox, 'GET', `/?CustomID=${encodeURIComponent(message.CustomID)}`);

    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.text).not.toContain('<script');
    expect(page.text).not.toContain('<img');
    expect(page.text).toContain(`<h2>${escapeHtml(HOSTILE)}</h2>`);
    expect(page.text).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(page.text).toContain(`<iframe sandbox title="HTML part" srcdoc="${escapeHtml(message.HTMLPart)}"></iframe>`);
    expect(page.text).toContain(`<pre>Plain ${escapeHtml(HOSTILE)}</pre>`);
  });

  it('When several messages were received, then the newest comes first', async () => {
    const tag = uniqueId('order');
    const first = buildMessage({ CustomID: tag, Subject: `first ${tag}` });
    const second = buildMessage({ CustomID: tag, Subject: `second ${tag}` });
    await sendThroughMailjet(sandbox, 'protocol', { Messages: [first] });
    await sendThroughMailjet(sandbox, 'protocol', { Messages: [second] });

    const page = await callSandbox(sandbox, 'GET', `/?CustomID=${tag}`);

    expect(page.text.indexOf(`second ${tag}`)).toBeLessThan(page.text.indexOf(`first ${tag}`));
    expect(page.text).toContain('2 messages');
  });

  it('When escapeHtml is given every special character, then none survives', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });
});
