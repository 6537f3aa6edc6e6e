import { execFile } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { databaseAnswers } from '../infrastructure.js';
import { waitFor } from '../wait.js';
import { freePort, portAnswers } from './ports.js';
import type { TestCertificates } from './tls-certificates.js';

const run = promisify(execFile);

/** Where markers go by default: one folder per worktree, shared by every run in it. */
export const POSTGRES_MARKER_DIR = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../test-results/postgres-nodes',
);
const DEBIAN_SERVER_ROOT = '/usr/lib/postgresql';

export type PostgresNodeOptions = {
  /** The node's own folder (data, socket, log) is created in here; os.tmpdir() by default. */
  parentDir?: string;
  /** TCP port on 127.0.0.1; a free one by default. */
  port?: number;
  /** The server's binaries (initdb, pg_ctl); the newest /usr/lib/postgresql/<version>/bin by default. */
  binDir?: string;
  /** Where a marker is kept while the node exists, for `stopLeftoverPostgresNodes`. */
  markerDir?: string;
  startTimeoutMs?: number;
  /** The server also takes TLS connections, with this certificate (`sslmode=verify-full` works for `localhost`). */
  tls?: Pick<TestCertificates, 'certFile' | 'keyFile'>;
};

export type PostgresNode = {
  /** postgres://postgres@127.0.0.1:<port>/postgres: trust, no password. */
  url: string;
  port: number;
  /** The node's own folder: `data/`, the unix socket and `server.log`. */
  dir: string;
  readonly running: boolean;
  /** Starts again on the same port and data; resolves once a connection succeeds. */
  start: () => Promise<void>;
  /** Fast shutdown (`pg_ctl stop -m fast`): sessions end at once; resolves once the port is closed. */
  stop: () => Promise<void>;
  /** Stops the server if running, then deletes its folder and marker. */
  dispose: () => Promise<void>;
};

type Marker = { ownerPid: number; dir: string; dataDir: string; binDir: string; port: number };

/**
 * A PostgreSQL server of its own (free loopback port, data folder in a temp folder, trust on
 * loopback only), started, to stop and start under load without touching the machine's server
 * on 5432. Runs the installed server binaries as the `postgres` OS user when we are root (initdb
 * refuses root). Before it starts, it stops any node a crashed run left behind.
 */
export async function startPostgresNode(options: PostgresNodeOptions = {}): Promise<PostgresNode> {
  const markerDir = options.markerDir ?? POSTGRES_MARKER_DIR;
  await stopLeftoverPostgresNodes(markerDir);
  const binDir = options.binDir ?? findServerBinaries();
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(options.parentDir ?? tmpdir(), 'notify-pg-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  mkdirSync(markerDir, { recursive: true });
  const marker = join(markerDir, `${basename(dir)}.json`);
  writeFileSync(marker, JSON.stringify({ ownerPid: process.pid, dir, dataDir, binDir, port } satisfies Marker));
  let running = false;

  const pgCtl = (...args: string[]) => asPostgresUser(join(binDir, 'pg_ctl'), ['-D', dataDir, ...args], dir);

  const stop = async () => {
    if (!(await serverRunning(binDir, dataDir, dir))) {
      running = false;
      return;
    }
    await pgCtl('stop', '-m', 'fast', '-w', '-t', '60', '-s');
    running = false;
    await waitFor(async () => ((await portAnswers(port)) ? undefined : true), {
      timeoutMs: 10_000,
      intervalMs: 50,
      what: `the PostgreSQL node to close port ${port}`,
    });
  };

  const start = async () => {
    if (running) return;
    const deadlineMs = options.startTimeoutMs ?? 60_000;
    // pg_ctl -w fails at once when the server exits during start-up (port taken, bad setting);
    // readiness itself is a connection on the URL the callers use.
    await pgCtl('start', '-l', logFile, '-w', '-t', String(Math.ceil(deadlineMs / 1000)), '-s').catch(
      (error: Error) => {
        throw new Error(`PostgreSQL node on ${port} did not start: ${error.message}\n${logTail(logFile)}`);
      },
    );
    running = true;
    await waitFor(async () => ((await databaseAnswers(url)) ? true : undefined), {
      timeoutMs: deadlineMs,
      intervalMs: 100,
      what: `the PostgreSQL node to accept connections on ${port} (log: ${logFile})`,
    });
  };

  const dispose = async () => {
    try {
      await stop().catch(() => pgCtl('stop', '-m', 'immediate', '-w', '-s'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(marker, { force: true });
    }
  };

  try {
    await giveToPostgresUser(dir);
    // --no-sync: a throw-away cluster; the server itself still runs with fsync on.
    await asPostgresUser(
      join(binDir, 'initdb'),
      ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-sync'],
      dir,
    );
    configure(dataDir, dir, port);
    if (options.tls) await configureTls(dataDir, dir, options.tls);
    await start();
  } catch (error) {
    await dispose().catch(() => undefined);
    throw error;
  }

  return {
    url,
    port,
    dir,
    get running() {
      return running;
    },
    start,
    stop,
    dispose,
  };
}

/**
 * Safety net for a run that died before its own cleanup: stops (immediate shutdown) and deletes
 * every node a marker names whose owner process is gone. A live owner's nodes are left alone, so
 * two runs at once do not stop each other's. Returns the ports of the nodes it stopped.
 */
export async function stopLeftoverPostgresNodes(markerDir = POSTGRES_MARKER_DIR): Promise<number[]> {
  let files: string[];
  try {
    files = readdirSync(markerDir).filter((file) => file.endsWith('.json'));
  } catch {
    return [];
  }
  const stopped: number[] = [];
  for (const file of files) {
    const path = join(markerDir, file);
    let marker: Marker;
    try {
      marker = JSON.parse(readFileSync(path, 'utf8')) as Marker;
    } catch {
      // Half-written by a run killed at that instant: nothing to stop.
      rmSync(path, { force: true });
      continue;
    }
    if (processAlive(marker.ownerPid)) continue;
    if (existsSync(marker.dataDir) && (await serverRunning(marker.binDir, marker.dataDir, marker.dir))) {
      await asPostgresUser(
        join(marker.binDir, 'pg_ctl'),
        ['-D', marker.dataDir, 'stop', '-m', 'immediate', '-w', '-s'],
        marker.dir,
      ).then(
        () => stopped.push(marker.port),
        () => undefined,
      );
    }
    rmSync(marker.dir, { recursive: true, force: true });
    rmSync(path, { force: true });
  }
  return stopped;
}

/** The newest installed server (Debian keeps each major version under /usr/lib/postgresql/<n>/bin). */
function findServerBinaries(): string {
  const versions = existsSync(DEBIAN_SERVER_ROOT)
    ? readdirSync(DEBIAN_SERVER_ROOT)
        .filter((name) => /^\d+$/.test(name) && existsSync(join(DEBIAN_SERVER_ROOT, name, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest === undefined) {
    throw new Error(`no PostgreSQL server binaries under ${DEBIAN_SERVER_ROOT}/<version>/bin: pass binDir`);
  }
  return join(DEBIAN_SERVER_ROOT, newest, 'bin');
}

/** Loopback only, trust, small memory; autovacuum off like the machine's server, fsync on. */
function configure(dataDir: string, socketDir: string, port: number): void {
  const quoted = (value: string) => `'${value.replace(/'/g, "''")}'`;
  appendFileSync(
    join(dataDir, 'postgresql.conf'),
    [
      '',
      '# startPostgresNode (test-support/system/postgres-node.ts)',
      "listen_addresses = '127.0.0.1'",
      `port = ${port}`,
      `unix_socket_directories = ${quoted(socketDir)}`,
      'max_connections = 100',
      'shared_buffers = 32MB',
      'autovacuum = off',
      'fsync = on',
      "timezone = 'UTC'",
      "log_timezone = 'UTC'",
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dataDir, 'pg_hba.conf'),
    ['local all all trust', 'host all all 127.0.0.1/32 trust', ''].join('\n'),
  );
}

/** The server reads its key only if it owns it and nobody else may read it. */
async function configureTls(
  dataDir: string,
  dir: string,
  { certFile, keyFile }: Pick<TestCertificates, 'certFile' | 'keyFile'>,
): Promise<void> {
  const cert = join(dir, 'server.pem');
  const key = join(dir, 'server.key');
  copyFileSync(certFile, cert);
  copyFileSync(keyFile, key);
  chmodSync(key, 0o600);
  await giveToPostgresUser(dir);
  const quoted = (value: string) => `'${value.replace(/'/g, "''")}'`;
  appendFileSync(
    join(dataDir, 'postgresql.conf'),
    ['ssl = on', `ssl_cert_file = ${quoted(cert)}`, `ssl_key_file = ${quoted(key)}`, ''].join('\n'),
  );
}

const isRoot = () => process.getuid?.() === 0;

/** initdb refuses to run as root, and the server must own its data folder. */
async function asPostgresUser(command: string, args: string[], cwd: string): Promise<void> {
  const env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };
  const [file, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  await run(file, argv, { cwd, env, timeout: 90_000 });
}

async function giveToPostgresUser(dir: string): Promise<void> {
  if (!isRoot()) return;
  await run('chown', ['-R', 'postgres:postgres', dir]).catch((error: Error) => {
    throw new Error(`could not give ${dir} to the postgres user (${error.message})`);
  });
}

/** `pg_ctl status`: 0 running, 3 not running, 4 no data folder. */
async function serverRunning(binDir: string, dataDir: string, cwd: string): Promise<boolean> {
  try {
    await asPostgresUser(join(binDir, 'pg_ctl'), ['-D', dataDir, 'status'], cwd);
    return true;
  } catch {
    return false;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, someone else's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function logTail(logFile: string): string {
  try {
    return readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no server log)';
  }
}
