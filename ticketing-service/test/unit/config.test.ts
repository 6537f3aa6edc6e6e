import { ConfigError } from '@notify/shared/platform';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('When nothing is set, then the documented defaults apply', () => {
    expect(loadConfig({})).toMatchObject({
      PORT: 3000,
      OUTBOX_POLL_INTERVAL_MS: 1000,
      OUTBOX_BATCH_LINGER_MS: 5,
      OUTBOX_BATCH_SIZE: 200,
      OUTBOX_BATCHES_IN_FLIGHT: 2,
      DATABASE_POOL_SIZE: 10,
      MAX_WAITING_REQUESTS: 500,
      OUTBOX_CONFIRM_TIMEOUT_MS: 10_000,
      TOPOLOGY_PREFIX: '',
      AMQP_URL: ['amqp://guest:guest@localhost:5672'],
      HOST: '127.0.0.1',
      OUTBOX_RETENTION_HOURS: 24,
      IDEMPOTENCY_KEY_TTL_HOURS: 24,
      MAINTENANCE_INTERVAL_MS: 60_000,
    });
  });

  it('When HOST is set, then the service listens there; a URL in its place is refused by name', () => {
    expect(loadConfig({ HOST: '0.0.0.0' }).HOST).toBe('0.0.0.0');
    expect(() => loadConfig({ HOST: 'http://0.0.0.0:3000' })).toThrow(/HOST: must be an IP address or a host name/);
  });

  it('When values are set, then they are parsed, and "0" stays zero', () => {
    expect(loadConfig({ PORT: '0', OUTBOX_BATCH_SIZE: '50', TOPOLOGY_PREFIX: 'bench.' })).toMatchObject({
      PORT: 0,
      OUTBOX_BATCH_SIZE: 50,
      TOPOLOGY_PREFIX: 'bench.',
    });
  });

  it('When values are wrong, then the error names each variable', () => {
    const attempt = () => loadConfig({ PORT: 'abc', OUTBOX_BATCH_SIZE: '0', DATABASE_URL: 'mysql://x' });

    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/PORT[\s\S]*DATABASE_URL|DATABASE_URL[\s\S]*PORT/);
    expect(attempt).toThrow(/OUTBOX_BATCH_SIZE/);
  });
});
