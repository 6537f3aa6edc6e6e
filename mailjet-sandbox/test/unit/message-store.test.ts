import { describe, expect, it } from 'vitest';
import { jsonWeight, MessageStore, type StoredMessage } from '../../src/index.js';
import { uniqueEmail, uniqueId } from '../support/messages.js';

let sequence = 0;
function stored(fields: { customId?: string; to?: string[]; cc?: string[] } = {}): StoredMessage {
  sequence += 1;
  const to = fields.to ?? [uniqueEmail()];
  const recipients = [
    ...to.map((Email) => ({ Type: 'To' as const, Email })),
    ...(fields.cc ?? []).map((Email) => ({ Type: 'Cc' as const, Email })),
  ].map((recipient, index) => ({
    ...recipient,
    MessageUUID: uniqueId('uuid'),
    MessageID: String(1n << (60n + BigInt(index))),
  }));
  return {
    provider: 'mailjet',
    From: { Email: 'from@notify.example' },
    To: to.map((Email) => ({ Email })),
    TextPart: `message ${sequence}`,
    ...(fields.customId === undefined ? {} : { CustomID: fields.customId }),
    MessageID: recipients[0]?.MessageID ?? '0',
    MessageUUID: recipients[0]?.MessageUUID ?? '',
    receivedAt: new Date().toISOString(),
    Recipients: recipients,
  };
}

describe('MessageStore', () => {
  it('When messages are added, then list returns them in the order received', () => {
    const store = new MessageStore();
    const messages = [stored(), stored(), stored()];

    for (const message of messages) store.add(message);

    expect(store.list()).toEqual(messages);
  });

  it('When filtered by CustomID, by recipient or both, then only the matching ones', () => {
    const store = new MessageStore();
    const [customId, email] = [uniqueId('c'), uniqueEmail()];
    const both = stored({ customId, to: [email] });
    const idOnly = stored({ customId });
    const ccOnly = stored({ cc: [email] });
    for (const message of [both, idOnly, ccOnly, stored()]) store.add(message);

    expect(store.list({ customId })).toEqual([both, idOnly]);
    expect(store.list({ to: email.toUpperCase() })).toEqual([both, ccOnly]);
    expect(store.list({ customId, to: email })).toEqual([both]);
    expect(store.list({ customId: uniqueId('none') })).toEqual([]);
  });

  it('When more than maxStored arrive, then the oldest go, from the list and from the indexes', () => {
    const store = new MessageStore(2);
    const [oldest, middle, newest] = [stored({ customId: 'a' }), stored({ customId: 'b' }), stored({ customId: 'a' })];

    for (const message of [oldest, middle, newest]) store.add(message);

    expect(store.size).toBe(2);
    expect(store.list()).toEqual([middle, newest]);
    expect(store.list({ customId: 'a' })).toEqual([newest]);
    expect(store.list({ to: oldest.Recipients[0]?.Email })).toEqual([]);
  });

  it('When maxStored is not a whole number of at least 1, then the store refuses to exist', () => {
    expect(() => new MessageStore(0)).toThrow(RangeError);
    expect(() => new MessageStore(2.5)).toThrow(/maxStored/);
    expect(() => new MessageStore(10, 0)).toThrow(/maxStoredBytes/);
  });

  it('When the messages weigh more than maxStoredBytes, then the oldest go until they fit, from the list and the indexes', () => {
    const [oldest, middle, newest] = [stored({ customId: 'x' }), stored({ customId: 'y' }), stored({ customId: 'x' })];
    const weight = jsonWeight;
    const store = new MessageStore(100, weight(middle) + weight(newest));

    for (const message of [oldest, middle, newest]) store.add(message);

    expect(store.list()).toEqual([middle, newest]);
    expect(store.storedBytes).toBe(weight(middle) + weight(newest));
    expect(store.list({ customId: 'x' })).toEqual([newest]);
    expect(store.list({ to: oldest.Recipients[0]?.Email })).toEqual([]);
  });

  it('When one message alone weighs more than maxStoredBytes, then it is kept and everything older goes', () => {
    const store = new MessageStore(100, 10);
    const [older, newest] = [stored(), stored()];

    store.add(older);
    store.add(newest);

    expect(store.list()).toEqual([newest]);
    expect(store.size).toBe(1);
  });

  it('When many more messages arrive than either bound holds, then the store keeps exactly the newest ones in order', () => {
    const store = new MessageStore(500);
    const messages = Array.from({ length: 5_000 }, () => stored());

    for (const message of messages) store.add(message);

    expect(store.size).toBe(500);
    expect(store.list()).toEqual(messages.slice(-500));
    expect(store.storedBytes).toBe(messages.slice(-500).reduce((sum, message) => sum + jsonWeight(message), 0));
  });

  it('When cleared, then nothing is listed, by any filter', () => {
    const store = new MessageStore();
    const message = stored({ customId: uniqueId('c') });
    store.add(message);

    store.clear();

    expect(store.list()).toEqual([]);
    expect(store.list({ customId: message.CustomID })).toEqual([]);
  });

  it('When waitFor is pending and a matching message arrives, then it resolves with it', async () => {
    const store = new MessageStore();
    const customId = uniqueId('wait');
    const waiting = store.waitFor({ customId }, { timeoutMs: 1_000 });
    const message = stored({ customId });

    store.add(stored());
    store.add(message);

    await expect(waiting).resolves.toEqual([message]);
  });

  it('When waitFor sees no match in time, then it rejects naming the filter', async () => {
    const store = new MessageStore();

    await expect(store.waitFor({ customId: 'never' }, { timeoutMs: 20 })).rejects.toThrow(/never/);
  });
});

describe('jsonWeight (what a stored message counts against the byte bound)', () => {
  it('When a message is the kind the handler sends, then its weight is within 5 % of its JSON in bytes', () => {
    const message = {
      ...stored({ customId: uniqueId('tracking'), cc: [uniqueEmail()] }),
      Subject: 'Ticket successfully checked out: Order 3f2b8c1e-9a4d-4f6e-8b2a-1c3d5e7f9a0b',
      HTMLPart: '<p>Hello Ada Lovelace,</p><table><tr><td>Spring Jazz Night</td><td>2</td></tr></table>',
      Headers: { 'X-Trace': 'abc' },
      Variables: { count: 2, paid: true, note: null },
    };
    const bytes = Buffer.byteLength(JSON.stringify(message));

    expect(Math.abs(jsonWeight(message) - bytes) / bytes).toBeLessThan(0.05);
  });

  it('When longer text is added to a message, then its weight grows by that length', () => {
    const message = stored();
    expect(jsonWeight({ ...message, TextPart: `${message.TextPart}${'x'.repeat(1_000)}` })).toBe(
      jsonWeight(message) + 1_000,
    );
  });

  it('When a message nests deeper than a recursive walk could go, then it is still weighed', () => {
    let deep: unknown = 'bottom';
    for (let depth = 0; depth < 200_000; depth++) deep = [deep];

    expect(jsonWeight({ ...stored(), Variables: deep })).toBeGreaterThan(200_000);
  });
});
