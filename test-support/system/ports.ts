import { readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';

/** Linux's default, for a system that does not say. */
const DEFAULT_EPHEMERAL_LOW = 32768;
const LOWEST_PORT = 10000;
/** Vitest workers run side by side (VITEST_POOL_ID 1, 2, ...); the main process and others are 0. */
const SLOTS = 8;

/**
 * Ports below the kernel's ephemeral range, one share per vitest worker. A port the kernel hands
 * out by itself (a listen on port 0, the local end of every outgoing connection) comes from the
 * ephemeral range: a server stopped for minutes under load (the fault suite's PostgreSQL and
 * RabbitMQ nodes, a killed service) found its port taken when it started again. Below that range
 * only an explicit bind takes a port, and workers that run at the same time never share a share.
 */
export function portShare(
  poolId: number,
  ephemeralLow = ephemeralRangeLow(),
): {
  first: number;
  size: number;
} {
  const size = Math.floor((ephemeralLow - LOWEST_PORT) / SLOTS);
  if (size < 16) throw new Error(`the ephemeral port range starts at ${ephemeralLow}: no room below it`);
  return { first: LOWEST_PORT + (poolId % SLOTS) * size, size };
}

function ephemeralRangeLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > LOWEST_PORT ? low : DEFAULT_EPHEMERAL_LOW;
  } catch {
    return DEFAULT_EPHEMERAL_LOW;
  }
}

let share: { first: number; size: number } | undefined;
let next: number | undefined;

/**
 * A port of this process's share that was free a moment ago on the loopback interface, and that
 * this process has not handed out before (until the share wraps round): a stopped server's port is
 * not given to another of its own servers meanwhile.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  share ??= portShare(Number(process.env.VITEST_POOL_ID ?? 0));
  // A random start: two runs in one slot at once (a bench beside a test run) rarely meet.
  next ??= Math.floor(Math.random() * share.size);
  for (let tried = 0; tried < share.size; tried++) {
    const port = share.first + (next++ % share.size);
    if (await canListen(port, host)) return port;
  }
  throw new Error(`no free port from ${share.first} to ${share.first + share.size - 1}`);
}

function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** Whether something accepts TCP connections on host:port right now. */
export function portAnswers(port: number, host = '127.0.0.1', timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(port, host);
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
