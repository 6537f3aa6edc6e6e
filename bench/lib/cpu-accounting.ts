import { readdir, readFile, readlink } from 'node:fs/promises';
import type pg from 'pg';

/**
 * Each service names all its connections after itself: its pools by its name alone, the others
 * with a suffix (`ticketing-service maintenance`, `… metrics`, `… probe`). The maintenance
 * connection runs the service's purges and VACUUMs: its CPU is the service's database work too.
 */
const POSTGRES_CLIENTS: Array<[applicationName: string, component: string]> = [
  ['ticketing-service', 'ticketing'],
  ['notification-handler', 'handler'],
];

/**
 * The bench's own connections: its polling for progress and its checks. Measured, so that their
 * CPU does not pass for other people's work, but no part of what a notification costs.
 */
export const BENCH_CHECKS = 'postgresql ← bench checks';

/** The CPU table's row for a backend of the run database, from the client's application_name. */
export function backendComponent(applicationName: string): string {
  const client = POSTGRES_CLIENTS.find(
    ([service]) => applicationName === service || applicationName.startsWith(`${service} `),
  );
  return client ? `postgresql ← ${client[1]}` : BENCH_CHECKS;
}

/** Linux reports process CPU in clock ticks; 100 per second on every common configuration. */
const TICKS_PER_SECOND = 100;

export type CpuSnapshot = {
  at: number;
  byComponent: Record<string, number>;
  /** Of that, the time spent in the kernel (system time): system calls, the network stack. */
  kernelByComponent: Record<string, number>;
  /** PostgreSQL processes one by one (component, CPU ms): connections come and go between snapshots. */
  backends: Map<number, { component: string } & ProcessCpu>;
  machineBusyMs: number;
};

export type CpuUse = {
  wallMs: number;
  /** CPU ms each component used in the window (all cores: 2 cores give at most 2 × wallMs). */
  componentMs: Record<string, number>;
  /** Of componentMs, the kernel's (system time); absent in runs recorded before it was split. */
  componentKernelMs?: Record<string, number>;
  /** Everything busy on the machine in the window, ours and other people's. */
  machineBusyMs: number;
  /** The machine's busy time that none of the components above account for. */
  otherMs: number;
};

export type Components = {
  /** Our children by name (sandbox, handler, ticketing). */
  processes: Array<{ name: string; pid: number | undefined }>;
  /** The bench's own database: its backends are the services' connections. */
  db: pg.Pool;
  databaseName: string;
  /** The AMQP port of each broker node the services use (a cluster's nodes add up). */
  brokerPorts: number[];
};

/**
 * The processes each component runs as: our children by name (several of one name add up), this
 * process, and the broker nodes the services use (`brokerPids`, when already known: finding them
 * scans /proc, tens of ms of CPU on a busy box). Shared with the memory sampling.
 */
export async function componentPids(components: Components, brokers?: number[]): Promise<Record<string, number[]>> {
  const pids: Record<string, number[]> = {};
  const add = (name: string, pid: number) => {
    pids[name] = [...(pids[name] ?? []), pid];
  };
  for (const { name, pid } of components.processes) if (pid) add(name, pid);
  add('bench (load generator)', process.pid);
  for (const broker of brokers ?? (await brokerPids(components))) add('rabbitmq', broker);
  return pids;
}

/** The brokers the services use, not another node someone started (the fault suite does). */
export async function brokerPids(components: Pick<Components, 'brokerPorts'>): Promise<number[]> {
  const beams = await pidsNamed('beam.smp');
  const pids: number[] = [];
  for (const port of components.brokerPorts) {
    const broker = await listeningPid(port, beams);
    if (broker) pids.push(broker);
  }
  return pids;
}

/** The run database's backends, each named after the service whose pool it serves (application_name). */
export async function runBackends(components: Components): Promise<Array<{ pid: number; component: string }>> {
  const { rows } = await components.db.query<{ pid: number; application_name: string }>(
    // The connection asking is one of the bench's checks pool like the others: which of them
    // answers changes from snapshot to snapshot, and leaving it out would count its polling
    // one time and not the next.
    "SELECT pid, application_name FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'",
    [components.databaseName],
  );
  return rows.map(({ pid, application_name: app }) => ({ pid, component: backendComponent(app) }));
}

/** The row of PostgreSQL's own processes in the CPU table. */
export const POSTGRES_SERVER = 'postgresql (server processes)';

/**
 * PostgreSQL's own processes: the postmaster and every process that is not a client's connection
 * (WAL writer, checkpointer, background writer, autovacuum and the launchers). They write out
 * what the run's transactions dirtied, as RabbitMQ's node does for its messages, and like it
 * they are shared with anyone else using the server.
 */
export async function postgresServerPids(db: pg.Pool): Promise<number[]> {
  const { rows } = await db.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE backend_type <> 'client backend'",
  );
  const pids = rows.map((row) => row.pid);
  // The postmaster is nobody's backend: it is the parent of them all.
  const postmaster = await parentPid(pids[0]);
  return postmaster ? [postmaster, ...pids] : pids;
}

async function parentPid(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // After the command name: state, then ppid.
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  return ppid > 1 ? ppid : undefined;
}

/** CPU time of our children, the broker, the run database's backends, PostgreSQL's own processes, this process, and the whole machine. */
export async function snapshotCpu(components: Components): Promise<CpuSnapshot> {
  const byComponent: Record<string, number> = {};
  const kernelByComponent: Record<string, number> = {};
  for (const [name, pids] of Object.entries(await componentPids(components))) {
    byComponent[name] = 0;
    kernelByComponent[name] = 0;
    for (const pid of pids) {
      const { ms, kernelMs } = await processCpu(pid);
      byComponent[name] += ms;
      kernelByComponent[name] += kernelMs;
    }
  }
  // Backends are kept one by one: connections come and go between snapshots.
  const backends = new Map<number, { component: string } & ProcessCpu>();
  for (const { pid, component } of await runBackends(components))
    backends.set(pid, { component, ...(await processCpu(pid)) });
  // Kept one by one too: an autovacuum worker comes and goes.
  for (const pid of await postgresServerPids(components.db))
    backends.set(pid, { component: POSTGRES_SERVER, ...(await processCpu(pid)) });
  return { at: Date.now(), byComponent, kernelByComponent, backends, machineBusyMs: await machineBusyMs() };
}

/**
 * The difference of two snapshots. A PostgreSQL backend born in the window counts whole; one that
 * ended in the window is missed (pooled connections stay open while there is work, so few do).
 */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot): CpuUse {
  const componentMs: Record<string, number> = {};
  const componentKernelMs: Record<string, number> = {};
  for (const [name, ms] of Object.entries(after.byComponent)) {
    componentMs[name] = Math.max(0, Math.round(ms - (before.byComponent[name] ?? 0)));
    const kernelMs = (after.kernelByComponent[name] ?? 0) - (before.kernelByComponent[name] ?? 0);
    componentKernelMs[name] = Math.max(0, Math.round(kernelMs));
  }
  for (const [pid, { component, ms, kernelMs }] of after.backends) {
    const earlier = before.backends.get(pid);
    componentMs[component] = Math.round((componentMs[component] ?? 0) + ms - (earlier?.ms ?? 0));
    componentKernelMs[component] = Math.round(
      (componentKernelMs[component] ?? 0) + kernelMs - (earlier?.kernelMs ?? 0),
    );
  }
  const machineBusy = Math.round(after.machineBusyMs - before.machineBusyMs);
  const ours = Object.values(componentMs).reduce((sum, ms) => sum + ms, 0);
  return {
    wallMs: after.at - before.at,
    componentMs,
    componentKernelMs,
    machineBusyMs: machineBusy,
    otherMs: Math.max(0, machineBusy - ours),
  };
}

/** A process's CPU time so far, ms: all of it, and the part spent in the kernel. */
export type ProcessCpu = { ms: number; kernelMs: number };

export async function processCpu(pid: number): Promise<ProcessCpu> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Fields after the command name (which may hold spaces) start at index 2: utime is 13, stime 14.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const userTicks = Number(fields[11] ?? 0);
  const kernelTicks = Number(fields[12] ?? 0);
  return {
    ms: ((userTicks + kernelTicks) * 1_000) / TICKS_PER_SECOND,
    kernelMs: (kernelTicks * 1_000) / TICKS_PER_SECOND,
  };
}

/** Which of `candidates` holds the socket listening on `port` (from /proc/net/tcp and the fd tables). */
async function listeningPid(port: number, candidates: number[]): Promise<number | undefined> {
  if (candidates.length <= 1) return candidates[0];
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of (await readFile(table, 'utf8').catch(() => '')).split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT; state 0A is LISTEN; field 9 is the socket's inode.
      if (fields[1]?.endsWith(`:${hexPort}`) && fields[3] === '0A' && fields[9]) inodes.add(fields[9]);
    }
  }
  for (const pid of candidates) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const inode = target.match(/^socket:\[(\d+)\]$/)?.[1];
      if (inode && inodes.has(inode)) return pid;
    }
  }
  return undefined;
}

async function pidsNamed(command: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '');
    if (comm.trim() === command) pids.push(Number(entry));
  }
  return pids;
}

/** user + nice + system + irq + softirq + steal of the "cpu" line, in ms. */
async function machineBusyMs(): Promise<number> {
  const text = await readFile('/proc/stat', 'utf8').catch(() => '');
  const fields = (text.split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return ((user + nice + system + irq + softirq + steal) * 1_000) / TICKS_PER_SECOND;
}
