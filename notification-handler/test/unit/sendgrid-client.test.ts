import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createSendGridClient } from '../../src/sendgrid/sendgrid-client.js';

/** A Mail Send stand-in that answers 202 after `delayMs`, so that requests overlap; counts connections. */
async function startMailSend(delayMs: number) {
  let connections = 0;
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () =>
      setTimeout(() => {
        response.writeHead(202, { 'x-message-id': 'id' });
        response.end();
      }, delayMs),
    );
  });
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

const request = { method: 'POST', url: '/v3/mail/send', body: { subject: 'Tickets' } } as const;

describe('SendGrid client connections', () => {
  let mailSend: Awaited<ReturnType<typeof startMailSend>> | undefined;
  afterEach(() => mailSend?.close());

  it('When a burst of more requests than Node keeps idle by default (256) comes again, then it reuses every connection of the last one', async () => {
    mailSend = await startMailSend(20);
    const client = createSendGridClient({ apiKey: 'SG.test', apiUrl: mailSend.url, timeoutMs: 5_000 });
    const burst = () => Promise.all(Array.from({ length: 300 }, () => client.request(request)));

    await burst();
    const afterFirstBurst = mailSend.connections();
    await burst();
    await burst();

    expect(afterFirstBurst).toBeGreaterThan(256);
    expect(mailSend.connections()).toBe(afterFirstBurst);
  });
});
