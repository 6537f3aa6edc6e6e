import { EventEmitter, once } from 'node:events';
import { captureLogs } from '@notify/test-support/logger.js';
import { buildMessage } from '@notify/test-support/messages.js';
import { waitFor } from '@notify/test-support/wait.js';
import { describe, expect, it } from 'vitest';
import type { ClaimRequest, ClaimResult, Settlement } from '../../src/db/notification-repository.js';
import type { NotificationStore } from '../../src/db/notification-store.js';
import type { GuardedEmailProvider, SendOutcome } from '../../src/domain/email-provider.js';
import { type NotificationDelivery, sendNotification } from '../../src/domain/send-notification.js';

/**
 * One row as the database would keep it, its lease already run out (the outage outlasted it):
 * a claim takes an in-progress row over. Settlements wait for `settlementsWritten()`, as the first
 * delivery's did for the database to come back, while the second delivery's claim ran first.
 */
function storeAfterAnOutage() {
  const row: { status?: 'in_progress' | 'sent'; claimToken?: string } = {};
  const settled = new EventEmitter();
  let written!: () => void;
  const settlementsHeld = new Promise<void>((resolve) => {
    written = resolve;
  });
  const claims: string[] = [];
  const store = {
    leaseMs: 60_000,
    claim: async ({ claimToken }: ClaimRequest): Promise<ClaimResult> => {
      claims.push(claimToken);
      if (row.status === 'sent') return { kind: 'sent' };
      Object.assign(row, { status: 'in_progress', claimToken });
      return { kind: 'claimed', previousAttempts: 0 };
    },
    settle: async (settlement: Settlement) => {
      await settlementsHeld;
      if (row.claimToken !== settlement.claimToken) return;
      if (settlement.status === 'sent') row.status = 'sent';
      settled.emit(settlement.trackingId);
    },
    settledHereOrAfter: async (trackingId: string, ms: number, signal: AbortSignal) => {
      await Promise.race([
        once(settled, trackingId, { signal }).catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, ms)),
      ]);
    },
    releaseLease: async () => undefined,
    renewLease: async () => true,
  } as unknown as NotificationStore;
  return { store, claims, settlementsWritten: () => written() };
}

/** A provider that sends everything and counts each email by its CustomID. */
function countingProvider() {
  const sent = new Map<string, number>();
  const provider: GuardedEmailProvider = {
    breakerState: () => 'closed',
    whenCallable: async () => undefined,
    send: async (emails) =>
      emails.map((email): SendOutcome => {
        sent.set(email.customId, (sent.get(email.customId) ?? 0) + 1);
        return { kind: 'sent', providerMessageId: '1', httpStatus: 200 };
      }),
  };
  return { provider, sent };
}

describe('sendNotification: two deliveries of one notification in one process', () => {
  it('When the second arrives while the first waits for the database to record its email, then it waits for the first and sends nothing', async () => {
    const message = buildMessage('checkout.completed');
    const { store, claims, settlementsWritten } = storeAfterAnOutage();
    const { provider, sent } = countingProvider();
    const deps = {
      store,
      provider,
      from: { email: 'tickets@example.com', name: 'Ticketing' },
      retryPolicy: { maxRetries: 0, delay: { kind: 'fixed' as const, delayMs: 0 } },
      redelivery: { delaysMs: [1_000], deadlineMs: 3_600_000 },
      leasePollMs: 20,
      personalDataRetentionMs: 86_400_000,
      claimedHere: new Set<string>(),
      log: captureLogs().log,
    };
    const delivery: NotificationDelivery = {
      message,
      replay: false,
      redeliveries: 0,
      deadlineFrom: new Date(),
      traceId: undefined,
    };
    const signal = new AbortController().signal;

    // The first claims, sends and waits for its settlement to be written; the second (the relay's
    // copy after the outage) comes in meanwhile.
    const first = sendNotification(delivery, deps, signal);
    await waitFor(() => (sent.get(message.trackingId) === 1 ? true : undefined), { what: 'the first email sent' });
    const second = sendNotification(delivery, deps, signal);
    await new Promise((resolve) => setTimeout(resolve, 100));
    settlementsWritten();

    expect(await first).toEqual({ kind: 'sent', attempts: 1 });
    expect(await second).toEqual({ kind: 'duplicate' });
    expect(sent.get(message.trackingId)).toBe(1);
    expect(claims).toHaveLength(2);
    expect(deps.claimedHere.size).toBe(0);
  });
});
