import { amqpPublish } from '@notify/test-support/system/foreign-publisher.js';
import type { LoadResult } from '@notify/test-support/system/load-generator.js';
import type { System } from '@notify/test-support/system/system.js';
import { type VerifyReport, verifySystem } from '@notify/test-support/system/verifier.js';
import { loadWithFault, SETTLE_DEADLINE_MS } from './scenario.js';

/** A message another producer gets wrong, tagged (header x-poison) with the reason it must be dead-lettered for. */
export type PoisonMessage = { kind: string; body: string | Buffer; contentType?: string; reason: RegExp };

/**
 * The load, with the poison published once the fault is due (by `publish`, a foreign client by
 * default); then the verifier, expecting each poison message in the dead-letter queue once, for
 * its reason, and nothing else there.
 */
export async function loadWithPoison(
  system: System,
  poison: PoisonMessage[],
  publish: (system: System, poison: PoisonMessage[]) => Promise<void> = publishPoison,
): Promise<{ report: VerifyReport; load: LoadResult }> {
  const { load, faultEndedAt } = await loadWithFault(system, async () => {
    await publish(system, poison);
    return Date.now();
  });
  const report = await verifySystem(system, {
    accepted: load.accepted,
    faultEndedAt,
    deadlineMs: SETTLE_DEADLINE_MS,
    expectedDeadLetters: poison.length,
  });
  checkPoisonDeadLetters(report, poison);
  return { report, load };
}

/** Publishes each through a foreign AMQP client (amqp-publish) to the public exchange. */
export async function publishPoison(system: System, poison: PoisonMessage[]): Promise<void> {
  for (const message of poison) {
    await amqpPublish({
      url: system.amqpUrl,
      exchange: system.topology.exchange,
      routingKey: 'checkout.completed',
      body: message.body,
      contentType: message.contentType ?? 'application/json',
      headers: { 'x-poison': message.kind },
    });
  }
}

/** Each poison message must be in the dead-letter queue exactly once, for its reason. */
function checkPoisonDeadLetters(report: VerifyReport, poison: PoisonMessage[]): void {
  for (const message of poison) {
    const dead = report.deadLetters.filter((letter) => letter.headers['x-poison'] === message.kind);
    if (dead.length !== 1) report.problems.push(`${message.kind}: ${dead.length} dead letter(s), expected 1`);
    else if (!message.reason.test(dead[0]?.reason ?? ''))
      report.problems.push(`${message.kind}: dead-lettered for "${dead[0]?.reason}", expected ${message.reason}`);
  }
}
