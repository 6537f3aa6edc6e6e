import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMessage } from '../../../test-support/messages.js';
import { type Harness, startHarness } from './support/handler-harness.js';

// Stands for any data the schema lets through and PostgreSQL refuses (a constraint, a trigger, an
// encoding): the database raises for names that start with the marker.
const REFUSED_PREFIX = 'Refused by the database';

describe('poison isolation (dead letters and state)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness('poison', {}, { ownDatabase: true });
    await harness.db.query(`
      CREATE FUNCTION notifications.refuse_marked_names() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.recipient_name LIKE '${REFUSED_PREFIX}%' THEN
          RAISE EXCEPTION 'recipient name % is not allowed here', NEW.recipient_name USING ERRCODE = '22023';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER refuse_marked_names BEFORE INSERT ON notifications.notifications
        FOR EACH ROW EXECUTE FUNCTION notifications.refuse_marked_names();`);
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it('When one message of a batch is refused by the database, then only it is dead-lettered with the reason and the others are sent', async () => {
    const good = [buildMessage(), buildMessage(), buildMessage()];
    const poison = buildMessage();
    poison.recipient.name = `${REFUSED_PREFIX} 1`;

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
});
