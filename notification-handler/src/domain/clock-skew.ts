/**
 * How far ahead of this handler's clock a message's `occurredAt` may be. Producers' clocks drift
 * by seconds, and NTP keeps them well within minutes of ours; an event further in the future is a
 * producer's bug (a wrong zone, a made-up date). Taken as it is, it would escape the send deadline
 * (which counts from it: retries would go on until the retention closes the row) and the retention
 * check (which would never find it old: once its row is purged, a replayed copy would be sent again).
 * That check counts from `occurredAt` less this allowance, so that one dated just inside it is
 * still refused by the time its row (created up to this much earlier) is purged.
 */
export const CLOCK_SKEW_ALLOWANCE_MS = 5 * 60_000;
