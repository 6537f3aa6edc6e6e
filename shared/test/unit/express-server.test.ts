import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createExpressServer } from '@notify/shared/platform';
import { countHttpPrototypeSwaps } from '@notify/test-support/http-prototype-swaps.js';
import express, { type Express } from 'express';
import { afterEach, describe, expect, it, vi } from 'vitest';

/** An app that uses Express's own request and response methods, and `req.app`. */
function appUsingExpressMethods(): Express {
  const app = express();
  app.set('title', 'notify');
  app.use(express.json());
  app.post('/echo/:name', (req, res) => {
    res
      .status(201)
      .json({ name: req.params.name, header: req.get('x-probe'), body: req.body, title: req.app.get('title') });
  });
  return app;
}

async function postTwice(server: Server): Promise<unknown[]> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const answers: unknown[] = [];
  for (const name of ['a', 'b']) {
    const response = await fetch(`http://127.0.0.1:${port}/echo/${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-probe': 'yes' },
      body: JSON.stringify({ n: 1 }),
    });
    answers.push({ status: response.status, body: await response.json() });
  }
  return answers;
}

describe('createExpressServer', () => {
  let server: Server | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  it("When requests arrive, then Express's methods work and no request or response has its prototype swapped", async () => {
    server = createExpressServer(appUsingExpressMethods());
    const swaps = countHttpPrototypeSwaps();

    const answers = await postTwice(server);

    expect(answers).toEqual(
      ['a', 'b'].map((name) => ({ status: 201, body: { name, header: 'yes', body: { n: 1 }, title: 'notify' } })),
    );
    expect(swaps()).toBe(0);
  });

  it("When the same app is served by Node's plain server, then Express swaps both prototypes of every request", async () => {
    server = createServer(appUsingExpressMethods());
    const swaps = countHttpPrototypeSwaps();

    await postTwice(server);

    expect(swaps()).toBe(4);
  });
});
