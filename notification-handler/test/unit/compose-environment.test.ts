import { composeEnvironment, envExampleNames } from '@notify/test-support/compose-file.js';
import { describe, expect, it } from 'vitest';
import { HANDLER_SETTING_NAMES } from '../../src/config.js';

describe('the service in docker compose and .env.example', () => {
  it('When a setting is put in .env, then docker compose passes it to the service', () => {
    const passed = composeEnvironment('handler-env');
    expect(HANDLER_SETTING_NAMES.filter((name) => !passed.includes(name))).toEqual([]);
  });

  it('When the service reads a setting, then .env.example shows it', () => {
    const shown = envExampleNames();
    // PORT is fixed per service by npm start and compose, as .env.example says.
    expect(HANDLER_SETTING_NAMES.filter((name) => name !== 'PORT' && !shown.includes(name))).toEqual([]);
  });
});
