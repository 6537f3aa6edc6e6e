import { readFileSync } from 'node:fs';
import type { AcceptedNotification, System } from '@notify/test-support/system/index.js';
import type pg from 'pg';
import { BENCH_CHECKS } from './cpu-accounting.js';
import { type LatencySummary, summarize } from './stats.js';
import type { TableRows } from './table-rows.js';

/** One minute of the soak, as sampled at its end. */
export type MinuteSample = {
  minute: number;
  /** Notifications the API accepted (201) during this minute. */
  accepted: number;
  /** accepted → sent of those, from the load generator's 201 to the handler's sent_at. */
  latencyMs: LatencySummary;
  /** Of those, not sent when the latency was read. */
  notSent: number;
  /** Highest resident set size of each service process during the minute (read every second), MiB. */
  rssPeakMiB: Record<string, number | null>;
  tables: Record<string, TableRows>;
  /** Checkout flows started, and starts skipped because too many were in flight, this minute. */
  flowsStarted: number;
  flowsSkipped: number;
  flowErrors: number;
  /**
   * CPU ms each component used during the minute (the services, the load generator, RabbitMQ, the
   * run database's backends by the service they serve), and the machine's busy time none of them
   * accounts for. Absent in soaks recorded before it was measured.
   */
  cpuMs?: Record<string, number>;
  otherCpuMs?: number;
};

/** CPU of every component in a minute, per notification accepted in it (an open loop's work of that minute). */
export function cpuPerNotification(sample: MinuteSample, component?: string): number | undefined {
  const ms = component === undefined ? cpuMs(sample) : sample.cpuMs && (sample.cpuMs[component] ?? 0);
  return ms === undefined || sample.accepted === 0 ? undefined : ms / sample.accepted;
}

/** CPU ms of every component in the minute but the soak's own checks; undefined where it was not measured. */
export function cpuMs(sample: MinuteSample): number | undefined {
  return (
    sample.cpuMs &&
    Object.entries(sample.cpuMs)
      .filter(([name]) => name !== BENCH_CHECKS)
      .reduce((sum, [, value]) => sum + value, 0)
  );
}

/**
 * VmRSS of a process from /proc, MiB; null when it is not running. Read synchronously: /proc
 * answers from memory, and the bench samples dozens of PostgreSQL backends every second, where the
 * thread pool's round trips cost ten times the CPU of the reads, counted against the load generator.
 */
export async function residentMiB(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null;
  const status = readStatus(pid);
  const kib = status?.match(/^VmRSS:\s+(\d+)\s+kB/m)?.[1];
  return kib === undefined ? null : Math.round(Number(kib) / 102.4) / 10;
}

function readStatus(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
}

/** accepted → sent of these notifications, from their rows; the ones not sent yet are counted apart. */
export async function acceptedToSent(
  db: pg.Pool,
  accepted: AcceptedNotification[],
): Promise<{ latencyMs: LatencySummary; notSent: number }> {
  if (accepted.length === 0) return { latencyMs: summarize([]), notSent: 0 };
  const { rows } = await db.query<{ tracking_id: string; sent_ms: number }>(
    `SELECT tracking_id::text, extract(epoch FROM sent_at)::float8 * 1000 AS sent_ms
       FROM notifications.notifications WHERE tracking_id = ANY($1::uuid[]) AND status = 'sent'`,
    [accepted.map((notification) => notification.trackingId)],
  );
  const sentAt = new Map(rows.map((row) => [row.tracking_id, row.sent_ms]));
  const latencies: number[] = [];
  for (const notification of accepted) {
    const sent = sentAt.get(notification.trackingId);
    if (sent !== undefined) latencies.push(Math.max(0, sent - notification.acceptedAt));
  }
  return { latencyMs: summarize(latencies), notSent: accepted.length - latencies.length };
}

/** The notifications accepted in minute `minute` (1-based) of a load that started at `startedAt`. */
export function acceptedInMinute(
  accepted: Map<string, AcceptedNotification>,
  startedAt: number,
  minute: number,
): AcceptedNotification[] {
  const from = startedAt + (minute - 1) * 60_000;
  const to = from + 60_000;
  return [...accepted.values()].filter(
    (notification) => notification.acceptedAt >= from && notification.acceptedAt < to,
  );
}

export async function residentSetSizes(system: System): Promise<Record<string, number | null>> {
  const sizes: Record<string, number | null> = {};
  for (const service of system.processes) sizes[service.name] = await residentMiB(service.pid);
  return sizes;
}

/**
 * Reads each process's RSS every `everyMs` and keeps the highest since the last `takePeaks()`:
 * one reading a minute would land anywhere on the garbage collector's saw-tooth.
 */
export function trackPeakResidentSetSizes(system: System, everyMs: number) {
  let peaks: Record<string, number | null> = {};
  const read = async () => {
    const now = await residentSetSizes(system);
    for (const [name, rss] of Object.entries(now)) {
      const before = peaks[name];
      peaks[name] = rss === null ? (before ?? null) : Math.max(rss, before ?? 0);
    }
  };
  const timer = setInterval(() => void read(), everyMs);
  timer.unref();
  return {
    /** The peaks since the previous call (with one last reading), and a fresh start. */
    async takePeaks(): Promise<Record<string, number | null>> {
      await read();
      const taken = peaks;
      peaks = {};
      return taken;
    },
    stop: () => clearInterval(timer),
  };
}
