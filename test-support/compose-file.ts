import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

const COMPOSE_FILE = new URL('../docker-compose.yml', import.meta.url);
const ENV_EXAMPLE_FILE = new URL('../.env.example', import.meta.url);

/**
 * The variable names set in the `environment:` block that carries this YAML anchor
 * (`environment: &handler-env`) in the repository's docker-compose.yml.
 */
export function composeEnvironment(anchor: string): string[] {
  const lines = readFileSync(COMPOSE_FILE, 'utf8').split('\n');
  const start = lines.findIndex((line) => line.trimEnd().endsWith(`environment: &${anchor}`));
  if (start < 0) throw new Error(`docker-compose.yml has no environment anchored &${anchor}`);
  const indent = (line: string) => line.length - line.trimStart().length;
  const blockIndent = indent(lines[start] as string);
  const names: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    if (indent(line) <= blockIndent) break;
    const name = /^\s+([A-Z][A-Z0-9_]*):/.exec(line)?.[1];
    if (name) names.push(name);
  }
  return names;
}

/** The variable names that .env.example shows, each on a commented-out `# NAME=value` line. */
export function envExampleNames(): string[] {
  const text = readFileSync(ENV_EXAMPLE_FILE, 'utf8');
  return [...text.matchAll(/^# ?([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1] as string);
}

/** A service of docker-compose.yml as docker compose would run it with no `.env` (anchors merged, `${VAR:-default}` resolved). */
export type ComposeService = {
  name: string;
  /** Empty: started by a plain `docker compose up`. */
  profiles: string[];
  /** `build.dockerfile`, e.g. `notification-handler/Dockerfile`; undefined for an image. */
  dockerfile?: string;
  image?: string;
  hostname?: string;
  environment: Record<string, string>;
  /** Published ports as written, e.g. `127.0.0.1:3000:3000`. */
  ports: string[];
  healthcheck: string[];
  command: string[];
  /** Bind mounts and volumes as written, e.g. `./observability/prometheus.yml:/etc/prometheus/prometheus.yml:ro`. */
  volumes: string[];
};

type RawService = {
  profiles?: string[];
  build?: { dockerfile?: string };
  image?: string;
  hostname?: string;
  environment?: Record<string, string | number | null>;
  ports?: string[];
  healthcheck?: { test?: string[] };
  command?: string[];
  volumes?: string[];
};

/** Compose's interpolation: `$$` is a literal `$`; `${NAME:-default}` and `${NAME}` read `env`. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\{([A-Z0-9_]+)(?::-([^}]*))?\}/g, (match, name?: string, fallback?: string) =>
    match === '$$' ? '$' : env[name as string] || (fallback ?? ''),
  );
}

export function composeServices(env: Record<string, string> = {}): ComposeService[] {
  const file = parseYaml(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as {
    services: Record<string, RawService>;
  };
  const text = (value: string | number | null | undefined) => interpolate(String(value ?? ''), env);
  return Object.entries(file.services).map(([name, raw]) => ({
    name,
    profiles: raw.profiles ?? [],
    dockerfile: raw.build?.dockerfile,
    image: raw.image,
    hostname: raw.hostname,
    environment: Object.fromEntries(Object.entries(raw.environment ?? {}).map(([key, value]) => [key, text(value)])),
    ports: (raw.ports ?? []).map(text),
    healthcheck: (raw.healthcheck?.test ?? []).map(text),
    command: (raw.command ?? []).map(text),
    volumes: (raw.volumes ?? []).map(text),
  }));
}

/** The named volumes docker-compose.yml declares at its top level (kept by `docker compose down`). */
export function composeNamedVolumes(): string[] {
  const file = parseYaml(readFileSync(COMPOSE_FILE, 'utf8')) as { volumes?: Record<string, unknown> };
  return Object.keys(file.volumes ?? {});
}

/** The port a service listens on inside its container: its PORT, or its image's own. */
export function containerPort(service: ComposeService): number | undefined {
  if (service.environment.PORT) return Number(service.environment.PORT);
  if (service.image?.startsWith('rabbitmq:')) return 5672;
  if (service.image?.startsWith('postgres:')) return 5432;
  return undefined;
}

/**
 * Why `url`, given to `from`, would not reach a service of the same compose file (none: it would).
 * Its host must be a service that runs whenever `from` does, and its port the one that service listens on.
 */
export function unreachable(url: string, from: ComposeService, services: ComposeService[]): string | undefined {
  const { hostname, port, protocol } = new URL(url);
  const target = services.find((service) => service.name === hostname);
  if (!target) return `${url}: no service is named ${hostname}`;
  if (target.profiles.length > 0 && !target.profiles.some((profile) => from.profiles.includes(profile)))
    return `${url}: ${hostname} runs only with the profile ${target.profiles.join(', ')}`;
  const defaultPort = { 'amqp:': 5672, 'postgres:': 5432, 'postgresql:': 5432, 'http:': 80 }[protocol];
  const listening = containerPort(target);
  if (Number(port || defaultPort) !== listening) return `${url}: ${hostname} listens on ${listening}`;
  return undefined;
}
