import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Server } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/index.js';
import { callSandbox } from '../support/sandbox-http.js';

const acceptFailed = () => Object.assign(new Error('accept EMFILE'), { code: 'EMFILE', syscall: 'accept' });

describe('startSandbox: server errors once it listens', () => {
  let sandbox: Sandbox | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    await sandbox?.stop();
    sandbox = undefined;
  });

  it('When the server reports errors, then each goes to onServerError and it goes on answering', async () => {
    const heard: Error[] = [];
    sandbox = await startSandbox({ port: 0, onServerError: (error) => heard.push(error) });
    const server = await serverOf(sandbox);

    server.emit('error', acceptFailed());
    server.emit('error', acceptFailed());

    expect(heard.map((error) => error.message)).toEqual(['accept EMFILE', 'accept EMFILE']);
    expect((await callSandbox(sandbox, 'GET', '/sandbox/health')).status).toBe(200);
  });

  it('When no onServerError is given, then the error is written to stderr', async () => {
    const written = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    sandbox = await startSandbox({ port: 0 });
    const server = await serverOf(sandbox);

    server.emit('error', acceptFailed());

    expect(written).toHaveBeenCalledWith(
      'mailjet-sandbox: http server error',
      expect.objectContaining({ code: 'EMFILE' }),
    );
  });
});

/**
 * The sandbox keeps its server to itself; Node's diagnostics channel names the server each request
 * reaches, so one request finds it without the sandbox exposing it.
 */
async function serverOf(sandbox: Sandbox): Promise<Server> {
  let found: Server | undefined;
  const onRequest = (message: unknown) => {
    const { server } = message as { server: Server };
    const address = server.address();
    if (typeof address === 'object' && address?.port === sandbox.port) found = server;
  };
  subscribe('http.server.request.start', onRequest);
  try {
    await callSandbox(sandbox, 'GET', '/sandbox/health');
  } finally {
    unsubscribe('http.server.request.start', onRequest);
  }
  if (!found) throw new Error('the sandbox server did not show on the diagnostics channel');
  return found;
}
