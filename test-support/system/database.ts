import pg from 'pg';
import { testPool } from '../pool.js';

/** `url` with another database name. */
export function withDatabase(url: string, databaseName: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${databaseName}`;
  return parsed.toString();
}

/** `url` pointed at another host and port (a TCP proxy in front of the real server). */
export function withHostPort(url: string, host: string, port: number): string {
  const parsed = new URL(url);
  parsed.hostname = host;
  parsed.port = String(port);
  return parsed.toString();
}

/** The host and port a URL points at, with the scheme's default port when none is given. */
export function hostPortOf(url: string, defaultPort: number): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname || '127.0.0.1', port: parsed.port ? Number(parsed.port) : defaultPort };
}

const SAFE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Creates a database on the server of `adminUrl`; returns the URL of the new database. */
export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  if (!SAFE_NAME.test(name)) throw new Error(`database name ${JSON.stringify(name)} is not [a-z0-9_]{1,63}`);
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  return withDatabase(adminUrl, name);
}

/** Drops it even while clients are still connected (a killed service's sessions linger a while). */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  if (!SAFE_NAME.test(name)) throw new Error(`database name ${JSON.stringify(name)} is not [a-z0-9_]{1,63}`);
  await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * A small pool for a harness's own checks, on a server that a scenario may stop: while it is down
 * queries fail, and once it is back they work again on fresh connections. An idle client whose
 * server went away emits 'error' on the pool; the listener keeps that from ending the process.
 */
export function openChecksPool(url: string): pg.Pool {
  return testPool({ connectionString: url, max: 4, connectionTimeoutMillis: 5_000, query_timeout: 30_000 });
}
