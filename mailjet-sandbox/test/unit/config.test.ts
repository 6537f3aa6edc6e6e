import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('When nothing is set, then port 4010 on loopback with the default credentials and no fault', () => {
    const config = loadConfig({}, []);

    expect(config.options).toMatchObject({
      port: 4010,
      host: '127.0.0.1',
      apiKey: 'sandbox-key',
      apiSecret: 'sandbox-secret',
    });
    expect(config.options.faults).toEqual({});
    expect(config.credentialsSource).toMatch(/^defaults/);
  });

  it('When faults come from env and CLI, then the CLI wins and numbers are numbers', () => {
    const env = { SANDBOX_FAIL_NEXT: '2', SANDBOX_FAIL_STATUS: '429', SANDBOX_FAIL_RATE: '0.25' };

    const config = loadConfig(env, ['--fail-next', '5', '--fail-recipients=fail.example', '--port=0']);

    expect(config.options.port).toBe(0);
    expect(config.options.faults).toEqual({ failNext: 5, status: 429, failRate: 0.25, failRecipients: 'fail.example' });
  });

  it('When the handler credentials are set, then the sandbox accepts them, and its own take precedence', () => {
    const shared = { MAILJET_API_KEY: 'mj-key', MAILJET_API_SECRET: 'mj-secret' };

    expect(loadConfig(shared, []).options.apiKey).toBe('mj-key');
    expect(loadConfig({ ...shared, SANDBOX_API_KEY: 'k', SANDBOX_API_SECRET: 's' }, []).credentialsSource).toBe(
      'SANDBOX_API_KEY / SANDBOX_API_SECRET',
    );
  });

  it('When the store bounds are set by variable or flag, then both reach the store', () => {
    const config = loadConfig({ SANDBOX_MAX_STORED: '5' }, ['--max-stored-bytes', '1048576']);

    expect(config.options).toMatchObject({ maxStored: 5, maxStoredBytes: 1_048_576 });
    expect(loadConfig({}, []).options.maxStoredBytes).toBe(256 * 1024 * 1024);
    expect(() => loadConfig({ SANDBOX_MAX_STORED_BYTES: 'lots' }, [])).toThrow(/SANDBOX_MAX_STORED_BYTES/);
  });

  it('When the tally bound is set by variable or flag, then it reaches the sandbox; by default a million ids', () => {
    expect(loadConfig({ SANDBOX_MAX_TALLIED: '7' }, []).options.maxTallied).toBe(7);
    expect(loadConfig({ SANDBOX_MAX_TALLIED: '7' }, ['--max-tallied', '9']).options.maxTallied).toBe(9);
    expect(loadConfig({}, []).options.maxTallied).toBe(1_000_000);
    expect(() => loadConfig({ SANDBOX_MAX_TALLIED: '0' }, [])).toThrow(/SANDBOX_MAX_TALLIED/);
  });

  it('When values are wrong, then a ConfigError names every variable at fault', () => {
    const attempt = () => loadConfig({ PORT: 'abc', SANDBOX_MAX_STORED: '0' }, []);

    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/PORT[\s\S]*SANDBOX_MAX_STORED/);
  });

  it('When the rate-limit variables or flags are set, then they become maxCallsPerSecond and retryAfterSeconds', () => {
    const env = { SANDBOX_MAX_CALLS_PER_SECOND: '5', SANDBOX_RETRY_AFTER_SECONDS: '2' };

    expect(loadConfig(env, []).options.faults).toEqual({ maxCallsPerSecond: 5, retryAfterSeconds: 2 });
    expect(loadConfig({}, ['--max-calls-per-second=0', '--retry-after-seconds', '9']).options.faults).toEqual({
      maxCallsPerSecond: 0,
      retryAfterSeconds: 9,
    });
    expect(() => loadConfig({ SANDBOX_RETRY_AFTER_SECONDS: '1.5' }, [])).toThrow(/SANDBOX_RETRY_AFTER_SECONDS/);
  });

  it('When a fault variable is invalid, then the error names the variable, not the field', () => {
    expect(() => loadConfig({ SANDBOX_FAIL_RATE: '2' }, [])).toThrow(/SANDBOX_FAIL_RATE/);
    expect(() => loadConfig({ SANDBOX_FAIL_STATUS: '404' }, [])).toThrow(/SANDBOX_FAIL_STATUS/);
  });

  it('When only half of a credential pair is set, or a flag is unknown, then a ConfigError', () => {
    expect(() => loadConfig({ SANDBOX_API_KEY: 'k' }, [])).toThrow(/SANDBOX_API_KEY and SANDBOX_API_SECRET/);
    expect(() => loadConfig({}, ['--fail-nxt', '1'])).toThrow(/--fail-nxt/);
  });
});
