import { fileURLToPath } from 'node:url';
import { topologyNames } from '@notify/shared';
import { uniquePrefix } from '@notify/test-support/broker.js';
import { type ChildService, spawnService } from '@notify/test-support/child-service.js';
import { deleteTopology } from '@notify/test-support/system/broker-tools.js';
import { waitFor } from '@notify/test-support/wait.js';
import { inject } from 'vitest';
import { LOCAL_OPERATOR_TOKEN } from '../../../scripts/local-settings.js';

const entry = (workspace: string) => fileURLToPath(new URL(`../../../${workspace}/src/main.ts`, import.meta.url));
const START_TIMEOUT_MS = 45_000;
const STOP_TIMEOUT_MS = 15_000;
/** The sandbox prints plain lines, not JSON. */
const LISTENING = /^mailjet-sandbox listening on (\S+)/;

export type RunningSystem = {
  /** The README's default port → the port this run listens on. */
  ports: Record<string, number>;
  sandboxUrl: string;
  /** Every message the three processes logged so far. */
  loggedMessages: () => string[];
  /** Every line the three processes wrote so far, as written. */
  loggedText: () => string;
  /** The last lines of each process, for a failure message. */
  recentLogs: () => string;
  stop: () => Promise<void>;
};

export type SystemOptions = {
  /** The services' broker and database: this run's by default. */
  amqpUrl?: string;
  databaseUrl?: string;
  /** Where the topology is deleted at the end (a URL this process can use): `amqpUrl` by default. */
  cleanupAmqpUrl?: string;
  /** More settings of both services. */
  env?: Record<string, string>;
};

/**
 * The three processes as `npm start` runs them (real processes, real signals, its operator token), but on free ports,
 * this run's database and a topology prefix of their own. Settings the README relies on keep
 * their defaults, except the retry delay, shortened so that the outage step takes no 6 s.
 */
export async function startSystem(options: SystemOptions = {}): Promise<RunningSystem> {
  const prefix = uniquePrefix('walkthrough');
  const amqpUrl = options.amqpUrl ?? inject('amqpUrl');
  const noMailjetKey = { MAILJET_API_KEY: '', MAILJET_API_SECRET: '' };
  const sandbox = spawnService(entry('mailjet-sandbox'), {
    ...noMailjetKey,
    PORT: '0',
    HOST: '127.0.0.1',
    SANDBOX_API_KEY: '',
    SANDBOX_API_SECRET: '',
  });
  const processes: Record<string, ChildService> = { sandbox };
  const system = describeSystem(processes, prefix, options.cleanupAmqpUrl ?? amqpUrl);
  try {
    const sandboxUrl = await started(sandbox, 'sandbox', (line) => LISTENING.exec(String(line.msg))?.[1]);
    const common = {
      AMQP_URL: amqpUrl,
      DATABASE_URL: options.databaseUrl ?? inject('databaseUrl'),
      TOPOLOGY_PREFIX: prefix,
      PORT: '0',
      LOG_LEVEL: 'info',
      ...options.env,
    };
    processes.ticketing = spawnService(entry('ticketing-service'), common);
    processes.handler = spawnService(entry('notification-handler'), {
      ...common,
      ...noMailjetKey,
      MAILJET_API_URL: sandboxUrl,
      MAIL_FROM_EMAIL: '',
      RETRY_MAX_RETRIES: '',
      RETRY_STRATEGY: '',
      RETRY_DELAY_MS: '200',
      // As npm start and docker compose set it: the README's curl lines send it.
      OPERATOR_TOKEN: LOCAL_OPERATOR_TOKEN,
    });
    const [ticketingPort, handlerPort] = await Promise.all([
      startedOnPort(processes.ticketing, 'ticketing', 'ticketing service listening'),
      startedOnPort(processes.handler, 'handler', 'notification handler ready'),
    ]);
    return {
      ...system,
      sandboxUrl,
      ports: { 3000: ticketingPort, 3001: handlerPort, 4010: Number(new URL(sandboxUrl).port) },
    };
  } catch (error) {
    await system.stop();
    throw new Error(`${(error as Error).message}\n${system.recentLogs()}`);
  }
}

function describeSystem(processes: Record<string, ChildService>, prefix: string, cleanupAmqpUrl: string) {
  return {
    loggedMessages: () => Object.values(processes).flatMap((service) => service.lines.map((line) => String(line.msg))),
    loggedText: () =>
      Object.values(processes)
        .flatMap((service) => service.lines.map((line) => JSON.stringify(line)))
        .join('\n'),
    recentLogs: () =>
      Object.entries(processes)
        .flatMap(([name, service]) => service.lines.slice(-15).map((line) => `${name} | ${JSON.stringify(line)}`))
        .join('\n'),
    stop: async () => {
      await Promise.all(Object.values(processes).map(stopProcess));
      await deleteTopology(cleanupAmqpUrl, topologyNames(prefix));
    },
  };
}

type LogLine = ChildService['lines'][number];

/** Resolves with what `read` finds in a log line; rejects at once if the process exits first. */
async function started<T>(service: ChildService, name: string, read: (line: LogLine) => T | undefined): Promise<T> {
  let exitedWith: number | string | undefined;
  void service.exited.then((code) => {
    exitedWith = code;
  });
  return waitFor(
    () => {
      if (exitedWith !== undefined) throw new Error(`the ${name} process exited (${exitedWith}) before it was ready`);
      for (const line of service.lines) {
        const found = read(line);
        if (found !== undefined) return found;
      }
      return undefined;
    },
    { timeoutMs: START_TIMEOUT_MS, what: `the ${name} process to be ready` },
  );
}

function startedOnPort(service: ChildService, name: string, readyMessage: string): Promise<number> {
  return started(service, name, (line) => (line.msg === readyMessage ? Number(line.port) : undefined));
}

async function stopProcess(service: ChildService): Promise<void> {
  if (service.child.exitCode !== null || service.child.signalCode !== null) return;
  service.child.kill('SIGTERM');
  const timer = setTimeout(() => service.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await service.exited;
  clearTimeout(timer);
}
