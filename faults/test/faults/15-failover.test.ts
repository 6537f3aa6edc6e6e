import { setTimeout as sleep } from 'node:timers/promises';
import { type SandboxMessage, trackingIdOf } from '@notify/test-support/system/sandbox-client.js';
import type { System } from '@notify/test-support/system/system.js';
import { verifySystem } from '@notify/test-support/system/verifier.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LOAD, loadWithFault, record, SETTLE_DEADLINE_MS, startScenarioSystem } from '../support/scenario.js';

/** Two minutes by default; FAULTS_FAILOVER_OUTAGE_MS shortens it for a try. */
const OUTAGE_MS = Math.max(10_000, Number(process.env.FAULTS_FAILOVER_OUTAGE_MS ?? 120_000));
const SCENARIO = `15. Mailjet answering 503 for ${Math.round(OUTAGE_MS / 1000)} s, SendGrid taking over`;
/** The load goes on this long after Mailjet's return, so that traffic can be seen going back to it. */
const AFTER_OUTAGE_MS = 25_000;
/** From the outage's start to SendGrid's first accepted email. */
const FAILOVER_TARGET_MS = 10_000;
/** The last emails of the run, all of which must be Mailjet's once it is back. */
const LAST_EMAILS = 20;
const PROBE_MS = 5_000;
const FAILURES_TO_OPEN = 5;

describe(SCENARIO, () => {
  let system: System | undefined;
  beforeAll(async () => {
    system = await startScenarioSystem('failover', {
      handlerEnv: {
        EMAIL_PROVIDERS: 'mailjet,sendgrid',
        PROVIDER_BREAKER_FAILURES: String(FAILURES_TO_OPEN),
        PROVIDER_BREAKER_PROBE_MS: String(PROBE_MS),
      },
    });
  });
  afterAll(async () => {
    await system?.stop();
  });

  test('When Mailjet answers 503 for minutes under steady load, then SendGrid sends within seconds, nothing fails, is lost or sent twice, and traffic goes back to Mailjet after', async (context) => {
    const sut = system!;
    let outageStartedAt = 0;
    // Steady load through the whole outage and after it: the fault strikes about 3 s in.
    const durationMs = 5_000 + OUTAGE_MS + AFTER_OUTAGE_MS;
    const { load, faultEndedAt } = await loadWithFault(
      sut,
      async () => {
        outageStartedAt = Date.now();
        await sut.mailjet.setFaults({ provider: 'mailjet', failRate: 1, seed: 1, status: 503 });
        await sleep(OUTAGE_MS);
        await sut.mailjet.clearFaults('mailjet');
        return Date.now();
      },
      { durationMs, maxCheckouts: Math.ceil((LOAD.ratePerSecond * durationMs) / 1_000) },
    );

    const report = await verifySystem(sut, { accepted: load.accepted, faultEndedAt, deadlineMs: SETTLE_DEADLINE_MS });
    const emails = (await sut.mailjet.messages()).sort((a, b) => Date.parse(a.receivedAt) - Date.parse(b.receivedAt));
    const byProvider = (provider: SandboxMessage['provider'], from = 0, to = Number.POSITIVE_INFINITY) =>
      emails.filter((email) => {
        const at = Date.parse(email.receivedAt);
        return email.provider === provider && at >= from && at <= to;
      });
    const firstSendGrid = byProvider('sendgrid', outageStartedAt)[0];
    const failoverMs = firstSendGrid ? Date.parse(firstSendGrid.receivedAt) - outageStartedAt : null;
    const sendGridDuringOutage = byProvider('sendgrid', outageStartedAt, faultEndedAt).length;
    const mailjetAfter = byProvider('mailjet', faultEndedAt).length;
    const lastEmails = emails.slice(-LAST_EMAILS);
    console.log(
      `[faults] ${SCENARIO}: SendGrid's first send ${failoverMs ?? 'never'} ms after the outage began (target ${FAILOVER_TARGET_MS} ms); ` +
        `${sendGridDuringOutage} emails through SendGrid during the outage, ${mailjetAfter} through Mailjet after it; ` +
        `the last ${lastEmails.length}: ${lastEmails.map((email) => email.provider).join(',')}`,
    );
    if (failoverMs === null) report.problems.push('SendGrid never sent during the outage');
    else if (failoverMs > FAILOVER_TARGET_MS)
      report.problems.push(
        `SendGrid's first send came ${failoverMs} ms after the outage began, over ${FAILOVER_TARGET_MS} ms`,
      );
    if (mailjetAfter === 0) report.problems.push('no email went through Mailjet after it came back');
    if (lastEmails.some((email) => email.provider !== 'mailjet'))
      report.problems.push(`the last ${LAST_EMAILS} emails are not all Mailjet's: traffic did not go back to it`);
    const untracked = emails.filter((email) => trackingIdOf(email) === undefined).length;
    if (untracked > 0) report.problems.push(`${untracked} emails in the sandbox without a tracking id`);
    if (sut.handler.find('provider breaker open: failing over, probing').length === 0)
      report.problems.push("Mailjet's breaker never opened");
    if (sut.handler.find('every provider breaker open: pausing consumption, probing').length > 0)
      report.problems.push('consumption paused: SendGrid did not take over');
    record(context, sut, SCENARIO, report, load);

    expect(report.problems).toEqual([]);
  });
});
