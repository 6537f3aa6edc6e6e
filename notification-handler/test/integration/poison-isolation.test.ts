import { buildMessage } from '@notify/test-support/messages.js';
import { installRefusingTrigger, REFUSED_NAME_PREFIX } from '@notify/test-support/refusing-trigger.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/handler-harness.js';

describe('poison isolation (dead letters and state)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness('poison', {}, { ownDatabase: true });
    await installRefusingTrigger(harness.db);
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it('When one message of a batch is refused by the database, then only it is dead-lettered with the reason and the others are sent', async () => {
    const good = [buildMessage(), buildMessage(), buildMessage()];
    const poison = buildMessage();
    poison.recipient.name = `${REFUSED_NAME_PREFIX} 1`;

    for (const message of [good[0], poison, good[1], good[2]]) harness.publish(message as typeof poison);

    const dead = await harness.deadLetter(poison.trackingId);
    expect(String(dead.properties.headers?.['x-failure-reason'])).toMatch(
      /database refused: recipient name .* is not allowed here \(SQLSTATE 22023\)/,
    );
    for (const message of good) {
      expect(await harness.settled(message.trackingId)).toMatchObject({ status: 'sent', attemptCount: 1 });
      expect(harness.decisions.filter((d) => d.trackingId === message.trackingId)).toHaveLength(1);
    }
    expect(harness.decisions.filter((d) => d.trackingId === poison.trackingId)).toEqual([
      expect.objectContaining({ kind: 'dead-lettered' }),
    ]);
    expect((await harness.api(`/notifications/${poison.trackingId}`)).status).toBe(404);
    expect(harness.emailsFor(poison.trackingId)).toHaveLength(0);
  });

  it('When the database refuses to record an email that went out, then the message is acked, not dead-lettered, and said loudly', async () => {
    await harness.db.query(`
      CREATE FUNCTION notifications.refuse_recording_sent() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.status = 'sent' AND NEW.recipient_name LIKE 'Unrecordable%' THEN
          RAISE EXCEPTION 'not recordable' USING ERRCODE = '22023';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER refuse_recording_sent BEFORE UPDATE ON notifications.notifications
        FOR EACH ROW EXECUTE FUNCTION notifications.refuse_recording_sent();`);
    const message = buildMessage();
    message.recipient.name = 'Unrecordable Ada';

    harness.publish(message);
    const acked = await harness.decided(message.trackingId, 'acked');

    expect(acked).toMatchObject({ outcome: 'sent' });
    expect(harness.emailsFor(message.trackingId)).toHaveLength(1);
    expect(harness.decisions.filter((d) => d.trackingId === message.trackingId)).toHaveLength(1);
    expect(harness.logs.find('email sent, but the database refused to record it: its row stays in_progress')).toEqual([
      expect.objectContaining({ trackingId: message.trackingId, reason: expect.stringContaining('not recordable') }),
    ]);
  });
});
