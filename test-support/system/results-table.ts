import type { VerifyReport } from './verifier.js';

/** One line of a results table: plain data, so it can travel through vitest's task meta. */
export type ResultRow = {
  scenario: string;
  accepted: number;
  sent: number;
  failed: number;
  lost: number;
  duplicates: number;
  /** Bound the scenario allows for duplicates. */
  duplicateBound: number;
  deadLetters: number;
  timeToRecoverMs: number | null;
  maxLatencyMs: number | null;
  /** Set by whoever knows whether the scenario's checks passed. */
  outcome?: 'passed' | 'failed';
  problems: string[];
};

export function toResultRow(scenario: string, report: VerifyReport, duplicateBound = 0): ResultRow {
  return {
    scenario,
    accepted: report.accepted,
    sent: report.sent,
    failed: report.failed,
    lost: report.lost,
    duplicates: report.duplicates,
    duplicateBound,
    deadLetters: report.deadLetterQueue.messages,
    timeToRecoverMs: report.timeToRecoverMs,
    maxLatencyMs: report.maxLatencyMs,
    problems: report.problems,
  };
}

const seconds = (ms: number | null) => (ms === null ? 'never' : `${(ms / 1000).toFixed(1)} s`);

/** A Markdown table: scenario | accepted | sent | failed | lost | duplicates | time to recover | ... */
export function formatTable(rows: ResultRow[]): string {
  const header = [
    'scenario',
    'accepted',
    'sent',
    'failed',
    'lost',
    'duplicates (bound)',
    'time to recover',
    'max latency',
    'DLQ',
    'result',
  ];
  const lines = rows.map((row) => [
    row.scenario,
    String(row.accepted),
    String(row.sent),
    String(row.failed),
    String(row.lost),
    `${row.duplicates} (${row.duplicateBound})`,
    seconds(row.timeToRecoverMs),
    seconds(row.maxLatencyMs),
    String(row.deadLetters),
    row.outcome ?? '',
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => (line[i] ?? '').length)));
  const format = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [format(header), format(widths.map((w) => '-'.repeat(w))), ...lines.map(format)].join('\n');
}
