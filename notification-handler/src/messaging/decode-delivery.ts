import { type DecodeResult, type DeliveredMessage, decodeNotification, MessageDecodeError } from '@notify/shared';
import { CLOCK_SKEW_ALLOWANCE_MS } from '../domain/clock-skew.js';

/**
 * The message as the schema reads it, refused as well when its `occurredAt` is further ahead of
 * `now` than clock skew explains. Not in the schema: a schema that reads the clock would answer
 * differently for the same message from one moment to the next, for every producer and for the
 * stored requests a replay re-validates. Once that time has come, the same message passes: its
 * dead letter can be replayed then (a replay before then is dead-lettered again, for this reason).
 */
export function decodeDelivery(delivery: DeliveredMessage, now = Date.now()): DecodeResult {
  const decoded = decodeNotification(delivery);
  if (!decoded.ok) return decoded;
  const occurredAt = Date.parse(decoded.message.occurredAt);
  if (occurredAt - now <= CLOCK_SKEW_ALLOWANCE_MS) return decoded;
  const replayableFrom = new Date(occurredAt - CLOCK_SKEW_ALLOWANCE_MS).toISOString();
  const problem = {
    code: 'ahead_of_clock' as const,
    path: 'occurredAt',
    message:
      `${Math.ceil((occurredAt - now) / 1_000)} s ahead of the handler's clock, past the ` +
      `${CLOCK_SKEW_ALLOWANCE_MS / 1_000} s allowed for clock skew; a replay passes from ${replayableFrom}`,
  };
  return { ok: false, error: new MessageDecodeError([problem], decoded.message.trackingId) };
}
