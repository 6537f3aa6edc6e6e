import type { VerifyReport } from '@notify/test-support/system/index.js';
import type { MachineInfo } from './machine.js';
import { cpuPerNotification, type MinuteSample } from './soak-samples.js';
import { renderVerdict, type SoakVerdict } from './soak-verdict.js';
import { WATCHED_TABLES } from './table-rows.js';

export type SoakResult = {
  command: string;
  startedAt: string;
  finishedAt: string;
  source: { commit: string; uncommittedServiceChanges: boolean };
  machine: MachineInfo;
  options: { minutes: number; checkoutsPerSecond: number };
  /** The server's `SHOW autovacuum`. */
  autovacuum: string;
  maintenanceIntervalMs: number;
  minutes: MinuteSample[];
  /** Flatness, for a soak of ten minutes or more. */
  verdict: SoakVerdict | undefined;
  verification: Pick<
    VerifyReport,
    'accepted' | 'sent' | 'failed' | 'lost' | 'notFinal' | 'unconfirmedRows' | 'problems'
  > & {
    mainQueue: number;
    deadLetterQueue: number;
    /** Emails past the first for a tracking id, from the sandbox's tally. */
    duplicates: number;
  };
  /** Lines the services logged about their tables ("tables maintained", the autovacuum warning). */
  maintenanceLines: string[];
};

const SERVICES = ['sandbox', 'handler', 'ticketing'];
const short = (table: string) => table.split('.').at(-1) as string;

/** One table row per minute: rate, latency, memory, dead rows. */
export function renderMinuteTable(samples: MinuteSample[]): string {
  const header = [
    'min',
    'accepted/s',
    'flows started / skipped / failed',
    'accepted → sent p50 / p99 ms',
    'not sent',
    'CPU ms / notification: all (PostgreSQL ← handler, ← ticketing; other work)',
    ...SERVICES.map((name) => `RSS peak ${name} MiB`),
    ...WATCHED_TABLES.map((table) => `dead rows (vacuums) ${short(table)}`),
  ];
  const lines = [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i === 2 || i === 3 || i === 5 ? '---' : '---:')).join(' | ')} |`,
  ];
  for (const sample of samples) {
    const cells = [
      String(sample.minute),
      String(Math.round(sample.accepted / 60)),
      `${sample.flowsStarted} / ${sample.flowsSkipped} / ${sample.flowErrors}`,
      `${sample.latencyMs.p50} / ${sample.latencyMs.p99}`,
      String(sample.notSent),
      cpuCell(sample),
      ...SERVICES.map((name) => String(sample.rssPeakMiB[name] ?? '-')),
      ...WATCHED_TABLES.map((table) => {
        const rows = sample.tables[table];
        return rows ? `${rows.dead} (${rows.vacuums})` : '-';
      }),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

function cpuCell(sample: MinuteSample): string {
  const all = cpuPerNotification(sample);
  if (all === undefined) return '-';
  const ms = (value: number | undefined) => (value === undefined ? '-' : value.toFixed(2));
  const other =
    sample.accepted > 0 && sample.otherCpuMs !== undefined ? sample.otherCpuMs / sample.accepted : undefined;
  return `${ms(all)} (${ms(cpuPerNotification(sample, 'postgresql ← handler'))}, ${ms(
    cpuPerNotification(sample, 'postgresql ← ticketing'),
  )}; ${ms(other)})`;
}

export function renderSoak(result: SoakResult): string {
  const v = result.verification;
  const last = result.minutes.at(-1);
  const liveRows = last
    ? WATCHED_TABLES.map((table) => `${short(table)} ${last.tables[table]?.live ?? '-'}`).join(', ')
    : '-';
  return [
    '# Soak',
    '',
    `\`${result.command}\`: ${result.options.checkoutsPerSecond} checkouts/s offered (${
      result.options.checkoutsPerSecond * 2
    } notifications/s), open loop, for ${result.options.minutes} min, from empty tables.`,
    '',
    `Run ${result.startedAt} → ${result.finishedAt}, services at \`${result.source.commit}\`${
      result.source.uncommittedServiceChanges ? ' (with uncommitted changes)' : ''
    }, on ${result.machine.nproc} cores (${result.machine.cpuModel}), ${result.machine.memoryGiB} GiB, Node ${
      result.machine.node
    }, RabbitMQ ${result.machine.rabbitmq}, ${result.machine.postgresql}; load average at the start ${
      result.machine.loadAverageAtStart
    }.`,
    '',
    `PostgreSQL \`autovacuum\`: **${result.autovacuum}**. The services maintain their own tables every ${
      result.maintenanceIntervalMs / 1_000
    } s (MAINTENANCE_INTERVAL_MS).`,
    '',
    'Per minute: notifications accepted (201) in that minute, and of those: accepted → sent (from the',
    "load generator's 201 to the handler's `sent_at`, read once the run ended), the highest resident memory",
    'of each process in the minute (/proc/<pid>/status VmRSS, read every second), the CPU that every component',
    "(services, load generator, RabbitMQ, the run database's backends) used in the minute per notification accepted in it",
    "(/proc/<pid>/stat), with the machine's busy time that none of them accounts for, and the dead rows of each table at its end",
    '(pg_stat_user_tables.n_dead_tup) with the number of times it was vacuumed so far.',
    '',
    renderMinuteTable(result.minutes),
    '',
    `Live rows at the end: ${liveRows}.`,
    '',
    ...renderVerdict(result.verdict),
    '',
    `Verification (test-support/system/verifier.ts): ${v.accepted} accepted, ${v.sent} sent, ${v.failed} failed, ${
      v.lost
    } lost, ${v.notFinal} not final, ${v.unconfirmedRows} rows the API never confirmed (not an error); main queue ${
      v.mainQueue
    }, dead-letter queue ${v.deadLetterQueue}; ${v.duplicates} repeated emails, every email of the run counted by the sandbox's tally. ${
      v.problems.length === 0
        ? '**Nothing lost, nothing left unsent, nothing sent twice.**'
        : `**Problems:** ${v.problems.join('; ')}`
    }`,
    '',
    'Table maintenance, as the services logged it:',
    '',
    ...(result.maintenanceLines.length > 0 ? result.maintenanceLines.map((line) => `- ${line}`) : ['- (none)']),
    '',
  ].join('\n');
}
