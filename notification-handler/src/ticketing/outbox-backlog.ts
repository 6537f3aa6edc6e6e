export type OutboxBacklog = { pending: number; oldestPendingAgeSeconds: number };

const PENDING = 'notify_outbox_pending';
const OLDEST_AGE = 'notify_outbox_oldest_pending_age_seconds';

/**
 * The ticketing service's outbox backlog, read from its Prometheus endpoint: the service owns its
 * schema, computes these gauges with its own bounds, and may live on another database.
 */
export async function readOutboxBacklog(metricsUrl: string, timeoutMs: number): Promise<OutboxBacklog> {
  const response = await fetch(metricsUrl, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  if (!response.ok) throw new Error(`${metricsUrl} answered ${response.status}`);
  return parseOutboxBacklog(await response.text());
}

export function parseOutboxBacklog(exposition: string): OutboxBacklog {
  const pending = sample(exposition, PENDING);
  const oldestPendingAgeSeconds = sample(exposition, OLDEST_AGE);
  if (pending === undefined || oldestPendingAgeSeconds === undefined)
    throw new Error(`the metrics hold no ${pending === undefined ? PENDING : OLDEST_AGE}`);
  return { pending, oldestPendingAgeSeconds };
}

/** The value of an unlabelled sample, `name 12` (NaN stays NaN: the service could not measure). */
function sample(exposition: string, name: string): number | undefined {
  for (const line of exposition.split('\n')) {
    const [metric, value] = line.trim().split(/\s+/);
    if (metric === name && value !== undefined) return Number(value);
  }
  return undefined;
}
