import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from '@notify/test-support/wait.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createSendGridClient } from '../../src/sendgrid/sendgrid-client.js';

/** A Mail Send stand-in that answers 202 after `delayMs`, so that requests overlap; counts connections, and those open. */
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
    openConnections: () =>
      new Promise<number>((resolve, reject) =>
        server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
      ),
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
    const { client } = createSendGridClient({ apiKey: 'SG.test', apiUrl: mailSend.url, timeoutMs: 5_000 });
    const burst = () => Promise.all(Array.from({ length: 300 }, () => client.request(request)));

    await burst();
    const afterFirstBurst = mailSend.connections();
    await burst();
    await burst();

    expect(afterFirstBurst).toBeGreaterThan(256);
    expect(mailSend.connections()).toBe(afterFirstBurst);
  });

  it('When its connections are closed, then none stays open, and the next request opens one again', async () => {
    const current = await startMailSend(0);
    mailSend = current;
    const { client, closeConnections } = createSendGridClient({
      apiKey: 'SG.test',
      apiUrl: current.url,
      timeoutMs: 5_000,
    });
    await Promise.all(Array.from({ length: 3 }, () => client.request(request)));
    const keptAlive = await current.openConnections();
    const openedSoFar = current.connections();

    closeConnections();

    // Well inside the agent's 5 s idle timeout, which would close them on its own.
    await waitFor(async () => ((await current.openConnections()) === 0 ? true : undefined), {
      timeoutMs: 2_000,
      what: 'the connections to close',
    });
    expect(keptAlive).toBeGreaterThan(0);
    const [response] = await client.request(request);
    expect(response.statusCode).toBe(202);
    expect(current.connections()).toBe(openedSoFar + 1);
  });
});
