import { captureLogs } from '@notify/test-support/logger.js';
import { proxyFor } from '@notify/test-support/tcp-proxy.js';
import { describe, expect, inject, it } from 'vitest';
import { listenForOutboxRows } from '../../src/db/outbox-listener.js';

describe('ticketing outbox listener: closing', () => {
  it('When the database went silent under the listening session, then closing the listener ends within its one-second wait for the goodbye instead of waiting for the network', async () => {
    const { log, waitFor: waitForLog } = captureLogs('info');
    const { proxy, url: viaProxy } = await proxyFor(inject('databaseUrl'));
    const listener = listenForOutboxRows(
      {
        databaseUrl: viaProxy,
        applicationName: 'outbox-listener-close-silent',
        exchange: 'outbox-listener-close-silent',
        reconnectDelayMs: 100,
        timeoutMs: 300,
      },
      { log, onRows: () => undefined },
    );
    try {
      await waitForLog('outbox listener listening');
      proxy.blackhole();

      const startedAt = Date.now();
      const closed = await Promise.race([
        listener.close().then(() => 'closed' as const),
        new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 3_000)),
      ]);

      expect(closed).toBe('closed');
      expect(Date.now() - startedAt).toBeLessThan(2_000);
    } finally {
      await proxy.close();
    }
  });
});
