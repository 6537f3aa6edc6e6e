import type { GetMessage } from 'amqplib';
import { samplesOf } from '../metrics-text.js';
import { waitFor } from '../wait.js';
import { drainQueue, type QueueDepth, queueDepth } from './broker-tools.js';
import type { AcceptedNotification } from './load-generator.js';
import type { ProcessExit } from './service-process.js';
import { answers, type System } from './system.js';

export type VerifyOptions = {
  /** Every notification the API answered 201 for (the load's, plus any the scenario added). */
  accepted: Map<string, AcceptedNotification>;
  /** When the fault ended: time to recover counts from here. */
  faultEndedAt: number;
  /** Bound on waiting for every accepted notification to be final. */
  deadlineMs?: number;
  /** `failed` (with a reason) is a legitimate end in this scenario. Default false. */
  allowFailed?: boolean;
  /** Extra emails (over one per tracking id) tolerated. Default 0. */
  maxDuplicates?: number;
  /** What the dead-letter queue must hold at the end: a count, or one per failed notification. Default 0. */
  expectedDeadLetters?: number | 'failed';
  /** Processes the scenario stopped or killed on purpose; every other one must have started once and never died. */
  restarted?: string[];
  /** Processes the scenario stopped for good: not expected to run at the end (restarted implied). */
  retired?: string[];
};

export type DeadLetter = {
  reason: string | undefined;
  headers: Record<string, unknown>;
  bytes: number;
  message: GetMessage;
};

export type VerifyReport = {
  /** Notifications the API accepted (a checkout accepts two: ticket added, checkout completed). */
  accepted: number;
  acceptedCheckouts: number;
  sent: number;
  failed: number;
  /** Accepted without a row, or not final by the deadline. */
  lost: number;
  lostIds: string[];
  /** Emails beyond one per CustomID, over every CustomID in the sandbox. */
  duplicates: number;
  duplicateIds: string[];
  /** Rows for tracking ids the API never confirmed (a request whose answer was lost): reported, not an error. */
  unconfirmedRows: number;
  /** Rows of any tracking id still in_progress at the end. */
  notFinal: number;
  failedWithoutReason: string[];
  sentWithoutEmail: string[];
  failedButEmailed: string[];
  failureReasons: Record<string, number>;
  mainQueue: QueueDepth;
  deadLetterQueue: QueueDepth;
  deadLetters: DeadLetter[];
  /** From the fault's end until every notification accepted before it was final; null if some never were. */
  timeToRecoverMs: number | null;
  /** From the API's 201 to the row's final status. */
  maxLatencyMs: number | null;
  p95LatencyMs: number | null;
  p99LatencyMs: number | null;
  /** How the services ended on the final SIGTERM. */
  finalExits: Record<string, ProcessExit | undefined>;
  /** Each process: starts, exits before the final stop (asked for or not) and unexpected exits. */
  processes: Record<string, { starts: number; exits: number; unexpectedExits: number }>;
  /** Services answering /readyz before the final stop, without any manual restart. */
  readyAtEnd: Record<string, boolean>;
  /**
   * What the handlers running at the end decided since their last start, by outcome (their
   * notify_notifications_total, read once everything settled, before the final SIGTERM): how many
   * deliveries were requeued or rescheduled rather than decided at once.
   */
  handlerOutcomes: Record<string, number>;
  /** Every expectation not met, one line each; empty when the scenario passed. */
  problems: string[];
};

type Row = { tracking_id: string; status: string; last_error: string | null; updated_ms: number };

/**
 * Waits (bounded) until the system settled, stops the two services with SIGTERM, then checks:
 * each accepted tracking id has exactly one row, final, `sent` (or `failed` with a reason where
 * allowed); one sandbox email per sent id (extra ones counted as duplicates); the outbox, the
 * main queue and the dead-letter queue as expected; clean exits; nobody died on their own.
 */
export async function verifySystem(system: System, options: VerifyOptions): Promise<VerifyReport> {
  const deadlineAt = Date.now() + (options.deadlineMs ?? 120_000);
  const remaining = () => Math.max(1_000, deadlineAt - Date.now());
  const ids = [...options.accepted.keys()];
  const problems: string[] = [];
  const note = (what: string) => problems.push(what);

  // Each wait ends at the deadline, or earlier once a process died on its own and nothing moved
  // for STALL_MS: without it, what is left will not move any more.
  const settle = async (what: string, probe: () => Promise<{ done: boolean; progress: unknown }>) => {
    const stall = stallWatch(system);
    await waitFor(
      async () => {
        const { done, progress } = await probe();
        if (done) return true;
        if (stall(progress)) throw new Error(`stalled: a process died and nothing moved for ${STALL_MS} ms`);
        return undefined;
      },
      { timeoutMs: remaining(), intervalMs: 250, what },
    ).catch(() => note(`${what}: not by the deadline`));
  };
  await settle('every accepted notification final', async () => {
    const final = await countFinal(system, ids);
    return { done: final >= ids.length, progress: final };
  });
  await settle('the ticketing outbox drained', async () => {
    const pending = await outboxPending(system);
    return { done: pending === 0, progress: pending };
  });
  await settle('the handler settled (no row in progress, every lease run out, main queue empty)', async () => {
    const state = await quiet(system);
    return { done: state.quiet, progress: state.busy };
  });
  // Recovering by themselves: every instance serves again (broker and database) without any manual restart.
  const retired = new Set(options.retired ?? []);
  const services = [...system.ticketings, ...system.handlers].filter((service) => !retired.has(service.name));
  const readyAtEnd: Record<string, boolean> = {};
  await settle('every service ready again', async () => {
    for (const service of services) {
      const url = system.urls[service.name] as string;
      const isTicketing = system.ticketings.includes(service);
      readyAtEnd[service.name] =
        service.running && (isTicketing ? await ticketingBrokerUp(url) : await answers(`${url}/readyz`));
    }
    return { done: Object.values(readyAtEnd).every(Boolean), progress: JSON.stringify(readyAtEnd) };
  });

  const handlerOutcomes: Record<string, number> = {};
  for (const handler of system.handlers.filter((service) => service.running && !retired.has(service.name))) {
    const outcomes = await outcomesCounted(system.urls[handler.name] as string).catch((error: Error) => {
      note(`${handler.name}'s /metrics unreadable: ${error.message}`);
      return {};
    });
    for (const [outcome, count] of Object.entries(outcomes))
      handlerOutcomes[outcome] = (handlerOutcomes[outcome] ?? 0) + count;
  }

  // Before the final stop below adds an exit to every service.
  const exitsDuringRun = new Map(system.processes.map((p) => [p.name, p.exits.length]));
  const finalExits: Record<string, ProcessExit | undefined> = {};
  for (const service of services) {
    if (!service.running) {
      note(`${service.name} was not running at the end`);
      continue;
    }
    const exit = await service.stop(30_000);
    finalExits[service.name] = exit;
    if (exit?.code !== 0) note(`${service.name} exited with ${exit?.code ?? exit?.signal} on SIGTERM (expected 0)`);
  }

  const mainQueue = await queueDepth(system.amqpUrl, system.topology.queue);
  const deadLetterQueue = await queueDepth(system.amqpUrl, system.topology.deadLetterQueue);
  const deadLetters = (await drainQueue(system.amqpUrl, system.topology.deadLetterQueue)).map(toDeadLetter);
  const rows = await allRows(system);
  const emails = await system.mailjet.countByCustomId();

  const byId = new Map(rows.map((row) => [row.tracking_id, row]));
  const lostIds = ids.filter((id) => !isFinal(byId.get(id)?.status));
  const acceptedRows = ids.flatMap((id) => byId.get(id) ?? []);
  const sentRows = acceptedRows.filter((row) => row.status === 'sent');
  const failedRows = acceptedRows.filter((row) => row.status === 'failed');
  const duplicateIds = [...emails].filter(([, count]) => count > 1).map(([id]) => id);
  const duplicates = [...emails.values()].reduce((sum, count) => sum + Math.max(0, count - 1), 0);
  const failureReasons: Record<string, number> = {};
  for (const row of failedRows)
    failureReasons[row.last_error ?? '(none)'] = (failureReasons[row.last_error ?? '(none)'] ?? 0) + 1;
  const timing = timings(options, byId);
  const processes = Object.fromEntries(
    system.processes.map((p) => [
      p.name,
      { starts: p.starts, exits: exitsDuringRun.get(p.name) ?? 0, unexpectedExits: p.unexpectedExits.length },
    ]),
  );

  const report: VerifyReport = {
    accepted: ids.length,
    acceptedCheckouts: [...options.accepted.values()].filter((a) => a.operation === 'checkout.completed').length,
    sent: sentRows.length,
    failed: failedRows.length,
    lost: lostIds.length,
    lostIds: lostIds.slice(0, 20),
    duplicates,
    duplicateIds: duplicateIds.slice(0, 20),
    unconfirmedRows: rows.filter((row) => !options.accepted.has(row.tracking_id)).length,
    notFinal: rows.filter((row) => !isFinal(row.status)).length,
    failedWithoutReason: failedRows.filter((row) => !row.last_error?.trim()).map((row) => row.tracking_id),
    sentWithoutEmail: sentRows.filter((row) => !emails.has(row.tracking_id)).map((row) => row.tracking_id),
    failedButEmailed: failedRows.filter((row) => emails.has(row.tracking_id)).map((row) => row.tracking_id),
    failureReasons,
    mainQueue,
    deadLetterQueue,
    deadLetters,
    ...timing,
    finalExits,
    processes,
    readyAtEnd,
    handlerOutcomes,
    problems,
  };
  for (const problem of judge(report, options)) note(problem);
  return report;
}

/** A handler's notify_notifications_total summed over operations, by outcome. */
async function outcomesCounted(handlerUrl: string): Promise<Record<string, number>> {
  const response = await fetch(`${handlerUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`answered ${response.status}`);
  const outcomes: Record<string, number> = {};
  for (const { labels, value } of samplesOf(await response.text(), 'notify_notifications_total')) {
    const outcome = labels.outcome ?? '(none)';
    outcomes[outcome] = (outcomes[outcome] ?? 0) + value;
  }
  return outcomes;
}

/**
 * Every expectation the counts of `report` do not meet, one line each. Exported for its unit test:
 * each check must be able to fail.
 */
export function judge(
  report: Omit<VerifyReport, 'problems'>,
  options: Pick<VerifyOptions, 'allowFailed' | 'maxDuplicates' | 'expectedDeadLetters' | 'restarted' | 'retired'>,
): string[] {
  const problems: string[] = [];
  const note = (what: string) => problems.push(what);
  if (report.accepted === 0) note('the API accepted nothing: the scenario proves nothing');
  if (report.lost > 0) note(`${report.lost} accepted notification(s) lost: ${report.lostIds.slice(0, 5).join(', ')}`);
  if (report.notFinal > 0) note(`${report.notFinal} row(s) still in_progress`);
  if (!options.allowFailed && report.failed > 0)
    note(`${report.failed} notification(s) failed: ${JSON.stringify(report.failureReasons)}`);
  if (report.failedWithoutReason.length > 0)
    note(`${report.failedWithoutReason.length} failed row(s) without a reason`);
  if (report.sentWithoutEmail.length > 0)
    note(`${report.sentWithoutEmail.length} row(s) sent but no email in the sandbox`);
  if (report.failedButEmailed.length > 0)
    note(`${report.failedButEmailed.length} row(s) failed although an email went out`);
  const maxDuplicates = options.maxDuplicates ?? 0;
  if (report.duplicates > maxDuplicates) {
    note(
      `${report.duplicates} duplicate email(s), over the bound of ${maxDuplicates}: ${report.duplicateIds.slice(0, 5).join(', ')}`,
    );
  }
  // A queue that is not there reads as empty: the depth checks below would pass on a topology
  // nobody used, whatever the services did with their messages.
  for (const queue of [report.mainQueue, report.deadLetterQueue])
    if (!queue.exists) note(`queue ${queue.queue} does not exist: its depth proves nothing`);
  if (report.mainQueue.messages !== 0) note(`main queue holds ${report.mainQueue.messages} message(s) at the end`);
  const expected = options.expectedDeadLetters === 'failed' ? report.failed : (options.expectedDeadLetters ?? 0);
  if (report.deadLetterQueue.messages !== expected) {
    note(`dead-letter queue holds ${report.deadLetterQueue.messages} message(s), expected ${expected}`);
  }
  const restarted = new Set([...(options.restarted ?? []), ...(options.retired ?? [])]);
  for (const [name, { starts, exits, unexpectedExits }] of Object.entries(report.processes)) {
    if (unexpectedExits > 0) note(`${name} exited ${unexpectedExits} time(s) on its own`);
    if (!restarted.has(name) && starts !== 1)
      note(`${name} was started ${starts} times (only the faulted process may be)`);
    // Exempt from the check above because the scenario says it stopped it: make sure it did.
    if (restarted.has(name) && exits === 0)
      note(`${name} is named as stopped or killed by the scenario, but never exited: the fault did not reach it`);
  }
  for (const name of restarted)
    if (!(name in report.processes)) note(`${name} is named as faulted, but no process has that name`);
  return problems;
}

function timings(options: VerifyOptions, byId: Map<string, Row>) {
  const latencies: number[] = [];
  let lastBeforeFaultEnd = options.faultEndedAt;
  let unfinished = false;
  for (const accepted of options.accepted.values()) {
    const row = byId.get(accepted.trackingId);
    const finalAt = row && isFinal(row.status) ? row.updated_ms : undefined;
    if (finalAt !== undefined) latencies.push(finalAt - accepted.acceptedAt);
    if (accepted.acceptedAt > options.faultEndedAt) continue;
    if (finalAt === undefined) unfinished = true;
    else lastBeforeFaultEnd = Math.max(lastBeforeFaultEnd, finalAt);
  }
  latencies.sort((a, b) => a - b);
  return {
    timeToRecoverMs: unfinished ? null : Math.round(lastBeforeFaultEnd - options.faultEndedAt),
    maxLatencyMs: latencies.length > 0 ? Math.round(latencies.at(-1) as number) : null,
    p95LatencyMs: percentile(latencies, 0.95),
    p99LatencyMs: percentile(latencies, 0.99),
  };
}

/** Of ascending values. */
function percentile(sorted: number[], fraction: number): number | null {
  return sorted.length > 0 ? Math.round(sorted[Math.floor((sorted.length - 1) * fraction)] as number) : null;
}

const isFinal = (status: string | undefined) => status === 'sent' || status === 'failed';

async function countFinal(system: System, ids: string[]): Promise<number> {
  const { rows } = await system.db.query<{ n: string }>(
    `SELECT count(*) AS n FROM notifications.notifications
     WHERE tracking_id = ANY($1::uuid[]) AND status IN ('sent', 'failed')`,
    [ids],
  );
  return Number(rows[0]?.n ?? 0);
}

async function outboxPending(system: System): Promise<number> {
  const { rows } = await system.db.query<{ n: string }>(
    'SELECT count(*) AS n FROM ticketing.outbox WHERE published_at IS NULL AND exchange = $1',
    [system.topology.exchange],
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * No row in progress, and every lease run out: a redelivery that found a row busy sleeps until
 * its lease ends, then finds it final and acks. Past the last lease, nothing is held unacked.
 */
async function quiet(system: System): Promise<{ quiet: boolean; busy: number }> {
  const { rows } = await system.db.query<{ busy: string; lease_left_ms: number | null }>(
    `SELECT count(*) FILTER (WHERE status = 'in_progress') AS busy,
            extract(epoch FROM max(lease_expires_at) - now()) * 1000 AS lease_left_ms
     FROM notifications.notifications`,
  );
  const busy = Number(rows[0]?.busy ?? 0);
  if (busy > 0 || (rows[0]?.lease_left_ms ?? 0) > -500) return { quiet: false, busy };
  return { quiet: (await queueDepth(system.amqpUrl, system.topology.queue)).messages === 0, busy };
}

const STALL_MS = 15_000;

/** true once some process exited on its own and the progress value has not changed for STALL_MS. */
function stallWatch(system: System): (progress: unknown) => boolean {
  let last: unknown;
  let since = Date.now();
  return (progress) => {
    if (progress !== last) {
      last = progress;
      since = Date.now();
    }
    const died = system.processes.some((p) => p.unexpectedExits.length > 0);
    return died && Date.now() - since > STALL_MS;
  };
}

async function allRows(system: System): Promise<Row[]> {
  const { rows } = await system.db.query<Row>(
    `SELECT tracking_id::text AS tracking_id, status, last_error,
            (extract(epoch FROM updated_at) * 1000)::float8 AS updated_ms
     FROM notifications.notifications`,
  );
  return rows;
}

async function ticketingBrokerUp(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(3_000) });
    const body = (await response.json()) as { broker?: string };
    return response.status === 200 && body.broker === 'up';
  } catch {
    return false;
  }
}

function toDeadLetter(message: GetMessage): DeadLetter {
  const headers = (message.properties.headers ?? {}) as Record<string, unknown>;
  const reason = headers['x-failure-reason'];
  return { reason: reason === undefined ? undefined : String(reason), headers, bytes: message.content.length, message };
}
