import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildMessage } from '../../../test-support/messages.js';
import { startTcpProxy, type TcpProxy } from '../../../test-support/tcp-proxy.js';
import { waitFor } from '../../../test-support/wait.js';
import { type Harness, startHarness } from './support/handler-harness.js';

describe('database outage (readiness and state)', () => {
  let proxy: TcpProxy;
  let harness: Harness;

  beforeAll(async () => {
    const direct = new URL(inject('databaseUrl'));
    proxy = await startTcpProxy({ targetHost: direct.hostname, targetPort: Number(direct.port || 5432) });
    const throughProxy = new URL(direct);
    throughProxy.host = `${proxy.host}:${proxy.port}`;
    harness = await startHarness('db-outage', { DATABASE_URL: throughProxy.toString() });
  });
  afterAll(async () => {
    await harness?.stop();
    await proxy?.close();
  });

  const readiness = async () => (await harness.api('/readyz')).status;

  it('When the database goes away, then readiness is 503 naming it, and 200 again once it is back', async () => {
    expect(await readiness()).toBe(200);

    proxy.cut();
    const down = await waitFor(async () => {
      const response = await harness.api('/readyz');
      return response.status === 503 ? response.body : undefined;
    });
    proxy.restore();

    expect(down).toMatchObject({ database: 'down', broker: 'up' });
    await waitFor(async () => ((await readiness()) === 200 ? true : undefined), { what: 'readiness back to 200' });
  });

  it('When a message arrives while the database is away, then it is kept and sent once the database is back', async () => {
    const message = buildMessage();
    proxy.cut();

    harness.publish(message);
    await harness.logs.waitFor('notification not processed; back to the queue');
    proxy.restore();

    expect(await harness.settled(message.trackingId)).toMatchObject({ status: 'sent' });
    expect(harness.emailsFor(message.trackingId)).toHaveLength(1);
  });
});
