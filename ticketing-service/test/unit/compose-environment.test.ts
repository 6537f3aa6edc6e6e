import {
  composeEnvironment,
  composeServices,
  envExampleNames,
  unreachable,
} from '@notify/test-support/compose-file.js';
import { describe, expect, it } from 'vitest';
import { loadConfig, TICKETING_SETTING_NAMES } from '../../src/config.js';

describe('the service in docker compose and .env.example', () => {
  it('When a setting is put in .env, then docker compose passes it to the service', () => {
    const passed = composeEnvironment('ticketing-env');
    expect(TICKETING_SETTING_NAMES.filter((name) => !passed.includes(name))).toEqual([]);
  });

  it('When the service reads a setting, then .env.example shows it', () => {
    const shown = envExampleNames();
    // PORT is fixed per service by npm start and compose, as .env.example says.
    expect(TICKETING_SETTING_NAMES.filter((name) => name !== 'PORT' && !shown.includes(name))).toEqual([]);
  });
});

describe('each ticketing instance docker compose starts', () => {
  const services = composeServices();
  const instances = services.filter((service) => service.dockerfile === 'ticketing-service/Dockerfile');

  it('When docker-compose.yml is read, then it builds ticketing instances from their Dockerfile', () => {
    expect(instances.length).toBeGreaterThan(0);
  });

  it.each(instances.map((service) => [service.name, service] as const))(
    'When docker compose starts %s with no .env, then it starts, listens for the other containers and reaches services of compose',
    (_name, service) => {
      // Throws, naming each variable, where the service would exit at its start.
      const config = loadConfig(service.environment);
      expect(['0.0.0.0', '::']).toContain(config.HOST);
      const urls = [...config.AMQP_URL, config.DATABASE_URL];
      expect(urls.map((url) => unreachable(url, service, services)).filter(Boolean)).toEqual([]);
    },
  );
});
