import { composeEnvironment } from '@notify/test-support/compose-file.js';
import { describe, expect, it } from 'vitest';
import { HANDLER_SETTING_NAMES } from '../../src/config.js';

describe('docker compose environment', () => {
  it('When a setting is put in .env, then docker compose passes it to the service', () => {
    const passed = composeEnvironment('handler-env');
    expect(HANDLER_SETTING_NAMES.filter((name) => !passed.includes(name))).toEqual([]);
  });
});
