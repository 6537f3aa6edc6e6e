/** The delayed level of retries: through broker delay queues, until a deadline. */
export type RedeliveryPolicy = {
  /** Wait before each redelivery; past the end of the list, the last one repeats. */
  delaysMs: readonly number[];
  /** From the event (or its replay) to giving up. */
  deadlineMs: number;
};

/**
 * The next delayed attempt after `redeliveries` earlier ones, or undefined when it would come
 * after the deadline (then the notification fails).
 */
export function nextRedelivery(
  policy: RedeliveryPolicy,
  redeliveries: number,
  deadlineAt: Date,
  now = Date.now(),
): { delayMs: number; at: Date; redeliveries: number } | undefined {
  const delayMs = policy.delaysMs[Math.min(redeliveries, policy.delaysMs.length - 1)] as number;
  const at = new Date(now + delayMs);
  return at.getTime() > deadlineAt.getTime() ? undefined : { delayMs, at, redeliveries: redeliveries + 1 };
}

/** Every distinct delay of the schedule: one delay queue each. */
export function distinctDelays(policy: Pick<RedeliveryPolicy, 'delaysMs'>): number[] {
  return [...new Set(policy.delaysMs)].sort((a, b) => a - b);
}
