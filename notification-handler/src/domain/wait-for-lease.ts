import type { ClaimResult } from '../db/notification-repository.js';
import { abortableSleep } from './abortable-sleep.js';

// When the row is not visible yet (a concurrent insert), look again soon.
const UNKNOWN_LEASE_RECHECK_MS = 200;

/**
 * Claims the row, waiting while another handler holds a live lease: that handler is still sending,
 * and sending again now could email the customer twice. Ends early on shutdown.
 */
export async function waitForLease(
  claim: () => Promise<ClaimResult>,
  signal: AbortSignal,
): Promise<Exclude<ClaimResult, { kind: 'busy' }> | { kind: 'interrupted' }> {
  for (;;) {
    const result = await claim();
    if (result.kind !== 'busy') return result;
    const waitMs = result.leaseExpiresAt
      ? Math.max(0, result.leaseExpiresAt.getTime() - Date.now()) + 50
      : UNKNOWN_LEASE_RECHECK_MS;
    if (!(await abortableSleep(waitMs, signal))) return { kind: 'interrupted' };
  }
}
