import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  type ComposeService,
  composeNamedVolumes,
  composeServices,
  containerPort,
  unreachable,
} from '../../compose-file.js';

const services = composeServices();
const listening = services.filter((service) => containerPort(service) !== undefined);

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

  const prometheusServices = services.filter((service) => service.image?.startsWith('prom/prometheus'));
  /** The targets of the config file a Prometheus service of compose mounts as its own. */
  const scrapedBy = (prometheus: ComposeService): string[] => {
    const mount = prometheus.volumes.find((volume) => volume.split(':')[1] === '/etc/prometheus/prometheus.yml');
    if (!mount) throw new Error(`${prometheus.name} mounts no /etc/prometheus/prometheus.yml`);
    const config = parseYaml(readFileSync(new URL(`../../../${mount.split(':')[0]}`, import.meta.url), 'utf8')) as {
      scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }>;
    };
    return config.scrape_configs.flatMap((job) => job.static_configs.flatMap((group) => group.targets));
  };

  it.each(prometheusServices.map((service) => [service.name, service] as const))(
    'When %s scrapes, then each target is a service of its profile on the port it listens on',
    (_name, prometheus) => {
      const targets = scrapedBy(prometheus);
      expect(targets.length).toBeGreaterThan(0);
      const problems = targets.map((target) => unreachable(`http://${target}/metrics`, prometheus, services));
      expect(problems.filter((problem) => problem !== undefined)).toEqual([]);
    },
  );

  it('When a service of ours serves /metrics, then exactly one Prometheus scrapes it, so that no alert adds up two systems', () => {
    const ours = services.filter((service) =>
      /^(ticketing-service|notification-handler)\//.test(service.dockerfile ?? ''),
    );
    const scrapers = (service: ComposeService) =>
      prometheusServices
        .filter((prometheus) => scrapedBy(prometheus).includes(`${service.name}:${containerPort(service)}`))
        .map((prometheus) => prometheus.name);
    expect(ours.length).toBeGreaterThanOrEqual(6);
    expect(Object.fromEntries(ours.map((service) => [service.name, scrapers(service)]))).toEqual(
      Object.fromEntries(ours.map((service) => [service.name, [expect.any(String)]])),
    );
    // The two systems' instances never share one.
    const defaultScrapers = new Set(ours.filter((s) => s.profiles.length === 0).flatMap(scrapers));
    const clusterScrapers = new Set(ours.filter((s) => s.profiles.includes('cluster')).flatMap(scrapers));
    expect([...defaultScrapers].filter((name) => clusterScrapers.has(name))).toEqual([]);
  });

  it('When the containers are removed (docker compose down), then every store keeps its data in a named volume of its own', () => {
    const dataDirectory: Record<string, string> = {
      postgres: '/var/lib/postgresql/data',
      rabbitmq: '/var/lib/rabbitmq',
    };
    const declared = composeNamedVolumes();
    const stores = services.flatMap((service) => {
      const kind = service.image?.split(':')[0];
      const directory = kind === undefined ? undefined : dataDirectory[kind];
      return directory ? [{ service, directory }] : [];
    });
    const volumeOf = ({ service, directory }: (typeof stores)[number]) =>
      service.volumes.find((volume) => volume.split(':')[1] === directory)?.split(':')[0];

    expect(stores.map(({ service }) => service.name)).toEqual([
      'rabbitmq',
      'postgres',
      'rabbitmq-1',
      'rabbitmq-2',
      'rabbitmq-3',
      'postgres-cluster',
    ]);
    const volumes = stores.map(volumeOf);
    // A bind mount would start with . or /; an anonymous volume has no name and is lost with its container.
    for (const volume of volumes) expect(declared).toContain(volume);
    expect(new Set(volumes).size).toBe(stores.length);
  });
});
