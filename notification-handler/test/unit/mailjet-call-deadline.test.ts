import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { captureLogs } from '@notify/test-support/logger.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { Email } from '../../src/domain/email-provider.js';
import { createMailjetEmailProvider } from '../../src/mailjet/mailjet-email-provider.js';
import { guardProvider } from '../../src/provider-guard/guard-provider.js';

const TIMEOUT_MS = 300;
const email: Email = {
  customId: 'trickled',
  from: { email: 'tickets@example.com', name: 'Ticketing' },
  to: { email: 'ada@example.com', name: 'Ada' },
  subject: 'Your tickets',
  text: 'text',
  html: '<p>html</p>',
};

/**
 * Mailjet's success answer for one email, its headers at once and its body a byte every 100 ms:
 * the client's socket never goes idle for its timeout, and the whole answer takes seconds.
 */
async function startTricklingMailjet() {
  const body = JSON.stringify({ Messages: [{ Status: 'success', To: [{ Email: email.to.email, MessageID: 1 }] }] });
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' });
      let written = 0;
      const timer = setInterval(() => {
        response.write(body.slice(written, written + 1));
        written += 1;
        if (written < body.length) return;
        clearInterval(timer);
        response.end();
      }, 100);
      timers.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      for (const timer of timers) clearInterval(timer);
      server.closeAllConnections();
      server.close();
    },
  };
}

describe('a Mailjet call whose answer trickles in', () => {
  let mailjet: Awaited<ReturnType<typeof startTricklingMailjet>> | undefined;
  afterEach(() => mailjet?.close());

  it('When the answer is still coming at the timeout, then the call ends there as a transient failure', async () => {
    mailjet = await startTricklingMailjet();
    const logs = captureLogs();
    const adapter = createMailjetEmailProvider(
      { apiKey: 'key', apiSecret: 'secret', apiUrl: mailjet.url, timeoutMs: TIMEOUT_MS },
      logs.log,
    );
    const guarded = guardProvider(adapter, {
      name: 'mailjet',
      failuresToOpen: 5,
      probeIntervalMs: 5_000,
      maxCallsPerSecond: 50,
      throttlePauseMs: 1_000,
      maxThrottlePauseMs: 10_000,
      callTimeoutMs: TIMEOUT_MS,
      log: logs.log,
    });

    // node-mailjet's own timeout stops counting once the headers are in: without the guard's
    // deadline this call would end `sent`, seconds later.
    const [outcome] = await guarded.send([email]);

    expect(outcome).toMatchObject({
      kind: 'failed',
      transient: true,
      errorCode: 'ETIMEDOUT',
      reason: `no whole answer within ${TIMEOUT_MS} ms`,
    });
  });
});
