import type { ClaimResult } from '../db/notification-repository.js';

// When the row is not visible yet (a concurrent insert), look again soon.
const UNKNOWN_LEASE_RECHECK_MS = 200;

export type LeaseWatch = {
  /** Resolves when this process settles the row, after `ms`, or on abort: time to look again. */
  settledHereOrAfter: (trackingId: string, ms: number, signal: AbortSignal) => Promise<void>;
  pollMs: number;
};

/**
 * Claims the row, waiting while another handler holds a live lease: that handler is still sending,
 * and sending again now could email the customer twice. The wait ends as soon as the row settles
 * (at once when this process settles it, within `pollMs` when another one does) or the lease runs
 * out, and early on shutdown.
 */
export async function waitForLease(
  trackingId: string,
  claim: () => Promise<ClaimResult>,
  watch: LeaseWatch,
  signal: AbortSignal,
): Promise<Exclude<ClaimResult, { kind: 'busy' }> | { kind: 'interrupted' }> {
  for (;;) {
    const result = await claim();
    if (result.kind !== 'busy') return result;
    const untilExpiry = result.leaseExpiresAt
      ? result.leaseExpiresAt.getTime() - Date.now() + 50
      : UNKNOWN_LEASE_RECHECK_MS;
    await watch.settledHereOrAfter(trackingId, Math.max(10, Math.min(untilExpiry, watch.pollMs)), signal);
    if (signal.aborted) return { kind: 'interrupted' };
  }
}
