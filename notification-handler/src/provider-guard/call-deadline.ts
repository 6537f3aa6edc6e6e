import { beforeDeadline } from '@notify/shared/platform';

/**
 * Bounds a whole provider call. The official clients' `timeout` bounds a call only until the
 * answer's headers arrive; after that only the socket's inactivity does, so an answer that trickles
 * in a byte at a time holds the call for as long as it trickles (node-mailjet with a 500 ms
 * timeout: 4.5 s for a body sent a byte every 200 ms). The lease counts on the timeout bounding
 * every call. Neither client takes an abort signal per request, so a call past its deadline is
 * abandoned, not aborted: its request runs on until it ends by itself, and `onLateAnswer` hears
 * when the provider answered it after all (its emails may then go out twice). One that fails late
 * (the client's own timeout, most often) says nothing new.
 */
export async function callWithin<T>(
  call: Promise<T>,
  timeoutMs: number,
  onTimeout: () => T,
  onLateAnswer: () => void,
): Promise<T> {
  const answer = await beforeDeadline<T | typeof NO_ANSWER>(call, Date.now() + timeoutMs, NO_ANSWER);
  if (answer !== NO_ANSWER) return answer;
  call.then(onLateAnswer, () => undefined);
  return onTimeout();
}

const NO_ANSWER = Symbol('no answer before the deadline');
