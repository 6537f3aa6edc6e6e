import { describe, expect, it } from 'vitest';
import { judge, type VerifyReport } from '../../system/verifier.js';

/** What a run in which nothing went wrong counts: every check below starts from it and breaks one thing. */
function cleanReport(): Omit<VerifyReport, 'problems'> {
  return {
    accepted: 2,
    acceptedCheckouts: 1,
    sent: 2,
    failed: 0,
    lost: 0,
    lostIds: [],
    duplicates: 0,
    duplicateIds: [],
    unconfirmedRows: 0,
    notFinal: 0,
    failedWithoutReason: [],
    sentWithoutEmail: [],
    failedButEmailed: [],
    failureReasons: {},
    mainQueue: { queue: 'sys.t.notifications.email', exists: true, messages: 0, consumers: 0 },
    deadLetterQueue: { queue: 'sys.t.notifications.email.dead', exists: true, messages: 0, consumers: 0 },
    deadLetters: [],
    timeToRecoverMs: 100,
    maxLatencyMs: 50,
    p95LatencyMs: 50,
    p99LatencyMs: 50,
    finalExits: {},
    processes: {
      sandbox: { starts: 1, exits: 0, unexpectedExits: 0 },
      handler: { starts: 1, exits: 0, unexpectedExits: 0 },
      ticketing: { starts: 1, exits: 0, unexpectedExits: 0 },
    },
    readyAtEnd: { handler: true, ticketing: true },
    handlerOutcomes: {},
  };
}

describe('judge', () => {
  it('When nothing went wrong, then it finds no problem', () => {
    expect(judge(cleanReport(), {})).toEqual([]);
  });

  it('When the dead-letter queue does not exist, then its depth of 0 does not pass for the expected 0', () => {
    const report = cleanReport();
    report.deadLetterQueue = { ...report.deadLetterQueue, exists: false };

    expect(judge(report, {})).toEqual([
      'queue sys.t.notifications.email.dead does not exist: its depth proves nothing',
    ]);
  });

  it('When the main queue does not exist, then it is a problem', () => {
    const report = cleanReport();
    report.mainQueue = { ...report.mainQueue, exists: false };

    expect(judge(report, {})).toEqual(['queue sys.t.notifications.email does not exist: its depth proves nothing']);
  });

  it('When the process the scenario says it killed never exited, then the fault did not reach it', () => {
    expect(judge(cleanReport(), { restarted: ['handler'] })).toEqual([
      'handler is named as stopped or killed by the scenario, but never exited: the fault did not reach it',
    ]);
  });

  it('When the process the scenario killed did exit and start again, then that is no problem', () => {
    const report = cleanReport();
    report.processes.handler = { starts: 2, exits: 1, unexpectedExits: 0 };

    expect(judge(report, { restarted: ['handler'] })).toEqual([]);
  });

  it('When the scenario names a faulted process that does not exist, then it is a problem', () => {
    expect(judge(cleanReport(), { retired: ['handler-3'] })).toEqual([
      'handler-3 is named as faulted, but no process has that name',
    ]);
  });

  it('When a process other than the faulted one was started twice, then it is a problem', () => {
    const report = cleanReport();
    report.processes.ticketing = { starts: 2, exits: 1, unexpectedExits: 0 };

    expect(judge(report, {})).toEqual(['ticketing was started 2 times (only the faulted process may be)']);
  });

  it('When there are more duplicates than the bound, then it is a problem; within it, none', () => {
    const report = { ...cleanReport(), duplicates: 3, duplicateIds: ['t-1'] };

    expect(judge(report, { maxDuplicates: 2 })).toEqual(['3 duplicate email(s), over the bound of 2: t-1']);
    expect(judge(report, { maxDuplicates: 3 })).toEqual([]);
  });

  it('When the dead-letter queue holds other than one per failed notification, then it is a problem', () => {
    const report = {
      ...cleanReport(),
      failed: 2,
      deadLetterQueue: { ...cleanReport().deadLetterQueue, messages: 1 },
    };

    expect(judge(report, { allowFailed: true, expectedDeadLetters: 'failed' })).toEqual([
      'dead-letter queue holds 1 message(s), expected 2',
    ]);
  });
});
