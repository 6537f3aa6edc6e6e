import { composeEnvironment, composeServices, envExampleNames } from '@notify/test-support/compose-file.js';
import { describe, expect, it } from 'vitest';
import { loadConfig, SANDBOX_CREDENTIAL_NAMES, SANDBOX_SETTING_NAMES } from '../../src/config.js';

const credentials: readonly string[] = SANDBOX_CREDENTIAL_NAMES;
const settable = SANDBOX_SETTING_NAMES.filter((name) => !credentials.includes(name));

describe('the sandbox in docker compose and .env.example', () => {
  it('When a fault or store setting is put in .env, then docker compose passes it to the sandbox', () => {
    const passed = composeEnvironment('sandbox-env');
    expect(settable.filter((name) => !passed.includes(name))).toEqual([]);
  });

  it('When docker compose starts the sandbox, then its credentials stay the defaults the handler sends with', () => {
    const passed = composeEnvironment('sandbox-env');
    expect(passed.filter((name) => credentials.includes(name))).toEqual([]);
  });

  it('When docker compose starts the sandbox with no .env, then it starts and listens for the other containers', () => {
    const sandboxes = composeServices().filter((service) => service.dockerfile === 'mailjet-sandbox/Dockerfile');
    expect(sandboxes.length).toBeGreaterThan(0);
    for (const service of sandboxes)
      expect(['0.0.0.0', '::']).toContain(loadConfig(service.environment, []).options.host);
  });

  it('When the sandbox reads a fault or store setting, then .env.example shows it', () => {
    const shown = envExampleNames();
    // PORT is fixed per service by npm start and compose; HOST is shown once for every process.
    expect(settable.filter((name) => name !== 'PORT' && !shown.includes(name))).toEqual([]);
  });
});
