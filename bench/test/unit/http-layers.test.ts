import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { countHttpPrototypeSwaps } from '@notify/test-support/http-prototype-swaps.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LAYERS, layeredServer } from '../../lib/http-layers-app.js';

const CART = '01a23249-5c51-716f-9a6a-e63a43d1e516';

describe('bench:http layered stack', () => {
  let server: Server | undefined;

  afterEach(async () => {
    server?.closeAllConnections();
    server?.close();
    server = undefined;
  });

  async function flow(layers: number) {
    server = layeredServer(layers);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const post = (path: string, body?: unknown) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    return [
      await post('/carts', { customer: { email: 'a@example.com', name: 'A' } }),
      await post(`/carts/${CART}/tickets`, { ticketTypeId: CART, quantity: 1 }),
      await post(`/carts/${CART}/checkout`),
    ];
  }

  it.each(LAYERS.map((layer, index) => [layer.name, index + 1] as const))(
    'When the stack up to %s answers the checkout flow, then every request gets 201 and a cart',
    async (_name, layers) => {
      for (const answer of await flow(layers)) {
        expect(answer.status).toBe(201);
        expect(await answer.json()).toMatchObject({ cartId: CART, notification: { trackingId: expect.any(String) } });
      }
    },
  );

  it('When the zod layer is on, then a body the API would refuse is refused there too (400), so the layer does the work', async () => {
    server = layeredServer(5);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const answer = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/carts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customer: { email: 'not an address', name: 'A' } }),
    });
    expect(answer.status).toBe(400);
  });

  it('When the ETag layer turns the ETag off, then the layer before it still sends one and it does not', async () => {
    const etagOff = LAYERS.findIndex((layer) => layer.name === 'ETag off') + 1;
    const [withEtag] = await flow(etagOff - 1);
    server?.closeAllConnections();
    server?.close();
    const [withoutEtag] = await flow(etagOff);
    expect(withEtag?.headers.get('etag')).toMatch(/^W\//);
    expect(withoutEtag?.headers.get('etag')).toBeNull();
  });

  it("When the createExpressServer layer serves the app, then Express swaps no request's prototype, and it did before", async () => {
    const expressServer = LAYERS.findIndex((layer) => layer.name === 'createExpressServer') + 1;
    const swaps = countHttpPrototypeSwaps();
    await flow(expressServer - 1);
    const swapsBefore = swaps();
    server?.closeAllConnections();
    server?.close();
    const answers = await flow(expressServer);
    const swapsAfter = swaps() - swapsBefore;
    vi.restoreAllMocks();
    expect(answers.map((answer) => answer.status)).toEqual([201, 201, 201]);
    // A request and its response, three requests.
    expect(swapsBefore).toBe(6);
    expect(swapsAfter).toBe(0);
  });
});
