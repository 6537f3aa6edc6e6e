import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { JsonClient } from '../../system/json-client.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

const servers: Server[] = [];
const clients: JsonClient[] = [];

async function serve(handler: Handler): Promise<string> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handler(req, Buffer.concat(chunks).toString('utf8'), res));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

function client(baseUrl: string): JsonClient {
  const made = new JsonClient(baseUrl, { sockets: 4 });
  clients.push(made);
  return made;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((made) => made.close()));
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

describe('JsonClient', () => {
  it('When it posts a body, then the body goes as JSON and the answer comes back as its status and parsed body', async () => {
    const baseUrl = await serve((req, body, res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ path: req.url, contentType: req.headers['content-type'], received: JSON.parse(body) }));
    });

    const answer = await client(baseUrl).post('/carts', { customer: { email: 'a@example.com' } });

    expect(answer).toEqual({
      status: 201,
      body: { path: '/carts', contentType: 'application/json', received: { customer: { email: 'a@example.com' } } },
    });
  });

  it('When there is no body, then it posts nothing, without a content type', async () => {
    const baseUrl = await serve((req, body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          length: req.headers['content-length'],
          contentType: req.headers['content-type'] ?? null,
          body,
        }),
      );
    });

    const answer = await client(baseUrl).post('/carts/c1/checkout', undefined);

    expect(answer.body).toEqual({ length: '0', contentType: null, body: '' });
  });

  it('When the answer is empty or not JSON, then it gives no body, or the answer’s first characters', async () => {
    const baseUrl = await serve((req, _body, res) => {
      res.writeHead(req.url === '/empty' ? 204 : 502);
      res.end(req.url === '/empty' ? undefined : 'Bad Gateway');
    });
    const made = client(baseUrl);

    expect(await made.post('/empty', {})).toEqual({ status: 204, body: undefined });
    expect(await made.post('/html', {})).toEqual({ status: 502, body: { raw: 'Bad Gateway' } });
  });

  it('When a request names another base URL, then it goes there instead of the client’s own', async () => {
    const own = await serve((_req, _body, res) => res.end('{"server":"own"}'));
    const other = await serve((_req, _body, res) => res.end('{"server":"other"}'));
    const made = client(own);

    expect((await made.post('/x', {}, { baseUrl: other })).body).toEqual({ server: 'other' });
    expect((await made.post('/x', {})).body).toEqual({ server: 'own' });
  });

  it('When no answer comes within its time, then it rejects as a timeout', async () => {
    const baseUrl = await serve(() => undefined);

    await expect(client(baseUrl).post('/slow', {}, { timeoutMs: 100 })).rejects.toMatchObject({
      name: 'TimeoutError',
      message: 'no answer within 100 ms',
    });
  });

  it('When nothing listens, then it rejects with the socket’s error code', async () => {
    const baseUrl = await serve((_req, _body, res) => res.end());
    const [server] = servers.splice(0);
    await new Promise((resolve) => server?.close(resolve));

    await expect(client(baseUrl).post('/carts', {})).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
