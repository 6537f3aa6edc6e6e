import { uniquePrefix } from '@notify/test-support/broker.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { TicketingService } from '../../src/service.js';
import { deleteTestTopology, startService, testConfig } from '../support/harness.js';

describe('ticketing listening address', () => {
  const prefix = uniquePrefix('listen');
  let service: TicketingService | undefined;

  afterEach(async () => {
    await service?.stop();
    service = undefined;
    await deleteTestTopology(prefix);
  });

  it('When HOST is not set, then the server is bound to 127.0.0.1 only', async () => {
    service = await startService(testConfig(prefix));

    expect(service.host).toBe('127.0.0.1');
    expect(service.url).toBe(`http://127.0.0.1:${service.port}`);
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
  });

  it('When HOST is 0.0.0.0, then the server is bound to every interface and still answers on loopback', async () => {
    service = await startService(testConfig(prefix, { HOST: '0.0.0.0' }));

    expect(service.host).toBe('0.0.0.0');
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
  });
});
