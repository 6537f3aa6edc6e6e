import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildMessage } from '@notify/test-support/messages.js';
import { waitFor } from '@notify/test-support/wait.js';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/handler-harness.js';

/** Debian's chromium: the test never downloads a browser. */
const CHROMIUM = '/usr/bin/chromium';
// The README's picture is refreshed on request (UPDATE_SCREENSHOT=1), so that a test run leaves the
// work tree as it found it; otherwise the screenshot goes with the other test results.
const SCREENSHOT = fileURLToPath(
  new URL(
    process.env.UPDATE_SCREENSHOT === '1'
      ? '../../../docs/operator-page.png'
      : '../../../test-results/operator-page.png',
    import.meta.url,
  ),
);
const TOKEN = randomBytes(24).toString('hex');

describe('operator page in a browser (sign in, replay, dead letters)', () => {
  let harness: Harness;
  let profile: string;
  let browser: BrowserContext;
  let page: Page;
  const cspViolations: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`The operator page's browser test needs chromium at ${CHROMIUM}: apt-get install chromium`);
    }
    harness = await startHarness('operator-browser', { OPERATOR_TOKEN: TOKEN, RETRY_MAX_RETRIES: '0' });
    profile = mkdtempSync(join(tmpdir(), 'notify-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1100, height: 760 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(15_000);
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await harness?.stop();
  });

  it('When an operator signs in, finds a failed notification and replays it, then the page shows it sent', async () => {
    harness.sandbox.faults.set({ failRecipients: 'fail.example' });
    const message = buildMessage('ticket.added_to_checkout');
    const failing = { ...message, recipient: { email: `ada-${randomUUID().slice(0, 8)}@fail.example`, name: 'Ada' } };
    harness.publish(failing);
    expect(await harness.settled(failing.trackingId)).toMatchObject({ status: 'failed' });
    harness.sandbox.faults.clear();

    await page.goto(`${harness.handler.url}/`);
    await page.getByLabel('Operator token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();

    await page.getByRole('link', { name: 'Notifications' }).click();
    await page.getByLabel('Status').selectOption('failed');
    await page.getByLabel('Email').fill(failing.recipient.email);
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('link', { name: failing.trackingId }).click();
    await page.getByRole('link', { name: 'Replay…' }).click();
    await page.getByRole('button', { name: 'Replay' }).click();
    await page.locator('p.done', { hasText: 'Replay queued' }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/operator/notifications/${failing.trackingId}`);

    await waitFor(
      async () => {
        await page.goto(`${harness.handler.url}/operator/notifications/${failing.trackingId}`);
        return (await page.locator('dd .status').first().textContent()) === 'sent' ? true : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 200, what: 'the page to show the notification sent' },
    );
    expect(await page.locator('ol.timeline li').count()).toBe(2);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(cspViolations).toEqual([]);
  }, 60_000);

  it('When a poison message is dead-lettered, then the dead-letter view shows its reason', async () => {
    const marker = randomUUID();
    harness.publishRaw('checkout.completed', Buffer.from('{"schemaVersion":'), {
      contentType: 'application/json',
      messageId: marker,
    });
    await harness.decided(marker, 'dead-lettered');

    await page.getByRole('link', { name: 'Dead letters' }).click();
    const row = page.locator('tr', { hasText: marker });

    await expect.poll(() => row.textContent()).toMatch(/invalid message: body is not JSON/);
    expect(await row.getByRole('link', { name: 'Discard…' }).count()).toBe(1);
    expect(await row.getByRole('link', { name: 'Replay…' }).count()).toBe(0);
  }, 60_000);
});
