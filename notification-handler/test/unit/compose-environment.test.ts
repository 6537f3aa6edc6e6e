import { readFileSync } from 'node:fs';
import {
  composeEnvironment,
  composeServices,
  envExampleNames,
  unreachable,
} from '@notify/test-support/compose-file.js';
import { describe, expect, it } from 'vitest';
import { HANDLER_SETTING_NAMES, loadConfig } from '../../src/config.js';

const repositoryFile = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');

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

describe('each handler docker compose starts', () => {
  const services = composeServices();
  const handlers = services.filter((service) => service.dockerfile === 'notification-handler/Dockerfile');

  it('When docker-compose.yml is read, then it builds handlers from their Dockerfile', () => {
    expect(handlers.length).toBeGreaterThan(0);
  });

  it.each(handlers.map((service) => [service.name, service] as const))(
    'When docker compose starts %s with no .env, then it starts, listens for the other containers and reaches services of compose',
    (_name, service) => {
      // Throws, naming each variable, where the handler would exit at its start.
      const config = loadConfig(service.environment);
      expect(['0.0.0.0', '::']).toContain(config.HOST);
      const urls = [...config.AMQP_URL, config.DATABASE_URL, config.TICKETING_METRICS_URL ?? ''].filter(Boolean);
      expect(urls.map((url) => unreachable(url, service, services)).filter(Boolean)).toEqual([]);
    },
  );
});

describe('the brokers in docker compose', () => {
  it('When the handler holds its deliveries up to their deadline, then every broker of compose lets them go unacked that long', () => {
    const timeoutMs = Number(
      /^consumer_timeout\s*=\s*(\d+)\s*$/m.exec(repositoryFile('rabbitmq/consumer-timeout.conf'))?.[1],
    );
    const brokers = composeServices().filter((service) => service.image?.startsWith('rabbitmq:'));
    const mounted = brokers.filter((broker) =>
      broker.volumes.some((volume) =>
        /^\.\/rabbitmq\/consumer-timeout\.conf:\/etc\/rabbitmq\/conf\.d\/[\w-]+\.conf:ro$/.test(volume),
      ),
    );

    // The default broker and the cluster's three nodes.
    expect(brokers.map((broker) => broker.name)).toEqual(['rabbitmq', 'rabbitmq-1', 'rabbitmq-2', 'rabbitmq-3']);
    expect(mounted).toEqual(brokers);
    expect(timeoutMs).toBeGreaterThanOrEqual(loadConfig({}).consumerTimeoutMs);
  });
});
