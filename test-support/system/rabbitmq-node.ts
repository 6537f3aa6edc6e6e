import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { waitFor } from '../wait.js';
import { freePort, portAnswers } from './ports.js';

const run = promisify(execFile);

export type RabbitNodeOptions = {
  /** Unique per run by default (`faults-<random>@localhost`), so that two runs never share a node. */
  nodeName?: string;
  /** AMQP port on 127.0.0.1; a free one by default. */
  port?: number;
  /** Erlang distribution port (rabbitmqctl talks to the node through it); a free one by default. */
  distPort?: number;
  /** Where a marker is written while the node may be running, for `stopLeftoverNodes`. */
  markerDir?: string;
  startTimeoutMs?: number;
};

export type RabbitNode = {
  nodeName: string;
  port: number;
  amqpUrl: string;
  /** Kept between stop and start: a quorum queue survives a restart only with its data. */
  dataDir: string;
  readonly running: boolean;
  /** `rabbitmq-server -detached`, then waits until an AMQP connection succeeds. */
  start: () => Promise<void>;
  /** `rabbitmqctl -n <node> stop <pidfile>`: returns once the node's process is gone. */
  stop: () => Promise<void>;
  /** Stops the node if running and deletes its data folder and marker. */
  destroy: () => Promise<void>;
};

/**
 * A RabbitMQ node of its own (own name, ports, data folder), to stop and start under load without
 * touching the machine's main broker. Needs `rabbitmq-server` and `rabbitmqctl` on PATH and the
 * right to chown a folder to the `rabbitmq` user (the server script switches to that user).
 */
export async function createRabbitNode(options: RabbitNodeOptions = {}): Promise<RabbitNode> {
  const nodeName = options.nodeName ?? `faults-${Math.random().toString(36).slice(2, 8)}@localhost`;
  const port = options.port ?? (await freePort());
  const distPort = options.distPort ?? (await freePort());
  const dataDir = mkdtempSync(join(tmpdir(), 'notify-rabbit-'));
  // The machine's own rabbitmq.conf may name a listener (127.0.0.1:5672): ours must win.
  writeFileSync(join(dataDir, 'rabbitmq.conf'), `listeners.tcp.local = 127.0.0.1:${port}\n`);
  writeFileSync(join(dataDir, 'enabled_plugins'), '[].\n');
  await run('chown', ['-R', 'rabbitmq:rabbitmq', dataDir]).catch((error: Error) => {
    throw new Error(`could not give ${dataDir} to the rabbitmq user (${error.message}); run as root`);
  });
  const pidFile = join(dataDir, 'mnesia', `${nodeName}.pid`);
  const marker = options.markerDir ? join(options.markerDir, `${nodeName}.json`) : undefined;
  const env = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: process.env.HOME ?? '/root',
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_CONFIG_FILE: join(dataDir, 'rabbitmq.conf'),
    RABBITMQ_MNESIA_BASE: join(dataDir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dataDir, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dataDir, 'enabled_plugins'),
    RABBITMQ_PID_FILE: pidFile,
  };
  const amqpUrl = `amqp://guest:guest@127.0.0.1:${port}`;
  let running = false;

  const stop = async () => {
    if (!running && !(await portAnswers(port))) return;
    await run('rabbitmqctl', ['-n', nodeName, 'stop', pidFile], { env, timeout: 90_000 });
    await waitFor(async () => ((await portAnswers(port)) ? undefined : true), {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: `${nodeName} to close port ${port}`,
    });
    running = false;
  };

  return {
    nodeName,
    port,
    amqpUrl,
    dataDir,
    get running() {
      return running;
    },
    async start() {
      if (marker) {
        mkdirSync(options.markerDir as string, { recursive: true });
        writeFileSync(marker, JSON.stringify({ nodeName, dataDir, pidFile }));
      }
      await run('rabbitmq-server', ['-detached'], { env, timeout: 60_000 });
      running = true;
      await waitFor(async () => ((await amqpAnswers(amqpUrl)) ? true : undefined), {
        timeoutMs: options.startTimeoutMs ?? 90_000,
        intervalMs: 250,
        what: `RabbitMQ node ${nodeName} to accept AMQP connections on ${port} (logs in ${env.RABBITMQ_LOG_BASE})`,
      });
    },
    stop,
    async destroy() {
      try {
        await stop();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
        if (marker) rmSync(marker, { force: true });
      }
    },
  };
}

/** Safety net for a run that died before its own cleanup: stops every node a marker names. */
export async function stopLeftoverNodes(markerDir: string): Promise<string[]> {
  let files: string[];
  try {
    files = readdirSync(markerDir).filter((file) => file.endsWith('.json'));
  } catch {
    return [];
  }
  const stopped: string[] = [];
  for (const file of files) {
    const path = join(markerDir, file);
    const { nodeName, dataDir, pidFile } = JSON.parse(readFileSync(path, 'utf8'));
    await run('rabbitmqctl', ['-n', nodeName, 'stop', pidFile], { timeout: 90_000 }).then(
      () => stopped.push(nodeName),
      () => undefined,
    );
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(path, { force: true });
  }
  return stopped;
}

async function amqpAnswers(url: string): Promise<boolean> {
  try {
    const connection = await amqp.connect(url, { timeout: 2_000 });
    connection.on('error', () => undefined);
    await connection.close();
    return true;
  } catch {
    return false;
  }
}
