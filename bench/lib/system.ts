import { type System, startSystem } from '@notify/test-support/system/index.js';
import { ADMIN_DATABASE_URL, AMQP_URL, cleanupOnAbort } from './infrastructure.js';

export type BenchSystemSettings = {
  label: string;
  prefetch: number;
  providerLatencyMs: number;
  /** The handler's EMAIL_PROVIDERS (the sandbox answers for both); Mailjet alone when unset. */
  providers?: string | undefined;
  /** The handler's Mailjet call budget; its own default when unset. */
  mailjetCallsPerSecond?: number | undefined;
  /** Set: the handler, the ticketing service and the sandbox write a .cpuprofile under `<dir>/<service>` on exit. */
  profileDir?: string | undefined;
  /** A cluster's nodes: every service gets them all; checks use the first. Default: the machine's broker. */
  brokerUrls?: string[] | undefined;
  /** Handler processes (1 by default). */
  handlers?: number | undefined;
  /** --ticketing-env / --handler-env: on top of the bench's settings. */
  ticketingEnv?: Record<string, string> | undefined;
  handlerEnv?: Record<string, string> | undefined;
};

const PRELOAD = new URL('../cpu-profile-preload.mjs', import.meta.url).href;
/** Whole emails the bench's sandbox keeps, the newest: enough to read a few when a run goes wrong. */
const BENCH_SANDBOX_STORED = 1_000;

/**
 * The harness's system (built services as processes, free ports, own database and topology) with
 * the settings a benchmark wants: the services log at their own default level (info: a line per
 * request and per email sent, a cost every deployment pays), straight into their log files, as
 * they would to whatever collects a deployment's stdout (the harness reading and parsing each
 * line would cost CPU on the cores being measured); and the handler's production timeouts rather
 * than the harness's fast-recovery ones.
 */
export async function startBenchSystem(
  settings: BenchSystemSettings,
): Promise<System & { release: () => Promise<void> }> {
  const profile = (service: string): Record<string, string> =>
    settings.profileDir
      ? { NODE_OPTIONS: `--import=${PRELOAD}`, BENCH_CPU_PROFILE_DIR: `${settings.profileDir}/${service}` }
      : {};
  const system = await startSystem({
    label: settings.label,
    amqpUrl: settings.brokerUrls?.[0] ?? AMQP_URL,
    ...(settings.brokerUrls ? { brokerUrls: settings.brokerUrls } : {}),
    handlers: settings.handlers ?? 1,
    adminDatabaseUrl: ADMIN_DATABASE_URL,
    sandboxEnv: {
      SANDBOX_LATENCY_MS: String(settings.providerLatencyMs),
      // The check for missing and repeated emails reads the sandbox's tally, which counts every
      // message; the store keeps a few whole, to look at. Keeping every message whole cost the
      // sandbox about as much CPU again as answering the sends, on the cores being measured.
      SANDBOX_MAX_STORED: String(BENCH_SANDBOX_STORED),
      ...profile('sandbox'),
    },
    readLines: false,
    handlerEnv: {
      PREFETCH: String(settings.prefetch),
      MAILJET_TIMEOUT_MS: '10000',
      SENDGRID_TIMEOUT_MS: '10000',
      ...(settings.providers ? { EMAIL_PROVIDERS: settings.providers } : {}),
      RETRY_MAX_RETRIES: '3',
      RETRY_DELAY_MS: '2000',
      SHUTDOWN_TIMEOUT_MS: '15000',
      ...settings.handlerEnv,
      // The scenario's own budget wins over --handler-env: its name says what it measures.
      ...(settings.mailjetCallsPerSecond
        ? { MAILJET_MAX_CALLS_PER_SECOND: String(settings.mailjetCallsPerSecond) }
        : {}),
      ...profile('handler'),
    },
    ticketingEnv: { ...settings.ticketingEnv, ...profile('ticketing') },
  });
  const release = cleanupOnAbort(() => system.stop());
  return { ...system, release };
}
