import { AppError } from '@notify/shared/platform';
import type { ReplayOutcome } from '../domain/replay-notification.js';

/**
 * Why a replay of one notification queued nothing, as the API and the operator page's Replay
 * button both answer it. A switch over every outcome: one added later cannot pass for a replay queued.
 */
export function replayRefusal(trackingId: string, outcome: Exclude<ReplayOutcome, { kind: 'queued' }>): AppError {
  switch (outcome.kind) {
    case 'not_found':
      return new AppError(404, 'not_found', `no notification ${trackingId}`);
    case 'not_replayable':
      return new AppError(
        409,
        'not_replayable',
        `notification ${trackingId} is ${outcome.status}; only failed or retry_scheduled ones replay`,
      );
    case 'replay_pending':
      return new AppError(
        409,
        'replay_pending',
        `notification ${trackingId} was queued for replay at ${outcome.replayQueuedAt.toISOString()} and the handler has not taken that replay yet; it is not queued twice`,
      );
    case 'erased':
      return new AppError(410, 'personal_data_erased', `notification ${trackingId} has no stored request any more`);
    case 'invalid':
      return new AppError(422, 'stored_request_invalid', outcome.reason);
  }
}
