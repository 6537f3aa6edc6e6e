import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { waitFor } from '../wait.js';
import { freePort, portAnswers } from './ports.js';
import type { TestCertificates } from './tls-certificates.js';

const run = promisify(execFile);
const SERVER_BIN = '/usr/lib/rabbitmq/bin';

/**
 * Markers of the single nodes integration tests start, shared by every run in this worktree: a
 * node whose test process died is stopped when an integration run ends (`onlyOrphans`).
 */
export const TEST_NODE_MARKER_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../test-results/rabbit-nodes');

export type RabbitTool = 'rabbitmq-server' | 'rabbitmqctl' | 'rabbitmq-queues';

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
  /**
   * A folder holding the `.erlang.cookie` this node and its CLI calls use (a cluster's nodes share
   * one). Unset: the machine's cookie, through Debian's wrappers (which switch to the rabbitmq user
   * with su, and su resets HOME). Set: the tools run as the rabbitmq user with this HOME.
   */
  cookieHome?: string;
  /**
   * A TLS listener too, on a port of its own, with this certificate: `amqpsUrl`. The plain one
   * stays, for the harness's own checks.
   */
  tls?: TestCertificates;
};

export type RabbitNode = {
  nodeName: string;
  port: number;
  amqpUrl: string;
  /** With `tls`: amqps://guest:guest@localhost:<its TLS port> (the certificate names localhost). */
  amqpsUrl?: string;
  /** Kept between stop and start: a quorum queue survives a restart only with its data. */
  dataDir: string;
  readonly running: boolean;
  /** The node's Erlang process (`beam.smp`), from its pid file; undefined while it is not running. */
  pid: () => number | undefined;
  /** `rabbitmqctl`, `rabbitmq-queues`... `-n <node>` with the node's cookie: their stdout. */
  tool: (tool: RabbitTool, args: string[], timeoutMs?: number) => Promise<string>;
  /** `rabbitmqctl -n <node> ...args`, bounded at 30 s: its stdout. */
  ctl: (...args: string[]) => Promise<string>;
  /**
   * A memory alarm at once (the watermark set to 0): the node stops reading every connection that
   * publishes. `clearMemoryAlarm` sets the node's own watermark back.
   */
  raiseMemoryAlarm: () => Promise<void>;
  clearMemoryAlarm: () => Promise<void>;
  memoryAlarmRaised: () => Promise<boolean>;
  /** `kill -9` of the node's process (a crash, no goodbye to the cluster); resolves once its port is closed. */
  kill: () => Promise<void>;
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
  const listeners = [`listeners.tcp.local = 127.0.0.1:${port}`];
  const tlsPort = options.tls ? await freePort() : undefined;
  if (options.tls && tlsPort !== undefined) listeners.push(...tlsListener(options.tls, dataDir, tlsPort));
  writeFileSync(join(dataDir, 'rabbitmq.conf'), `${listeners.join('\n')}\n`);
  writeFileSync(join(dataDir, 'enabled_plugins'), '[].\n');
  await run('chown', ['-R', 'rabbitmq:rabbitmq', dataDir]).catch((error: Error) => {
    throw new Error(`could not give ${dataDir} to the rabbitmq user (${error.message}); run as root`);
  });
  const pidFile = join(dataDir, 'mnesia', `${nodeName}.pid`);
  const marker = options.markerDir ? join(options.markerDir, `${nodeName}.json`) : undefined;
  const env = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: options.cookieHome ?? process.env.HOME ?? '/root',
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
  const amqpsUrl = tlsPort === undefined ? undefined : `amqps://guest:guest@localhost:${tlsPort}`;
  let running = false;

  const tool = async (name: RabbitTool, args: string[], timeoutMs = 90_000) => {
    const [file, fileArgs] = toolCommand(name, args, options.cookieHome);
    const { stdout } = await run(file, fileArgs, { env, cwd: dataDir, timeout: timeoutMs });
    return stdout;
  };
  const ctl = (...args: string[]) => tool('rabbitmqctl', ['-n', nodeName, ...args], 30_000);
  let ownWatermark: string | undefined;
  const portClosed = () =>
    waitFor(async () => ((await portAnswers(port)) ? undefined : true), {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: `${nodeName} to close port ${port}`,
    });
  const pid = () => readPid(pidFile);

  const stop = async () => {
    if (!running && !(await portAnswers(port))) return;
    await tool('rabbitmqctl', ['-n', nodeName, 'stop', pidFile]);
    await portClosed();
    running = false;
  };

  return {
    nodeName,
    port,
    amqpUrl,
    amqpsUrl,
    dataDir,
    get running() {
      return running;
    },
    pid,
    tool,
    ctl,
    async raiseMemoryAlarm() {
      ownWatermark ??= (await ctl('eval', 'vm_memory_monitor:get_vm_memory_high_watermark().')).trim();
      await ctl('set_vm_memory_high_watermark', '0');
    },
    async clearMemoryAlarm() {
      if (ownWatermark !== undefined) await ctl('set_vm_memory_high_watermark', ownWatermark);
    },
    memoryAlarmRaised: async () => (await ctl('eval', 'rabbit_alarm:get_alarms().')).includes('memory'),
    async kill() {
      const beam = pid();
      if (beam !== undefined) process.kill(beam, 'SIGKILL');
      await portClosed();
      running = false;
    },
    async start() {
      if (marker) {
        mkdirSync(options.markerDir as string, { recursive: true });
        const leftover: Marker = { nodeName, dataDir, pidFile, ownerPid: process.pid, cookieHome: options.cookieHome };
        writeFileSync(marker, JSON.stringify(leftover));
      }
      await tool('rabbitmq-server', ['-detached'], 60_000);
      running = true;
      try {
        await waitFor(async () => ((await amqpAnswers(amqpUrl)) ? true : undefined), {
          timeoutMs: options.startTimeoutMs ?? 90_000,
          intervalMs: 250,
          what: `RabbitMQ node ${nodeName} to accept AMQP connections on ${port}`,
        });
      } catch (error) {
        // The node's folder goes with the cleanup that follows: its log's end is the only trace of why.
        throw new Error(`${(error as Error).message}\n${logTail(env.RABBITMQ_LOG_BASE, nodeName)}`, { cause: error });
      }
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

/** The node's copies of the certificate files (the node reads them as the rabbitmq user), and its TLS listener. */
function tlsListener(tls: TestCertificates, dataDir: string, tlsPort: number): string[] {
  const copy = (file: string, name: string) => {
    const target = join(dataDir, name);
    copyFileSync(file, target);
    return target;
  };
  return [
    `listeners.ssl.default = 127.0.0.1:${tlsPort}`,
    `ssl_options.cacertfile = ${copy(tls.caFile, 'ca.pem')}`,
    `ssl_options.certfile = ${copy(tls.certFile, 'server.pem')}`,
    `ssl_options.keyfile = ${copy(tls.keyFile, 'server.key')}`,
    // The clients prove nothing with a certificate of their own: they sign in with a password.
    'ssl_options.verify = verify_none',
    'ssl_options.fail_if_no_peer_cert = false',
  ];
}

/** The last lines of a node's log, for an error that outlives its folder. */
function logTail(logBase: string, nodeName: string, lines = 30): string {
  const file = join(logBase, `${nodeName}.log`);
  try {
    const tail = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    return `last lines of ${file}:\n${tail}`;
  } catch (error) {
    return `no log to show (${(error as Error).message})`;
  }
}

type Marker = {
  nodeName: string;
  dataDir: string;
  pidFile: string;
  ownerPid?: number;
  cookieHome?: string | undefined;
};

/**
 * Safety net for a run that died before its own cleanup: stops every node a marker names. With
 * `onlyOrphans`, only those whose owner process is gone (markers in a folder other runs share).
 */
export async function stopLeftoverNodes(markerDir: string, { onlyOrphans = false } = {}): Promise<string[]> {
  let files: string[];
  try {
    files = readdirSync(markerDir).filter((file) => file.endsWith('.json'));
  } catch {
    return [];
  }
  const stopped: string[] = [];
  const cookieHomes = new Set<string>();
  for (const file of files) {
    const path = join(markerDir, file);
    const { nodeName, dataDir, pidFile, ownerPid, cookieHome }: Marker = JSON.parse(readFileSync(path, 'utf8'));
    if (onlyOrphans && ownerPid !== undefined && processAlive(ownerPid)) continue;
    const [command, args] = toolCommand('rabbitmqctl', ['-n', nodeName, 'stop', pidFile], cookieHome);
    const env = { ...process.env, ...(cookieHome ? { HOME: cookieHome } : {}) };
    await run(command, args, { env, timeout: 90_000 }).then(
      () => stopped.push(nodeName),
      () => {
        // Frozen, or its cookie gone with its folder: the process itself, by its pid file.
        const beam = readPid(pidFile);
        if (beam !== undefined && processAlive(beam)) {
          process.kill(beam, 'SIGKILL');
          stopped.push(nodeName);
        }
      },
    );
    rmSync(dataDir, { recursive: true, force: true });
    if (cookieHome) cookieHomes.add(cookieHome);
    rmSync(path, { force: true });
  }
  // Last: the nodes of one cluster share a cookie, and each stop above needed it.
  for (const home of cookieHomes) rmSync(home, { recursive: true, force: true });
  return stopped;
}

/** Debian's wrapper (su to rabbitmq, the machine's cookie), or the tool itself as rabbitmq with our HOME. */
function toolCommand(tool: RabbitTool, args: string[], cookieHome: string | undefined): [string, string[]] {
  if (!cookieHome) return [tool, args];
  return ['setpriv', ['--reuid=rabbitmq', '--regid=rabbitmq', '--init-groups', join(SERVER_BIN, tool), ...args]];
}

function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
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
