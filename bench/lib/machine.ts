import { readFile } from 'node:fs/promises';
import os from 'node:os';
import amqp from 'amqplib';
import pg from 'pg';

export type MachineInfo = {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  rabbitmq: string;
  erlang: string;
  postgresql: string;
  /**
   * The server's `autovacuum`. Off (as on this project's CI machine), nothing but the services'
   * own maintenance removes dead rows: see the dead-row table of each run.
   */
  autovacuum: string;
  /** 1-minute load average at the start: other work on the box shares these cores. */
  loadAverageAtStart: number;
};

export async function describeMachine(amqpUrl: string, databaseUrl: string): Promise<MachineInfo> {
  const [cpuModel, broker, { postgresql, autovacuum }] = await Promise.all([
    cpuModelName(),
    brokerVersion(amqpUrl),
    pgSettings(databaseUrl),
  ]);
  return {
    nproc: os.availableParallelism(),
    cpuModel,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    rabbitmq: broker.version,
    erlang: broker.platform,
    postgresql,
    autovacuum,
    loadAverageAtStart: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
  };
}

/** The first "model name" of /proc/cpuinfo; os.cpus() where that file is missing. */
async function cpuModelName(): Promise<string> {
  const text = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const line = text.split('\n').find((entry) => entry.startsWith('model name'));
  return line?.split(':')[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
}

async function brokerVersion(url: string): Promise<{ version: string; platform: string }> {
  const connection = await amqp.connect(url, { timeout: 5_000 });
  connection.on('error', () => undefined);
  try {
    const properties = (connection as unknown as { connection: { serverProperties: Record<string, unknown> } })
      .connection.serverProperties;
    return { version: String(properties.version ?? 'unknown'), platform: String(properties.platform ?? 'unknown') };
  } finally {
    await connection.close().catch(() => undefined);
  }
}

async function pgSettings(url: string): Promise<{ postgresql: string; autovacuum: string }> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const { rows } = await client.query<{ server_version: string; autovacuum: string }>(
      `SELECT current_setting('server_version') AS server_version, current_setting('autovacuum') AS autovacuum`,
    );
    return { postgresql: rows[0]?.server_version ?? 'unknown', autovacuum: rows[0]?.autovacuum ?? 'unknown' };
  } finally {
    await client.end().catch(() => undefined);
  }
}
