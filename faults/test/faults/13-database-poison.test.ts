import { buildMessage } from '@notify/test-support/messages.js';
import { installRefusingTrigger, REFUSED_NAME_PREFIX } from '@notify/test-support/refusing-trigger.js';
import { type MessageToPublish, publishConfirmed } from '@notify/test-support/system/broker-tools.js';
import type { System } from '@notify/test-support/system/system.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadWithPoison, type PoisonMessage } from '../support/poison.js';
import { record, startScenarioSystem } from '../support/scenario.js';

const SCENARIO = '13. poison the database refuses, among good messages';

/**
 * Good messages published on each side of every poison message, in the same burst: so that they
 * reach the handler in the same prefetch and are claimed in the same statement as the poison,
 * which the database then refuses whole.
 */
const GOOD_AROUND_EACH = 4;

/**
 * How a good message could be held back by poison beside it: put back on the queue (taken again
 * 2 s later), or sent to a delay queue. Counted by the handler itself rather than read from the
 * latency, which on two cores shared with three other scenarios says more about the host.
 */
const HELD_BACK_OUTCOMES = ['requeued', 'rescheduled'];

/** Schema-valid messages the database refuses, and ones the schema itself now refuses. */
function poisonMessages() {
  const refusedByDatabase = Array.from({ length: 4 }, (_, n) => {
    const message = buildMessage();
    message.recipient.name = `${REFUSED_NAME_PREFIX} ${n}`;
    return { kind: `database-${n}`, body: JSON.stringify(message), reason: /^database refused: .*not allowed here/ };
  });
  const nul = buildMessage();
  const year0 = buildMessage();
  return [
    ...refusedByDatabase,
    {
      kind: 'nul-in-name',
      body: JSON.stringify({ ...nul, recipient: { ...nul.recipient, name: 'Ada\u0000Lovelace' } }),
      reason: /recipient\.name: must not contain control characters/,
    },
    { kind: 'year-0000', body: JSON.stringify({ ...year0, occurredAt: '0000-01-01T00:00:00Z' }), reason: /occurredAt/ },
  ];
}

/** Each poison message between good ones, all in one burst; the good ones' tracking ids. */
async function publishAmongGood(system: System, poison: PoisonMessage[]): Promise<string[]> {
  const good = Array.from({ length: poison.length * GOOD_AROUND_EACH * 2 }, () => buildMessage());
  const toPublish = (body: string | Buffer, headers: Record<string, string> = {}): MessageToPublish => ({
    exchange: system.topology.exchange,
    routingKey: 'checkout.completed',
    content: Buffer.from(body),
    options: { contentType: 'application/json', persistent: true, headers },
  });
  const goodOnes = good.map((message) => toPublish(JSON.stringify(message)));
  const burst = poison.flatMap((message, n) => [
    ...goodOnes.slice(2 * n * GOOD_AROUND_EACH, (2 * n + 1) * GOOD_AROUND_EACH),
    toPublish(message.body, { 'x-poison': message.kind }),
    ...goodOnes.slice((2 * n + 1) * GOOD_AROUND_EACH, (2 * n + 2) * GOOD_AROUND_EACH),
  ]);
  await publishConfirmed(system.amqpUrl, burst);
  return good.map((message) => message.trackingId);
}

/** Each good message of the burst must be sent, with one email. */
async function checkGoodNeighbours(system: System, trackingIds: string[]): Promise<string[]> {
  const { rows } = await system.db.query<{ tracking_id: string; status: string }>(
    'SELECT tracking_id::text AS tracking_id, status FROM notifications.notifications WHERE tracking_id = ANY($1::uuid[])',
    [trackingIds],
  );
  const status = new Map(rows.map((row) => [row.tracking_id, row.status]));
  const emails = await system.mailjet.countByCustomId();
  const wrong = trackingIds.filter((id) => status.get(id) !== 'sent' || emails.get(id) !== 1);
  return wrong.length === 0
    ? []
    : [`${wrong.length} good message(s) beside the poison not sent exactly once: ${wrong.slice(0, 5).join(', ')}`];
}

describe(SCENARIO, () => {
  let system: System | undefined;
  beforeAll(async () => {
    system = await startScenarioSystem('database-poison');
    await installRefusingTrigger(system.db);
  });
  afterAll(async () => {
    await system?.stop();
  });

  test('When messages the database refuses arrive among good ones, then only they are dead-lettered, with the reason, and the good ones go on at once', async (context) => {
    const sut = system!;
    const poison = poisonMessages();
    let goodNeighbours: string[] = [];
    const { report, load } = await loadWithPoison(sut, poison, async (target, messages) => {
      goodNeighbours = await publishAmongGood(target, messages);
    });
    report.problems.push(...(await checkGoodNeighbours(sut, goodNeighbours)));
    for (const outcome of HELD_BACK_OUTCOMES) {
      const count = report.handlerOutcomes[outcome];
      if (count === undefined) report.problems.push(`the handler did not count its ${outcome} deliveries`);
      else if (count > 0)
        report.problems.push(`${count} ${count === 1 ? 'delivery' : 'deliveries'} ${outcome}, not decided at once`);
    }
    record(context, sut, SCENARIO, report, load);

    expect(report.problems).toEqual([]);
  });
});
