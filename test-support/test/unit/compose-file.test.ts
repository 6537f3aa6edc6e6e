import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { composeServices, containerPort, unreachable } from '../../compose-file.js';

const services = composeServices();
const listening = services.filter((service) => containerPort(service) !== undefined);
const byName = (name: string) => services.find((service) => service.name === name);

// No Docker engine runs docker-compose.yml in CI: these are the mistakes `docker compose up` would show.
describe('docker-compose.yml', () => {
  it.each(listening.map((service) => [service.name, service] as const))(
    'When %s publishes a port, then its container side is the port the service listens on',
    (_name, service) => {
      // A management image publishes its UI (15672) besides AMQP.
      const allowed = [containerPort(service), ...(service.image?.includes('management') ? [15672] : [])];
      const containerSides = service.ports.map((published) => Number(published.split(':').at(-1)));
      expect(containerSides.filter((port) => !allowed.includes(port))).toEqual([]);
    },
  );

  it.each(
    services
      .filter((service) => service.healthcheck.some((word) => word.startsWith('http://')))
      .map((service) => [service.name, service] as const),
  )('When %s is health-checked over HTTP, then the check asks the port it listens on', (_name, service) => {
    const url = service.healthcheck.find((word) => word.startsWith('http://')) as string;
    expect(Number(new URL(url).port)).toBe(containerPort(service));
  });

  it('When a service is started with a command of its own, then every URL in it reaches a service of compose', () => {
    const problems = services.flatMap((service) =>
      service.command
        .flatMap((word) => word.match(/https?:\/\/[^\s"'}]+/g) ?? [])
        .map((url) => unreachable(url, service, services))
        .filter((problem) => problem !== undefined),
    );
    expect(problems).toEqual([]);
  });

  it('When Prometheus scrapes, then each target is a service of its profile on the port it listens on', () => {
    const prometheus = byName('prometheus');
    const config = parseYaml(
      readFileSync(new URL('../../../observability/prometheus.yml', import.meta.url), 'utf8'),
    ) as {
      scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }>;
    };
    const targets = config.scrape_configs.flatMap((job) => job.static_configs.flatMap((group) => group.targets));
    expect(prometheus).toBeDefined();
    expect(targets.length).toBeGreaterThan(0);
    const problems = targets.map((target) => unreachable(`http://${target}/metrics`, prometheus!, services));
    expect(problems.filter((problem) => problem !== undefined)).toEqual([]);
  });
});
